//! The comparison class of a column: what the data diff compares it as, and what
//! each engine's SQL renders it from.

use serde::Serialize;

/// How a column is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
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
    #[default]
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

/// What a column's type says about comparing its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnClass {
    pub class: Class,
    /// Declared decimal scale.
    pub scale: Option<u32>,
    /// Fractional-second digits of time/timestamp columns.
    pub precision: Option<u32>,
    /// Timestamp with time zone (PostgreSQL timestamptz, MySQL TIMESTAMP).
    pub tz: bool,
}

/// The first number in parentheses of a type (`timestamp(3) with time zone` -> 3).
fn first_param(t: &str) -> Option<u32> {
    let (_, rest) = t.split_once('(')?;
    rest.split([',', ')']).next()?.trim().parse().ok()
}

impl ColumnClass {
    /// The class of a column from its normalized type (see `schema::types::RULES`);
    /// time precision from the engine's type text, else `default_precision`.
    pub fn of_normalized(normalized: &str, engine_type: &str, default_precision: u32) -> Self {
        let fam = normalized.split('(').next().unwrap_or(normalized);
        let (class, tz) = match fam {
            f if f.starts_with("int") || f.starts_with("uint") => (Class::Int, false),
            "decimal" => (Class::Decimal, false),
            "float32" | "float64" => (Class::Float, false),
            "bool" => (Class::Bool, false),
            "bytes" | "binary" | "varbinary" => (Class::Bytes, false),
            "date" => (Class::Date, false),
            "time" | "timetz" => (Class::Time, false),
            "timestamp" => (Class::Timestamp, false),
            "timestamptz" => (Class::Timestamp, true),
            "uuid" => (Class::Uuid, false),
            "json" => (Class::Json, false),
            _ => (Class::Text, false),
        };
        ColumnClass::new(class, tz, normalized, engine_type, default_precision)
    }

    /// `class` with the scale of a decimal `normalized` type and the precision of a
    /// time `engine_type`.
    pub fn new(
        class: Class,
        tz: bool,
        normalized: &str,
        engine_type: &str,
        default_precision: u32,
    ) -> Self {
        let scale = match class {
            Class::Decimal => normalized
                .split_once(',')
                .and_then(|(_, s)| s.trim_end_matches(')').trim().parse().ok()),
            _ => None,
        };
        let precision = matches!(class, Class::Time | Class::Timestamp)
            .then(|| first_param(engine_type).unwrap_or(default_precision));
        ColumnClass {
            class,
            scale,
            precision,
            tz,
        }
    }
}
