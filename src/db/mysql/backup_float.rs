//! `mariadb-dump` writes a FLOAT column with 6 significant digits (16777216 as
//! 16777200, 1.2345678 as 1.23457), so its dump alone does not restore FLOAT values
//! exactly (issue 7). In our snapshot, opened under the same read lock as the dump's
//! (so of the same data), the server itself writes one corrective `UPDATE` per row (of each table
//! with FLOAT columns) whose FLOAT text does not read back as the same float, keyed by
//! the table's primary key (or a unique key of NOT NULL columns), with the value's shortest exact double text (`CAST(CAST(f AS DOUBLE) AS
//! CHAR(32))`: with its own length it is never cut to the FLOAT's display width), which
//! reads back as the same float. They are appended to the dump, after its data.
//! A table with such rows and no such key, or with UPDATE triggers (which a correction
//! would fire on restore), is not corrected: the backup says so, and the restore proof
//! reports the table.

use super::backup::{err, q};
use crate::error::Result;
use futures::TryStreamExt;
use sqlx::Row;
use sqlx::mysql::MySqlConnection;
use std::collections::BTreeMap;
use std::io::Write;

/// One table with FLOAT columns.
pub(super) struct FloatTable {
    pub table: String,
    pub floats: Vec<String>,
    /// (column, is binary) of the key; empty: no usable key.
    pub key: Vec<(String, bool)>,
    /// Why the table's FLOATs cannot be corrected: no usable key, or UPDATE triggers
    /// that a corrective UPDATE would fire on restore. None: corrected.
    pub blocker: Option<String>,
    /// When blocked: the rows the dump rounds (counted in the caller's snapshot).
    pub lossy_rows: u64,
}

impl FloatTable {
    /// Its FLOATs are corrected by the appended UPDATEs.
    pub fn corrected(&self) -> bool {
        self.blocker.is_none()
    }
}

/// Tables among `tables` with FLOAT columns, each with its key (if any).
pub(super) async fn float_tables(
    c: &mut MySqlConnection,
    redacted: &str,
    tables: &[String],
) -> Result<Vec<FloatTable>> {
    let rows = sqlx::query(
        "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(extra AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(err(redacted))?;
    let mut floats: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut binary: BTreeMap<(String, String), bool> = BTreeMap::new();
    for r in &rows {
        let (t, col, ty): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        if !tables.contains(&t) {
            continue;
        }
        let ty = ty.to_ascii_lowercase();
        let extra: String = r.get(3);
        // a generated column is computed again from its (exact) inputs, and an UPDATE
        // that sets it fails
        if ty == "float" && !extra.to_ascii_uppercase().contains("GENERATED") {
            floats.entry(t.clone()).or_default().push(col.clone());
        }
        let is_bin = matches!(
            ty.as_str(),
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
        );
        binary.insert((t, col), is_bin);
    }
    let mut out = Vec::new();
    for (table, cols) in floats {
        let keys = sqlx::query(
            "SELECT CAST(index_name AS CHAR), CAST(column_name AS CHAR), CAST(nullable AS CHAR) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND non_unique = 0 ORDER BY index_name <> 'PRIMARY', index_name, seq_in_index",
        )
        .bind(&table)
        .fetch_all(&mut *c)
        .await
        .map_err(err(redacted))?;
        // the first unique index (PRIMARY first) whose columns are all NOT NULL
        let mut by_index: Vec<(String, Vec<(String, bool)>)> = Vec::new();
        for k in &keys {
            let (idx, col, nullable): (String, String, String) = (k.get(0), k.get(1), k.get(2));
            if by_index.last().map(|(i, _)| i != &idx).unwrap_or(true) {
                by_index.push((idx.clone(), Vec::new()));
            }
            let last = &mut by_index.last_mut().expect("pushed").1;
            last.push((col, nullable == "YES"));
        }
        let key: Vec<(String, bool)> = by_index
            .into_iter()
            .find(|(_, cols)| cols.iter().all(|(_, nullable)| !nullable))
            .map(|(_, cols)| {
                cols.into_iter()
                    .map(|(c, _)| {
                        let b = binary
                            .get(&(table.clone(), c.clone()))
                            .copied()
                            .unwrap_or(false);
                        (c, b)
                    })
                    .collect()
            })
            .unwrap_or_default();
        // A corrective UPDATE runs after the dump has created the table's triggers:
        // an UPDATE trigger would fire (stamping rows, writing audit rows), so such a
        // table is left to the restore proof rather than changed behind the user's back.
        let triggers: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(trigger_name AS CHAR) FROM information_schema.triggers WHERE event_object_schema = DATABASE() AND event_object_table = ? AND event_manipulation = 'UPDATE' ORDER BY action_order",
        )
        .bind(&table)
        .fetch_all(&mut *c)
        .await
        .map_err(err(redacted))?;
        let blocker = if key.is_empty() {
            Some("table has no key to correct it".to_string())
        } else if !triggers.is_empty() {
            Some(format!(
                "a correcting UPDATE would fire its UPDATE trigger(s) {}",
                triggers
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else {
            None
        };
        let mut t = FloatTable {
            table,
            floats: cols,
            key,
            blocker,
            lossy_rows: 0,
        };
        if !t.corrected() {
            let sql = format!("SELECT COUNT(*) FROM {} WHERE {}", q(&t.table), lossy(&t));
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut *c)
                .await
                .map_err(err(redacted))?;
            t.lossy_rows = n as u64;
        }
        out.push(t);
    }
    Ok(out)
}

/// A text as an SQL expression that survives any quoting mode.
fn lit(s: &str) -> String {
    format!("CONVERT(X'{}' USING utf8mb4)", hex::encode(s.as_bytes()))
}

/// Rows whose FLOAT text (as the dump writes it) does not read back as the same float:
/// values of up to 6 digits (0.1, 1.5) need no UPDATE (and fire no trigger).
fn lossy(t: &FloatTable) -> String {
    t.floats
        .iter()
        .map(|f| format!("NOT ({0} <=> CAST(CAST({0} AS CHAR) AS FLOAT))", q(f)))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The server-side SELECT that writes one corrective UPDATE per row of `t` the dump rounds.
fn fix_query(t: &FloatTable) -> String {
    let mut parts = vec![lit(&format!("UPDATE {} SET ", q(&t.table)))];
    for (i, f) in t.floats.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        parts.push(lit(&format!("{sep}{}=", q(f))));
        parts.push(format!(
            "IFNULL(CONCAT('CAST(''', CAST(CAST({} AS DOUBLE) AS CHAR(32)), ''' AS DOUBLE)'), 'NULL')",
            q(f)
        ));
    }
    for (i, (k, bin)) in t.key.iter().enumerate() {
        let sep = if i == 0 { " WHERE " } else { " AND " };
        parts.push(lit(&format!("{sep}{}=", q(k))));
        parts.push(if *bin {
            format!("CONCAT('X''', HEX({}), '''')", q(k))
        } else {
            format!("QUOTE({})", q(k))
        });
    }
    parts.push(lit(";\n"));
    format!(
        "SELECT CONCAT({}) FROM {} WHERE {}",
        parts.join(", "),
        q(&t.table),
        lossy(t)
    )
}

/// Append the corrective UPDATEs of every keyed table to `out`, read in the caller's
/// snapshot. Returns the number of statements written.
pub(super) async fn append_fixes(
    c: &mut MySqlConnection,
    redacted: &str,
    tables: &[FloatTable],
    out: &mut impl Write,
) -> Result<u64> {
    let mut n = 0;
    let keyed: Vec<&FloatTable> = tables.iter().filter(|t| t.corrected()).collect();
    if keyed.is_empty() {
        return Ok(0);
    }
    out.write_all(
        b"\n-- cutover: mariadb-dump wrote FLOAT columns with 6 significant digits;\n-- the exact values, read in the dump's snapshot (keys in UTC, as the dump wrote them):\nSET TIME_ZONE='+00:00';\n",
    )?;
    for t in keyed {
        let sql = fix_query(t);
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *c);
        while let Some(r) = rows.try_next().await.map_err(err(redacted))? {
            let line: Vec<u8> = r.get(0);
            out.write_all(&line)?;
            n += 1;
        }
    }
    Ok(n)
}

/// The warning for tables whose FLOATs cannot be corrected.
pub(super) fn keyless_warnings(tables: &[FloatTable]) -> Vec<String> {
    tables
        .iter()
        .filter(|t| !t.corrected() && t.lossy_rows > 0)
        .map(|t| {
            format!(
                "table \"{}\" (FLOAT column(s) {}, {} row(s) affected): mariadb-dump rounds FLOAT to 6 significant digits; {}; the restore proof will report it",
                t.table,
                t.floats
                    .iter()
                    .map(|f| format!("\"{f}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                t.lossy_rows,
                t.blocker.as_deref().unwrap_or_default()
            )
        })
        .collect()
}
