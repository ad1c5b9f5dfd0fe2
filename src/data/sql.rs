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
    /// May hold NULL on either side (a column NOT NULL on both needs no NULL marker
    /// expression); the same on both sides, whose hash inputs must match.
    pub nullable: bool,
}

impl Native {
    pub fn of(plan: &ColumnPlan, source: bool) -> Native {
        let (class, scale) = if source {
            (plan.source_native, plan.source_scale)
        } else {
            (plan.target_native, plan.target_scale)
        };
        // one side's NOT NULL would leave its marker out: every row's input would
        // differ from the other side's, and every bucket would be merged
        let nullable = plan.source_nullable || plan.target_nullable;
        Native {
            class,
            exact_scale: class == Class::Decimal && scale.is_some() && scale == plan.scale,
            nullable,
        }
    }
}

/// One column of one side in generated SQL: its (quoted) expression, plan and native type.
pub type Col<'a> = (String, &'a ColumnPlan, Native);
use crate::db::{Dialect, HashColumn};

/// The column as the dialect's hashing expressions see it.
fn hash_column(plan: &ColumnPlan, native: Native) -> HashColumn {
    HashColumn {
        class: plan.class,
        scale: plan.scale,
        precision: plan.precision,
        native: native.class,
        exact_scale: native.exact_scale,
        nullable: native.nullable,
    }
}

/// Can both sides' SQL produce this column's canonical text identically?
pub fn pushdown_ok(plan: &ColumnPlan, source: Dialect, target: Dialect) -> bool {
    if plan.tolerance.is_some() {
        return false;
    }
    match plan.class {
        // Float and JSON text differs between engines; the same engine agrees with itself.
        Class::Float | Class::Json => source == target,
        // binary data compared as text: cutover reads bytes that are valid UTF-8 as text
        // and any others as bytes, which neither engine can decide in SQL (MariaDB's
        // CONVERT … USING utf8mb4 turns invalid bytes into '?', PostgreSQL's bytea::text
        // is its hex escape), so such a column is hashed from streamed rows
        Class::Text | Class::Any => {
            plan.source_native != Class::Bytes && plan.target_native != Class::Bytes
        }
        _ => true,
    }
}

/// The canonical text of column `col` (already quoted) whose engine-native class is `native`.
pub fn norm_text(d: Dialect, col: &str, plan: &ColumnPlan, native: Native) -> String {
    d.sql().canonical_text(col, &hash_column(plan, native))
}

pub use crate::db::textual;

/// Which 64-bit row hash the databases compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowHash {
    /// The first 64 bits of the MD5 of the canonical serialization: what cutover
    /// computes itself too, so any pair of engines agrees.
    Md5,
    /// The engine's own fast hash (both sides the same engine): columns of the same
    /// type on both sides serialized by the engine's own exact text.
    Native,
}

/// Does the column have the same declared type on both sides, compared as itself (no
/// conversion, no rounding)? Then one engine renders both sides alike.
fn same_type(p: &ColumnPlan) -> bool {
    p.source_native == p.target_native
        && p.class == p.source_native
        && p.source_type.eq_ignore_ascii_case(&p.target_type)
}

/// The serialized hash input of the given columns, each (quoted column, plan, native).
fn input(d: Dialect, cols: &[Col]) -> String {
    let sql = d.sql();
    let parts: Vec<String> = cols
        .iter()
        .map(|(c, p, n)| sql.hash_field(&norm_text(d, c, p, *n), textual(p.class), n.nullable))
        .collect();
    sql.concat(&parts)
}

/// The native hash's input: same-type columns by the engine's own text; free text
/// after the other columns, so the last needs no length.
fn native_input(d: Dialect, cols: &[Col]) -> String {
    let sql = d.sql();
    let mut fields: Vec<(bool, crate::db::NativeField)> = cols
        .iter()
        .map(|(c, p, n)| {
            let own = same_type(p)
                .then(|| sql.native_text(c, &hash_column(p, *n), &p.source_type))
                .flatten();
            let own_type = own.is_some();
            let text = own.unwrap_or_else(|| norm_text(d, c, p, *n));
            let field = crate::db::NativeField {
                text,
                own_type,
                sized: textual(p.class),
                nullable: n.nullable,
            };
            (textual(p.class), field)
        })
        .collect();
    fields.sort_by_key(|(t, _)| *t);
    if let Some((true, last)) = fields.last_mut() {
        last.sized = false;
    }
    let fields: Vec<_> = fields.into_iter().map(|(_, f)| f).collect();
    sql.native_input(&fields)
}

/// `SUM(…)` of each part of the 64-bit hash of a row's columns (see
/// [`combine_sums`]).
pub fn hash_sums(d: Dialect, cols: &[Col], hash: RowHash) -> String {
    row_hash_parts(d, cols, hash)
        .iter()
        .map(|p| format!("SUM({p})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row's hash, as the parts [`hash_sums`] adds up (one 64-bit, or 32-bit halves
/// high first): [`combine_sums`] of one row's parts is its share of a bucket's sum.
pub fn row_hash_parts(d: Dialect, cols: &[Col], hash: RowHash) -> Vec<String> {
    match hash {
        RowHash::Md5 => vec![d.sql().md5_64(&input(d, cols))],
        RowHash::Native => d.sql().native_hash_parts(&native_input(d, cols)),
    }
}

/// Each row's `(key, hash parts)` under `where_clause` (` WHERE …`, or empty), in no
/// order: the rows of differing buckets, compared by hash before any is fetched whole.
pub fn row_hashes_sql(
    d: Dialect,
    cols: &[Col],
    table: &str,
    where_clause: &str,
    hash: RowHash,
) -> String {
    format!(
        "SELECT {}, {} FROM {table}{where_clause}",
        cols[0].0,
        row_hash_parts(d, cols, hash).join(", ")
    )
}

/// A bucket's hash sum mod 2^64 from its part sums (one 64-bit, or 32-bit halves high
/// first).
pub fn combine_sums(sums: impl Iterator<Item = u64>) -> u64 {
    sums.fold(0u64, |acc, s| acc.wrapping_shl(32).wrapping_add(s))
}

/// Is the bucket of these key columns the key itself modulo the bucket count?
pub fn int_bucketing(keys: &[&ColumnPlan]) -> bool {
    keys.len() == 1 && keys[0].class == Class::Int
}

/// The bucket of a row at `modulus` buckets: integer keys modulo, others hashed.
pub fn bucket(d: Dialect, keys: &[Col], modulus: i64) -> String {
    let plans: Vec<&ColumnPlan> = keys.iter().map(|k| k.1).collect();
    if int_bucketing(&plans) {
        return d.sql().int_mod(&keys[0].0, modulus);
    }
    d.sql().md5_bucket(&input(d, keys), modulus)
}

/// The term selecting column `c` to read its values.
pub fn select_term(d: Dialect, c: &str, plan: &ColumnPlan, native: Native) -> String {
    d.sql().select_term(c, &hash_column(plan, native))
}

/// An ORDER BY term that sorts exactly like `Norm`'s ordering: bytewise for text
/// (never the column's collation), NULLs first.
pub fn order_term(d: Dialect, c: &str, plan: &ColumnPlan, native: Native) -> String {
    let textual = matches!(plan.class, Class::Text | Class::Any | Class::Json)
        || (plan.class == Class::Uuid && native.class != Class::Uuid);
    d.sql().order_term(c, &hash_column(plan, native), textual)
}

/// A group-by/compare term that never merges values a collation deems equal.
pub fn exact_term(d: Dialect, c: &str, plan: &ColumnPlan) -> String {
    let textual = matches!(
        plan.class,
        Class::Text | Class::Any | Class::Uuid | Class::Json
    );
    d.sql().exact_term(c, textual)
}

pub const NULL_BUCKET: i64 = i64::MIN;

/// `expr IN (...)`, treating NULL_BUCKET as `expr IS NULL`.
pub fn in_list(expr: &str, set: &[i64]) -> String {
    let vals: Vec<String> = set
        .iter()
        .filter(|b| **b != NULL_BUCKET)
        .map(|b| b.to_string())
        .collect();
    let has_null = set.contains(&NULL_BUCKET);
    match (vals.is_empty(), has_null) {
        (true, true) => format!("{expr} IS NULL"),
        (true, false) => "1 = 0".to_string(),
        (false, false) => format!("{expr} IN ({})", vals.join(",")),
        (false, true) => format!("({expr} IN ({}) OR {expr} IS NULL)", vals.join(",")),
    }
}

/// The per-bucket `(b, count, hash sum)` query of one side; `within` keeps only rows
/// whose bucket at the previous level is in the set. (No subquery fence: PostgreSQL
/// keeps the scan parallel.)
#[allow(clippy::too_many_arguments)]
pub fn aggregate_sql(
    d: Dialect,
    cols: &[Col],
    key_range: std::ops::Range<usize>,
    modulus: i64,
    table: &str,
    where_clause: &str,
    within: Option<(i64, &[i64])>,
    hash: RowHash,
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
        conds.push(in_list(&bucket(d, keys, m), set));
    }
    let w = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    format!(
        "SELECT {} AS b, COUNT(*), {} FROM {table}{w} GROUP BY 1{}",
        bucket(d, keys, modulus),
        hash_sums(d, cols, hash),
        d.sql().unordered_group(),
    )
}

/// The per-bucket `(b, count, hash sum)` query of one side over one range of its
/// integer key `[from, to)`, buckets being `width` consecutive key values from `origin`
/// (so a range's buckets are its own, and an index range scan reads it).
#[allow(clippy::too_many_arguments)]
pub fn range_aggregate_sql(
    d: Dialect,
    cols: &[Col],
    origin: i64,
    width: i64,
    (from, to): (i64, i64),
    table: &str,
    where_sql: Option<&str>,
    hash: RowHash,
) -> String {
    let k = &cols[0].0;
    format!(
        "SELECT {} AS b, COUNT(*), {} FROM {table} WHERE {} GROUP BY 1{}",
        range_bucket(d, k, origin, width),
        hash_sums(d, cols, hash),
        range_where(k, (from, to), where_sql),
        d.sql().unordered_group(),
    )
}

/// The `(count, hash sums)` of one side's rows whose integer key is in `[from, to)`,
/// ungrouped: one row for the whole range, so the database only adds (no bucket a
/// row, no hash table of groups).
pub fn range_total_sql(
    d: Dialect,
    cols: &[Col],
    range: (i64, i64),
    table: &str,
    where_sql: Option<&str>,
    hash: RowHash,
) -> String {
    let w = range_where(&cols[0].0, range, where_sql);
    total_sql(d, cols, table, Some(&w), hash)
}

/// The `(count, hash sums)` of one side's rows matching `where_sql` (all of them when
/// None), ungrouped.
pub fn total_sql(
    d: Dialect,
    cols: &[Col],
    table: &str,
    where_sql: Option<&str>,
    hash: RowHash,
) -> String {
    let w = where_sql.map(|w| format!(" WHERE {w}")).unwrap_or_default();
    format!(
        "SELECT COUNT(*), {} FROM {table}{w}",
        hash_sums(d, cols, hash)
    )
}

/// `k >= from AND k < to`, after the diff's own condition if any.
fn range_where(k: &str, (from, to): (i64, i64), where_sql: Option<&str>) -> String {
    let w = format!("{k} >= {from} AND {k} < {to}");
    match where_sql {
        Some(extra) => format!("({extra}) AND {w}"),
        None => w,
    }
}

/// The bucket of quoted integer key `k`: `(k - origin) / width`.
pub fn range_bucket(d: Dialect, k: &str, origin: i64, width: i64) -> String {
    let shifted = if origin < 0 {
        format!("{k} + {}", -(origin as i128))
    } else {
        format!("{k} - {origin}")
    };
    d.sql().int_div(&shifted, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_lists_keep_the_null_bucket() {
        assert_eq!(in_list("b", &[1, 2]), "b IN (1,2)");
        assert_eq!(in_list("b", &[NULL_BUCKET]), "b IS NULL");
        assert_eq!(in_list("b", &[NULL_BUCKET, 3]), "(b IN (3) OR b IS NULL)");
        assert_eq!(in_list("b", &[]), "1 = 0");
    }
}
