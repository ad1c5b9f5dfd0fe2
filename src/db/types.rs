//! Type spelling: the engine-neutral normalized type of an engine's type text, and back.
//! The shared spelling rules are here; each engine's exceptions are its dialect's
//! [`normalize_type`](super::SqlDialect::normalize_type) and
//! [`render_type`](super::SqlDialect::render_type).

use super::Dialect;

pub fn squash_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parameters in parentheses after a type name: `varchar(20)` -> ("varchar", Some("20")).
pub fn split_params(t: &str) -> (String, Option<String>) {
    match t.find('(') {
        Some(i) if t.ends_with(')') => (
            t[..i].trim().to_string(),
            Some(t[i + 1..t.len() - 1].replace(' ', "")),
        ),
        Some(i) => {
            // `timestamp(3) with time zone`
            let close = t[i..].find(')').map(|c| c + i).unwrap_or(t.len() - 1);
            let base = format!("{}{}", &t[..i], &t[close + 1..]);
            (squash_ws(&base), Some(t[i + 1..close].replace(' ', "")))
        }
        None => (t.trim().to_string(), None),
    }
}

/// The engine-neutral spelling of a type written in SQL whose engine may be unknown
/// (`cutover lint` without `--dialect`): read as PostgreSQL spells it, the standard's
/// spelling, which the other engines' common types share.
pub fn normalize_written_type(written: &str, dialect: Option<Dialect>) -> String {
    normalize_type(written, dialect.unwrap_or(Dialect::Postgres))
}

/// The engine-neutral spelling of an engine's type. See `schema::types::RULES`.
pub fn normalize_type(engine_type: &str, dialect: Dialect) -> String {
    let rules = dialect.sql();
    let lower = squash_ws(&engine_type.to_lowercase());
    if lower.starts_with("enum(") {
        return format!("enum{}", &engine_type.trim()[4..]);
    }
    let unsigned = lower.contains(" unsigned");
    let lower = lower
        .replace(" unsigned", "")
        .replace(" zerofill", "")
        .replace(" signed", "");
    let (base, params) = split_params(&lower);
    let u = if unsigned { "u" } else { "" };
    let p = |dflt: &str| params.clone().unwrap_or_else(|| dflt.to_string());
    let with = |name: &str| match &params {
        Some(p) => format!("{name}({p})"),
        None => name.to_string(),
    };
    if let Some(t) = rules.normalize_type(&base, params.as_deref(), unsigned) {
        return t;
    }
    match base.as_str() {
        "bool" | "boolean" => "bool".into(),
        "tinyint" | "int1" => format!("{u}int8"),
        "smallint" | "int2" | "smallserial" | "serial2" => format!("{u}int16"),
        "mediumint" | "int3" => format!("{u}int24"),
        "int" | "integer" | "int4" | "serial" | "serial4" => format!("{u}int32"),
        "bigint" | "int8" | "bigserial" | "serial8" => format!("{u}int64"),
        "decimal" | "numeric" | "dec" | "fixed" => match &params {
            Some(p) if p.contains(',') => format!("decimal({p})"),
            Some(p) => format!("decimal({p},0)"),
            None => "decimal".into(),
        },
        "real" | "float4" => "float32".into(),
        "double" | "float" | "double precision" | "float8" => "float64".into(),
        "character varying" | "varchar" | "nvarchar" | "varchar2" => with("varchar"),
        "character" | "char" | "bpchar" | "nchar" => format!("char({})", p("1")),
        "text" | "tinytext" | "mediumtext" | "longtext" | "clob" | "citext" => "text".into(),
        "bytea" | "blob" | "tinyblob" | "mediumblob" | "longblob" => "bytes".into(),
        "binary" | "varbinary" => with(&base),
        "date" => "date".into(),
        "time" | "time without time zone" => "time".into(),
        "time with time zone" | "timetz" => "timetz".into(),
        "datetime" => "timestamp".into(),
        "timestamp" | "timestamp without time zone" => "timestamp".into(),
        "timestamptz" | "timestamp with time zone" => "timestamptz".into(),
        "json" | "jsonb" => "json".into(),
        "uuid" => "uuid".into(),
        _ => lower.clone(),
    }
}

/// A type for `dialect` equivalent to the normalized type `norm` (for migrations
/// across engines). Same-engine migrations use the engine's own type text instead.
pub fn render_type(norm: &str, dialect: Dialect) -> String {
    let (fam, params) = split_params(norm);
    dialect.sql().render_type(&fam, params.as_deref(), norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_across_engines() {
        assert_eq!(normalize_type("integer", Dialect::Postgres), "int32");
        assert_eq!(normalize_type("int(11)", Dialect::Mysql), "int32");
        assert_eq!(
            normalize_type("character varying(20)", Dialect::Postgres),
            "varchar(20)"
        );
        assert_eq!(normalize_type("tinyint(1)", Dialect::Mysql), "bool");
        assert_eq!(normalize_type("timestamp", Dialect::Mysql), "timestamptz");
        assert_eq!(
            normalize_type("timestamp(3) without time zone", Dialect::Postgres),
            "timestamp"
        );
        assert_eq!(
            normalize_type("numeric(12,2)", Dialect::Postgres),
            "decimal(12,2)"
        );
        assert_eq!(normalize_type("int unsigned", Dialect::Mysql), "uint32");
    }
}
