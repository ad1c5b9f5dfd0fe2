//! The comparison class of a column: what the data diff compares it as, and what
//! each engine's SQL renders it from.

use serde::Serialize;

/// How a column is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Int,
    Decimal,
    Float,
    Bool,
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
    Uuid,
    Json,
    /// SQLite columns without a usable declared type: take the other side's class.
    Any,
}

impl Class {
    pub fn parse(s: &str) -> Option<Class> {
        Some(match s.to_ascii_lowercase().as_str() {
            "int" | "integer" => Class::Int,
            "decimal" | "numeric" => Class::Decimal,
            "float" | "real" | "double" => Class::Float,
            "bool" | "boolean" => Class::Bool,
            "text" | "string" => Class::Text,
            "bytes" | "binary" | "blob" => Class::Bytes,
            "date" => Class::Date,
            "time" => Class::Time,
            "timestamp" | "datetime" => Class::Timestamp,
            "uuid" => Class::Uuid,
            "json" => Class::Json,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Class::Int => "int",
            Class::Decimal => "decimal",
            Class::Float => "float",
            Class::Bool => "bool",
            Class::Text => "text",
            Class::Bytes => "bytes",
            Class::Date => "date",
            Class::Time => "time",
            Class::Timestamp => "timestamp",
            Class::Uuid => "uuid",
            Class::Json => "json",
            Class::Any => "any",
        }
    }
}
