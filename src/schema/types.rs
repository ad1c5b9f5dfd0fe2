//! Normalized types and the documented cross-engine equivalence rules.
//!
//! Same-engine comparisons are exact (the engine's own type text). Cross-engine
//! comparisons compare normalized types and use the rules in [`RULES`]; every rule that
//! decided an equality is named in the diff output, so a reviewer can see which
//! equivalences were assumed. docs/schema.md lists the same table.

use crate::db::Dialect;
pub use crate::db::types::{normalize_type, render_type, split_params, squash_ws};

/// A cross-engine equivalence rule: stable id and a one-line description.
pub struct Rule {
    pub id: &'static str,
    pub description: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "integer-types",
        description: "integer types of the same width are equal whatever the spelling (PostgreSQL integer/int4 ~ MySQL int(11) ~ int32; bigint ~ int64; smallint ~ int16); MySQL display widths are ignored",
    },
    Rule {
        id: "mysql-bool",
        description: "MySQL/MariaDB tinyint(1) (what BOOLEAN becomes) ~ PostgreSQL boolean",
    },
    Rule {
        id: "text-types",
        description: "MySQL tinytext/text/mediumtext/longtext ~ PostgreSQL text; character varying(n) ~ varchar(n); character(n) ~ char(n)",
    },
    Rule {
        id: "binary-types",
        description: "PostgreSQL bytea ~ MySQL blob/tinyblob/mediumblob/longblob",
    },
    Rule {
        id: "numeric-types",
        description: "numeric(p,s) ~ decimal(p,s); real/float4 ~ MySQL float; double precision/float8 ~ MySQL double",
    },
    Rule {
        id: "timestamp-types",
        description: "PostgreSQL timestamp without time zone ~ MySQL datetime; timestamp with time zone ~ MySQL timestamp (stored as UTC); fractional-second precision is not compared across engines",
    },
    Rule {
        id: "json-types",
        description: "PostgreSQL json/jsonb ~ MySQL json (MariaDB's longtext with a json_valid check)",
    },
    Rule {
        id: "enum-types",
        description: "a PostgreSQL enum type ~ a MySQL enum(...) column with the same labels in the same order",
    },
    Rule {
        id: "sqlite-affinity",
        description: "SQLite enforces only type affinity: a SQLite column matches any type of its affinity (INTEGER: integers and booleans; TEXT: character, json, uuid, enum; REAL: floats; NUMERIC: decimals, booleans, dates and times; BLOB: binary)",
    },
    Rule {
        id: "identity",
        description: "PostgreSQL identity/serial ~ MySQL auto_increment ~ SQLite AUTOINCREMENT or INTEGER PRIMARY KEY (rowid alias)",
    },
    Rule {
        id: "defaults",
        description: "defaults compared after removing casts and parentheses: 'x'::character varying ~ 'x'; now() ~ current_timestamp() ~ CURRENT_TIMESTAMP; true ~ 1, false ~ 0",
    },
    Rule {
        id: "fk-restrict",
        description: "foreign key actions RESTRICT ~ NO ACTION (MySQL/MariaDB reports RESTRICT for the default)",
    },
    Rule {
        id: "names-by-definition",
        description: "indexes and unique/foreign key/check constraints are matched by definition, not by name, across engines (and for SQLite, whose constraints are unnamed)",
    },
    Rule {
        id: "unique-index-as-constraint",
        description: "a unique index on plain columns ~ a UNIQUE constraint (MySQL/MariaDB and SQLite have no distinct unique constraint)",
    },
    Rule {
        id: "mysql-fk-index",
        description: "the index MySQL/MariaDB creates for a foreign key's columns is ignored when the other engine has no such index",
    },
    Rule {
        id: "expressions",
        description: "check, partial-index and generated-column expressions are compared after removing identifier quotes, casts, parentheses, whitespace and letter case",
    },
    Rule {
        id: "views-by-columns",
        description: "view definitions are not comparable across engines: views are compared by name and column list",
    },
];

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// Whether a normalized type fits a SQLite affinity.
fn fits_affinity(norm: &str, affinity: &str) -> bool {
    let fam = norm.split('(').next().unwrap_or(norm);
    let int = matches!(
        fam,
        "int8"
            | "int16"
            | "int24"
            | "int32"
            | "int64"
            | "uint8"
            | "uint16"
            | "uint24"
            | "uint32"
            | "uint64"
    );
    match affinity {
        "integer" => int || fam == "bool",
        "text" => matches!(
            fam,
            "varchar"
                | "char"
                | "text"
                | "json"
                | "uuid"
                | "enum"
                | "date"
                | "time"
                | "timestamp"
                | "timestamptz"
        ),
        "real" => matches!(fam, "float32" | "float64"),
        "numeric" => {
            int || matches!(
                fam,
                "decimal"
                    | "bool"
                    | "date"
                    | "time"
                    | "timestamp"
                    | "timestamptz"
                    | "float32"
                    | "float64"
            )
        }
        "blob" => matches!(fam, "bytes" | "binary" | "varbinary"),
        _ => false,
    }
}

/// Which rule makes two different spellings of one normalized type equal.
fn family_rule(norm: &str) -> &'static str {
    let fam = norm.split('(').next().unwrap_or(norm);
    match fam {
        "bool" => "mysql-bool",
        "varchar" | "char" | "text" => "text-types",
        "bytes" | "binary" | "varbinary" => "binary-types",
        "decimal" | "float32" | "float64" => "numeric-types",
        "timestamp" | "timestamptz" | "date" | "time" => "timestamp-types",
        "json" => "json-types",
        "enum" => "enum-types",
        _ => "integer-types",
    }
}

/// How two column types compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeMatch {
    /// The same type.
    Same,
    /// Equal by the named rule of [`RULES`].
    ByRule(&'static str),
    Different,
}

/// Compare two column types.
pub fn compare_types(
    a_engine: &str,
    a_norm: &str,
    a_dialect: Dialect,
    b_engine: &str,
    b_norm: &str,
    b_dialect: Dialect,
) -> TypeMatch {
    if a_dialect == b_dialect {
        return if squash_ws(&a_engine.to_lowercase()) == squash_ws(&b_engine.to_lowercase()) {
            TypeMatch::Same
        } else {
            TypeMatch::Different
        };
    }
    let strip_ts = |n: &str| {
        if n.starts_with("timestamp") {
            n.split('(').next().unwrap_or(n).to_string()
        } else {
            n.to_string()
        }
    };
    if strip_ts(a_norm) == strip_ts(b_norm) {
        return TypeMatch::ByRule(family_rule(a_norm));
    }
    let fits = |d: Dialect, declared: &str, other_norm: &str| {
        d.sql()
            .affinity(declared)
            .is_some_and(|aff| fits_affinity(other_norm, aff))
    };
    if fits(a_dialect, a_engine, b_norm) || fits(b_dialect, b_engine, a_norm) {
        return TypeMatch::ByRule("sqlite-affinity");
    }
    TypeMatch::Different
}

/// A default expression in a comparable, engine-neutral form.
pub fn normalize_default(d: &str) -> String {
    let mut s = strip_casts(d.trim());
    while s.starts_with('(') && s.ends_with(')') && balanced_inner(&s) {
        s = s[1..s.len() - 1].trim().to_string();
    }
    let lower = s.to_lowercase();
    match lower.as_str() {
        "now()"
        | "current_timestamp"
        | "current_timestamp()"
        | "localtimestamp"
        | "transaction_timestamp()" => "CURRENT_TIMESTAMP".into(),
        "current_date" | "curdate()" | "current_date()" => "CURRENT_DATE".into(),
        "true" | "'t'" => "1".into(),
        "false" | "'f'" => "0".into(),
        "null" => "NULL".into(),
        _ => {
            // numbers: 0.00 ~ 0
            if let Ok(d) = s.trim_matches('\'').parse::<rust_decimal::Decimal>()
                && !s.trim_matches('\'').is_empty()
            {
                return d.normalize().to_string();
            }
            s
        }
    }
}

fn balanced_inner(s: &str) -> bool {
    let inner = &s[1..s.len() - 1];
    let mut depth = 0i32;
    let mut in_str = false;
    for c in inner.chars() {
        match c {
            '\'' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// Remove PostgreSQL casts (`'x'::character varying`, `(0)::numeric`, `::text[]`).
pub fn strip_casts(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut in_str = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_str = !in_str;
            out.push(c);
            i += 1;
            continue;
        }
        if !in_str && c == ':' && chars.get(i + 1) == Some(&':') {
            i += 2;
            // skip a type name: words, spaces between known multiword types, (n), [], quotes
            loop {
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '"')
                {
                    i += 1;
                }
                if i < chars.len() && chars[i] == '(' {
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                }
                if i + 1 < chars.len() && chars[i] == '[' && chars[i + 1] == ']' {
                    i += 2;
                }
                // multi-word type names: "character varying", "timestamp without time zone", "double precision"
                let rest: String = chars[i..].iter().collect();
                let lr = rest.to_lowercase();
                let mut matched = false;
                for w in [
                    " varying",
                    " without time zone",
                    " with time zone",
                    " precision",
                ] {
                    if lr.starts_with(w) {
                        i += w.len();
                        matched = true;
                        break;
                    }
                }
                if !matched {
                    break;
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// An expression (check, predicate, generated column) in a comparable form: no
/// identifier quotes, casts, parentheses or whitespace; lower case outside strings.
pub fn normalize_expr(s: &str) -> String {
    let s = strip_casts(s);
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    for c in s.chars() {
        if c == '\'' {
            in_str = !in_str;
            out.push(c);
            continue;
        }
        if in_str {
            out.push(c);
            continue;
        }
        if c == '"' || c == '`' || c == '(' || c == ')' || c.is_whitespace() {
            continue;
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_expressions() {
        assert_eq!(normalize_default("'x'::character varying"), "'x'");
        assert_eq!(normalize_default("now()"), "CURRENT_TIMESTAMP");
        assert_eq!(
            normalize_default("current_timestamp()"),
            "CURRENT_TIMESTAMP"
        );
        assert_eq!(normalize_default("0.00"), "0");
        assert_eq!(normalize_default("(0)::numeric"), "0");
        assert_eq!(
            normalize_expr("(price > (0)::numeric)"),
            normalize_expr("`price` > 0")
        );
    }
}
