//! The content hashes of a MySQL/MariaDB backup and of its restore's proof.
//!
//! Each row is written as one unambiguous byte string: columns separated by `|`,
//! strings and binary values (and anything else whose text could hold a `|`) as
//! `LENGTH:bytes`, numbers, dates and times as the server's text (they never hold a
//! `|`), floats through their exact double (a FLOAT's own text keeps 6 digits), NULL as
//! `N` (no other field starts with it). Timestamps read in UTC (the connection's zone).
//!
//! Where the server has `CRC32C` (MariaDB 10.8+), a table's hash is the sums of two
//! different CRCs of every row (CRC-32 and CRC-32C: two polynomials, 64 bits a row).
//! Without `CRC32C` (MySQL), the first 64 bits of each row's MD5 are summed. The hash
//! names its method, so a proof computed another way never passes for equal.
//!
//! One query a table (or a half of a large table) takes its row count and all its sums
//! in one scan: the scan and the row's string cost more than the CRCs, so both CRCs in
//! one pass cost about 70% of two passes. The tables, and the two halves of a large
//! table's primary key, are shared between two connections that see the same data (the
//! backup's: consistent snapshots opened under the same global read lock; a restore's
//! proof: after the load); the sums are of rows, so the halves add up to the table's.

use super::backup::q;
use super::hash::{CRC_PAIR_PROBE, crc_pair};
use crate::db::backup::TableHash;
use crate::error::Result;
use sqlx::mysql::MySqlConnection;
use sqlx::{Executor, Row};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

fn err(redacted: &str) -> impl Fn(sqlx::Error) -> crate::error::Error + '_ {
    move |e| crate::db::sqlx_error(redacted, e)
}

/// One column as a field of the row's byte string.
fn field(name: &str, data_type: &str, nullable: bool) -> String {
    let c = q(name);
    let text = match data_type.to_ascii_lowercase().as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal"
        | "numeric" | "double" | "real" | "date" | "datetime" | "timestamp" | "time" | "year" => c,
        "float" => format!("CAST({c} AS DOUBLE)"),
        // strings, binary, enum/set, JSON, BIT, spatial, INET6/UUID: length-prefixed bytes
        _ => format!("CONCAT(LENGTH({c}), ':', CAST({c} AS BINARY))"),
    };
    if nullable {
        format!("COALESCE({text}, 'N')")
    } else {
        text
    }
}

/// The row byte string of `table`'s columns (the connection's current database).
async fn row_expr(c: &mut MySqlConnection, redacted: &str, table: &str) -> Result<String> {
    let cols = sqlx::query(
        "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(is_nullable = 'YES' AS SIGNED) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *c)
    .await
    .map_err(err(redacted))?;
    let fields: Vec<String> = cols
        .iter()
        .map(|r| {
            field(
                &r.get::<String, _>(0),
                &r.get::<String, _>(1),
                r.get::<i64, _>(2) != 0,
            )
        })
        .collect();
    Ok(format!("CONCAT({})", fields.join(", '|', ")))
}

/// Whether the server has `CRC32C`.
async fn has_crc32c(c: &mut MySqlConnection) -> bool {
    c.execute("SELECT CRC32C('')").await.is_ok()
}

/// Whether [`crc_pair`]'s second CRC reads the same row as the first in the query
/// shapes the hashes use ([`CRC_PAIR_PROBE`]).
async fn crc_pair_ok(c: &mut MySqlConnection) -> bool {
    sqlx::query_scalar::<_, i64>(CRC_PAIR_PROBE)
        .fetch_one(&mut *c)
        .await
        .is_ok_and(|v| v == 1)
}

/// Tables of at least this many rows (the server's estimate) are hashed in two halves
/// of their primary key, one on each connection.
const SPLIT_ROWS: i64 = 100_000;

/// What one query hashes: a whole table, or the rows of one side of a split of its
/// primary key's first column (`k <= mid` or `k > mid`: a key column is never NULL, so
/// every row is on exactly one side, whatever `mid` is; `mid` only balances the work).
struct Piece {
    /// Index into the tables.
    table: usize,
    filter: Option<String>,
}

/// The pieces of `tables`: an InnoDB table of [`SPLIT_ROWS`] or more whose primary key
/// starts with an integer column is cut in two at the middle of its key range (the
/// primary key is InnoDB's clustered index, so each half reads only its rows).
async fn pieces(c: &mut MySqlConnection, redacted: &str, tables: &[String]) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let key = sqlx::query(
            // the schema and table named on each information_schema table: joined on
            // them instead, the server reads every database's columns and indexes
            "SELECT CAST(s.column_name AS CHAR) FROM information_schema.tables t \
             JOIN information_schema.statistics s JOIN information_schema.columns c ON c.column_name = s.column_name \
             WHERE t.table_schema = DATABASE() AND t.table_name = ? AND t.engine = 'InnoDB' AND t.table_rows >= ? \
             AND s.table_schema = DATABASE() AND s.table_name = ? AND s.index_name = 'PRIMARY' AND s.seq_in_index = 1 \
             AND c.table_schema = DATABASE() AND c.table_name = ? \
             AND c.data_type IN ('tinyint', 'smallint', 'mediumint', 'int', 'bigint')",
        )
        .bind(t)
        .bind(SPLIT_ROWS)
        .bind(t)
        .bind(t)
        .fetch_optional(&mut *c)
        .await
        .map_err(err(redacted))?;
        let mid = match key {
            None => None,
            Some(r) => {
                let k = q(&r.get::<String, _>(0));
                let sql = format!(
                    "SELECT CAST(MIN({k}) AS CHAR), CAST(MAX({k}) AS CHAR) FROM {}",
                    q(t)
                );
                let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut *c)
                    .await
                    .map_err(err(redacted))?;
                let (lo, hi): (Option<String>, Option<String>) = (r.get(0), r.get(1));
                midpoint(lo.as_deref(), hi.as_deref()).map(|m| (k, m))
            }
        };
        match mid {
            Some((k, m)) => {
                out.push(Piece {
                    table: i,
                    filter: Some(format!("{k} <= {m}")),
                });
                out.push(Piece {
                    table: i,
                    filter: Some(format!("{k} > {m}")),
                });
            }
            None => out.push(Piece {
                table: i,
                filter: None,
            }),
        }
    }
    Ok(out)
}

/// The middle of an integer key's range (64-bit keys, signed or not, fit in i128), or
/// None when there is nothing to split.
fn midpoint(lo: Option<&str>, hi: Option<&str>) -> Option<i128> {
    let lo: i128 = lo?.parse().ok()?;
    let hi: i128 = hi?.parse().ok()?;
    (lo < hi).then(|| lo + (hi - lo) / 2)
}

/// One piece's row count and its sums of `per_row` (each with `{row}` for the row's
/// byte string), in one query: one scan of the rows for all the sums.
struct Sums {
    table: usize,
    rows: i64,
    sums: Vec<String>,
}

/// Take pieces off the shared list until it is empty, on one connection.
async fn worker(
    c: &mut MySqlConnection,
    redacted: &str,
    tables: &[(String, String)],
    pieces: &[Piece],
    next: &AtomicUsize,
    per_row: &[String],
) -> Result<Vec<Sums>> {
    let mut out = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(p) = pieces.get(i) else {
            return Ok(out);
        };
        let (table, expr) = &tables[p.table];
        // bare SUMs (the shape the CRC pair's probe checks): an empty piece's NULL and
        // the DECIMAL text are read in Rust
        let sums: Vec<String> = per_row
            .iter()
            .map(|f| format!("SUM({})", f.replace("{row}", expr)))
            .collect();
        let sql = format!(
            "SELECT COUNT(*), {} FROM {}{}",
            sums.join(", "),
            q(table),
            p.filter
                .as_ref()
                .map(|f| format!(" WHERE {f}"))
                .unwrap_or_default()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *c)
            .await
            .map_err(err(redacted))?;
        let mut sums = Vec::with_capacity(per_row.len());
        for j in 1..=per_row.len() {
            // a SUM of integers is a DECIMAL of scale 0, sent as its text
            let v: Option<String> = row.try_get_unchecked(j).map_err(err(redacted))?;
            sums.push(v.unwrap_or_else(|| "0".into()));
        }
        out.push(Sums {
            table: p.table,
            rows: row.get::<i64, _>(0),
            sums,
        });
    }
}

/// Row counts and sums of `per_row` of every table, the pieces shared between the two
/// connections; a split table's halves added up (the sums are of rows, so the halves'
/// sums add up to the whole table's, exactly: in u128, which 2^64 rows of 64 bits fit).
async fn sums(
    a: &mut MySqlConnection,
    b: &mut MySqlConnection,
    redacted: &str,
    tables: &[(String, String)],
    per_row: &[String],
) -> Result<Vec<(u64, Vec<u128>)>> {
    let names: Vec<String> = tables.iter().map(|(t, _)| t.clone()).collect();
    let pieces = pieces(a, redacted, &names).await?;
    let next = AtomicUsize::new(0);
    let (x, y) = tokio::join!(
        worker(a, redacted, tables, &pieces, &next, per_row),
        worker(b, redacted, tables, &pieces, &next, per_row)
    );
    let mut out = vec![(0u64, vec![0u128; per_row.len()]); tables.len()];
    for s in x?.into_iter().chain(y?) {
        let (rows, total) = &mut out[s.table];
        *rows += u64::try_from(s.rows).unwrap_or(0);
        for (t, v) in total.iter_mut().zip(&s.sums) {
            let v: u128 = v.parse().map_err(|_| {
                crate::error::Error::runtime(format!(
                    "{}: the server's sum \"{v}\" is not a whole number",
                    tables[s.table].0
                ))
            })?;
            *t = t.checked_add(v).ok_or_else(|| {
                crate::error::Error::runtime(format!(
                    "{}: the hash sum overflows",
                    tables[s.table].0
                ))
            })?;
        }
    }
    Ok(out)
}

/// How a table's hash was taken; the hash text names it, so a restore proves a backup
/// with the method of its manifest, whatever this server would pick today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HashMethod {
    /// `crc32+crc32c:A:B`: sums of CRC-32 and CRC-32C of each row (MariaDB 10.8+).
    Crc,
    /// `md5-64:N`: the first 64 bits of each row's MD5, summed (servers without CRC32C).
    Md5,
    /// A bare number: backups written before the method was named, one MD5 a row over
    /// the row's text as it was then (`V<length>:<text>` or `N`, joined by `|`).
    LegacyMd5,
}

impl HashMethod {
    /// The method a recorded hash was taken with.
    pub(super) fn of(hash: &str) -> Option<HashMethod> {
        if hash.starts_with("crc32+crc32c:") {
            Some(HashMethod::Crc)
        } else if hash.starts_with("md5-64:") {
            Some(HashMethod::Md5)
        } else if !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_digit()) {
            Some(HashMethod::LegacyMd5)
        } else {
            None
        }
    }

    /// The method a backup uses on this server: the CRC pair where it has `CRC32C`.
    pub(super) async fn best(c: &mut MySqlConnection) -> HashMethod {
        if !forced_md5() && has_crc32c(c).await {
            HashMethod::Crc
        } else {
            HashMethod::Md5
        }
    }
}

/// Test-only (the `testkit` feature, never in a release build):
/// `CUTOVER_TEST_MYSQL_HASH=md5` makes a backup hash with MD5, as on a server without
/// `CRC32C` (MySQL), so that path and its restore are tested on MariaDB.
#[cfg(feature = "testkit")]
fn forced_md5() -> bool {
    std::env::var("CUTOVER_TEST_MYSQL_HASH").is_ok_and(|v| v == "md5")
}

#[cfg(not(feature = "testkit"))]
fn forced_md5() -> bool {
    false
}

/// The row text of backups written before the method was named.
async fn legacy_row_expr(c: &mut MySqlConnection, redacted: &str, table: &str) -> Result<String> {
    let cols = sqlx::query(
        "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *c)
    .await
    .map_err(err(redacted))?;
    let fields: Vec<String> = cols
        .iter()
        .map(|r| {
            let c = q(&r.get::<String, _>(0));
            format!("COALESCE(CONCAT('V', LENGTH({c}), ':', {c}), 'N')")
        })
        .collect();
    Ok(format!("CONCAT({})", fields.join(", '|', ")))
}

/// Row counts and content hashes of `tables` with `method`: `a` and `b` are two
/// connections that see the same data (both inside a consistent snapshot taken under
/// the same read lock, or both idle after a restore), each hashing some of the pieces.
pub(super) async fn hash_tables(
    a: &mut MySqlConnection,
    b: &mut MySqlConnection,
    redacted: &str,
    tables: &[String],
    method: HashMethod,
) -> Result<BTreeMap<String, TableHash>> {
    if tables.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut exprs = Vec::new();
    for t in tables {
        let e = match method {
            HashMethod::LegacyMd5 => legacy_row_expr(a, redacted, t).await?,
            _ => row_expr(a, redacted, t).await?,
        };
        exprs.push((t.clone(), e));
    }
    let mut out = BTreeMap::new();
    let per_row: Vec<String> = match method {
        HashMethod::Crc => {
            if !has_crc32c(a).await {
                return Err(crate::error::Error::runtime(format!(
                    "the backup's hashes are CRC-32 + CRC-32C, and {redacted} has no CRC32C function to recompute them"
                )));
            }
            // the row's text built once for both CRCs where the server is seen to read
            // the same row in the second (the same values, about 20% less work)
            if crc_pair_ok(a).await {
                crc_pair("{row}").into()
            } else {
                vec!["CRC32({row})".into(), "CRC32C({row})".into()]
            }
        }
        HashMethod::Md5 | HashMethod::LegacyMd5 => {
            vec![super::hash::md5_64("{row}")]
        }
    };
    let totals = sums(a, b, redacted, &exprs, &per_row).await?;
    for ((t, _), (rows, h)) in exprs.iter().zip(totals) {
        let hash = match method {
            HashMethod::Crc => format!("crc32+crc32c:{}:{}", h[0], h[1]),
            HashMethod::Md5 => format!("md5-64:{}", h[0]),
            HashMethod::LegacyMd5 => h[0].to_string(),
        };
        out.insert(t.clone(), TableHash { rows, hash });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn strings_are_length_prefixed_and_floats_widened() {
        assert_eq!(
            field("t", "varchar", false),
            "CONCAT(LENGTH(`t`), ':', CAST(`t` AS BINARY))"
        );
        assert_eq!(
            field("f", "FLOAT", true),
            "COALESCE(CAST(`f` AS DOUBLE), 'N')"
        );
        assert_eq!(field("n", "bigint", false), "`n`");
    }
}
