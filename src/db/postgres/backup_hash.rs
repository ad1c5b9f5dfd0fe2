//! A table's content hash for a backup's manifest and a restore's proof.
//!
//! Two methods, named by the hash text so a restore proves a backup with the method its
//! manifest was written with, whatever this server would pick today:
//! - `rec64:N` (PostgreSQL 14+): each row hashed by `hash_record_extended` over its
//!   columns, each as its own type where that type's hash sets apart exactly the values
//!   that print differently, any other column as its text; about a third of the CPU of
//!   turning every row into text.
//! - a bare number: `hashtextextended` of each row's text (servers before 14, and
//!   backups written before the method was named).
//!
//! Either way the sum over the rows is exact (`sum(int8)` accumulates in 128 bits).

use super::backup::{err, quote_qualified};
use crate::db::backup::TableHash;
use crate::error::Result;
use sqlx::{PgConnection, Row};

/// How a table's hash is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HashMethod {
    /// `rec64:N`: the mixed `hash_record_extended` of each row, summed.
    Record,
    /// A bare number: `hashtextextended` of each row's text, summed.
    RowText,
}

const RECORD_PREFIX: &str = "rec64:";

impl HashMethod {
    /// The method a recorded hash was taken with; None for a text no method wrote.
    pub(super) fn of(hash: &str) -> Option<HashMethod> {
        let digits = |s: &str| {
            let s = s.strip_prefix('-').unwrap_or(s);
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
        };
        match hash.strip_prefix(RECORD_PREFIX) {
            Some(n) if digits(n) => Some(HashMethod::Record),
            Some(_) => None,
            None if digits(hash) => Some(HashMethod::RowText),
            None => None,
        }
    }

    /// The method a backup uses on a server of `version_num` (`server_version_num`).
    pub(super) fn best(version_num: i64) -> HashMethod {
        if version_num >= 140000 {
            HashMethod::Record
        } else {
            HashMethod::RowText
        }
    }
}

/// The type names (as `format_type` spells them, without a type modifier) whose own
/// extended hash sets apart exactly the values that print differently: integers,
/// booleans, dates, timestamps (the microseconds they store), UUIDs and bytea (their
/// bytes); NULL hashes as 0, which none of them does. Text and varchar are hashed in
/// bytes (`COLLATE "C"`). Everything else — numeric (1.5 and 1.50 hash alike: its scale
/// goes in beside it, and NaN hashes as NULL: its text too), floats (-0 and 0),
/// char(n), JSON, arrays, intervals, … — goes in as its text.
fn own_hash(ty: &str) -> Option<&'static str> {
    let base = ty.split('(').next().unwrap_or(ty).trim();
    Some(match base {
        "smallint" | "integer" | "bigint" | "boolean" | "date" | "uuid" | "bytea" | "oid" => "",
        "timestamp without time zone" | "timestamp with time zone" => "",
        "time without time zone" => "",
        "text" | "character varying" => " COLLATE \"C\"",
        _ => return None,
    })
}

/// The fields of one row of `columns` (name, `format_type` text) in the record hash.
fn record_fields(columns: &[(String, String)]) -> String {
    let q = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let parts: Vec<String> = columns
        .iter()
        .map(|(c, ty)| {
            let c = q(c);
            match own_hash(ty) {
                Some(collate) => format!("{c}{collate}"),
                // a numeric's hash is its value's (1.5 = 1.50), its scale tells them
                // apart; NaN and the infinities hash as NULL does (0) and have no scale:
                // their text does
                None if ty.starts_with("numeric") => {
                    format!("{c}, scale({c}), {}", super::hash::numeric_special(&c))
                }
                None => format!("({c})::text COLLATE \"C\""),
            }
        })
        .collect();
    parts.join(", ")
}

/// One table's rows and content hash by `method` (after the backup's hash settings in
/// the same transaction).
pub(super) async fn hash_table(
    c: &mut PgConnection,
    redacted: &str,
    t: &str,
    method: HashMethod,
) -> Result<TableHash> {
    let table = quote_qualified(t);
    let sql = match method {
        HashMethod::RowText => format!(
            "SELECT count(*)::int8, coalesce(sum(hashtextextended(\"cutover row\"::text, 0)), 0)::text FROM ONLY {table} AS \"cutover row\""
        ),
        HashMethod::Record => {
            let columns: Vec<(String, String)> = sqlx::query(
                "SELECT a.attname::text, format_type(a.atttypid, NULL) FROM pg_attribute a \
                 WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum",
            )
            .bind(&table)
            .fetch_all(&mut *c)
            .await
            .map_err(err(redacted))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
            // a table without columns: its rows alone
            let row = if columns.is_empty() {
                "ROW(0)".to_string()
            } else {
                format!("ROW({})", record_fields(&columns))
            };
            format!(
                "SELECT count(*)::int8, '{RECORD_PREFIX}' || coalesce(sum(hashint8extended(hash_record_extended({row}, 0), 0)), 0)::text FROM ONLY {table}"
            )
        }
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut *c)
        .await
        .map_err(err(redacted))?;
    Ok(TableHash {
        rows: row.get::<i64, _>(0) as u64,
        hash: row.get::<String, _>(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_text_names_its_method() {
        assert_eq!(HashMethod::of("rec64:-12"), Some(HashMethod::Record));
        assert_eq!(HashMethod::of("rec64:"), None);
        assert_eq!(HashMethod::of("12345"), Some(HashMethod::RowText));
        assert_eq!(HashMethod::of("-7"), Some(HashMethod::RowText));
        assert_eq!(HashMethod::of("crc32+crc32c:1:2"), None);
    }

    #[test]
    fn columns_go_in_as_their_type_or_their_text() {
        let cols = [
            ("id", "bigint"),
            ("n", "numeric"),
            ("t", "text"),
            ("f", "double precision"),
            ("a", "integer[]"),
        ]
        .map(|(c, t)| (c.to_string(), t.to_string()));
        assert_eq!(
            record_fields(&cols),
            "\"id\", \"n\", scale(\"n\"), CASE WHEN scale(\"n\") IS NULL THEN (\"n\")::text END, \"t\" COLLATE \"C\", (\"f\")::text COLLATE \"C\", (\"a\")::text COLLATE \"C\""
        );
    }
}
