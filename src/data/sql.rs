//! SQL that PostgreSQL and MySQL/MariaDB run so the hashing happens where the data is.
//!
//! For every column the expression yields exactly [`Norm::canonical_text`] of the
//! normalized value (or NULL), so a 64-bit row hash computed in either database equals
//! the one cutover computes itself from streamed rows (SQLite, or any column kind two
//! engines cannot render identically). Identifiers are quoted by the dialect.
//!
//! [`Norm::canonical_text`]: super::normalize::Norm::canonical_text

use super::normalize::{Class, ColumnPlan};

/// The engine-native type of a column on one side.
#[derive(Debug, Clone, Copy)]
pub struct Native {
    pub class: Class,
    /// A decimal whose declared scale is the compared scale: its text needs no rounding.
    pub exact_scale: bool,
    /// May hold NULL (a NOT NULL column needs no NULL marker expression).
    pub nullable: bool,
}

impl Native {
    pub fn of(plan: &ColumnPlan, source: bool) -> Native {
        let (class, scale, nullable) = if source {
            (plan.source_native, plan.source_scale, plan.source_nullable)
        } else {
            (plan.target_native, plan.target_scale, plan.target_nullable)
        };
        Native {
            class,
            exact_scale: class == Class::Decimal && scale.is_some() && scale == plan.scale,
            nullable,
        }
    }
}

/// One column of one side in generated SQL: its (quoted) expression, plan and native type.
pub type Col<'a> = (String, &'a ColumnPlan, Native);
use crate::db::Dialect;

/// Can both sides' SQL produce this column's canonical text identically?
pub fn pushdown_ok(plan: &ColumnPlan, source: Dialect, target: Dialect) -> bool {
    if plan.tolerance.is_some() {
        return false;
    }
    match plan.class {
        // Float and JSON text differs between engines; the same engine agrees with itself.
        Class::Float | Class::Json => {
            source == target && source != Dialect::Sqlite || {
                source == Dialect::Sqlite && target == Dialect::Sqlite
            }
        }
        _ => true,
    }
}

fn pow10(p: u32) -> i128 {
    10i128.pow(p)
}

/// The canonical text of column `col` (already quoted) whose engine-native class is `native`.
pub fn norm_text(d: Dialect, col: &str, plan: &ColumnPlan, native: Native) -> String {
    match d {
        Dialect::Postgres => pg_text(col, plan, native),
        Dialect::Mysql => my_text(col, plan, native),
        // SQLite never hashes in SQL; cutover hashes its streamed rows.
        Dialect::Sqlite => col.to_string(),
    }
}

fn pg_text(c: &str, plan: &ColumnPlan, n: Native) -> String {
    let native = n.class;
    match plan.class {
        Class::Int => format!("({c})::text"),
        Class::Decimal if n.exact_scale => format!("({c})::text"),
        Class::Decimal => match plan.scale {
            Some(s) => format!("round(({c})::numeric, {s})::text"),
            None => format!("trim_scale(({c})::numeric)::text"),
        },
        Class::Float => format!("({c})::text"),
        Class::Bool => match native {
            Class::Bool => format!("CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END"),
            _ => format!("CASE WHEN {c} <> 0 THEN '1' WHEN {c} = 0 THEN '0' END"),
        },
        Class::Text | Class::Any => format!("({c})::text"),
        Class::Bytes => match native {
            Class::Bytes => format!("encode({c}, 'hex')"),
            _ => format!("encode(convert_to(({c})::text, 'UTF8'), 'hex')"),
        },
        Class::Date => format!("to_char({c}, 'YYYY-MM-DD')"),
        Class::Time | Class::Timestamp => {
            let p = plan.precision.min(6);
            format!("round(extract(epoch from {c}) * {})::text", pow10(p))
        }
        Class::Uuid => match native {
            Class::Uuid => format!("({c})::text"),
            _ => format!("lower(({c})::text)"),
        },
        Class::Json => format!("({c})::jsonb::text"),
    }
}

fn my_text(c: &str, plan: &ColumnPlan, n: Native) -> String {
    let native = n.class;
    match plan.class {
        Class::Int => format!("CAST({c} AS CHAR)"),
        Class::Decimal if n.exact_scale => format!("CAST({c} AS CHAR)"),
        Class::Decimal => match (plan.scale, native) {
            (Some(s), Class::Decimal) => format!("CAST(ROUND({c}, {s}) AS CHAR)"),
            (Some(s), _) => format!("CAST(ROUND(CAST({c} AS DECIMAL(65,30)), {s}) AS CHAR)"),
            (None, Class::Int) => format!("CAST({c} AS CHAR)"),
            // MySQL decimals always have a declared scale; strip zeros for "exact"
            (None, _) => format!(
                "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST(CAST({c} AS DECIMAL(65,30)) AS CHAR)))"
            ),
        },
        Class::Float => format!("CAST({c} AS CHAR)"),
        Class::Bool => format!("CASE WHEN {c} <> 0 THEN '1' WHEN {c} = 0 THEN '0' END"),
        Class::Text | Class::Any => format!("CONVERT({c} USING utf8mb4)"),
        Class::Bytes => format!("LOWER(HEX({c}))"),
        Class::Date => format!("DATE_FORMAT({c}, '%Y-%m-%d')"),
        Class::Time => {
            let div = pow10(6 - plan.precision.min(6));
            let micros = format!(
                "((HOUR({c}) * 3600 + MINUTE({c}) * 60 + SECOND({c})) * 1000000 + MICROSECOND({c}))"
            );
            if div == 1 {
                format!("CAST({micros} AS CHAR)")
            } else {
                format!("CAST(ROUND({micros} / {div}) AS CHAR)")
            }
        }
        Class::Timestamp => {
            let div = pow10(6 - plan.precision.min(6));
            let micros = format!("TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {c})");
            if div == 1 {
                format!("CAST({micros} AS CHAR)")
            } else {
                format!("CAST(ROUND({micros} / {div}) AS CHAR)")
            }
        }
        Class::Uuid => format!("LOWER(CAST({c} AS CHAR))"),
        Class::Json => format!("CAST({c} AS CHAR)"),
    }
}

/// Is this class's canonical text free text (length-prefixed when serialized)?
pub fn textual(class: Class) -> bool {
    matches!(class, Class::Text | Class::Any | Class::Json)
}

/// `N` for NULL; `V<text>;` or `V<byte length>:<text>` (see `normalize::serialize_field`).
/// The canonical text `t` is evaluated once unless it is free text.
fn field(d: Dialect, t: &str, class: Class, nullable: bool) -> String {
    if !nullable {
        // never NULL on this side: the NULL marker cannot occur
        return match (d, textual(class)) {
            (Dialect::Mysql, true) => format!("CONCAT('V', LENGTH({t}), ':', {t})"),
            (Dialect::Mysql, false) => format!("CONCAT('V', {t}, ';')"),
            (_, true) => format!("'V' || octet_length({t})::text || ':' || {t}"),
            (_, false) => format!("'V' || {t} || ';'"),
        };
    }
    match (d, textual(class)) {
        (Dialect::Mysql, true) => format!("COALESCE(CONCAT('V', LENGTH({t}), ':', {t}), 'N')"),
        (Dialect::Mysql, false) => format!("COALESCE(CONCAT('V', {t}, ';'), 'N')"),
        (_, true) => format!("coalesce('V' || octet_length({t})::text || ':' || {t}, 'N')"),
        (_, false) => format!("coalesce('V' || {t} || ';', 'N')"),
    }
}

fn concat(d: Dialect, parts: &[String]) -> String {
    match d {
        Dialect::Mysql => format!("CONCAT({})", parts.join(", ")),
        _ => parts.join(" || "),
    }
}

/// The serialized hash input of the given columns, each (quoted column, plan, native).
fn input(d: Dialect, cols: &[Col]) -> String {
    let parts: Vec<String> = cols
        .iter()
        .map(|(c, p, n)| field(d, &norm_text(d, c, p, *n), p.class, n.nullable))
        .collect();
    concat(d, &parts)
}

/// Is the bucket of these key columns the key itself modulo the bucket count?
pub fn int_bucketing(keys: &[&ColumnPlan]) -> bool {
    keys.len() == 1 && keys[0].class == Class::Int
}

/// The bucket of a row at `modulus` buckets: integer keys modulo, others hashed.
pub fn bucket(d: Dialect, keys: &[Col], modulus: i64) -> String {
    let plans: Vec<&ColumnPlan> = keys.iter().map(|k| k.1).collect();
    if int_bucketing(&plans) {
        return match d {
            Dialect::Mysql => format!("MOD({}, {modulus})", keys[0].0),
            _ => format!("({} % {modulus})", keys[0].0),
        };
    }
    md5_bucket(d, &input(d, keys), modulus)
}

/// An ORDER BY term that sorts exactly like `Norm`'s ordering: bytewise for text
/// (never the column's collation), NULLs first.
pub fn order_term(d: Dialect, c: &str, plan: &ColumnPlan, native: Native) -> String {
    let native = native.class;
    let textual = matches!(plan.class, Class::Text | Class::Any | Class::Json)
        || (plan.class == Class::Uuid && native != Class::Uuid);
    match d {
        Dialect::Postgres => {
            if plan.class == Class::Uuid && native != Class::Uuid {
                format!("lower({c}) COLLATE \"C\" NULLS FIRST")
            } else if textual {
                format!("({c})::text COLLATE \"C\" NULLS FIRST")
            } else {
                format!("{c} NULLS FIRST")
            }
        }
        Dialect::Mysql => {
            if plan.class == Class::Uuid {
                format!("CAST(LOWER({c}) AS BINARY)")
            } else if textual {
                format!("CAST({c} AS BINARY)")
            } else {
                c.to_string()
            }
        }
        Dialect::Sqlite => {
            if plan.class == Class::Uuid {
                format!("lower({c})")
            } else if textual {
                format!("{c} COLLATE BINARY")
            } else {
                c.to_string()
            }
        }
    }
}

/// A group-by/compare term that never merges values a collation deems equal.
pub fn exact_term(d: Dialect, c: &str, plan: &ColumnPlan) -> String {
    let textual = matches!(
        plan.class,
        Class::Text | Class::Any | Class::Uuid | Class::Json
    );
    match d {
        Dialect::Postgres if textual => format!("({c})::text COLLATE \"C\""),
        Dialect::Mysql if textual => format!("CAST({c} AS BINARY)"),
        Dialect::Sqlite if textual => format!("{c} COLLATE BINARY"),
        _ => c.to_string(),
    }
}

fn md5_64(d: Dialect, input: &str) -> String {
    match d {
        Dialect::Mysql => format!("CAST(CONV(SUBSTRING(MD5({input}), 1, 16), 16, 10) AS UNSIGNED)"),
        _ => format!("('x' || substr(md5({input}), 1, 16))::bit(64)::bigint"),
    }
}

fn md5_bucket(d: Dialect, input: &str, modulus: i64) -> String {
    match d {
        Dialect::Mysql => {
            format!("(CAST(CONV(SUBSTRING(MD5({input}), 1, 8), 16, 10) AS UNSIGNED) % {modulus})")
        }
        _ => format!("(('x' || substr(md5({input}), 1, 8))::bit(32)::bigint % {modulus})"),
    }
}

/// The per-bucket `(b, count, hash sum)` query of one side; `within` keeps only rows
/// whose bucket at the previous level is in the set. (No subquery fence: PostgreSQL
/// keeps the scan parallel.)
pub fn aggregate_sql(
    d: Dialect,
    cols: &[Col],
    key_range: std::ops::Range<usize>,
    modulus: i64,
    table: &str,
    where_clause: &str,
    within: Option<(i64, &[i64])>,
) -> String {
    let keys = &cols[key_range];
    let mut conds = Vec::new();
    if !where_clause.is_empty() {
        conds.push(
            where_clause
                .trim_start()
                .trim_start_matches("WHERE ")
                .to_string(),
        );
    }
    if let Some((m, set)) = within {
        conds.push(super::diff::in_list(&bucket(d, keys, m), set));
    }
    let w = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    format!(
        "SELECT b, COUNT(*), SUM(h) FROM (SELECT {} AS b, {} AS h FROM {table}{w}) s GROUP BY b",
        bucket(d, keys, modulus),
        md5_64(d, &input(d, cols)),
    )
}
