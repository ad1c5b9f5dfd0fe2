//! MySQL/MariaDB expressions yielding a column's canonical text for the data diff.

use crate::db::Class;
use crate::db::dialect::{HashColumn, NativeField, UUID_FORMS, pow10};

pub(super) fn canonical_text(c: &str, col: &HashColumn) -> String {
    let native = col.native;
    match col.class {
        Class::Int => format!("CAST({c} AS CHAR)"),
        Class::Decimal if col.exact_scale => format!("CAST({c} AS CHAR)"),
        Class::Decimal => match (col.scale, native) {
            (Some(s), Class::Decimal) => format!("CAST(ROUND({c}, {s}) AS CHAR)"),
            (Some(s), _) => format!("CAST(ROUND(CAST({c} AS DECIMAL(65,30)), {s}) AS CHAR)"),
            (None, Class::Int) => format!("CAST({c} AS CHAR)"),
            // MySQL decimals always have a declared scale; strip zeros for "exact"
            (None, _) => format!(
                "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST(CAST({c} AS DECIMAL(65,30)) AS CHAR)))"
            ),
        },
        // CAST(FLOAT AS CHAR) keeps 6 digits (16777216 = 16777218); as a double the
        // text is the shortest that reads back exactly
        Class::Float => format!("CAST(CAST({c} AS DOUBLE) AS CHAR)"),
        Class::Bool => format!("CASE WHEN {c} <> 0 THEN '1' WHEN {c} = 0 THEN '0' END"),
        Class::Text | Class::Any => format!("CONVERT({c} USING utf8mb4)"),
        Class::Bytes => format!("LOWER(HEX({c}))"),
        Class::Date => format!("DATE_FORMAT({c}, '%Y-%m-%d')"),
        // TIME_TO_SEC keeps the sign and hours beyond 24 (HOUR() drops the sign)
        Class::Time if native == Class::Time => {
            let div = pow10(6 - col.precision.min(6));
            // extra digits cut off towards zero, as MariaDB stores a TIME(p)
            format!(
                "CAST(TRUNCATE(TIME_TO_SEC({c}) * {}, 0) AS CHAR)",
                1_000_000 / div
            )
        }
        Class::Time => {
            let div = pow10(6 - col.precision.min(6));
            let micros = format!(
                "((HOUR({c}) * 3600 + MINUTE({c}) * 60 + SECOND({c})) * 1000000 + MICROSECOND({c}))"
            );
            if div == 1 {
                format!("CAST({micros} AS CHAR)")
            } else {
                format!("CAST({micros} DIV {div} AS CHAR)")
            }
        }
        Class::Timestamp => {
            let div = pow10(6 - col.precision.min(6));
            let micros = format!("TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {c})");
            // extra digits cut off towards the past, as MariaDB stores a DATETIME(p);
            // the dividend's two decimals give the quotient the six it needs exactly
            let t = if div == 1 {
                format!("CAST({micros} AS CHAR)")
            } else {
                format!("CAST(FLOOR(CAST({micros} AS DECIMAL(24,2)) / {div}) AS CHAR)")
            };
            // a zero date ('0000-00-00 00:00:00', '2024-00-05') has no distance to 1970:
            // it hashes as itself, never as NULL
            format!("COALESCE({t}, CONCAT('z', CAST({c} AS CHAR)))")
        }
        // any textual form the diff reads as a UUID ({braced}, no hyphens, urn:uuid:)
        // as the hyphenated lower-case UUID; anything else as its lower-case text
        Class::Uuid => {
            let h = format!(
                "REPLACE(REPLACE(REPLACE(LOWER(REGEXP_REPLACE(CAST({c} AS CHAR), '(?i)^urn:uuid:', '')), '{{', ''), '}}', ''), '-', '')"
            );
            format!(
                "IF(CAST({c} AS CHAR) REGEXP '(?i){}', CONCAT(SUBSTR({h}, 1, 8), '-', SUBSTR({h}, 9, 4), '-', SUBSTR({h}, 13, 4), '-', SUBSTR({h}, 17, 4), '-', SUBSTR({h}, 21, 12)), LOWER(CAST({c} AS CHAR)))",
                UUID_FORMS
            )
        }
        Class::Json => format!("CAST({c} AS CHAR)"),
    }
}

pub(super) fn hash_field(t: &str, textual: bool, nullable: bool) -> String {
    match (nullable, textual) {
        (false, true) => format!("CONCAT('V', LENGTH({t}), ':', {t})"),
        (false, false) => format!("CONCAT('V', {t}, ';')"),
        (true, true) => format!("COALESCE(CONCAT('V', LENGTH({t}), ':', {t}), 'N')"),
        (true, false) => format!("COALESCE(CONCAT('V', {t}, ';'), 'N')"),
    }
}

pub(super) fn md5_64(input: &str) -> String {
    format!("CAST(CONV(SUBSTRING(MD5({input}), 1, 16), 16, 10) AS UNSIGNED)")
}

pub(super) fn md5_bucket(input: &str, modulus: i64) -> String {
    format!("(CAST(CONV(SUBSTRING(MD5({input}), 1, 8), 16, 10) AS UNSIGNED) % {modulus})")
}

/// The text of a column whose two sides have the same type, where MariaDB's own
/// rendering is exact: integers, decimals at their declared scale, DATETIME, DATE and
/// TIME (zero dates, negative and over-24h times as themselves, the type's fractional
/// digits), and text already in UTF-8 (its bytes are its `CONVERT(… USING utf8mb4)`,
/// about a tenth of the hash's time saved). The bare column: CONCAT_WS renders it as
/// CAST(… AS CHAR) would, several times faster. Not for TIMESTAMP (its text depends on
/// the session's time zone) nor FLOAT (rendered with 6 digits).
pub(super) fn native_text(c: &str, col: &HashColumn, type_text: &str) -> Option<String> {
    let t = type_text.to_ascii_lowercase();
    let fits = match col.class {
        // the integer types only (a BIT's bare value is its bytes, which may hold ';')
        Class::Int => ["tinyint", "smallint", "mediumint", "int", "bigint"]
            .iter()
            .any(|p| t.starts_with(p)),
        Class::Decimal => col.exact_scale && (t.starts_with("decimal") || t.starts_with("numeric")),
        Class::Timestamp => t.starts_with("datetime"),
        Class::Date => t == "date",
        Class::Time => t.starts_with("time") && !t.starts_with("timestamp"),
        // the type text names the character set (table.rs); utf8mb3 is the same bytes
        Class::Text => ["utf8mb4", "utf8mb3", "utf8"]
            .iter()
            .any(|cs| t.ends_with(&format!(" character set {cs}"))),
        _ => false,
    };
    (fits && col.native == col.class).then(|| c.to_string())
}

/// The native hash's input (see `SqlDialect::native_input`); CONCAT_WS skips NULLs, so
/// nullable fields carry their own marker.
pub(super) fn native_input(fields: &[NativeField]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| {
            let t = &f.text;
            match (f.sized, f.nullable) {
                (false, false) => t.clone(),
                (true, false) => format!("LENGTH({t}), {t}"),
                (false, true) => format!("COALESCE(CONCAT('V', {t}), 'N')"),
                (true, true) => format!("COALESCE(CONCAT(LENGTH({t}), ':', {t}), 'N')"),
            }
        })
        .collect();
    format!("CONCAT_WS(';', {})", parts.join(", "))
}

/// The session variable holding a row's hash input between its two CRCs.
const ROW_VAR: &str = "@cutover_row";

/// The CRC-32 and CRC-32C of `input` (MariaDB 10.8+), the input built once: the first
/// stores it in a session variable that the second reads, which saves rendering every
/// column of every row as text twice. It relies on MariaDB evaluating the bare `SUM`s of
/// a select list left to right, which holds for the diff's aggregate queries (bare
/// `SUM`s, with or without `GROUP BY`) and a backup's (bare `SUM`s, with or without a
/// `WHERE`), and which [`CRC_PAIR_PROBE`] checks on the server in these shapes before
/// the pair is used. Not for sums wrapped in other functions
/// (`CAST(COALESCE(SUM(…)))`): there MariaDB evaluates them in another order.
pub(super) fn crc_pair(input: &str) -> [String; 2] {
    [
        format!("CRC32({ROW_VAR} := {input})"),
        format!("CRC32C({ROW_VAR})"),
    ]
}

/// 1 where the server has CRC32C and [`crc_pair`]'s second CRC reads the input of the
/// same row, in a whole-table sum, in groups and in a whole-table sum under a `WHERE`
/// (the shape of a backup's half of a table, `backup_hash.rs`); anything else (an
/// error on a server without CRC32C, 0 if the order differs) and the diff hashes with
/// MD5, a backup with the pair's two CRCs each over its own row text (the same values).
pub(super) const CRC_PAIR_PROBE: &str = "SELECT      (SELECT MIN(x2 = x3) FROM (\
       SELECT g, SUM(CRC32(@cutover_row := x)) AS x1, SUM(CRC32C(@cutover_row)) AS x2, SUM(CRC32C(x)) AS x3 \
       FROM (SELECT 1 AS g, 'a' AS x UNION ALL SELECT 1, 'bc' UNION ALL SELECT 2, 'd') AS p \
       GROUP BY g ORDER BY NULL) AS q) \
     AND (SELECT x2 = x3 FROM (\
       SELECT COUNT(*) AS n, SUM(CRC32(@cutover_row := x)) AS x1, SUM(CRC32C(@cutover_row)) AS x2, SUM(CRC32C(x)) AS x3 \
       FROM (SELECT 'a' AS x UNION ALL SELECT 'bc' UNION ALL SELECT 'd') AS p) AS u) \
     AND (SELECT x2 = x3 FROM (\
       SELECT COUNT(*) AS n, SUM(CRC32(@cutover_row := x)) AS x1, SUM(CRC32C(@cutover_row)) AS x2, SUM(CRC32C(x)) AS x3 \
       FROM (SELECT 'a' AS x UNION ALL SELECT 'bc' UNION ALL SELECT 'd') AS p WHERE x > 'a') AS w)";

#[cfg(test)]
mod tests {
    use super::native_text;
    use crate::db::Class;
    use crate::db::dialect::HashColumn;

    #[test]
    fn only_utf8_text_is_hashed_as_its_bare_bytes() {
        let col = HashColumn {
            class: Class::Text,
            scale: None,
            precision: 0,
            native: Class::Text,
            exact_scale: false,
            nullable: true,
        };
        for t in [
            "varchar(10) character set utf8mb4",
            "TEXT CHARACTER SET UTF8MB3",
        ] {
            assert_eq!(native_text("`c`", &col, t).as_deref(), Some("`c`"), "{t}");
        }
        // another character set, or none known: converted (canonical_text)
        for t in ["varchar(10) character set latin1", "varchar(10)"] {
            assert_eq!(native_text("`c`", &col, t), None, "{t}");
        }
    }
}
