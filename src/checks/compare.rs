//! The assertions a check states in its file: a comparison of one value (`>= 440`,
//! `between 1 and 10`, `= pacific`) and durations with a unit (`200ms`, `15m`).

use crate::db::Value;
use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
    fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => o == Equal,
            Op::Ne => o != Equal,
            Op::Lt => o == Less,
            Op::Le => o != Greater,
            Op::Gt => o == Greater,
            Op::Ge => o != Less,
        }
    }
}

/// What a `value` check expects of the query's single value.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// `OP LITERAL`: the value compared with the literal (numbers by value, the rest as text).
    Op(Op, String),
    /// `between LOW and HIGH`, both ends included.
    Between(String, String),
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Comparison::Op(op, v) => write!(f, "{} {v}", op.symbol()),
            Comparison::Between(a, b) => write!(f, "between {a} and {b}"),
        }
    }
}

/// Strip one pair of matching quotes around a literal (`'pacific'` → `pacific`).
fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['\'', '"'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].to_string();
        }
    }
    s.to_string()
}

impl Comparison {
    /// Parse `>= 440`, `!= 0`, `<> 0`, `= 'pacific'`, `between 1 and 10`. Anything else
    /// is not a true/false assertion and is refused (the caller names file and line).
    pub fn parse(text: &str) -> Result<Comparison, String> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("between ") {
            let off = t.len() - rest.len();
            let rest_orig = &t[off..];
            let Some(i) = rest.find(" and ") else {
                return Err(format!(
                    "\"{t}\" is not a range: write \"between LOW and HIGH\""
                ));
            };
            let (lo, hi) = (unquote(&rest_orig[..i]), unquote(&rest_orig[i + 5..]));
            if lo.is_empty() || hi.is_empty() {
                return Err(format!(
                    "\"{t}\" is not a range: write \"between LOW and HIGH\""
                ));
            }
            if let (Ok(a), Ok(b)) = (Decimal::from_str(&lo), Decimal::from_str(&hi))
                && a > b
            {
                return Err(format!("\"{t}\" is an empty range: {lo} is above {hi}"));
            }
            return Ok(Comparison::Between(lo, hi));
        }
        let ops: [(&str, Op); 7] = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("<>", Op::Ne),
            ("=", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        for (sym, op) in ops {
            if let Some(rest) = t.strip_prefix(sym) {
                let v = unquote(rest.trim_start_matches('='));
                if v.is_empty() {
                    return Err(format!(
                        "\"{t}\" compares with nothing: write e.g. \"{sym} 440\""
                    ));
                }
                return Ok(Comparison::Op(op, v));
            }
        }
        Err(format!(
            "\"{t}\" is not a true/false assertion: write a comparison such as \">= 440\", \"= pacific\" or \"between 1 and 10\""
        ))
    }

    /// Does `v` satisfy the comparison? NULL satisfies nothing.
    pub fn holds(&self, v: &Value) -> bool {
        if v.is_null() {
            return false;
        }
        let got = v.to_string();
        match self {
            Comparison::Op(op, want) => op.holds(order(v, &got, want)),
            Comparison::Between(lo, hi) => {
                Op::Ge.holds(order(v, &got, lo)) && Op::Le.holds(order(v, &got, hi))
            }
        }
    }
}

/// A value as an exact decimal, when it is a number.
pub fn as_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(i) => Some(Decimal::from(*i)),
        Value::UInt(u) => Some(Decimal::from(*u)),
        Value::Decimal(d) => Some(*d),
        Value::Float(f) => Decimal::from_str(&f.to_string())
            .or_else(|_| Decimal::from_scientific(&f.to_string()))
            .ok(),
        Value::Bool(b) => Some(Decimal::from(*b as i64)),
        Value::Text(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

/// Order the value against a literal: by number when both are numbers, else as text.
fn order(v: &Value, got: &str, want: &str) -> std::cmp::Ordering {
    match (as_decimal(v), Decimal::from_str(want.trim())) {
        (Some(a), Ok(b)) => a.cmp(&b),
        _ => match (v, want) {
            (Value::Bool(b), w)
                if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") =>
            {
                b.cmp(&w.eq_ignore_ascii_case("true"))
            }
            _ => got.cmp(want),
        },
    }
}

/// A duration with its unit: `200ms`, `200 ms`, `1.5s`, `15m`, `2h`, `1d`. A bare
/// number is refused: "200" could mean milliseconds or seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    if num.is_empty() {
        return Err(format!(
            "\"{t}\" is not a duration: write e.g. \"200ms\", \"30s\" or \"15m\""
        ));
    }
    let n: f64 = num.parse().map_err(|_| {
        format!("\"{t}\" is not a duration: write e.g. \"200ms\", \"30s\" or \"15m\"")
    })?;
    let secs = match unit {
        "" => {
            return Err(format!(
                "\"{t}\" has no unit: write e.g. \"{num}ms\" or \"{num}s\""
            ));
        }
        "us" | "µs" => n / 1e6,
        "ms" => n / 1e3,
        "s" | "sec" | "secs" | "second" | "seconds" => n,
        "m" | "min" | "mins" | "minute" | "minutes" => n * 60.0,
        "h" | "hour" | "hours" => n * 3600.0,
        "d" | "day" | "days" => n * 86400.0,
        other => {
            return Err(format!(
                "\"{t}\": unknown unit \"{other}\"; use us, ms, s, m, h or d"
            ));
        }
    };
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("\"{t}\" must be more than zero"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration for people: `850ms`, `3.20s`, `15m`, `2h 5m`, `1d`.
pub fn show_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1e-3 {
        return format!("{:.0}us", s * 1e6);
    }
    if s < 1.0 {
        let ms = s * 1e3;
        return if ms.fract() == 0.0 {
            format!("{ms:.0}ms")
        } else if ms < 10.0 {
            format!("{ms:.2}ms")
        } else {
            format!("{ms:.1}ms")
        };
    }
    if s < 60.0 {
        return if s.fract() == 0.0 {
            format!("{s:.0}s")
        } else {
            format!("{s:.2}s")
        };
    }
    let total = s as u64;
    let parts = [
        (total / 86400, "d"),
        (total % 86400 / 3600, "h"),
        (total % 3600 / 60, "m"),
        (total % 60, "s"),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    parts[first..(first + 2).min(4)]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_parse_and_hold() {
        let c = Comparison::parse(">= 440").unwrap();
        assert!(c.holds(&Value::Int(440)));
        assert!(!c.holds(&Value::Int(439)));
        assert!(c.holds(&Value::Text("441".into())));
        let r = Comparison::parse("between 1 and 10").unwrap();
        assert!(r.holds(&Value::Decimal(Decimal::new(15, 1))));
        assert!(!r.holds(&Value::Int(11)));
        let s = Comparison::parse("= 'pacific'").unwrap();
        assert!(s.holds(&Value::Text("pacific".into())));
        assert!(!s.holds(&Value::Text("us".into())));
        assert!(!Comparison::parse("!= 0").unwrap().holds(&Value::Null));
        assert!(Comparison::parse("440").is_err());
        assert!(Comparison::parse("between 10 and 1").is_err());
    }

    #[test]
    fn durations_need_units() {
        assert_eq!(parse_duration("200ms").unwrap(), Duration::from_millis(200));
        assert_eq!(
            parse_duration("1.5 s").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert!(parse_duration("200").unwrap_err().contains("no unit"));
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(show_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(show_duration(Duration::from_secs(86400)), "1d");
        assert_eq!(show_duration(Duration::from_secs(7500)), "2h 5m");
    }
}
