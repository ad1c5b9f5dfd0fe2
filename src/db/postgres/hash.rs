//! PostgreSQL expressions yielding a column's canonical text for the data diff.

use crate::db::Class;
use crate::db::dialect::{HashColumn, NativeField, UUID_FORMS, pow10};

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

/// The column itself in the native hash's row where its type's own extended hash
/// function tells apart exactly the values the diff tells apart (both sides have this
/// type): integers and decimals by value (1.50 = 1.5, as the diff has it), dates, times
/// and timestamps as the days or microseconds they store (a timestamptz as its UTC
/// instant), doubles by value (-0 = 0, one NaN), booleans, UUIDs and bytea by their
/// bytes; NULL hashes as 0, and where a type hashes a value as 0 too (a double's 0, a
/// decimal's NaN) a second field tells them apart. None: the canonical text, as for free text (hashed in bytes: a `citext` or a
/// nondeterministic collation would hash "A" as "a"), JSON and every other type (an
/// interval's hash has '1 day' = '24 hours'; a timetz's differs from the diff's UTC
/// time).
pub(super) fn native_text(c: &str, col: &HashColumn, type_text: &str) -> Option<String> {
    let t = type_text.to_ascii_lowercase();
    let own = match col.class {
        Class::Int | Class::Date | Class::Timestamp | Class::Float | Class::Bool => true,
        Class::Decimal => col.exact_scale,
        Class::Time => !t.contains("with time zone"),
        Class::Uuid | Class::Bytes => true,
        _ => false,
    };
    if !own || col.native != col.class {
        return None;
    }
    Some(match col.class {
        // a double's hash of 0 and -0 is 0, as NULL's is: its NULL goes in beside it
        Class::Float if col.nullable => format!("{c}, {c} IS NULL"),
        // NaN and the infinities hash as NULL does (0): their text goes in beside them
        Class::Decimal if col.nullable => {
            format!("{c}, {}", numeric_special(c))
        }
        _ => c.to_string(),
    })
}

/// A field beside numeric column `c` in a row hash: NULL, but for NaN and the
/// infinities (which have no scale, and hash as 0, as NULL does) their text.
pub(super) fn numeric_special(c: &str) -> String {
    format!("CASE WHEN scale({c}) IS NULL THEN ({c})::text END")
}

/// The native hash's input: one row of the fields, each column of its own type where
/// [`native_text`] allowed it, every other field as its text in bytes (`COLLATE "C"`:
/// the row's hash takes each field's collation).
pub(super) fn native_row(fields: &[NativeField]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.own_type {
                f.text.clone()
            } else {
                format!("({}) COLLATE \"C\"", f.text)
            }
        })
        .collect();
    format!("ROW({})", parts.join(", "))
}

/// A row's 64-bit hash: `hash_record_extended` hashes each field with its type's own
/// extended hash and folds them as `h · 31 + field`, which is linear: summed over the
/// rows of a bucket, a column's values could trade places between rows unseen.
/// `hashint8extended` mixes the fold, so a bucket's sum depends on which values share
/// a row.
pub(super) fn row_hash(row: &str) -> String {
    format!("hashint8extended(hash_record_extended({row}, 0), 0)")
}
