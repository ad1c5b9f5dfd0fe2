//! The common spelling of a timestamp in a SQLite file, read without chrono's format
//! machinery.
//!
//! [`super::normalize::parse_timestamp`] tries several chrono formats in turn, each one
//! parsing its format string again; over millions of `YYYY-MM-DD HH:MM:SS` values that
//! was the largest cost of a diff with a SQLite side. This reads exactly one shape —
//! `YYYY-MM-DD`, `T` or a space, `HH:MM:SS`, optionally `.` and 1 to 9 digits,
//! optionally `Z` — and gives up (None) on anything else, so the caller falls back to
//! the general parser; where it answers, the answer is the general parser's.

use chrono::{DateTime, NaiveDate, Utc};

fn digits(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    Some(n)
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.f{1,9}][Z]` as a UTC instant; None for any other text.
pub fn parse_plain(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let min = digits(&b[14..16])?;
    let sec = digits(&b[17..19])?;
    let mut rest = &b[19..];
    if rest.last() == Some(&b'Z') {
        rest = &rest[..rest.len() - 1];
    }
    let nanos = match rest {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            digits(frac)? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    // leap seconds and out-of-range fields are left to the general parser
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some(date.and_hms_nano_opt(hour, min, sec, nanos)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::normalize::parse_timestamp;

    #[test]
    fn answers_only_where_the_general_parser_gives_the_same_instant() {
        for s in [
            "2020-09-13 12:26:40",
            "2020-09-13T12:26:40",
            "2020-09-13T12:26:40Z",
            "2020-09-13 12:26:40Z",
            "2020-09-13 12:26:40.5",
            "2020-09-13 12:26:40.500",
            "2020-09-13 12:26:40.123456",
            "2020-09-13 12:26:40.123456789",
            "2020-09-13T12:26:40.000001Z",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999999",
            "2024-02-29 00:00:00",
            "1969-12-31 23:59:59.9995",
        ] {
            let fast = parse_plain(s);
            assert!(fast.is_some(), "{s}");
            assert_eq!(fast, parse_timestamp(s), "{s}");
        }
        // everything else goes to the general parser
        for s in [
            "2020-09-13 12:26:40+02:00",
            "2020-09-13 12:26:40 UTC",
            " 2020-09-13 12:26:40",
            "2020-09-13 12:26:40 ",
            "2020-09-13 12:26",
            "2020-09-13",
            "2023-02-29 00:00:00",
            "2020-13-01 00:00:00",
            "2020-09-13 24:00:00",
            "2020-09-13 23:59:60",
            "2020-09-13 12:26:40.",
            "2020-09-13 12:26:40.1234567890",
            "2020-09-13 12:26:40.12a",
            "2020-09-13x12:26:40",
            "+2020-09-13 12:26:40",
            "１２３４-09-13 12:26:40",
        ] {
            assert_eq!(parse_plain(s), None, "{s}");
        }
    }
}
