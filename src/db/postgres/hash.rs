//! PostgreSQL expressions yielding a column's canonical text for the data diff.

use crate::db::Class;
use crate::db::dialect::{HashColumn, UUID_FORMS, pow10};

pub(super) fn canonical_text(c: &str, col: &HashColumn) -> String {
    let native = col.native;
    match col.class {
        Class::Int => format!("({c})::text"),
        Class::Decimal if col.exact_scale => format!("({c})::text"),
        Class::Decimal => {
            // a double's shortest round-trip text is its exact decimal (a cast to
            // numeric keeps only 15 digits: 0.30000000000000004 would read as 0.3)
            let n = if native == Class::Float {
                format!("({c})::float8::text::numeric")
            } else {
                format!("({c})::numeric")
            };
            match col.scale {
                Some(s) => format!("round({n}, {s})::text"),
                None => format!("trim_scale({n})::text"),
            }
        }
        // real widened exactly to double (real 0.1 is not double 0.1); + 0 makes -0 read 0
        Class::Float => format!("(({c})::float8 + 0::float8)::text"),
        Class::Bool => match native {
            Class::Bool => format!("CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END"),
            _ => format!("CASE WHEN {c} <> 0 THEN '1' WHEN {c} = 0 THEN '0' END"),
        },
        Class::Text | Class::Any => format!("({c})::text"),
        Class::Bytes => match native {
            Class::Bytes => format!("encode({c}, 'hex')"),
            _ => format!("encode(convert_to(({c})::text, 'UTF8'), 'hex')"),
        },
        // to_char drops the era (44 BC would read as AD 44), gives NULL for infinity and
        // fails beyond year 9999: those dates hash as days from 2000-01-01 or `infinity`
        Class::Date if native == Class::Date => format!(
            "CASE WHEN {c} BETWEEN '0001-01-01' AND '9999-12-31' THEN to_char({c}, 'YYYY-MM-DD') \
             WHEN isfinite({c}) THEN 'd' || ({c} - date '2000-01-01')::text ELSE ({c})::text END"
        ),
        Class::Date => format!("to_char({c}, 'YYYY-MM-DD')"),
        Class::Time | Class::Timestamp => {
            let p = col.precision.min(6);
            // extra digits cut off (towards the past), as MariaDB stores a value at a
            // lower precision
            format!("floor(extract(epoch from {c}) * {})::text", pow10(p))
        }
        Class::Uuid => match native {
            Class::Uuid => format!("({c})::text"),
            // any textual form the diff reads as a UUID ({braced}, no hyphens,
            // urn:uuid:) as the UUID; anything else as its lower-case text
            _ => format!(
                "CASE WHEN ({c})::text ~* '{UUID_FORMS}' \
                 THEN regexp_replace(({c})::text, '^urn:uuid:', '', 'i')::uuid::text \
                 ELSE lower(({c})::text) END"
            ),
        },
        Class::Json => format!("({c})::jsonb::text"),
    }
}

pub(super) fn order_term(c: &str, col: &HashColumn, textual: bool) -> String {
    if col.class == Class::Uuid && col.native != Class::Uuid {
        format!("({}) COLLATE \"C\" NULLS FIRST", canonical_text(c, col))
    } else if textual {
        // bytes of the UTF-8 form whatever the database's encoding (LATIN1 sorts
        // its own bytes differently)
        format!("convert_to(({c})::text, 'UTF8') NULLS FIRST")
    } else {
        format!("{c} NULLS FIRST")
    }
}

/// A column's text in the native hash's input when its two sides have the same type:
/// the column itself, which `concat_ws` turns into text with the type's own output
/// function, exactly as a `::text` cast does (a cast to text through the output
/// function; none of these types has a cast function of its own) but without building
/// the text twice. Dates and times come out in one form on both sides (the diff's setup
/// fixes the session's DateStyle and TimeZone), with era and `infinity`, exact at the
/// type's precision and far cheaper than the epoch arithmetic of their canonical text;
/// integers and decimals of a fixed scale as their canonical text is.
pub(super) fn native_text(c: &str, col: &HashColumn) -> Option<String> {
    match col.class {
        Class::Date | Class::Time | Class::Timestamp if col.native == col.class => {
            Some(c.to_string())
        }
        Class::Int if col.native == Class::Int => Some(c.to_string()),
        Class::Decimal if col.exact_scale && col.native == Class::Decimal => Some(c.to_string()),
        _ => None,
    }
}
