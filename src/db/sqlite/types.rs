//! SQLite's dynamic typing: a declared type is only a hint.

use crate::db::{Class, ColumnClass};

/// SQLite's type affinity of a declared type (https://sqlite.org/datatype3.html 3.1).
pub fn affinity(declared: &str) -> &'static str {
    let t = declared.to_uppercase();
    if t.contains("INT") {
        "integer"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "text"
    } else if t.contains("BLOB") || t.trim().is_empty() {
        "blob"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "real"
    } else {
        "numeric"
    }
}

/// The class, scale and precision a SQLite declared type suggests (for the data diff).
pub fn declared_class(decl: &str) -> ColumnClass {
    let u = decl.to_ascii_uppercase();
    let args: Vec<u32> = u
        .split_once('(')
        .map(|(_, a)| {
            a.trim_end_matches(')')
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let class = if u.contains("BOOL") {
        Class::Bool
    } else if u.contains("DATETIME") || u.contains("TIMESTAMP") {
        Class::Timestamp
    } else if u.contains("DATE") {
        Class::Date
    } else if u.contains("TIME") {
        Class::Time
    } else if u.contains("UUID") {
        Class::Uuid
    } else if u.contains("JSON") {
        Class::Json
    } else if u.contains("INT") {
        Class::Int
    } else if u.contains("CHAR") || u.contains("CLOB") || u.contains("TEXT") {
        Class::Text
    } else if u.contains("BLOB") {
        Class::Bytes
    } else if u.contains("REAL") || u.contains("FLOA") || u.contains("DOUB") {
        Class::Float
    } else if u.contains("DEC") || u.contains("NUMERIC") || u.contains("MONEY") {
        Class::Decimal
    } else {
        Class::Any
    };
    let scale = (class == Class::Decimal)
        .then(|| args.get(1).copied())
        .flatten();
    let precision = matches!(class, Class::Timestamp | Class::Time)
        .then(|| args.first().copied())
        .flatten();
    ColumnClass {
        class,
        scale,
        precision,
        tz: false,
    }
}
