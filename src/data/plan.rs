//! Deciding what is compared: matched columns, the key, each column's class, scale,
//! precision and tolerance, and whether hashing can be pushed into the databases.

use super::introspect::{TableInfo, table_info};
use super::normalize::{Class, ColumnPlan, common_class};
use super::sql;
use crate::db::{Db, Dialect};
use crate::error::{Error, Result};
use rust_decimal::Decimal;
use serde::Serialize;

/// What the user asked to compare.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    pub table: String,
    pub target_table: Option<String>,
    /// Key columns; default the primary key; none at all: multiset compare.
    pub key: Option<Vec<String>>,
    /// Non-key columns to compare; default every column both sides have.
    pub columns: Option<Vec<String>>,
    /// A filter applied on both sides, as written (SQL).
    pub where_sql: Option<String>,
    pub tolerance: Vec<(String, Decimal)>,
    /// Stated mappings for columns whose types are not comparable as they are.
    pub compare_as: Vec<(String, Class)>,
    /// Force a strategy (tests, benchmarks): `buckets` or `merge`.
    pub strategy: Option<Strategy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Hash sums per bucket in each database, recursing into differing buckets.
    Buckets,
    /// One streaming sorted merge of both sides.
    Merge,
}

/// The resolved comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub source_table: String,
    pub target_table: String,
    /// Key columns first, then compared columns.
    pub columns: Vec<ColumnPlan>,
    pub key_len: usize,
    /// No key: rows compared as a multiset (duplicates reported).
    pub multiset: bool,
    /// Whether both databases compute the row hashes themselves.
    pub pushdown: bool,
    /// Hash with the portable MD5 even when both sides are one engine with a faster
    /// hash of its own (to compare the two; the answer is the same).
    #[serde(skip)]
    pub portable_hash: bool,
    /// Things the user should know about how values were compared.
    pub notes: Vec<String>,
    /// Key given by the user and not declared unique on this side: check for duplicates.
    #[serde(skip)]
    pub check_unique: (bool, bool),
    #[serde(skip)]
    pub where_sql: Option<String>,
    #[serde(skip)]
    pub strategy: Option<Strategy>,
    #[serde(skip)]
    pub source_dialect: Dialect,
    #[serde(skip)]
    pub target_dialect: Dialect,
}

impl Plan {
    pub fn keys(&self) -> &[ColumnPlan] {
        &self.columns[..self.key_len]
    }
    pub fn key_names(&self) -> Vec<String> {
        self.keys().iter().map(|c| c.name.clone()).collect()
    }
}

fn find<'a>(t: &'a TableInfo, name: &str) -> Option<&'a super::introspect::ColumnInfo> {
    t.column(name)
}

/// The column of `other` matching column `name` of `this`: the same name, else the one
/// column whose name differs only by case and is not itself the exact match of another
/// column of `this` (so case twins `"A"` and `a` are two columns, each with its twin).
fn counterpart<'a>(
    this: &TableInfo,
    other: &'a TableInfo,
    name: &str,
) -> Option<&'a super::introspect::ColumnInfo> {
    if let Some(c) = other.columns.iter().find(|c| c.name == name) {
        return Some(c);
    }
    let mut ci = other.columns.iter().filter(|c| {
        c.name.eq_ignore_ascii_case(name) && !this.columns.iter().any(|x| x.name == c.name)
    });
    match (ci.next(), ci.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// A single-precision float type (`real`, `float4`, MySQL `FLOAT`).
fn single_precision(type_text: &str) -> bool {
    let t = type_text.to_ascii_lowercase();
    t == "real" || t == "float4" || t == "float" || t.starts_with("float(")
}

/// A character type (compared by its own text, nothing converted).
fn is_text_type(type_text: &str) -> bool {
    let t = type_text.to_ascii_lowercase();
    [
        "text",
        "char",
        "varchar",
        "character",
        "string",
        "clob",
        "name",
        "citext",
        "enum",
        "set",
        "tinytext",
        "mediumtext",
        "longtext",
    ]
    .iter()
    .any(|x| t == *x || t.starts_with(&format!("{x}(")) || t.starts_with(&format!("{x} ")))
}

/// The option given for column `n` (`--tolerance`, `--compare-as`): by exact name first.
fn option_for<T: Copy>(opts: &[(String, T)], n: &str) -> Option<T> {
    opts.iter()
        .find(|(c, _)| c == n)
        .or_else(|| opts.iter().find(|(c, _)| c.eq_ignore_ascii_case(n)))
        .map(|x| x.1)
}

fn unknown_column(side: &str, t: &TableInfo, col: &str, what: &str) -> Error {
    Error::bad_input(format!(
        "unknown column \"{col}\" ({what}) in {side} table \"{}\"; its columns are {}",
        t.name,
        t.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Read both tables and decide the comparison.
pub async fn build_plan(source: &Db, target: &Db, opts: &DiffOptions) -> Result<Plan> {
    let target_table = opts.target_table.clone().unwrap_or(opts.table.clone());
    let (s, t) = tokio::try_join!(
        async {
            table_info(source, &opts.table)
                .await
                .map_err(|e| e.context("source"))
        },
        async {
            table_info(target, &target_table)
                .await
                .map_err(|e| e.context("target"))
        }
    )?;
    let sd = source.dialect();
    let td = target.dialect();
    let mut notes = Vec::new();

    // the key
    let mut check_unique = (false, false);
    let key: Vec<String> = match &opts.key {
        Some(k) if !k.is_empty() => {
            for c in k {
                if find(&s, c).is_none() {
                    return Err(unknown_column("source", &s, c, "--key"));
                }
                if find(&t, c).is_none() {
                    return Err(unknown_column("target", &t, c, "--key"));
                }
            }
            let k: Vec<String> = k
                .iter()
                .map(|c| find(&s, c).expect("checked").name.clone())
                .collect();
            check_unique = (!s.is_unique(&k), !t.is_unique(&k));
            k
        }
        _ => {
            if !s.primary_key.is_empty() && s.primary_key.iter().all(|c| find(&t, c).is_some()) {
                s.primary_key.clone()
            } else if !t.primary_key.is_empty()
                && t.primary_key.iter().all(|c| find(&s, c).is_some())
            {
                let k: Vec<String> = t
                    .primary_key
                    .iter()
                    .map(|c| find(&s, c).expect("checked").name.clone())
                    .collect();
                check_unique = (!s.is_unique(&k), false);
                k
            } else {
                Vec::new()
            }
        }
    };
    let multiset = key.is_empty();
    if multiset {
        notes.push(
            "no primary key and no --key: rows compared as a multiset (duplicates counted)".into(),
        );
    }

    // compared columns
    let mut names: Vec<String> = key.clone();
    match &opts.columns {
        Some(cols) => {
            for c in cols {
                let sc = find(&s, c).ok_or_else(|| unknown_column("source", &s, c, "--columns"))?;
                if find(&t, c).is_none() {
                    return Err(unknown_column("target", &t, c, "--columns"));
                }
                if !names.contains(&sc.name) {
                    names.push(sc.name.clone());
                }
            }
        }
        None => {
            for c in &s.columns {
                if names.contains(&c.name) {
                    continue;
                }
                if counterpart(&s, &t, &c.name).is_some() {
                    names.push(c.name.clone());
                } else {
                    notes.push(format!(
                        "column \"{}\" exists only in the source: not compared",
                        c.name
                    ));
                }
            }
            for c in &t.columns {
                if counterpart(&t, &s, &c.name).is_none() {
                    notes.push(format!(
                        "column \"{}\" exists only in the target: not compared",
                        c.name
                    ));
                }
            }
        }
    }
    for (c, _) in &opts.tolerance {
        if find(&s, c).is_none() {
            return Err(unknown_column("source", &s, c, "--tolerance"));
        }
        if key.iter().any(|k| k.eq_ignore_ascii_case(c)) {
            return Err(Error::bad_input(format!(
                "--tolerance on key column \"{c}\": keys are matched exactly"
            )));
        }
    }
    if multiset && !opts.tolerance.is_empty() {
        return Err(Error::bad_input(
            "--tolerance needs a key to pair rows; the table has no primary key: give --key",
        ));
    }
    for (c, _) in &opts.compare_as {
        if find(&s, c).is_none() {
            return Err(unknown_column("source", &s, c, "--compare-as"));
        }
    }

    let mut columns = Vec::new();
    let mut incompatible = Vec::new();
    let mut no_common_form = Vec::new();
    let mut unreadable = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let sc = find(&s, n).expect("source column");
        let tc = counterpart(&s, &t, &sc.name)
            .or_else(|| find(&t, n))
            .expect("target column");
        let forced = option_for(&opts.compare_as, n);
        // PostgreSQL's geometric text and MariaDB's WKB bytes: no --compare-as makes
        // them comparable (as text, '(1,2)' would never equal the WKB of POINT(1 2))
        if let (Some(a), Some(b)) = (
            sd.sql().geometry_form(&sc.type_text),
            td.sql().geometry_form(&tc.type_text),
        ) && a != b
        {
            no_common_form.push(format!(
                "\"{n}\": source {} ({a}) vs target {} ({b})",
                sc.type_text, tc.type_text
            ));
            continue;
        }
        let class = match forced.or_else(|| {
            common_class(
                sc.native,
                sd.sql().dynamic_typing(),
                tc.native,
                td.sql().dynamic_typing(),
            )
        }) {
            Some(c) => c,
            None => {
                incompatible.push(format!(
                    "\"{n}\": source {} vs target {} (--compare-as {n}=text would compare them by their text)",
                    sc.type_text, tc.type_text
                ));
                continue;
            }
        };
        // a type cutover reads only as its text (interval, inet, enums, ...) cannot be
        // compared as a number, a time or a UUID: refused before any row is read
        if !matches!(class, Class::Text | Class::Any) {
            for (side, c, dynamic) in [
                ("source", sc, sd.sql().dynamic_typing()),
                ("target", tc, td.sql().dynamic_typing()),
            ] {
                if !dynamic && c.native == Class::Text && !is_text_type(&c.type_text) {
                    unreadable.push(format!(
                        "\"{n}\": {side} type {} is read only as text, so it cannot be compared as {} (--compare-as {n}=text would compare it by its text)",
                        c.type_text,
                        class.name()
                    ));
                }
            }
        }
        let scale = if class == Class::Decimal {
            let ss = (sc.native == Class::Decimal).then_some(sc.scale).flatten();
            let ts = (tc.native == Class::Decimal).then_some(tc.scale).flatten();
            match (ss, ts) {
                (Some(a), Some(b)) if a != b => {
                    notes.push(format!(
                        "\"{n}\" compared at scale {} (source {}, target {})",
                        a.min(b),
                        sc.type_text,
                        tc.type_text
                    ));
                    Some(a.min(b))
                }
                (Some(a), None) | (None, Some(a))
                    if sc.native == Class::Decimal && tc.native == Class::Decimal =>
                {
                    notes.push(format!(
                        "\"{n}\" compared at scale {a} (source {}, target {})",
                        sc.type_text, tc.type_text
                    ));
                    Some(a)
                }
                (a, b) => a.or(b),
            }
        } else {
            None
        };
        if let Some(c) = forced {
            notes.push(format!(
                "\"{n}\" compared as {} (--compare-as; source {}, target {})",
                c.name(),
                sc.type_text,
                tc.type_text
            ));
        }
        if class == Class::Decimal && (sc.native == Class::Float || tc.native == Class::Float) {
            notes.push(format!(
                "\"{n}\" compared as a decimal: the floating-point side by the shortest text that reads back as the same double (source {}, target {})",
                sc.type_text, tc.type_text
            ));
        }
        if class == Class::Float
            && !sd.sql().dynamic_typing()
            && !td.sql().dynamic_typing()
            && single_precision(&sc.type_text) != single_precision(&tc.type_text)
        {
            notes.push(format!(
                "\"{n}\" compared as double precision: the single-precision side widened exactly, so 0.1 stored as real is not 0.1 stored as double (source {}, target {})",
                sc.type_text, tc.type_text
            ));
        }
        if class == Class::Text
            && forced.is_none()
            && (sc.native != tc.native || !is_text_type(&sc.type_text))
        {
            notes.push(format!(
                "\"{n}\" compared by its text (source {}, target {})",
                sc.type_text, tc.type_text
            ));
        }
        let precision = if matches!(class, Class::Timestamp | Class::Time) {
            match (sc.precision, tc.precision) {
                (Some(a), Some(b)) if a != b => {
                    notes.push(format!(
                        "\"{n}\" compared at {} fractional-second digits, the more precise side truncated as MariaDB stores it (source {}, target {})",
                        a.min(b),
                        sc.type_text,
                        tc.type_text
                    ));
                    a.min(b)
                }
                (Some(a), None) | (None, Some(a)) if a < 6 => {
                    notes.push(format!(
                        "\"{n}\" compared at {a} fractional-second digits, the more precise side truncated as MariaDB stores it (source {}, target {})",
                        sc.type_text, tc.type_text
                    ));
                    a
                }
                (a, b) => a.or(b).unwrap_or(6).min(6),
            }
        } else {
            6
        };
        if class == Class::Timestamp
            && sc.native == tc.native
            && sc.tz != tc.tz
            && !sd.sql().dynamic_typing()
            && !td.sql().dynamic_typing()
        {
            notes.push(format!(
                "\"{n}\": timestamp without time zone on the {} side read as UTC",
                if sc.tz { "target" } else { "source" }
            ));
        }
        let tolerance = option_for(&opts.tolerance, n);
        if let Some(tol) = tolerance {
            notes.push(format!("\"{n}\" compared with tolerance ±{tol}"));
        }
        columns.push(ColumnPlan {
            name: sc.name.clone(),
            target_name: tc.name.clone(),
            class,
            scale,
            precision,
            tolerance,
            source_type: sc.type_text.clone(),
            target_type: tc.type_text.clone(),
            source_native: sc.native,
            target_native: tc.native,
            source_scale: sc.scale,
            target_scale: tc.scale,
            source_nullable: sc.nullable,
            target_nullable: tc.nullable,
            is_key: i < key.len(),
        });
    }
    let tables = if opts.table == target_table {
        format!("table \"{}\"", opts.table)
    } else {
        format!("tables \"{}\" → \"{target_table}\"", opts.table)
    };
    if !no_common_form.is_empty() {
        return Err(Error::bad_input(format!(
            "{tables}: geometric columns cannot be compared exactly across these engines, with or without --compare-as: {}",
            no_common_form.join("; ")
        ))
        .with_hint("leave such a column out of the comparison (--columns naming the others; columns = [...] in a runbook step), or compare it in a query that renders both sides alike, e.g. as WKT"));
    }
    if !unreadable.is_empty() {
        return Err(Error::bad_input(format!(
            "{tables}: column types cutover cannot compare exactly as stated: {}",
            unreadable.join("; ")
        ))
        .with_hint("compare such a column by its text (--compare-as COLUMN=text; compare_as = { COLUMN = \"text\" } in a runbook step)"));
    }
    if !incompatible.is_empty() {
        return Err(Error::bad_input(format!(
            "{tables}: column types cannot be compared without a stated mapping: {}",
            incompatible.join("; ")
        ))
        .with_hint("state how to compare them, e.g. --compare-as COLUMN=text (int, decimal, float, bool, text, bytes, date, time, timestamp, uuid, json)"));
    }
    if multiset && columns.iter().any(|c| c.class == Class::Json) {
        return Err(Error::bad_input(
            "the table has no key and a JSON column: JSON values cannot be ordered; give --key",
        ));
    }
    let pushdown = columns.iter().all(|c| sql::pushdown_ok(c, sd, td));
    if !pushdown {
        let why: Vec<&str> = columns
            .iter()
            .filter(|c| !sql::pushdown_ok(c, sd, td))
            .map(|c| c.name.as_str())
            .collect();
        notes.push(format!(
            "columns {} are compared in cutover (tolerance, binary data compared as text, or values the two engines render differently): rows are streamed, not hashed in the databases",
            why.join(", ")
        ));
    }
    Ok(Plan {
        source_table: opts.table.clone(),
        target_table,
        key_len: key.len(),
        columns,
        multiset,
        pushdown,
        portable_hash: false,
        notes,
        check_unique,
        where_sql: opts.where_sql.clone(),
        strategy: opts.strategy,
        source_dialect: sd,
        target_dialect: td,
    })
}
