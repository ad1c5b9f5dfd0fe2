//! What a whole-database PostgreSQL restore would fail on or leave behind: objects the
//! target has and the backup's `pg_dump` archive does not (its table of contents, read
//! with `pg_restore -l`, says what it has). `pg_restore --clean` drops and recreates
//! the archive's objects only, so a view, foreign key or policy created since that
//! depends on a backed-up table makes it refuse, and a function, type or sequence
//! created since survives it.

use super::backup::{connect, err, pg_restore_archive};
use crate::db::backup::{ExtraObject, ExtrasRequest};
use crate::error::Result;
use sqlx::{Connection, Executor, Row};
use std::collections::BTreeSet;

/// The archive's entries as (description, schema, tag), e.g.
/// ("FK CONSTRAINT", "public", "orders orders_customer_id_fkey").
pub(super) fn toc_entries(listing: &str) -> BTreeSet<(String, String, String)> {
    // the descriptions we compare; longest first, so "MATERIALIZED VIEW" is not "VIEW"
    const DESCS: &[&str] = &[
        "MATERIALIZED VIEW",
        "FK CONSTRAINT",
        "PROCEDURE",
        "AGGREGATE",
        "FUNCTION",
        "SEQUENCE",
        "TRIGGER",
        "DOMAIN",
        "POLICY",
        "TABLE",
        "TYPE",
        "VIEW",
    ];
    let mut out = BTreeSet::new();
    for line in listing.lines() {
        if line.starts_with(';') {
            continue;
        }
        // "223; 1255 16415 FUNCTION public f(integer, text) postgres"
        let Some((_, rest)) = line.split_once("; ") else {
            continue;
        };
        let mut it = rest.splitn(3, ' ');
        let (Some(_), Some(_), Some(rest)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        // entries whose description begins like one of ours
        const OTHERS: &[&str] = &[
            "TABLE DATA ",
            "TABLE ATTACH ",
            "SEQUENCE SET ",
            "SEQUENCE OWNED BY ",
            "MATERIALIZED VIEW DATA ",
        ];
        if OTHERS.iter().any(|o| rest.starts_with(o)) {
            continue;
        }
        let Some(desc) = DESCS
            .iter()
            .find(|d| rest.starts_with(*d) && rest[d.len()..].starts_with(' '))
        else {
            continue;
        };
        let rest = &rest[desc.len() + 1..];
        let Some((schema, rest)) = rest.split_once(' ') else {
            continue;
        };
        // the owner is the last word
        let tag = rest.rsplit_once(' ').map_or(rest, |(t, _)| t);
        out.insert((desc.to_string(), schema.to_string(), tag.to_string()));
    }
    out
}

/// Every candidate object of the target: (archive description, schema, tag, table it
/// hangs on, table it references, how we name it, DROP statement). Run with an empty
/// search_path so type names are qualified as pg_dump writes them.
const CANDIDATES: &str = r#"
WITH scope AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%'
    AND nspname NOT LIKE 'pg_temp%' AND ($1::text IS NULL OR nspname = $1)
), ext AS (
  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
)
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, n.nspname, c.relname::text,
       NULL::text, NULL::text,
       CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, n.nspname || '.' || c.relname,
       format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, n.nspname, c.relname)
FROM pg_class c JOIN scope n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm')
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, n.nspname,
       p.proname || '(' || coalesce((SELECT string_agg(format_type(a.t, NULL), ', ' ORDER BY a.i)
                                     FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)), '') || ')',
       NULL, NULL,
       CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       format('DROP %s IF EXISTS %I.%I(%s) CASCADE', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
              n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
FROM pg_proc p JOIN scope n ON n.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'TRIGGER', n.nspname, c.relname || ' ' || t.tgname, n.nspname || '.' || c.relname, NULL,
       'trigger', t.tgname || ' on ' || n.nspname || '.' || c.relname,
       format('DROP TRIGGER IF EXISTS %I ON %I.%I', t.tgname, n.nspname, c.relname)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN scope n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0
UNION ALL
SELECT 'POLICY', n.nspname, c.relname || ' ' || p.polname, n.nspname || '.' || c.relname, NULL,
       'policy', p.polname || ' on ' || n.nspname || '.' || c.relname,
       format('DROP POLICY IF EXISTS %I ON %I.%I', p.polname, n.nspname, c.relname)
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN scope n ON n.oid = c.relnamespace
UNION ALL
SELECT 'FK CONSTRAINT', n.nspname, c.relname || ' ' || k.conname, n.nspname || '.' || c.relname,
       rn.nspname || '.' || r.relname,
       'foreign key', k.conname || ' on ' || n.nspname || '.' || c.relname || ' (to ' || rn.nspname || '.' || r.relname || ')',
       format('ALTER TABLE IF EXISTS %I.%I DROP CONSTRAINT IF EXISTS %I', n.nspname, c.relname, k.conname)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN scope n ON n.oid = c.relnamespace
     JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.contype = 'f' AND k.conparentid = 0
UNION ALL
SELECT 'SEQUENCE', n.nspname, c.relname::text, NULL, NULL,
       'sequence', n.nspname || '.' || c.relname,
       format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', n.nspname, c.relname)
FROM pg_class c JOIN scope n ON n.oid = c.relnamespace
WHERE c.relkind = 'S'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname, t.typname::text, NULL, NULL,
       CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, n.nspname || '.' || t.typname,
       format('DROP %s IF EXISTS %I.%I CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname, t.typname)
FROM pg_type t JOIN scope n ON n.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
ORDER BY 1, 2, 3
"#;

pub(super) async fn objects_not_in_backup(req: ExtrasRequest<'_>) -> Result<Vec<ExtraObject>> {
    let mut cmd = tokio::process::Command::new("pg_restore");
    cmd.arg("-l").kill_on_drop(true);
    let out = pg_restore_archive(cmd, req.dir, req.files, "pg_restore -l").await?;
    let toc = toc_entries(&String::from_utf8_lossy(&out.stdout));
    let r = req.redacted;
    let mut c = connect(req.url, r).await?;
    let mut tx = c.begin().await.map_err(err(r))?;
    tx.execute("SET LOCAL search_path = ''")
        .await
        .map_err(err(r))?;
    let rows = sqlx::query(CANDIDATES)
        .bind(req.schema)
        .fetch_all(&mut *tx)
        .await
        .map_err(err(r))?;
    tx.rollback().await.map_err(err(r))?;
    let extra_table = |t: &Option<String>| t.as_ref().is_some_and(|t| req.extra_tables.contains(t));
    let mut found = Vec::new();
    for row in rows {
        let desc: String = row.get(0);
        let schema: String = row.get(1);
        let tag: String = row.get(2);
        let on: Option<String> = row.get(3);
        let to: Option<String> = row.get(4);
        if toc.contains(&(desc.clone(), schema, tag)) {
            continue;
        }
        // what hangs on a table the backup lacks goes (or stays) with it, unless it
        // is a foreign key into a backed-up table: that one blocks the restore's drop
        let blocks = desc == "FK CONSTRAINT" && !extra_table(&to);
        if extra_table(&on) && !blocks {
            continue;
        }
        found.push(ExtraObject {
            kind: row.get(5),
            name: row.get(6),
            drop: row.get(7),
        });
    }
    Ok(found)
}

/// Drop them in one transaction, in an order where each goes before what it needs:
/// policies, triggers and foreign keys first, then views, routines, sequences, types
/// (CASCADE reaches only what depends on these, which the restore recreates or which
/// is not in the backup either).
pub(super) async fn drop_objects(url: &str, redacted: &str, objects: &[ExtraObject]) -> Result<()> {
    let rank = |k: &str| match k {
        "policy" | "trigger" | "foreign key" => 0,
        "materialized view" | "view" => 1,
        "function" | "procedure" | "aggregate" => 2,
        "sequence" => 3,
        _ => 4,
    };
    let mut ordered: Vec<&ExtraObject> = objects.iter().collect();
    ordered.sort_by_key(|o| rank(&o.kind));
    let mut c = connect(url, redacted).await?;
    let mut tx = c.begin().await.map_err(err(redacted))?;
    for o in ordered {
        tx.execute(sqlx::AssertSqlSafe(o.drop.clone()))
            .await
            .map_err(|e| crate::db::sqlx_error(redacted, e).context(format!("dropping {o}")))?;
    }
    tx.commit().await.map_err(err(redacted))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::toc_entries;

    #[test]
    fn toc_lines_give_description_schema_and_tag() {
        let toc = toc_entries(
            ";\n; Archive created\n223; 1255 16415 FUNCTION public f(integer, text) postgres\n\
             218; 1259 16409 MATERIALIZED VIEW public ma postgres\n\
             3232; 2606 16400 FK CONSTRAINT public b b_a_id_fkey postgres\n\
             3379; 0 16388 TABLE DATA public a postgres\n",
        );
        let has = |d: &str, s: &str, t: &str| toc.contains(&(d.into(), s.into(), t.into()));
        assert!(has("FUNCTION", "public", "f(integer, text)"));
        assert!(has("MATERIALIZED VIEW", "public", "ma"));
        assert!(has("FK CONSTRAINT", "public", "b b_a_id_fkey"));
        assert!(!has("TABLE", "public", "a"), "TABLE DATA is not a TABLE");
        assert_eq!(toc.len(), 3);
    }
}
