//! The content hashes of a MySQL/MariaDB backup and of its restore's proof.
//!
//! Each row is written as one unambiguous byte string: columns separated by `|`,
//! strings and binary values (and anything else whose text could hold a `|`) as
//! `LENGTH:bytes`, numbers, dates and times as the server's text (they never hold a
//! `|`), floats through their exact double (a FLOAT's own text keeps 6 digits), NULL as
//! `N` (no other field starts with it). Timestamps read in UTC (the connection's zone).
//!
//! Where the server has `CRC32C` (MariaDB 10.8+), a table's hash is the sums of two
//! different CRCs of every row (CRC-32 and CRC-32C: two polynomials, 64 bits a row),
//! each computed on its own connection at the same time, both connections inside the
//! same instant (the caller holds the global read lock, or takes the proof after the
//! restore). That is about twice as fast as one MD5 per row, whose hex text must be
//! converted back to a number. Without `CRC32C` (MySQL), the first 64 bits of each
//! row's MD5 are summed. The hash names its method, so a proof computed another way
//! never passes for equal.

use super::backup::q;
use crate::db::backup::TableHash;
use crate::error::Result;
use sqlx::mysql::MySqlConnection;
use sqlx::{Executor, Row};
use std::collections::BTreeMap;

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

/// Row count and one sum per table, on one connection.
async fn sums(
    c: &mut MySqlConnection,
    redacted: &str,
    rows: &[(String, String)],
    per_row: &str,
) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for (table, expr) in rows {
        let sql = format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM({}), 0) AS CHAR) FROM {}",
            per_row.replace("{row}", expr),
            q(table)
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *c)
            .await
            .map_err(err(redacted))?;
        out.push((row.get::<i64, _>(0), row.get::<String, _>(1)));
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
/// the same read lock, or both idle after a restore); `b` is used by the CRC pair only.
pub(super) async fn hash_tables(
    a: &mut MySqlConnection,
    b: &mut MySqlConnection,
    redacted: &str,
    tables: &[String],
    method: HashMethod,
) -> Result<BTreeMap<String, TableHash>> {
    let mut exprs = Vec::new();
    for t in tables {
        let e = match method {
            HashMethod::LegacyMd5 => legacy_row_expr(a, redacted, t).await?,
            _ => row_expr(a, redacted, t).await?,
        };
        exprs.push((t.clone(), e));
    }
    let mut out = BTreeMap::new();
    match method {
        HashMethod::Crc => {
            if !has_crc32c(a).await {
                return Err(crate::error::Error::runtime(format!(
                    "the backup's hashes are CRC-32 + CRC-32C, and {redacted} has no CRC32C function to recompute them"
                )));
            }
            let (x, y) = tokio::join!(
                sums(a, redacted, &exprs, "CRC32({row})"),
                sums(b, redacted, &exprs, "CRC32C({row})")
            );
            for (((t, _), (n, h1)), (m, h2)) in exprs.iter().zip(x?).zip(y?) {
                if n != m {
                    return Err(crate::error::Error::runtime(format!(
                        "{t} on {redacted} changed while it was hashed ({n} rows, then {m}): its hash would be of no one instant"
                    )));
                }
                out.insert(
                    t.clone(),
                    TableHash {
                        rows: n as u64,
                        hash: format!("crc32+crc32c:{h1}:{h2}"),
                    },
                );
            }
        }
        HashMethod::Md5 | HashMethod::LegacyMd5 => {
            let x = sums(
                a,
                redacted,
                &exprs,
                "CAST(CONV(SUBSTRING(MD5({row}), 1, 16), 16, 10) AS UNSIGNED)",
            )
            .await?;
            for ((t, _), (n, h)) in exprs.iter().zip(x) {
                out.insert(
                    t.clone(),
                    TableHash {
                        rows: n as u64,
                        hash: if method == HashMethod::Md5 {
                            format!("md5-64:{h}")
                        } else {
                            h
                        },
                    },
                );
            }
        }
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
