//! Turns the catalog rows of [`super::objects`] into [`CatalogObject`]s with the
//! statements that create and remove them.

use super::{Fetched, lit, obj, q, qn, sch, truthy};
use crate::db::catalog::{opt_text, text_of};
use crate::db::model::{CatalogObject, qualified};
use std::collections::BTreeMap;

pub(super) fn objects_from(f: &Fetched) -> (Vec<CatalogObject>, BTreeMap<String, u64>) {
    let mut out = Vec::new();
    let t = |r: &[crate::db::Value], i: usize| text_of(&r[i]);

    for r in &f.ext.rows {
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
    for r in &f.coll.rows {
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
    for r in &f.domains.rows {
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
    for r in &f.dcons.rows {
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
    for r in &f.composite.rows {
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
    for r in &f.rels.rows {
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
    for r in &f.policies.rows {
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
    for r in &f.grants.rows {
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
    for r in &f.comments.rows {
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
    for r in &f.cons.rows {
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
    for r in &f.seqs.rows {
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
    for r in &f.mvidx.rows {
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
    for r in &f.colls.rows {
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
    for r in &f.census.rows {
        let n = r[1].as_i64().unwrap_or(0);
        if n > 0 {
            unmodelled.insert(t(r, 0), n as u64);
        }
    }
    (out, unmodelled)
}
