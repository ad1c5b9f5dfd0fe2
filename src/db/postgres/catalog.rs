//! PostgreSQL introspection from pg_catalog (exact, including what information_schema
//! hides: index expressions and order, partial predicates, enums, identity kinds).

use crate::db::catalog::{fetch, int_of, opt_text, text_of};
use crate::db::model::*;
use crate::db::types::normalize_type;
use crate::db::{Db, Dialect};
use crate::error::Result;
use std::collections::BTreeMap;

const SEP: char = '\u{1f}';

/// Namespaces that are not the user's.
const USER_NS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

fn not_extension(oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = {oid} AND dep.deptype = 'e')"
    )
}

fn schema_of(ns: String) -> Option<String> {
    if ns == "public" { None } else { Some(ns) }
}

fn split(s: Option<String>) -> Vec<String> {
    match s {
        Some(s) if !s.is_empty() => s.split(SEP).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn fk_action(c: &str) -> String {
    match c {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .to_string()
}

pub(crate) async fn introspect(db: &Db) -> Result<Schema> {
    let mut schema = Schema::empty(Dialect::Postgres);
    let ns = fetch(
        db,
        format!(
            "SELECT n.nspname::text FROM pg_namespace n WHERE {USER_NS} AND n.nspname <> 'public' AND {}",
            not_extension("n.oid")
        ),
    );
    let enums = fetch(
        db,
        format!(
            "SELECT n.nspname::text, t.typname::text, \
                 string_agg(e.enumlabel::text, E'\\x1f' ORDER BY e.enumsortorder) \
                 FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
                 JOIN pg_namespace n ON n.oid = t.typnamespace \
                 WHERE {USER_NS} AND {} GROUP BY 1, 2",
            not_extension("t.oid")
        ),
    );
    let rels = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text, \
                 CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition AND {USER_NS} AND {}",
            not_extension("c.oid")
        ),
    );
    let cols = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, a.attname::text, \
                 format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, \
                 pg_get_expr(ad.adbin, ad.adrelid), a.attidentity::text, a.attgenerated::text, \
                 t.typtype::text, tn.nspname::text, t.typname::text \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace \
                 LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
                 WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') \
                 AND NOT c.relispartition AND {USER_NS} \
                 ORDER BY 1, 2, a.attnum"
        ),
    );
    let cons = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text, \
                 pg_get_constraintdef(con.oid), \
                 (SELECT string_agg(a.attname::text, E'\\x1f' ORDER BY k.ord) \
                    FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum), \
                 fn.nspname::text, fc.relname::text, \
                 (SELECT string_agg(a.attname::text, E'\\x1f' ORDER BY k.ord) \
                    FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum), \
                 con.confdeltype::text, con.confupdtype::text \
                 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
                 LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
                 WHERE con.contype IN ('p', 'u', 'f', 'c') AND {USER_NS}"
        ),
    );
    let idx = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, i.relname::text, ix.indisunique, \
                 pg_get_expr(ix.indpred, ix.indrelid), am.amname::text, \
                 (SELECT string_agg( \
                    CASE WHEN k.attnum <> 0 THEN 'c' ELSE 'e' END \
                    || CASE WHEN (ix.indoption[k.ord - 1] & 1) = 1 THEN '1' ELSE '0' END \
                    || CASE WHEN k.attnum <> 0 \
                         THEN (SELECT a.attname::text FROM pg_attribute a \
                               WHERE a.attrelid = ix.indrelid AND a.attnum = k.attnum) \
                         ELSE pg_get_indexdef(ix.indexrelid, k.ord::int, true) END, \
                    E'\\x1f' ORDER BY k.ord) \
                  FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
                  WHERE k.ord <= ix.indnkeyatts) \
                 FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
                 JOIN pg_class c ON c.oid = ix.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_am am ON am.oid = i.relam \
                 WHERE {USER_NS} AND NOT EXISTS (SELECT 1 FROM pg_constraint con \
                   WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x'))"
        ),
    );
    let seqs = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), \
                 s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle \
                 FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {USER_NS} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid \
                   AND d.deptype IN ('a', 'i', 'e') AND d.refclassid = 'pg_class'::regclass \
                   AND d.classid = 'pg_class'::regclass \
                   AND (d.deptype <> 'a' OR EXISTS (SELECT 1 FROM pg_depend d2 WHERE d2.refobjid = c.oid \
                     AND d2.classid = 'pg_attrdef'::regclass))) AND {}",
            not_extension("c.oid")
        ),
    );
    let trg = fetch(
        db,
        format!(
            "SELECT n.nspname::text, c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid) \
                 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE NOT t.tgisinternal AND {USER_NS}"
        ),
    );
    let funcs = fetch(
        db,
        format!(
            "SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), \
                 pg_get_functiondef(p.oid) \
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE p.prokind IN ('f', 'p') AND {USER_NS} AND {}",
            not_extension("p.oid")
        ),
    );
    let objects = super::objects::objects(db);
    // all catalog queries at once, over the pool's connections
    let (ns, enums, rels, cols, cons, idx, seqs, trg, funcs, (objects, unmodelled)) =
        futures::try_join!(ns, enums, rels, cols, cons, idx, seqs, trg, funcs, objects)?;
    schema.objects = objects;
    schema.unmodelled = unmodelled;

    schema.schemas = ns.rows.iter().map(|r| text_of(&r[0])).collect();

    // enums first: columns of enum type are normalized to their labels
    let mut enum_labels: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for r in &enums.rows {
        let labels = split(opt_text(&r[2]));
        enum_labels.insert((text_of(&r[0]), text_of(&r[1])), labels.clone());
        schema.enums.push(EnumType {
            schema: schema_of(text_of(&r[0])),
            name: text_of(&r[1]),
            labels,
        });
    }

    let mut tables: BTreeMap<(String, String), Table> = BTreeMap::new();
    let mut views: BTreeMap<(String, String), View> = BTreeMap::new();
    for r in &rels.rows {
        let (ns, name, kind) = (text_of(&r[0]), text_of(&r[1]), text_of(&r[2]));
        if kind == "v" || kind == "m" {
            views.insert(
                (ns.clone(), name.clone()),
                View {
                    schema: schema_of(ns),
                    name,
                    definition: squash(&opt_text(&r[3]).unwrap_or_default()),
                    columns: vec![],
                    materialized: kind == "m",
                },
            );
        } else {
            tables.insert((ns.clone(), name.clone()), Table::new(schema_of(ns), name));
        }
    }

    for r in &cols.rows {
        let key = (text_of(&r[0]), text_of(&r[1]));
        let name = text_of(&r[2]);
        if let Some(v) = views.get_mut(&key) {
            v.columns.push(name);
            continue;
        }
        let Some(t) = tables.get_mut(&key) else {
            continue;
        };
        let engine_type = text_of(&r[3]);
        let mut default = opt_text(&r[5]);
        let identity_kind = text_of(&r[6]);
        let generated_kind = text_of(&r[7]);
        let mut identity = match identity_kind.as_str() {
            "a" => Some("always".to_string()),
            "d" => Some("by default".to_string()),
            _ => None,
        };
        let mut generated = None;
        if generated_kind == "s" {
            generated = default.take().map(|expression| Generated {
                expression,
                stored: true,
            });
        }
        if identity.is_none()
            && default
                .as_deref()
                .is_some_and(|d| d.starts_with("nextval(") && d.ends_with("::regclass)"))
        {
            identity = Some("serial".into());
            default = None;
        }
        let normalized_type = if text_of(&r[8]) == "e" {
            let labels = enum_labels
                .get(&(text_of(&r[9]), text_of(&r[10])))
                .cloned()
                .unwrap_or_default();
            format!(
                "enum({})",
                labels
                    .iter()
                    .map(|l| format!("'{}'", l.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        } else {
            normalize_type(&engine_type, Dialect::Postgres)
        };
        t.columns.push(Column {
            name,
            normalized_type,
            engine_type,
            nullable: matches!(r[4], crate::db::Value::Bool(true)),
            default,
            generated,
            identity,
        });
    }

    for r in &cons.rows {
        let Some(t) = tables.get_mut(&(text_of(&r[0]), text_of(&r[1]))) else {
            continue;
        };
        let name = text_of(&r[2]);
        let columns = split(opt_text(&r[5]));
        match text_of(&r[3]).as_str() {
            "p" => {
                t.primary_key = Some(PrimaryKey {
                    name: Some(name),
                    columns,
                })
            }
            "u" => t.uniques.push(Unique { name, columns }),
            "f" => t.foreign_keys.push(ForeignKey {
                name,
                columns,
                ref_schema: schema_of(text_of(&r[6])),
                ref_table: text_of(&r[7]),
                ref_columns: split(opt_text(&r[8])),
                on_delete: fk_action(&text_of(&r[9])),
                on_update: fk_action(&text_of(&r[10])),
            }),
            _ => {
                let def = text_of(&r[4]);
                let expr = def
                    .strip_prefix("CHECK ")
                    .unwrap_or(&def)
                    .trim_end_matches(" NOT VALID")
                    .to_string();
                let mut expr = expr;
                loop {
                    let inner = strip_outer_parens(&expr);
                    if inner == expr {
                        break;
                    }
                    expr = inner;
                }
                t.checks.push(Check {
                    name,
                    expression: expr,
                });
            }
        }
    }

    // (unnest, not generate_series: its 1000-row estimate pushed the plan's cost over
    // jit_above_cost, and JIT compilation alone took a second)
    for r in &idx.rows {
        let Some(t) = tables.get_mut(&(text_of(&r[0]), text_of(&r[1]))) else {
            continue;
        };
        let columns = split(opt_text(&r[6]))
            .into_iter()
            .map(|s| {
                let (kind, rest) = s.split_at(1);
                let (desc, text) = rest.split_at(1);
                IndexColumn {
                    column: (kind == "c").then(|| text.to_string()),
                    expression: (kind == "e").then(|| text.to_string()),
                    descending: desc == "1",
                    prefix: None,
                }
            })
            .collect();
        let method = text_of(&r[5]);
        t.indexes.push(Index {
            name: text_of(&r[2]),
            columns,
            unique: matches!(r[3], crate::db::Value::Bool(true)),
            predicate: opt_text(&r[4]),
            method: (method != "btree").then_some(method),
        });
    }

    for r in &seqs.rows {
        schema.sequences.push(Sequence {
            schema: schema_of(text_of(&r[0])),
            name: text_of(&r[1]),
            data_type: text_of(&r[2]),
            start: int_of(&r[3]),
            increment: int_of(&r[4]),
            min: int_of(&r[5]),
            max: int_of(&r[6]),
            cycle: matches!(r[7], crate::db::Value::Bool(true)),
        });
    }

    for r in &trg.rows {
        schema.triggers.push(Trigger {
            schema: schema_of(text_of(&r[0])),
            table: text_of(&r[1]),
            name: text_of(&r[2]),
            definition: text_of(&r[3]),
        });
    }

    for r in &funcs.rows {
        schema.functions.push(Function {
            schema: schema_of(text_of(&r[0])),
            name: text_of(&r[1]),
            arguments: text_of(&r[2]),
            definition: text_of(&r[3]).trim().to_string(),
        });
    }

    schema.tables = tables.into_values().collect();
    schema.views = views.into_values().collect();
    schema.sort();
    Ok(schema)
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `((a > 0))` -> `(a > 0)`: PostgreSQL wraps check expressions in one more pair.
fn strip_outer_parens(s: &str) -> String {
    let t = s.trim();
    if t.starts_with('(') && t.ends_with(')') {
        // only when the outer pair encloses everything
        let inner = &t[1..t.len() - 1];
        let mut depth = 0i32;
        for c in inner.chars() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return t.to_string();
                    }
                }
                _ => {}
            }
        }
        return inner.to_string();
    }
    t.to_string()
}
