//! PostgreSQL objects the table model does not hold, read from the catalogs as
//! [`CatalogObject`]s with the statements that create and remove them: extensions,
//! collations, domains and their constraints, composite types, row-level security and
//! policies, grants, comments, exclusion constraints, constraint options (DEFERRABLE,
//! NOT VALID), UNLOGGED, inheritance, partition keys and partitions, sequence options
//! and OWNED BY, materialized view indexes and column collations; plus a census of the
//! kinds still not modelled (rules, foreign tables, operators, ...).

use crate::db::catalog::{fetch, opt_text, text_of};
use crate::db::model::{CatalogObject, qualified};
use crate::db::{Db, Dialect};
use crate::error::Result;
use std::collections::BTreeMap;

const USER_NS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

fn not_ext(oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = {oid} AND dep.deptype = 'e')"
    )
}

fn q(s: &str) -> String {
    Dialect::Postgres.quote_ident(s)
}
fn lit(s: &str) -> String {
    Dialect::Postgres.quote_literal(s)
}
fn sch(ns: &str) -> Option<String> {
    (ns != "public").then(|| ns.to_string())
}
/// `"s"."n"`, or `"n"` in public.
fn qn(ns: &str, name: &str) -> String {
    if ns == "public" {
        q(name)
    } else {
        format!("{}.{}", q(ns), q(name))
    }
}
fn truthy(s: &str) -> bool {
    s == "true" || s == "t"
}

fn obj(kind: &str, table: Option<String>, name: String, def: String) -> CatalogObject {
    CatalogObject::new(kind, table, name, def)
}

/// Read every object of the kinds above; and the census of unmodelled kinds.
pub(crate) async fn objects(db: &Db) -> Result<(Vec<CatalogObject>, BTreeMap<String, u64>)> {
    let ext = fetch(
        db,
        "SELECT e.extname::text, e.extversion::text, n.nspname::text FROM pg_extension e \
         JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'"
            .into(),
    );
    let coll = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.collname::text, c.collprovider::text, c.collcollate::text, \
             c.collctype::text, c.colliculocale::text, c.collisdeterministic::text \
             FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace \
             WHERE {USER_NS} AND {}",
            not_ext("c.oid")
        ),
    );
    let domains = fetch(
        db,
        format!(
            "SELECT n.nspname::text, t.typname::text, format_type(t.typbasetype, t.typtypmod), \
             t.typnotnull::text, t.typdefault, \
             CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation \
               THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) \
                     FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace \
                     WHERE co.oid = t.typcollation) END \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             JOIN pg_type bt ON bt.oid = t.typbasetype \
             WHERE t.typtype = 'd' AND {USER_NS} AND {}",
            not_ext("t.oid")
        ),
    );
    let dcons = fetch(
        db,
        format!(
            "SELECT n.nspname::text, t.typname::text, con.conname::text, pg_get_constraintdef(con.oid) \
             FROM pg_constraint con JOIN pg_type t ON t.oid = con.contypid \
             JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER_NS} AND {}",
            not_ext("t.oid")
        ),
    );
    let composite = fetch(
        db,
        format!(
            "SELECT n.nspname::text, t.typname::text, \
             (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' \
                ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 \
                AND NOT a.attisdropped) \
             FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c' \
             JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER_NS} AND {}",
            not_ext("t.oid")
        ),
    );
    let rels = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text, c.relpersistence::text, \
             c.relrowsecurity::text, c.relforcerowsecurity::text, \
             CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, c.relispartition::text, \
             pg_get_expr(c.relpartbound, c.oid), \
             (SELECT string_agg(quote_ident(pn.nspname) || '.' || quote_ident(p.relname) || E'\x1f' \
                || CASE WHEN pn.nspname = 'public' THEN '' ELSE pn.nspname || '.' END || p.relname, \
                E'\x1e' ORDER BY i.inhseqno) \
                FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent \
                JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid), \
             (SELECT pn.nspname::text || E'\\x1f' || p.relname::text FROM pg_inherits i \
                JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace \
                WHERE i.inhrelid = c.oid LIMIT 1) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND {USER_NS} AND {}",
            not_ext("c.oid")
        ),
    );
    let policies = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, p.polname::text, p.polpermissive::text, p.polcmd::text, \
             (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ' \
                ORDER BY 1) FROM unnest(p.polroles) r), \
             pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) \
             FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NS}"
        ),
    );
    // grants: relations, schemas, routines; the owner's own privileges are left out
    let grants = fetch(
        db,
        format!(
            "SELECT 'rel', n.nspname::text, c.relname::text, c.relkind::text, \
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
               string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ',' ORDER BY a.privilege_type) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, \
               LATERAL aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))) a \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND a.grantee <> c.relowner AND {USER_NS} AND {} \
             GROUP BY 1, 2, 3, 4, 5 \
             UNION ALL \
             SELECT 'schema', n.nspname::text, '', '', \
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
               string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ',' ORDER BY a.privilege_type) \
             FROM pg_namespace n, LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a \
             WHERE a.grantee <> n.nspowner AND {USER_NS} AND {} \
               AND n.nspacl IS DISTINCT FROM (SELECT ip.initprivs FROM pg_init_privs ip \
                 WHERE ip.objoid = n.oid AND ip.classoid = 'pg_namespace'::regclass AND ip.objsubid = 0) \
             GROUP BY 1, 2, 3, 4, 5 \
             UNION ALL \
             SELECT 'routine', n.nspname::text, p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', '', \
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
               string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ',' ORDER BY a.privilege_type) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, \
               LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a \
             WHERE p.prokind IN ('f', 'p') AND a.grantee <> p.proowner AND {USER_NS} AND {} \
             GROUP BY 1, 2, 3, 4, 5 \
             UNION ALL \
             SELECT 'routine', n.nspname::text, p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', '', \
               'PUBLIC', '' \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE p.prokind IN ('f', 'p') AND p.proacl IS NOT NULL AND {USER_NS} AND {} \
               AND NOT EXISTS (SELECT 1 FROM aclexplode(p.proacl) x WHERE x.grantee = 0)",
            not_ext("c.oid"),
            not_ext("n.oid"),
            not_ext("p.oid"),
            not_ext("p.oid")
        ),
    );
    let comments = fetch(
        db,
        format!(
            "SELECT 'rel', n.nspname::text, c.relname::text, c.relkind::text, '', d.description \
             FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.objsubid = 0 AND {USER_NS} AND {c} \
             UNION ALL \
             SELECT 'column', n.nspname::text, c.relname::text, c.relkind::text, a.attname::text, d.description \
             FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.objsubid > 0 AND {USER_NS} AND {c} \
             UNION ALL \
             SELECT 'schema', n.nspname::text, '', '', '', d.description \
             FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid \
             WHERE {USER_NS} AND {ns} \
               AND NOT (n.oid < 16384 AND d.description = 'standard public schema') \
             UNION ALL \
             SELECT 'type', n.nspname::text, t.typname::text, t.typtype::text, '', d.description \
             FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid \
             JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER_NS} AND {t} \
             UNION ALL \
             SELECT 'routine', n.nspname::text, p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
               p.prokind::text, '', d.description \
             FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid \
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_NS} AND {p} \
             UNION ALL \
             SELECT 'constraint', n.nspname::text, c.relname::text, con.conname::text, '', d.description \
             FROM pg_description d JOIN pg_constraint con ON d.classoid = 'pg_constraint'::regclass AND d.objoid = con.oid \
             JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NS}",
            c = not_ext("c.oid"),
            ns = not_ext("n.oid"),
            t = not_ext("t.oid"),
            p = not_ext("p.oid"),
        ),
    );
    let cons = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text, \
             pg_get_constraintdef(con.oid), con.condeferrable::text, con.condeferred::text, con.convalidated::text \
             FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE (con.contype = 'x' OR con.condeferrable OR NOT con.convalidated) AND {USER_NS}"
        ),
    );
    let seqs = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, s.seqcache::text, dep.deptype::text, \
             tn.nspname::text, tc.relname::text, a.attname::text, format_type(s.seqtypid, NULL), \
             s.seqstart::text, s.seqincrement::text, s.seqmin::text, s.seqmax::text, s.seqcycle::text, \
             EXISTS (SELECT 1 FROM pg_depend d2 WHERE d2.refobjid = c.oid \
               AND d2.classid = 'pg_attrdef'::regclass)::text \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_depend dep ON dep.objid = c.oid AND dep.classid = 'pg_class'::regclass \
               AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i') \
             LEFT JOIN pg_class tc ON tc.oid = dep.refobjid \
             LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
             LEFT JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid \
             WHERE {USER_NS} AND {}",
            not_ext("c.oid")
        ),
    );
    let mvidx = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, i.relname::text, pg_get_indexdef(i.oid) \
             FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
             JOIN pg_class c ON c.oid = ix.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'm' AND {USER_NS}"
        ),
    );
    let colls = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
             quote_ident(cn.nspname) || '.' || quote_ident(co.collname) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
             JOIN pg_collation co ON co.oid = a.attcollation JOIN pg_namespace cn ON cn.oid = co.collnamespace \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attcollation <> 0 \
             AND a.attcollation <> t.typcollation AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
             AND {USER_NS}"
        ),
    );
    let census = fetch(
        db,
        format!(
            "SELECT 'rule', count(*) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class \
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.rulename <> '_RETURN' AND {USER_NS} \
             UNION ALL SELECT 'foreign table', count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE c.relkind = 'f' AND {USER_NS} \
             UNION ALL SELECT 'event trigger', count(*) FROM pg_event_trigger e WHERE {e} \
             UNION ALL SELECT 'publication', count(*) FROM pg_publication \
             UNION ALL SELECT 'foreign server', count(*) FROM pg_foreign_server s WHERE {s} \
             UNION ALL SELECT 'default privilege', count(*) FROM pg_default_acl \
             UNION ALL SELECT 'aggregate', count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
               WHERE p.prokind IN ('a', 'w') AND {USER_NS} AND {p} \
             UNION ALL SELECT 'operator', count(*) FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace \
               WHERE {USER_NS} AND {o} \
             UNION ALL SELECT 'operator class', count(*) FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace \
               WHERE {USER_NS} AND {o} \
             UNION ALL SELECT 'cast', count(*) FROM pg_cast o WHERE o.oid >= 16384 AND {o} \
             UNION ALL SELECT 'text search configuration', count(*) FROM pg_ts_config o \
               JOIN pg_namespace n ON n.oid = o.cfgnamespace WHERE {USER_NS} AND {o} \
             UNION ALL SELECT 'statistics object', count(*) FROM pg_statistic_ext o \
               JOIN pg_namespace n ON n.oid = o.stxnamespace WHERE {USER_NS} \
             UNION ALL SELECT 'range type', count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
               WHERE t.typtype IN ('r', 'm') AND {USER_NS} AND {t} \
             UNION ALL SELECT 'conversion', count(*) FROM pg_conversion o \
               JOIN pg_namespace n ON n.oid = o.connamespace WHERE {USER_NS} \
             UNION ALL SELECT 'language', count(*) FROM pg_language o WHERE o.oid >= 16384 AND {o} \
             UNION ALL SELECT 'comment on another kind of object', count(*) FROM pg_description d \
               WHERE d.objoid >= 16384 AND d.classoid NOT IN ('pg_class'::regclass, 'pg_namespace'::regclass, \
                 'pg_type'::regclass, 'pg_proc'::regclass, 'pg_constraint'::regclass, 'pg_extension'::regclass) \
               AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = d.objoid AND dep.deptype = 'e')",
            e = not_ext("e.oid"),
            s = not_ext("s.oid"),
            p = not_ext("p.oid"),
            o = not_ext("o.oid"),
            t = not_ext("t.oid"),
        ),
    );
    let (
        ext,
        coll,
        domains,
        dcons,
        composite,
        rels,
        policies,
        grants,
        comments,
        cons,
        seqs,
        mvidx,
        colls,
        census,
    ) = futures::try_join!(
        ext, coll, domains, dcons, composite, rels, policies, grants, comments, cons, seqs, mvidx,
        colls, census
    )?;
    let mut out = Vec::new();
    let t = |r: &[crate::db::Value], i: usize| text_of(&r[i]);

    for r in &ext.rows {
        let (name, ver, ns) = (t(r, 0), t(r, 1), t(r, 2));
        let mut o = obj(
            "extension",
            None,
            name.clone(),
            format!("VERSION {ver} SCHEMA {ns}"),
        );
        o.create = vec![format!(
            "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {}",
            q(&name),
            q(&ns),
            lit(&ver)
        )];
        o.drop = vec![format!("DROP EXTENSION {}", q(&name))];
        o.early = true;
        out.push(o);
    }
    for r in &coll.rows {
        let (ns, name, provider) = (t(r, 0), t(r, 1), t(r, 2));
        let det = truthy(&t(r, 6));
        let body = if provider == "i" {
            let loc = opt_text(&r[5]).unwrap_or_else(|| t(r, 3));
            format!("provider = icu, locale = {}", lit(&loc))
        } else {
            format!(
                "lc_collate = {}, lc_ctype = {}",
                lit(&t(r, 3)),
                lit(&t(r, 4))
            )
        };
        let body = format!("{body}{}", if det { "" } else { ", deterministic = false" });
        let mut o = obj("collation", None, qualified(&sch(&ns), &name), body.clone());
        o.create = vec![format!("CREATE COLLATION {} ({body})", qn(&ns, &name))];
        o.drop = vec![format!("DROP COLLATION {}", qn(&ns, &name))];
        o.early = true;
        out.push(o);
    }
    for r in &domains.rows {
        let (ns, name, base) = (t(r, 0), t(r, 1), t(r, 2));
        let mut def = format!("AS {base}");
        if let Some(c) = opt_text(&r[5]) {
            def.push_str(&format!(" COLLATE {c}"));
        }
        if let Some(d) = opt_text(&r[4]) {
            def.push_str(&format!(" DEFAULT {d}"));
        }
        if truthy(&t(r, 3)) {
            def.push_str(" NOT NULL");
        }
        let mut o = obj("domain", None, qualified(&sch(&ns), &name), def.clone());
        o.create = vec![format!("CREATE DOMAIN {} {def}", qn(&ns, &name))];
        o.drop = vec![format!("DROP DOMAIN {}", qn(&ns, &name))];
        o.early = true;
        out.push(o);
    }
    for r in &dcons.rows {
        let (ns, dom, name, def) = (t(r, 0), t(r, 1), t(r, 2), t(r, 3));
        let mut o = obj(
            "domain constraint",
            Some(qualified(&sch(&ns), &dom)),
            name.clone(),
            def.clone(),
        );
        o.create = vec![format!(
            "ALTER DOMAIN {} ADD CONSTRAINT {} {def}",
            qn(&ns, &dom),
            q(&name)
        )];
        o.drop = vec![format!(
            "ALTER DOMAIN {} DROP CONSTRAINT {}",
            qn(&ns, &dom),
            q(&name)
        )];
        o.early = true;
        out.push(o);
    }
    for r in &composite.rows {
        let (ns, name, attrs) = (t(r, 0), t(r, 1), t(r, 2));
        let mut o = obj(
            "composite type",
            None,
            qualified(&sch(&ns), &name),
            format!("({attrs})"),
        );
        o.create = vec![format!("CREATE TYPE {} AS ({attrs})", qn(&ns, &name))];
        o.drop = vec![format!("DROP TYPE {}", qn(&ns, &name))];
        o.early = true;
        out.push(o);
    }
    for r in &rels.rows {
        let (ns, name) = (t(r, 0), t(r, 1));
        let tq = qualified(&sch(&ns), &name);
        let qt = qn(&ns, &name);
        if t(r, 3) == "u" {
            let mut o = obj(
                "table option",
                Some(tq.clone()),
                "unlogged".into(),
                "UNLOGGED".into(),
            );
            o.create = vec![format!("ALTER TABLE {qt} SET UNLOGGED")];
            o.drop = vec![format!("ALTER TABLE {qt} SET LOGGED")];
            out.push(o);
        }
        let (rls, force) = (truthy(&t(r, 4)), truthy(&t(r, 5)));
        if rls || force {
            let def = match (rls, force) {
                (true, true) => "ENABLE, FORCE",
                (true, false) => "ENABLE",
                _ => "FORCE",
            };
            let mut o = obj(
                "row level security",
                Some(tq.clone()),
                "row level security".into(),
                def.into(),
            );
            if rls {
                o.create
                    .push(format!("ALTER TABLE {qt} ENABLE ROW LEVEL SECURITY"));
            }
            if force {
                o.create
                    .push(format!("ALTER TABLE {qt} FORCE ROW LEVEL SECURITY"));
            }
            o.drop = vec![
                format!("ALTER TABLE {qt} DISABLE ROW LEVEL SECURITY"),
                format!("ALTER TABLE {qt} NO FORCE ROW LEVEL SECURITY"),
            ];
            out.push(o);
        }
        if let Some(key) = opt_text(&r[6]) {
            // a table cannot be turned into a partitioned one in place: compared, not migrated
            out.push(obj(
                "partition key",
                Some(tq.clone()),
                "partition key".into(),
                key,
            ));
        }
        let parent = opt_text(&r[10]).and_then(|p| {
            p.split_once('\u{1f}')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
        if truthy(&t(r, 7)) {
            let bound = t(r, 8);
            let (pns, pname) = parent.clone().unwrap_or_default();
            let mut o = obj(
                "partition",
                Some(qualified(&sch(&pns), &pname)),
                tq.clone(),
                bound.clone(),
            );
            o.create = vec![format!(
                "CREATE TABLE {qt} PARTITION OF {} {bound}",
                qn(&pns, &pname)
            )];
            o.drop = vec![format!("DROP TABLE {qt}")];
            out.push(o);
        } else if let Some(parents) = opt_text(&r[9]) {
            // the definition names the parents (`base`, `s.base`), the statements quote them
            let pairs: Vec<(&str, &str)> = parents
                .split('\u{1e}')
                .filter_map(|p| p.split_once('\u{1f}'))
                .collect();
            let names: Vec<&str> = pairs.iter().map(|(_, n)| *n).collect();
            let mut o = obj(
                "inheritance",
                Some(tq.clone()),
                "inherits".into(),
                names.join(", "),
            );
            o.create = pairs
                .iter()
                .map(|(p, _)| format!("ALTER TABLE {qt} INHERIT {p}"))
                .collect();
            o.drop = pairs
                .iter()
                .map(|(p, _)| format!("ALTER TABLE {qt} NO INHERIT {p}"))
                .collect();
            out.push(o);
        }
    }
    for r in &policies.rows {
        let (ns, table, name) = (t(r, 0), t(r, 1), t(r, 2));
        let cmd = match t(r, 4).as_str() {
            "r" => "SELECT",
            "a" => "INSERT",
            "w" => "UPDATE",
            "d" => "DELETE",
            _ => "ALL",
        };
        let mut def = format!(
            "AS {} FOR {cmd} TO {}",
            if truthy(&t(r, 3)) {
                "PERMISSIVE"
            } else {
                "RESTRICTIVE"
            },
            opt_text(&r[5]).unwrap_or_else(|| "PUBLIC".into())
        );
        if let Some(u) = opt_text(&r[6]) {
            def.push_str(&format!(" USING ({u})"));
        }
        if let Some(c) = opt_text(&r[7]) {
            def.push_str(&format!(" WITH CHECK ({c})"));
        }
        let qt = qn(&ns, &table);
        let mut o = obj(
            "policy",
            Some(qualified(&sch(&ns), &table)),
            name.clone(),
            def.clone(),
        );
        o.create = vec![format!("CREATE POLICY {} ON {qt} {def}", q(&name))];
        o.drop = vec![format!("DROP POLICY {} ON {qt}", q(&name))];
        out.push(o);
    }
    for r in &grants.rows {
        let (what, ns, name, relkind, grantee, privs) =
            (t(r, 0), t(r, 1), t(r, 2), t(r, 3), t(r, 4), t(r, 5));
        let (on, table, label) = match what.as_str() {
            "rel" => (
                format!(
                    "{} {}",
                    if relkind == "S" { "SEQUENCE" } else { "TABLE" },
                    qn(&ns, &name)
                ),
                Some(qualified(&sch(&ns), &name)),
                format!("to {grantee}"),
            ),
            "schema" => (
                format!("SCHEMA {}", q(&ns)),
                None,
                format!("on schema {ns} to {grantee}"),
            ),
            _ => {
                let (fname, args) = name.split_once('(').unwrap_or((&name, ")"));
                (
                    format!("ROUTINE {}({args}", qn(&ns, fname)),
                    None,
                    format!("on {} to {grantee}", qualified(&sch(&ns), &name)),
                )
            }
        };
        let plain: Vec<&str> = privs.split(',').filter(|p| !p.ends_with('*')).collect();
        let with: Vec<&str> = privs
            .split(',')
            .filter_map(|p| p.strip_suffix('*'))
            .collect();
        if privs.is_empty() {
            // a routine whose default EXECUTE for PUBLIC was revoked
            let mut o = obj("grant", table, label, "(revoked)".into());
            o.create = vec![format!("REVOKE ALL ON {on} FROM {grantee}")];
            out.push(o);
            continue;
        }
        let mut o = obj("grant", table, label, privs.replace(',', ", "));
        if !plain.is_empty() {
            o.create
                .push(format!("GRANT {} ON {on} TO {grantee}", plain.join(", ")));
        }
        if !with.is_empty() {
            o.create.push(format!(
                "GRANT {} ON {on} TO {grantee} WITH GRANT OPTION",
                with.join(", ")
            ));
        }
        o.drop = vec![format!("REVOKE ALL ON {on} FROM {grantee}")];
        out.push(o);
    }
    for r in &comments.rows {
        let (what, ns, name, kind, col, text) =
            (t(r, 0), t(r, 1), t(r, 2), t(r, 3), t(r, 4), t(r, 5));
        let (on, table, label) = match what.as_str() {
            "rel" => {
                let k = match kind.as_str() {
                    "v" => "VIEW",
                    "m" => "MATERIALIZED VIEW",
                    "S" => "SEQUENCE",
                    "i" | "I" => "INDEX",
                    "f" => "FOREIGN TABLE",
                    "c" => "TYPE",
                    _ => "TABLE",
                };
                let tq = qualified(&sch(&ns), &name);
                (
                    format!("{k} {}", qn(&ns, &name)),
                    Some(tq),
                    format!("on {}", k.to_lowercase()),
                )
            }
            "column" => (
                format!("COLUMN {}.{}", qn(&ns, &name), q(&col)),
                Some(qualified(&sch(&ns), &name)),
                format!("on column {col}"),
            ),
            "schema" => (
                format!("SCHEMA {}", q(&ns)),
                None,
                format!("on schema {ns}"),
            ),
            "type" => (
                format!(
                    "{} {}",
                    if kind == "d" { "DOMAIN" } else { "TYPE" },
                    qn(&ns, &name)
                ),
                None,
                format!("on type {}", qualified(&sch(&ns), &name)),
            ),
            "constraint" => (
                format!("CONSTRAINT {} ON {}", q(&kind), qn(&ns, &name)),
                Some(qualified(&sch(&ns), &name)),
                format!("on constraint {kind}"),
            ),
            _ => {
                let (fname, args) = name.split_once('(').unwrap_or((&name, ")"));
                (
                    format!(
                        "{} {}({args}",
                        if kind == "p" { "PROCEDURE" } else { "FUNCTION" },
                        qn(&ns, fname)
                    ),
                    None,
                    format!("on {}", qualified(&sch(&ns), &name)),
                )
            }
        };
        let mut o = obj("comment", table, label, text.clone());
        o.create = vec![format!("COMMENT ON {on} IS {}", lit(&text))];
        o.drop = vec![format!("COMMENT ON {on} IS NULL")];
        out.push(o);
    }
    for r in &cons.rows {
        let (ns, table, name, kind, def) = (t(r, 0), t(r, 1), t(r, 2), t(r, 3), t(r, 4));
        let tq = qualified(&sch(&ns), &table);
        let qt = qn(&ns, &table);
        if kind == "x" {
            let mut o = obj("exclusion constraint", Some(tq), name.clone(), def.clone());
            o.create = vec![format!(
                "ALTER TABLE {qt} ADD CONSTRAINT {} {def}",
                q(&name)
            )];
            o.drop = vec![format!("ALTER TABLE {qt} DROP CONSTRAINT {}", q(&name))];
            out.push(o);
            continue;
        }
        let (deferrable, deferred, valid) = (truthy(&t(r, 5)), truthy(&t(r, 6)), truthy(&t(r, 7)));
        let mut flags = Vec::new();
        if deferrable {
            flags.push(if deferred {
                "DEFERRABLE INITIALLY DEFERRED"
            } else {
                "DEFERRABLE INITIALLY IMMEDIATE"
            });
        }
        if !valid {
            flags.push("NOT VALID");
        }
        let mut o = obj(
            "constraint option",
            Some(tq),
            name.clone(),
            flags.join(", "),
        );
        // ALTER CONSTRAINT changes deferrability of foreign keys only; NOT VALID can only
        // be undone (VALIDATE): the rest is compared and reported, not migrated
        if kind == "f" && deferrable {
            o.create = vec![format!(
                "ALTER TABLE {qt} ALTER CONSTRAINT {} {}",
                q(&name),
                flags[0]
            )];
        }
        if !valid {
            o.drop
                .push(format!("ALTER TABLE {qt} VALIDATE CONSTRAINT {}", q(&name)));
        }
        if kind == "f" && deferrable {
            o.drop.push(format!(
                "ALTER TABLE {qt} ALTER CONSTRAINT {} NOT DEFERRABLE",
                q(&name)
            ));
        }
        out.push(o);
    }
    for r in &seqs.rows {
        let (ns, name, cache) = (t(r, 0), t(r, 1), t(r, 2));
        // owned by a column and feeding its default: a serial's sequence (hidden by the model)
        let dep = match t(r, 3).as_str() {
            "a" if truthy(&t(r, 13)) => "a".to_string(),
            "a" => "owned".to_string(),
            other => other.to_string(),
        };
        let sq = qn(&ns, &name);
        let owner = opt_text(&r[5]).map(|tab| (t(r, 4), tab, t(r, 6)));
        match dep.as_str() {
            "i" => {
                // an identity's sequence: its options, set through the column
                let Some((tns, tab, col)) = owner else {
                    continue;
                };
                let opts = format!(
                    "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
                    t(r, 8),
                    t(r, 9),
                    t(r, 10),
                    t(r, 11),
                    cache,
                    if truthy(&t(r, 12)) { " CYCLE" } else { "" }
                );
                let tq = qualified(&sch(&tns), &tab);
                let mut o = obj("identity option", Some(tq), col.clone(), opts);
                o.create = vec![format!(
                    "ALTER TABLE {} ALTER COLUMN {} SET START WITH {} SET INCREMENT BY {} SET MINVALUE {} SET MAXVALUE {} SET CACHE {} SET {}",
                    qn(&tns, &tab),
                    q(&col),
                    t(r, 8),
                    t(r, 9),
                    t(r, 10),
                    t(r, 11),
                    cache,
                    if truthy(&t(r, 12)) {
                        "CYCLE"
                    } else {
                        "NO CYCLE"
                    }
                )];
                out.push(o);
            }
            _ => {
                let owned = owner
                    .as_ref()
                    .map(|(tns, tab, col)| format!("{}.{}", qn(tns, tab), q(col)));
                let mut def = format!("CACHE {cache}");
                if dep == "a" {
                    // a serial column's sequence: the model hides it, so its options are here
                    def = format!(
                        "AS {} START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} {def}",
                        t(r, 7),
                        t(r, 8),
                        t(r, 9),
                        t(r, 10),
                        t(r, 11)
                    );
                }
                if let Some(o) = &owned {
                    def.push_str(&format!(" OWNED BY {o}"));
                }
                let mut o = obj(
                    "sequence option",
                    None,
                    qualified(&sch(&ns), &name),
                    def.clone(),
                );
                let body = if dep == "a" {
                    def.clone()
                } else {
                    format!(
                        "{def}{}",
                        if owned.is_none() {
                            " OWNED BY NONE"
                        } else {
                            ""
                        }
                    )
                };
                o.create = vec![format!("ALTER SEQUENCE {sq} {body}")];
                out.push(o);
            }
        }
    }
    for r in &mvidx.rows {
        let (ns, mv, name, def) = (t(r, 0), t(r, 1), t(r, 2), t(r, 3));
        let mut o = obj(
            "materialized view index",
            Some(qualified(&sch(&ns), &mv)),
            name.clone(),
            def.clone(),
        );
        o.create = vec![def];
        o.drop = vec![format!("DROP INDEX {}", qn(&ns, &name))];
        out.push(o);
    }
    for r in &colls.rows {
        let (ns, table, col, ty, coll) = (t(r, 0), t(r, 1), t(r, 2), t(r, 3), t(r, 4));
        let mut o = obj(
            "column collation",
            Some(qualified(&sch(&ns), &table)),
            col.clone(),
            coll.clone(),
        );
        o.create = vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE {ty} COLLATE {coll}",
            qn(&ns, &table),
            q(&col)
        )];
        o.drop = vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE {ty} COLLATE \"default\"",
            qn(&ns, &table),
            q(&col)
        )];
        out.push(o);
    }
    let mut unmodelled = BTreeMap::new();
    for r in &census.rows {
        let n = r[1].as_i64().unwrap_or(0);
        if n > 0 {
            unmodelled.insert(t(r, 0), n as u64);
        }
    }
    Ok((out, unmodelled))
}
