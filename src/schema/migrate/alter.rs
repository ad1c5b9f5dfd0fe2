//! ALTER TABLE for a table present on both sides.

use super::hazards::{column_hazards, fk_index_hazard};
use super::plan::changes_of;
use super::*;

pub(super) fn alter_table(p: &mut Planner, diff: &SchemaDiff, s: &Table, t: &Table) {
    let tq = s.qname();
    let ddl = p.ddl;
    let d = p.d();
    let qt = ddl.qt(t);
    let changes: Vec<Change> = changes_of(diff, &tq).cloned().collect();
    let gone = |kind: ObjectKind, c: &Change| c.object == kind && c.change != ChangeKind::Missing;
    let comes = |kind: ObjectKind, c: &Change| c.object == kind && c.change != ChangeKind::Extra;

    // drop indexes, uniques, checks, primary key that change (and checks and keys
    // that go away); indexes that go away are dropped after new ones exist, since
    // MySQL refuses to drop the index a foreign key uses until another covers it
    let drop_index_like = |p: &mut Planner, c: &Change| {
        if c.object == ObjectKind::Index {
            let cols: Vec<String> = t
                .indexes
                .iter()
                .find(|i| i.name == c.name)
                .map(|i| i.columns.iter().filter_map(|x| x.column.clone()).collect())
                .unwrap_or_default();
            let h: Vec<_> = fk_index_hazard(p, &tq, s, t, &c.name, &cols)
                .into_iter()
                .collect();
            p.step(vec![ddl.drop_index(t, &c.name)], h);
        } else {
            let cols = t
                .uniques
                .iter()
                .find(|u| u.name == c.name)
                .map(|u| u.columns.clone())
                .unwrap_or_default();
            let h: Vec<_> = fk_index_hazard(p, &tq, s, t, &c.name, &cols)
                .into_iter()
                .collect();
            let sql = d.sql().drop_unique(&qt, &ddl.q(&c.name));
            p.step(vec![sql], h);
        }
    };
    for c in &changes {
        if (c.object == ObjectKind::Index || c.object == ObjectKind::Unique)
            && c.change == ChangeKind::Extra
        {
            continue;
        }
        if gone(ObjectKind::Index, c) || gone(ObjectKind::Unique, c) {
            drop_index_like(p, c);
        } else if gone(ObjectKind::Check, c) {
            p.one(format!(
                "ALTER TABLE {qt} DROP CONSTRAINT {}",
                ddl.q(&c.name)
            ));
        } else if gone(ObjectKind::PrimaryKey, c) {
            let name = t.primary_key.as_ref().and_then(|k| k.name.as_deref());
            let sql = d
                .sql()
                .drop_primary_key(&qt, name.map(|n| ddl.q(n)).as_deref());
            let h: Vec<_> = if d.sql().primary_key_change_rewrites() {
                p.rewrite_hazard(&tq, "dropping the primary key")
                    .into_iter()
                    .collect()
            } else {
                vec![]
            };
            p.step(vec![sql], h);
        }
    }

    // columns
    let hazards = column_hazards(p, &tq, diff, s, t);
    let hazards_for = |name: &str| -> Vec<SchemaHazard> {
        let obj = format!("{tq}.{name}");
        hazards
            .iter()
            .filter(|h| h.object == obj)
            .cloned()
            .collect()
    };
    for c in changes
        .iter()
        .filter(|c| c.object == ObjectKind::Column && c.change == ChangeKind::Missing)
    {
        let Some(col) = s.column(&c.name) else {
            continue;
        };
        let mut h = hazards_for(&c.name);
        let volatile = col
            .default
            .as_deref()
            .is_some_and(|x| x.contains('(') && !x.starts_with('\''))
            || col.generated.as_ref().is_some_and(|g| g.stored)
            || col.identity.is_some();
        if d.sql().computed_add_column_rewrites() && volatile {
            h.extend(p.rewrite_hazard(
                &tq,
                &format!("adding column {} with a computed value", c.name),
            ));
        }
        p.step(
            vec![format!(
                "ALTER TABLE {qt} ADD COLUMN {}",
                ddl.column_def(col, false)
            )],
            h,
        );
    }
    let changed_cols: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.object == ObjectKind::Column && c.change == ChangeKind::Changed)
        .map(|c| c.name.as_str())
        .collect();
    for name in changed_cols {
        let (Some(sc), Some(tc)) = (s.column(name), t.column(name)) else {
            continue;
        };
        let fields: BTreeSet<&str> = changes
            .iter()
            .filter(|c| {
                c.object == ObjectKind::Column && c.name == name && c.change == ChangeKind::Changed
            })
            .filter_map(|c| c.field.as_deref())
            .collect();
        let mut h = hazards_for(name);
        let qc = ddl.q(name);
        let mut sql = Vec::new();
        if fields.contains("generated") && (sc.generated.is_none() || tc.generated.is_none()) {
            let (code, what) = if sc.generated.is_none() {
                (
                    "generated-to-plain",
                    "stops being computed: it keeps its current values, and new rows need a value of their own",
                )
            } else {
                (
                    "plain-to-generated",
                    "becomes computed: the values stored in it are replaced by the expression's",
                )
            };
            h.push(hz(
                code,
                format!("{tq}.{name}"),
                format!("column {tq}.{name} {what}"),
            ));
        }
        if d.sql().modify_column_restates() {
            if fields.iter().any(|f| *f != "default") {
                sql.push(format!(
                    "ALTER TABLE {qt} MODIFY COLUMN {}",
                    ddl.column_def(sc, false)
                ));
                h.extend(p.rewrite_hazard(&tq, &format!("changing column {name}")));
            } else {
                sql.push(match ddl.default_expr(sc) {
                    Some(x) => format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {x}"),
                    None => format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"),
                });
            }
        } else {
            if fields.contains("generated") && sc.generated.is_none() {
                // generated -> plain keeps the values computed so far
                sql.push(format!(
                    "ALTER TABLE {qt} ALTER COLUMN {qc} DROP EXPRESSION"
                ));
                p.step(sql, h);
                continue;
            }
            if fields.contains("generated") {
                // PostgreSQL cannot change a generation expression in place
                sql.push(format!("ALTER TABLE {qt} DROP COLUMN {qc}"));
                sql.push(format!(
                    "ALTER TABLE {qt} ADD COLUMN {}",
                    ddl.column_def(sc, false)
                ));
                h.extend(p.rewrite_hazard(&tq, &format!("recomputing column {name}")));
                p.step(sql, h);
                continue;
            }
            if fields.contains("type") {
                let ty = ddl.column_type(sc);
                let cheap = is_widening(&tc.normalized_type, &sc.normalized_type)
                    && (sc.normalized_type.starts_with("varchar")
                        || sc.normalized_type == "text"
                        || sc.normalized_type.starts_with("decimal"));
                if tc.default.is_some() && !fields.contains("default") {
                    sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"));
                }
                // one enum to another has no cast: go through text
                let via = if tc.normalized_type.starts_with("enum(")
                    || sc.normalized_type.starts_with("enum(")
                {
                    "::text"
                } else {
                    ""
                };
                sql.push(format!(
                    "ALTER TABLE {qt} ALTER COLUMN {qc} TYPE {ty} USING {qc}{via}::{ty}"
                ));
                if tc.default.is_some()
                    && !fields.contains("default")
                    && let Some(x) = ddl.default_expr(sc)
                {
                    sql.push(format!(
                        "ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {x}"
                    ));
                }
                if !cheap {
                    h.extend(p.rewrite_hazard(&tq, &format!("changing the type of {name}")));
                }
            }
            if fields.contains("default") {
                sql.push(match ddl.default_expr(sc) {
                    Some(x) => format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {x}"),
                    None => format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"),
                });
            }
            // an identity column is NOT NULL: PostgreSQL drops the identity before the
            // NOT NULL, and wants NOT NULL before an identity is added
            let identity_goes = fields.contains("identity")
                && tc.identity.as_deref().is_some_and(|i| i != "serial")
                && sc.identity.is_none();
            if identity_goes {
                sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP IDENTITY"));
            }
            if fields.contains("nullable") {
                sql.push(format!(
                    "ALTER TABLE {qt} ALTER COLUMN {qc} {} NOT NULL",
                    if sc.nullable { "DROP" } else { "SET" }
                ));
            }
            if fields.contains("identity") && !identity_goes {
                match (tc.identity.as_deref(), sc.identity.as_deref()) {
                    (Some("serial"), _) | (None, Some("serial")) => {
                        if tc.identity.is_some() {
                            sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"));
                        }
                        if sc.identity.as_deref() == Some("serial") {
                            let seq = ddl.qn(&s.schema, &format!("{}_{}_seq", s.name, name));
                            // the sequence's type follows the column's (bigint otherwise)
                            let as_type = match sc.normalized_type.as_str() {
                                "int16" => " AS smallint",
                                "int32" => " AS integer",
                                _ => "",
                            };
                            sql.push(format!(
                                "CREATE SEQUENCE IF NOT EXISTS {seq}{as_type} OWNED BY {qt}.{qc}"
                            ));
                            sql.push(format!(
                                "ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT nextval({})",
                                d.quote_literal(&seq)
                            ));
                        } else if let Some(k) = sc.identity.as_deref() {
                            sql.push(format!(
                                "ALTER TABLE {qt} ALTER COLUMN {qc} ADD GENERATED {} AS IDENTITY",
                                if k == "always" {
                                    "ALWAYS"
                                } else {
                                    "BY DEFAULT"
                                }
                            ));
                        }
                    }
                    (None, Some(k)) => sql.push(format!(
                        "ALTER TABLE {qt} ALTER COLUMN {qc} ADD GENERATED {} AS IDENTITY",
                        if k == "always" {
                            "ALWAYS"
                        } else {
                            "BY DEFAULT"
                        }
                    )),
                    (Some(_), None) => {
                        sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP IDENTITY"))
                    }
                    (Some(_), Some(k)) => sql.push(format!(
                        "ALTER TABLE {qt} ALTER COLUMN {qc} SET GENERATED {}",
                        if k == "always" {
                            "ALWAYS"
                        } else {
                            "BY DEFAULT"
                        }
                    )),
                    (None, None) => {}
                }
            }
        }
        p.step(sql, h);
    }
    for c in changes
        .iter()
        .filter(|c| c.object == ObjectKind::Column && c.change == ChangeKind::Extra)
    {
        let h = hazards_for(&c.name);
        p.linked(
            vec![format!("ALTER TABLE {qt} DROP COLUMN {}", ddl.q(&c.name))],
            h,
            vec![format!("drop:{tq}.{}", c.name)],
            vec![],
        );
    }

    // add primary key, uniques, checks, indexes
    for c in &changes {
        if comes(ObjectKind::PrimaryKey, c) {
            if let Some(pk) = &s.primary_key {
                let h: Vec<_> = if d.sql().primary_key_change_rewrites() {
                    p.rewrite_hazard(&tq, "adding a primary key")
                        .into_iter()
                        .collect()
                } else {
                    vec![]
                };
                p.step(
                    vec![format!("ALTER TABLE {qt} ADD {}", ddl.pk_clause(pk))],
                    h,
                );
            }
        } else if comes(ObjectKind::Unique, c) {
            if let Some(u) = s.uniques.iter().find(|u| u.name == c.name) {
                p.one(format!("ALTER TABLE {qt} ADD {}", ddl.unique_clause(u)));
            }
        } else if comes(ObjectKind::Check, c) {
            if let Some(k) = s.checks.iter().find(|k| k.name == c.name) {
                p.one(format!(
                    "ALTER TABLE {qt} ADD {}{}",
                    ddl.check_clause(k),
                    super::plan::not_valid(p.src, &tq, &k.name)
                ));
            }
        } else if comes(ObjectKind::Index, c)
            && let Some(i) = s.indexes.iter().find(|i| i.name == c.name)
            && (d.sql().partial_indexes() || i.predicate.is_none())
        {
            p.one(ddl.create_index(t, i));
        }
    }
    for c in &changes {
        if (c.object == ObjectKind::Index || c.object == ObjectKind::Unique)
            && c.change == ChangeKind::Extra
        {
            drop_index_like(p, c);
        }
    }
}
