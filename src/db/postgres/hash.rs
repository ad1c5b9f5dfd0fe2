//! PostgreSQL expressions yielding a column's canonical text for the data diff.

use crate::db::Class;
use crate::db::dialect::{HashColumn, pow10};

pub(super) fn canonical_text(c: &str, col: &HashColumn) -> String {
    let native = col.native;
    match col.class {
        Class::Int => format!("({c})::text"),
        Class::Decimal if col.exact_scale => format!("({c})::text"),
        Class::Decimal => match col.scale {
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
            let p = col.precision.min(6);
            format!("round(extract(epoch from {c}) * {})::text", pow10(p))
        }
        Class::Uuid => match native {
            Class::Uuid => format!("({c})::text"),
            _ => format!("lower(({c})::text)"),
        },
        Class::Json => format!("({c})::jsonb::text"),
    }
}

pub(super) fn order_term(c: &str, col: &HashColumn, textual: bool) -> String {
    if col.class == Class::Uuid && col.native != Class::Uuid {
        format!("lower({c}) COLLATE \"C\" NULLS FIRST")
    } else if textual {
        format!("({c})::text COLLATE \"C\" NULLS FIRST")
    } else {
        format!("{c} NULLS FIRST")
    }
}
