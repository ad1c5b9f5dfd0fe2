//! PostgreSQL objects the table model does not hold, read from the catalogs as
//! [`CatalogObject`]s with the statements that create and remove them: extensions,
//! collations, domains and their constraints, composite types, row-level security and
//! policies, grants, comments, exclusion constraints, constraint options (DEFERRABLE,
//! NOT VALID), UNLOGGED, inheritance, partition keys and partitions, sequence options
//! and OWNED BY, materialized view indexes and column collations; plus a census of the
//! kinds still not modelled (rules, foreign tables, operators, ...).

use crate::db::Rows;
use crate::db::catalog::fetch;
use crate::db::model::CatalogObject;

mod build;
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
    Ok(build::objects_from(&Fetched {
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
    }))
}

/// The catalog rows [`objects`] reads, one result set per kind.
pub(super) struct Fetched {
    pub ext: Rows,
    pub coll: Rows,
    pub domains: Rows,
    pub dcons: Rows,
    pub composite: Rows,
    pub rels: Rows,
    pub policies: Rows,
    pub grants: Rows,
    pub comments: Rows,
    pub cons: Rows,
    pub seqs: Rows,
    pub mvidx: Rows,
    pub colls: Rows,
    pub census: Rows,
}
