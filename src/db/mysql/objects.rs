//! MySQL/MariaDB objects the table model does not hold, as [`CatalogObject`]s with
//! the statements that create and remove them: stored routines, events, partitioning,
//! and table options (engine, default collation, comment).

use crate::db::catalog::{fetch, opt_text, text_of};
use crate::db::model::CatalogObject;
use crate::db::{Db, Dialect, Rows};
use crate::error::Result;
use std::collections::BTreeMap;

fn q(s: &str) -> String {
    Dialect::Mysql.quote_ident(s)
}

/// `CREATE DEFINER=`root`@`localhost` PROCEDURE` -> `CREATE PROCEDURE`: the definer is
/// an account, not schema.
pub(crate) fn strip_definer(sql: &str) -> String {
    if let Some(i) = sql.find(" DEFINER=") {
        let rest = &sql[i + " DEFINER=".len()..];
        // `user`@`host`
        let mut ticks = 0;
        for (j, ch) in rest.char_indices() {
            if ch == '`' {
                ticks += 1;
                if ticks == 4 {
                    return format!("{}{}", &sql[..i], &rest[j + 1..]);
                }
            }
        }
    }
    sql.to_string()
}

/// The objects, and each table's default collation (columns that differ from it say so).
pub(crate) async fn objects(
    db: &Db,
    tables: &Rows,
) -> Result<(Vec<CatalogObject>, BTreeMap<String, String>)> {
    let routines = fetch(
        db,
        "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1, 2"
            .into(),
    );
    let events = fetch(
        db,
        "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() ORDER BY 1"
            .into(),
    );
    let parts = fetch(
        db,
        "SELECT TABLE_NAME, PARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, \
         PARTITION_DESCRIPTION FROM information_schema.PARTITIONS \
         WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL \
         ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION"
            .into(),
    );
    let (routines, events, parts) = futures::try_join!(routines, events, parts)?;
    let mut out = Vec::new();
    for r in &routines.rows {
        let (kind, name) = (text_of(&r[0]), text_of(&r[1]));
        let rows = db
            .query(&format!("SHOW CREATE {kind} {}", q(&name)), &[])
            .await?;
        let Some(def) = rows.rows.first().and_then(|r| opt_text(&r[2])) else {
            continue;
        };
        let def = strip_definer(&def);
        let mut o = CatalogObject::new(
            "routine",
            None,
            format!("{} {name}", kind.to_lowercase()),
            def.clone(),
        );
        o.create = vec![def];
        o.drop = vec![format!("DROP {kind} {}", q(&name))];
        o.early = true;
        out.push(o);
    }
    for r in &events.rows {
        let name = text_of(&r[0]);
        let rows = db
            .query(&format!("SHOW CREATE EVENT {}", q(&name)), &[])
            .await?;
        let Some(def) = rows.rows.first().and_then(|r| opt_text(&r[3])) else {
            continue;
        };
        let def = strip_definer(&def);
        let mut o = CatalogObject::new("event", None, name.clone(), def.clone());
        o.create = vec![def];
        o.drop = vec![format!("DROP EVENT {}", q(&name))];
        out.push(o);
    }
    let mut by_table: BTreeMap<String, (String, String, Vec<String>)> = BTreeMap::new();
    for r in &parts.rows {
        let (table, pname, method) = (text_of(&r[0]), text_of(&r[1]), text_of(&r[2]));
        let expr = text_of(&r[3]);
        let desc = opt_text(&r[4]);
        let e = by_table
            .entry(table)
            .or_insert_with(|| (method.clone(), expr.clone(), Vec::new()));
        e.2.push(match (method.as_str(), desc) {
            (m, Some(d)) if m.starts_with("RANGE") => {
                format!("PARTITION {} VALUES LESS THAN ({d})", q(&pname))
            }
            (m, Some(d)) if m.starts_with("LIST") => {
                format!("PARTITION {} VALUES IN ({d})", q(&pname))
            }
            _ => format!("PARTITION {}", q(&pname)),
        });
    }
    for (table, (method, expr, parts)) in by_table {
        let (m, cols) = match method.as_str() {
            "RANGE COLUMNS" => ("RANGE COLUMNS", true),
            "LIST COLUMNS" => ("LIST COLUMNS", true),
            "LINEAR HASH" | "LINEAR KEY" | "HASH" | "KEY" | "RANGE" | "LIST" => {
                (method.as_str(), false)
            }
            other => (other, false),
        };
        let _ = cols;
        let def = format!("PARTITION BY {m} ({expr}) ({})", parts.join(", "));
        let mut o = CatalogObject::new(
            "partitioning",
            Some(table.clone()),
            "partitioning",
            def.clone(),
        );
        o.create = vec![format!("ALTER TABLE {} {def}", q(&table))];
        o.drop = vec![format!("ALTER TABLE {} REMOVE PARTITIONING", q(&table))];
        out.push(o);
    }
    let mut collations = BTreeMap::new();
    for r in &tables.rows {
        if text_of(&r[1]) == "VIEW" {
            continue;
        }
        let name = text_of(&r[0]);
        let coll = text_of(&r[2]);
        collations.insert(name.clone(), coll.clone());
        let engine = text_of(&r[3]);
        let comment = text_of(&r[4]);
        let mut def = format!("ENGINE={engine} COLLATE={coll}");
        let mut alter = format!("ALTER TABLE {} ENGINE={engine}, COLLATE={coll}", q(&name));
        if !comment.is_empty() {
            def.push_str(&format!(
                " COMMENT={}",
                Dialect::Mysql.quote_literal(&comment)
            ));
            alter.push_str(&format!(
                ", COMMENT={}",
                Dialect::Mysql.quote_literal(&comment)
            ));
        } else {
            alter.push_str(", COMMENT=''");
        }
        let mut o = CatalogObject::new("table option", Some(name), "options", def);
        o.create = vec![alter];
        out.push(o);
    }
    Ok((out, collations))
}
