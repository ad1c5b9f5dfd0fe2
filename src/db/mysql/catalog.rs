//! MySQL/MariaDB introspection from information_schema, for the database of the URL.

use crate::db::catalog::{fetch, int_of, opt_text, text_of};
use crate::db::model::*;
use crate::db::types::normalize_type;
use crate::db::{Db, Dialect};
use crate::error::Result;
use std::collections::BTreeMap;

pub(crate) async fn introspect(db: &Db) -> Result<Schema> {
    let mut schema = Schema::empty(Dialect::Mysql);
    let rels = fetch(
        db,
        "SELECT TABLE_NAME, TABLE_TYPE, TABLE_COLLATION, ENGINE, TABLE_COMMENT \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            .to_string(),
    );
    let vdefs = fetch(
        db,
        "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = DATABASE()"
            .to_string(),
    );
    let checks = fetch(db, "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME".to_string());
    let cols = fetch(
        db,
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
             GENERATION_EXPRESSION, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
            .to_string(),
    );
    let stats = fetch(
        db,
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, COLLATION, SUB_PART, INDEX_TYPE \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
            .to_string(),
    );
    let fks = fetch(db, "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, \
             k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE \
             FROM information_schema.KEY_COLUMN_USAGE k \
             JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
               ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
              AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION".to_string());
    let trg = fetch(db, "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT \
             FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()".to_string());
    // all catalog queries at once, over the pool's connections
    let (rels, vdefs, checks, cols, stats, fks, trg) =
        futures::try_join!(rels, vdefs, checks, cols, stats, fks, trg)?;
    let dbname = db
        .query("SELECT DATABASE()", &[])
        .await?
        .scalar()
        .map(text_of)
        .unwrap_or_default();

    let (objects, table_collations) = super::objects::objects(db, &rels).await?;
    schema.objects = objects;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut views: BTreeMap<String, View> = BTreeMap::new();
    for r in &rels.rows {
        let name = text_of(&r[0]);
        if text_of(&r[1]) == "VIEW" {
            views.insert(
                name.clone(),
                View {
                    schema: None,
                    name,
                    definition: String::new(),
                    columns: vec![],
                    materialized: false,
                },
            );
        } else {
            tables.insert(name.clone(), Table::new(None, name));
        }
    }

    let qualifier = format!("{}.", Dialect::Mysql.quote_ident(&dbname));
    for r in &vdefs.rows {
        if let Some(v) = views.get_mut(&text_of(&r[0])) {
            // the definition names the database; drop it so two databases compare equal
            v.definition = text_of(&r[1]).replace(&qualifier, "");
        }
    }

    // checks first: MariaDB's JSON is longtext with a json_valid(col) check
    let mut json_cols: Vec<(String, String)> = Vec::new();
    for r in &checks.rows {
        let (tname, cname, clause) = (text_of(&r[0]), text_of(&r[1]), text_of(&r[2]));
        if clause == format!("json_valid({})", Dialect::Mysql.quote_ident(&cname)) {
            json_cols.push((tname, cname));
            continue;
        }
        if let Some(t) = tables.get_mut(&tname) {
            t.checks.push(Check {
                name: cname,
                expression: clause,
            });
        }
    }

    for r in &cols.rows {
        let tname = text_of(&r[0]);
        let name = text_of(&r[1]);
        if let Some(v) = views.get_mut(&tname) {
            v.columns.push(name);
            continue;
        }
        let Some(t) = tables.get_mut(&tname) else {
            continue;
        };
        let engine_type = text_of(&r[2]);
        let extra = text_of(&r[5]).to_lowercase();
        let generated = opt_text(&r[6])
            .filter(|g| !g.is_empty())
            .map(|expression| Generated {
                expression,
                stored: extra.contains("stored"),
            });
        let default = if generated.is_some() {
            None
        } else {
            opt_text(&r[4]).filter(|d| d != "NULL")
        };
        let is_json = json_cols.contains(&(tname.clone(), name.clone()));
        let normalized_type = if is_json {
            "json".into()
        } else {
            normalize_type(&engine_type, Dialect::Mysql)
        };
        // the engine's type says what MODIFY COLUMN restates: a collation other than the
        // table's, invisibility and the comment are part of it (and compared with it)
        let mut engine_type = if is_json { "json".into() } else { engine_type };
        if let Some(coll) = opt_text(&r[8])
            && !is_json
            && table_collations.get(&tname) != Some(&coll)
        {
            engine_type.push_str(&format!(" CHARACTER SET {} COLLATE {coll}", text_of(&r[7])));
        }
        if extra.split_whitespace().any(|w| w == "invisible") {
            engine_type.push_str(" INVISIBLE");
        }
        let comment = text_of(&r[9]);
        if !comment.is_empty() {
            engine_type.push_str(&format!(
                " COMMENT {}",
                Dialect::Mysql.quote_literal(&comment)
            ));
        }
        t.columns.push(Column {
            normalized_type,
            engine_type,
            nullable: text_of(&r[3]) == "YES",
            default,
            generated,
            identity: extra
                .contains("auto_increment")
                .then(|| "auto_increment".to_string()),
            name,
        });
    }

    let mut idx: BTreeMap<(String, String), (bool, String, Vec<IndexColumn>)> = BTreeMap::new();
    for r in &stats.rows {
        let e = idx
            .entry((text_of(&r[0]), text_of(&r[1])))
            .or_insert_with(|| (int_of(&r[2]) == 0, text_of(&r[6]), Vec::new()));
        e.2.push(IndexColumn {
            column: Some(text_of(&r[3])),
            expression: None,
            descending: text_of(&r[4]) == "D",
            prefix: opt_text(&r[5]).and_then(|s| s.parse().ok()),
        });
    }
    for ((tname, iname), (unique, kind, columns)) in idx {
        let Some(t) = tables.get_mut(&tname) else {
            continue;
        };
        if iname == "PRIMARY" {
            t.primary_key = Some(PrimaryKey {
                name: None,
                columns: columns.into_iter().filter_map(|c| c.column).collect(),
            });
        } else if unique
            && kind == "BTREE"
            && columns.iter().all(|c| c.prefix.is_none() && !c.descending)
        {
            t.uniques.push(Unique {
                name: iname,
                columns: columns.into_iter().filter_map(|c| c.column).collect(),
            });
        } else {
            t.indexes.push(Index {
                name: iname,
                columns,
                unique,
                predicate: None,
                method: (kind != "BTREE").then_some(kind),
            });
        }
    }

    let mut fk_map: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    for r in &fks.rows {
        let ref_db = text_of(&r[3]);
        let fk = fk_map
            .entry((text_of(&r[0]), text_of(&r[1])))
            .or_insert_with(|| ForeignKey {
                name: text_of(&r[1]),
                columns: vec![],
                ref_schema: (ref_db != dbname).then_some(ref_db),
                ref_table: text_of(&r[4]),
                ref_columns: vec![],
                on_delete: text_of(&r[7]),
                on_update: text_of(&r[6]),
            });
        fk.columns.push(text_of(&r[2]));
        fk.ref_columns.push(text_of(&r[5]));
    }
    for ((tname, _), fk) in fk_map {
        if let Some(t) = tables.get_mut(&tname) {
            t.foreign_keys.push(fk);
        }
    }

    for r in &trg.rows {
        let (table, name) = (text_of(&r[0]), text_of(&r[1]));
        // the statement as written (what the dump tool shows and a re-creation keeps)
        let original = db
            .query(
                &format!("SHOW CREATE TRIGGER {}", Dialect::Mysql.quote_ident(&name)),
                &[],
            )
            .await?
            .rows
            .first()
            .and_then(|r| opt_text(&r[2]))
            .map(|s| super::objects::strip_definer(&s));
        schema.triggers.push(Trigger {
            schema: None,
            definition: original.unwrap_or_else(|| {
                format!(
                    "CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}",
                    Dialect::Mysql.quote_ident(&name),
                    text_of(&r[2]),
                    text_of(&r[3]),
                    Dialect::Mysql.quote_ident(&table),
                    text_of(&r[4])
                )
            }),
            table,
            name,
        });
    }

    schema.tables = tables.into_values().collect();
    schema.views = views.into_values().collect();
    schema.sort();
    Ok(schema)
}
