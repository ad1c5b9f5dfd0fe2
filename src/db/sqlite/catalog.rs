//! SQLite introspection: `sqlite_master`, the table-valued pragmas, and the CREATE
//! statements themselves for what SQLite keeps nowhere else (checks, names, expressions).

use super::sqlparse;
use crate::db::catalog::{int_of, opt_text, text_of};
use crate::db::model::*;
use crate::db::types::normalize_type;
use crate::db::{Db, Dialect, Value};
use crate::error::Result;

pub(crate) async fn introspect(db: &Db) -> Result<Schema> {
    let mut schema = Schema::empty(Dialect::Sqlite);
    let objects = db
        .query(
            "SELECT type, name, tbl_name, sql FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
            &[],
        )
        .await?;
    let mut index_sql = std::collections::HashMap::new();
    for r in &objects.rows {
        if text_of(&r[0]) == "index" {
            index_sql.insert(text_of(&r[1]), opt_text(&r[3]));
        }
    }
    for r in &objects.rows {
        let (kind, name, tbl, sql) = (
            text_of(&r[0]),
            text_of(&r[1]),
            text_of(&r[2]),
            opt_text(&r[3]).unwrap_or_default(),
        );
        match kind.as_str() {
            "table" => schema
                .tables
                .push(table(db, &name, &sql, &index_sql).await?),
            "view" => {
                let cols = db
                    .query(
                        "SELECT name FROM pragma_table_info(?) ORDER BY cid",
                        &[Value::Text(name.clone())],
                    )
                    .await?;
                schema.views.push(View {
                    schema: None,
                    name: name.clone(),
                    definition: view_body(&sql),
                    columns: cols.rows.iter().map(|c| text_of(&c[0])).collect(),
                    materialized: false,
                });
            }
            "trigger" => schema.triggers.push(Trigger {
                schema: None,
                table: tbl,
                name,
                definition: squash(&sql),
            }),
            _ => {}
        }
    }
    schema.sort();
    Ok(schema)
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The SELECT of a CREATE VIEW statement.
fn view_body(sql: &str) -> String {
    let toks = sqlparse::tokenize(sql);
    for (t, _, end) in &toks {
        if t.is_kw("as") {
            return squash(&sql[*end..]);
        }
    }
    squash(sql)
}

async fn table(
    db: &Db,
    name: &str,
    sql: &str,
    index_sql: &std::collections::HashMap<String, Option<String>>,
) -> Result<Table> {
    let p = [Value::Text(name.to_string())];
    let mut t = Table::new(None, name);
    let items: Vec<sqlparse::ItemInfo> = sqlparse::create_table_items(sql)
        .iter()
        .map(|i| sqlparse::parse_item(i))
        .collect();
    let col_info = |c: &str| items.iter().find(|i| i.column.as_deref() == Some(c));

    let cols = db
        .query(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid",
            &p,
        )
        .await?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    for r in &cols.rows {
        let cname = text_of(&r[0]);
        let declared = text_of(&r[1]);
        let hidden = int_of(&r[5]);
        if hidden == 1 {
            continue; // hidden columns of virtual tables
        }
        let info = col_info(&cname);
        let generated = if hidden == 2 || hidden == 3 {
            info.and_then(|i| i.generated.clone())
                .map(|(expression, _)| Generated {
                    expression,
                    stored: hidden == 3,
                })
        } else {
            None
        };
        let pkn = int_of(&r[4]);
        if pkn > 0 {
            pk.push((pkn, cname.clone()));
        }
        t.columns.push(Column {
            normalized_type: normalize_type(&declared, Dialect::Sqlite),
            engine_type: declared,
            nullable: int_of(&r[2]) == 0 && pkn == 0,
            default: opt_text(&r[3]),
            generated,
            identity: None,
            name: cname,
        });
    }
    pk.sort();
    if !pk.is_empty() {
        let pk_cols: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
        // A single INTEGER PRIMARY KEY column is an alias of the rowid: it auto-assigns.
        if pk_cols.len() == 1 {
            let c = &pk_cols[0];
            let auto = col_info(c).is_some_and(|i| i.autoincrement);
            if let Some(col) = t.columns.iter_mut().find(|x| &x.name == c)
                && col.engine_type.eq_ignore_ascii_case("integer")
            {
                col.identity = Some(if auto { "autoincrement" } else { "rowid" }.into());
                col.nullable = false;
            }
        }
        let name = items.iter().find_map(|i| {
            i.keyed
                .iter()
                .find(|k| k.0 == "primary")
                .and_then(|k| k.1.clone())
                .or_else(|| {
                    i.inline
                        .iter()
                        .find(|k| k.0 == "primary")
                        .and_then(|k| k.1.clone())
                })
        });
        t.primary_key = Some(PrimaryKey {
            name,
            columns: pk_cols,
        });
    }

    // checks
    let mut unnamed = 0;
    for info in &items {
        for (cname, expr) in &info.checks {
            let name = cname.clone().unwrap_or_else(|| {
                unnamed += 1;
                format!("{name}_check{unnamed}")
            });
            t.checks.push(Check {
                name,
                expression: expr.clone(),
            });
        }
    }

    // indexes and unique constraints
    let idx = db
        .query(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name",
            &p,
        )
        .await?;
    for r in &idx.rows {
        let iname = text_of(&r[0]);
        let unique = int_of(&r[1]) == 1;
        let origin = text_of(&r[2]);
        if origin == "pk" {
            continue;
        }
        let icols = db
            .query(
                "SELECT name, \"desc\", cid FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
                &[Value::Text(iname.clone())],
            )
            .await?;
        if origin == "u" {
            let cols: Vec<String> = icols.rows.iter().map(|c| text_of(&c[0])).collect();
            let cname = items.iter().find_map(|i| {
                i.keyed
                    .iter()
                    .find(|k| k.0 == "unique" && k.2 == cols)
                    .and_then(|k| k.1.clone())
                    .or_else(|| {
                        (cols.len() == 1 && i.column.as_deref() == Some(&cols[0]))
                            .then(|| {
                                i.inline
                                    .iter()
                                    .find(|k| k.0 == "unique")
                                    .and_then(|k| k.1.clone())
                            })
                            .flatten()
                    })
            });
            t.uniques.push(Unique {
                name: cname.unwrap_or(iname),
                columns: cols,
            });
            continue;
        }
        let sql = index_sql.get(&iname).cloned().flatten().unwrap_or_default();
        let (exprs, predicate) = sqlparse::index_parts(&sql);
        let columns = icols
            .rows
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let desc = int_of(&c[1]) == 1;
                let is_expr = int_of(&c[2]) == -2;
                IndexColumn {
                    column: (!is_expr).then(|| text_of(&c[0])),
                    expression: is_expr.then(|| exprs.get(k).cloned().unwrap_or_default()),
                    descending: desc,
                    prefix: None,
                }
            })
            .collect();
        t.indexes.push(Index {
            name: iname,
            columns,
            unique,
            predicate: if int_of(&r[3]) == 1 { predicate } else { None },
            method: None,
        });
    }

    // foreign keys
    let fks = db
        .query(
            "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
            &p,
        )
        .await?;
    let mut by_id: std::collections::BTreeMap<i64, ForeignKey> = Default::default();
    for r in &fks.rows {
        let id = int_of(&r[0]);
        let fk = by_id.entry(id).or_insert_with(|| ForeignKey {
            name: String::new(),
            columns: vec![],
            ref_schema: None,
            ref_table: text_of(&r[2]),
            ref_columns: vec![],
            on_delete: text_of(&r[6]).to_uppercase(),
            on_update: text_of(&r[5]).to_uppercase(),
        });
        fk.columns.push(text_of(&r[3]));
        if let Some(to) = opt_text(&r[4]) {
            fk.ref_columns.push(to);
        }
    }
    for (_, mut fk) in by_id.into_iter().rev() {
        if fk.ref_columns.is_empty() {
            // REFERENCES t without columns: the referenced table's primary key
            let pk = db
                .query(
                    "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk",
                    &[Value::Text(fk.ref_table.clone())],
                )
                .await?;
            fk.ref_columns = pk.rows.iter().map(|r| text_of(&r[0])).collect();
        }
        let declared = items.iter().find_map(|i| {
            i.keyed
                .iter()
                .find(|k| k.0 == "foreign" && k.2 == fk.columns)
                .and_then(|k| k.1.clone())
        });
        fk.name = declared.unwrap_or_else(|| format!("{}_{}_fkey", name, fk.columns.join("_")));
        t.foreign_keys.push(fk);
    }
    Ok(t)
}
