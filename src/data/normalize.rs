//! Value normalization and unambiguous serialization for hashing.
//!
//! Every compared column has a [`Class`] decided from both sides' types, plus the
//! lower decimal scale / fractional-second precision of the two sides. A decoded
//! [`Value`] from any engine is normalized to a [`Norm`]; equal data gives equal `Norm`s
//! whatever the engine, and `Norm::canonical_text` is exactly the text the SQL
//! expressions in [`super::sql`] produce inside PostgreSQL and MySQL/MariaDB, so the
//! 64-bit row hashes computed in a database and in cutover agree.

use crate::db::Value;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use md5::{Digest, Md5};
use rust_decimal::Decimal;
use serde::Serialize;
use std::cmp::Ordering;
use std::str::FromStr;

pub use crate::db::Class;

/// The class both sides are compared as, or None when they are not comparable.
pub fn common_class(a: Class, a_sqlite: bool, b: Class, b_sqlite: bool) -> Option<Class> {
    use Class::*;
    if a == b {
        return Some(if a == Any { Text } else { a });
    }
    let pair = |x: Class, y: Class| (a == x && b == y) || (a == y && b == x);
    if pair(Int, Decimal) || pair(Float, Decimal) {
        return Some(Decimal);
    }
    if pair(Int, Float) {
        return Some(Float);
    }
    if pair(Bool, Int) {
        return Some(Bool);
    }
    if pair(Text, Uuid) || pair(Bytes, Uuid) {
        return Some(Uuid);
    }
    if pair(Text, Json) {
        return Some(Json);
    }
    // SQLite is dynamically typed: its declared type is only a hint.
    match (a_sqlite, b_sqlite) {
        (true, false) => Some(if b == Any { Text } else { b }),
        (false, true) => Some(if a == Any { Text } else { a }),
        (true, true) => Some(if a == Any {
            b
        } else if b == Any {
            a
        } else {
            Text
        }),
        (false, false) => {
            if a == Any {
                Some(b)
            } else if b == Any {
                Some(a)
            } else {
                None
            }
        }
    }
}

/// How one compared column is normalized.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ColumnPlan {
    /// Column name on the source.
    pub name: String,
    /// Column name on the target (matched case-insensitively).
    pub target_name: String,
    pub class: Class,
    /// Decimal columns: the scale compared at (the lower of the two sides'); None = exact.
    pub scale: Option<u32>,
    /// Timestamps/times: fractional-second digits compared (the lower of the two sides').
    pub precision: u32,
    /// Allowed absolute difference (numbers; seconds for timestamps and times).
    pub tolerance: Option<Decimal>,
    pub source_type: String,
    pub target_type: String,
    /// The engine-native class on each side (decides the SQL expression).
    #[serde(skip)]
    pub source_native: Class,
    #[serde(skip)]
    pub target_native: Class,
    /// Declared decimal scale on each side, when known.
    #[serde(skip)]
    pub source_scale: Option<u32>,
    #[serde(skip)]
    pub target_scale: Option<u32>,
    /// May the column hold NULL on each side?
    #[serde(skip)]
    pub source_nullable: bool,
    #[serde(skip)]
    pub target_nullable: bool,
    pub is_key: bool,
}

/// A normalized value: equal data gives equal `Norm`s whatever the engine.
/// Ordered variant by variant (the order below), except text against bytes (see the
/// `Ord` impl).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Norm {
    /// Sorts first, like `NULLS FIRST`.
    Null,
    Bool(bool),
    Int(i128),
    Dec(Decimal),
    Float(F64),
    /// Time of day or timestamp in units of 10^-precision seconds (UTC for timestamps).
    Units(i128),
    Date(NaiveDate),
    Uuid(uuid::Uuid),
    Text(String),
    Bytes(Vec<u8>),
    /// Canonical JSON text (object keys sorted, compact).
    Json(String),
    /// A value that could not be read as its column's class: compared as its text.
    Raw(String),
}

impl Norm {
    fn rank(&self) -> u8 {
        match self {
            Norm::Null => 0,
            Norm::Bool(_) => 1,
            Norm::Int(_) => 2,
            Norm::Dec(_) => 3,
            Norm::Float(_) => 4,
            Norm::Units(_) => 5,
            Norm::Date(_) => 6,
            Norm::Uuid(_) => 7,
            Norm::Text(_) => 8,
            Norm::Bytes(_) => 9,
            Norm::Json(_) => 10,
            Norm::Raw(_) => 11,
        }
    }
}

impl PartialOrd for Norm {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// A binary column compared as text holds `Text` where its bytes are UTF-8 and `Bytes`
/// where they are not: those two sort by their bytes together, as a database sorts a
/// binary key (the merge needs the order the rows arrive in); equal bytes cannot occur
/// as both, and would sort text first. Every other pair sorts by variant, then value.
impl Ord for Norm {
    fn cmp(&self, o: &Self) -> Ordering {
        use Norm::*;
        match (self, o) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) | (Units(a), Units(b)) => a.cmp(b),
            (Dec(a), Dec(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            (Text(a), Text(b)) | (Json(a), Json(b)) | (Raw(a), Raw(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (Text(a), Bytes(b)) => a.as_bytes().cmp(b.as_slice()).then(Ordering::Less),
            (Bytes(a), Text(b)) => a.as_slice().cmp(b.as_bytes()).then(Ordering::Greater),
            _ => self.rank().cmp(&o.rank()),
        }
    }
}

/// f64 with total ordering and -0.0 == 0.0.
#[derive(Debug, Clone, Copy)]
pub struct F64(pub f64);
impl F64 {
    fn key(self) -> u64 {
        let x = if self.0 == 0.0 {
            0.0
        } else if self.0.is_nan() {
            f64::NAN
        } else {
            self.0
        };
        x.to_bits()
    }
}
impl PartialEq for F64 {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}
impl Eq for F64 {}
impl std::hash::Hash for F64 {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.key().hash(h)
    }
}
impl PartialOrd for F64 {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for F64 {
    fn cmp(&self, o: &Self) -> Ordering {
        f64::from_bits(self.key()).total_cmp(&f64::from_bits(o.key()))
    }
}

impl Norm {
    /// Free text (needs a length prefix when serialized).
    pub fn is_textual(&self) -> bool {
        matches!(self, Norm::Text(_) | Norm::Json(_) | Norm::Raw(_))
    }

    /// The text hashed for this value; identical to what [`super::sql`] computes in SQL.
    pub fn canonical_text(&self) -> Option<String> {
        Some(match self {
            Norm::Null => return None,
            Norm::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            Norm::Int(i) => i.to_string(),
            Norm::Dec(d) => d.to_string(),
            Norm::Float(f) => format!("{:?}", f.0),
            Norm::Units(u) => u.to_string(),
            // as PostgreSQL's hash writes it: years outside 1..=9999 as days from 2000
            Norm::Date(d) if (1..=9999).contains(&chrono::Datelike::year(d)) => {
                d.format("%Y-%m-%d").to_string()
            }
            Norm::Date(d) => format!(
                "d{}",
                d.signed_duration_since(NaiveDate::from_ymd_opt(2000, 1, 1).expect("date"))
                    .num_days()
            ),
            Norm::Uuid(u) => u.hyphenated().to_string(),
            Norm::Text(s) | Norm::Json(s) | Norm::Raw(s) => s.clone(),
            Norm::Bytes(b) => hex::encode(b),
        })
    }
}

fn pow10(p: u32) -> i128 {
    10i128.pow(p)
}

/// `micros` (in 10^-6 s) at `precision` digits, the extra digits cut off as MariaDB
/// does when it stores a value at a lower precision (`.123999` at 3 digits is `.123`):
/// timestamps towards the past (`floor`), signed durations towards zero.
fn truncate_micros(micros: i128, precision: u32, floor: bool) -> i128 {
    let div = pow10(6 - precision.min(6));
    if div == 1 {
        return micros;
    }
    if floor {
        micros.div_euclid(div)
    } else {
        micros / div
    }
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    let t = s.trim();
    Decimal::from_str(t)
        .or_else(|_| Decimal::from_scientific(t))
        .ok()
}

fn decimal_at(d: Decimal, scale: Option<u32>) -> Decimal {
    let mut d = match scale {
        Some(s) => {
            let mut r =
                d.round_dp_with_strategy(s, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            r.rescale(s);
            r
        }
        None => d.normalize(),
    };
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d
}

/// Parse the timestamp formats SQLite files commonly hold (text, or unix seconds).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = super::timestamp_text::parse_plain(s) {
        return Some(t);
    }
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f %#z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    let naive = t.trim_end_matches('Z').trim_end_matches(" UTC");
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, f) {
            return Some(d.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|x| x.and_utc());
    }
    None
}

fn time_micros(t: NaiveTime) -> i128 {
    t.num_seconds_from_midnight() as i128 * 1_000_000 + (t.nanosecond() / 1000) as i128
}

/// A time of day or a MySQL `TIME` duration (`-01:00:00`, `838:59:59.5`, `10:30`) in
/// microseconds.
fn parse_duration_micros(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let mut parts = t.split(':');
    let h: i128 = parts.next()?.parse().ok()?;
    let m: i128 = parts.next()?.parse().ok()?;
    let (sec, frac) = match parts.next() {
        Some(x) => match x.split_once('.') {
            Some((a, b)) => (a, b),
            None => (x, ""),
        },
        None => ("0", ""),
    };
    if parts.next().is_some() || m > 59 || frac.len() > 9 {
        return None;
    }
    let sec: i128 = sec.parse().ok()?;
    if sec > 59 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut us = format!("{frac:0<6}");
    us.truncate(6);
    let us: i128 = us.parse().ok()?;
    let micros = ((h * 60 + m) * 60 + sec) * 1_000_000 + us;
    Some(if neg { -micros } else { micros })
}

/// A UUID in any of the forms of `db::dialect::UUID_FORMS` (and only those, so the
/// databases' hash expressions agree): hyphenated or 32 hex digits, optionally braced,
/// optionally after `urn:uuid:`.
fn parse_uuid(s: &str) -> Option<uuid::Uuid> {
    let l = s.to_ascii_lowercase();
    let t = l.strip_prefix("urn:uuid:").unwrap_or(&l);
    let t = t.strip_prefix('{').unwrap_or(t);
    let t = t.strip_suffix('}').unwrap_or(t);
    let hyphenated = t.len() == 36
        && t.char_indices()
            .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
    if !(hyphenated || t.len() == 32) {
        return None;
    }
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    uuid::Uuid::parse_str(&hex).ok()
}

fn raw(v: &Value) -> Norm {
    Norm::Raw(v.to_string())
}

/// Normalize one decoded value for its column.
pub fn normalize(v: &Value, plan: &ColumnPlan) -> Norm {
    if v.is_null() {
        return Norm::Null;
    }
    match plan.class {
        Class::Int => match v {
            Value::Int(i) => Norm::Int(*i as i128),
            Value::UInt(u) => Norm::Int(*u as i128),
            Value::Bool(b) => Norm::Int(*b as i128),
            Value::Decimal(d) if d.fract().is_zero() => d
                .normalize()
                .to_string()
                .parse()
                .map(Norm::Int)
                .unwrap_or_else(|_| raw(v)),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => Norm::Int(*f as i128),
            Value::Text(s) => s.trim().parse().map(Norm::Int).unwrap_or_else(|_| raw(v)),
            _ => raw(v),
        },
        Class::Decimal => {
            let d = match v {
                Value::Int(i) => Some(Decimal::from(*i)),
                Value::UInt(u) => Some(Decimal::from(*u)),
                Value::Bool(b) => Some(Decimal::from(*b as i64)),
                Value::Decimal(d) => Some(*d),
                // Rust prints the shortest text that reads back as the same double.
                Value::Float(f) => parse_decimal(&f.to_string()),
                Value::Text(s) => parse_decimal(s),
                _ => None,
            };
            match d {
                Some(d) => Norm::Dec(decimal_at(d, plan.scale)),
                None => raw(v),
            }
        }
        Class::Float => match v {
            Value::Float(f) => Norm::Float(F64(*f)),
            Value::Int(i) => Norm::Float(F64(*i as f64)),
            Value::UInt(u) => Norm::Float(F64(*u as f64)),
            Value::Decimal(d) => f64::from_str(&d.to_string())
                .map(|f| Norm::Float(F64(f)))
                .unwrap_or_else(|_| raw(v)),
            Value::Text(s) => f64::from_str(s.trim())
                .map(|f| Norm::Float(F64(f)))
                .unwrap_or_else(|_| raw(v)),
            _ => raw(v),
        },
        Class::Bool => match v {
            Value::Bool(b) => Norm::Bool(*b),
            Value::Int(i) => Norm::Bool(*i != 0),
            Value::UInt(u) => Norm::Bool(*u != 0),
            Value::Decimal(d) => Norm::Bool(!d.is_zero()),
            Value::Float(f) => Norm::Bool(*f != 0.0),
            Value::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "t" | "true" | "y" | "yes" | "on" => Norm::Bool(true),
                "0" | "f" | "false" | "n" | "no" | "off" => Norm::Bool(false),
                _ => raw(v),
            },
            _ => raw(v),
        },
        Class::Text | Class::Any => match v {
            Value::Text(s) => Norm::Text(s.clone()),
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => Norm::Text(s.to_string()),
                Err(_) => Norm::Bytes(b.clone()),
            },
            other => Norm::Text(other.to_string()),
        },
        Class::Bytes => match v {
            Value::Bytes(b) => Norm::Bytes(b.clone()),
            Value::Text(s) => Norm::Bytes(s.as_bytes().to_vec()),
            _ => raw(v),
        },
        Class::Date => match v {
            Value::Date(d) => Norm::Date(*d),
            Value::Timestamp(t) => Norm::Date(t.date()),
            Value::TimestampTz(t) => Norm::Date(t.date_naive()),
            Value::Text(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .or_else(|| parse_timestamp(s).map(|t| t.date_naive()))
                .map(Norm::Date)
                .unwrap_or_else(|| raw(v)),
            _ => raw(v),
        },
        Class::Time => {
            let t = match v {
                Value::Time(t) => Some(time_micros(*t)),
                Value::Text(s) => parse_duration_micros(s),
                _ => None,
            };
            match t {
                Some(t) => Norm::Units(truncate_micros(t, plan.precision, false)),
                None => raw(v),
            }
        }
        Class::Timestamp => {
            let t = match v {
                Value::Timestamp(t) => Some(t.and_utc()),
                Value::TimestampTz(t) => Some(*t),
                Value::Date(d) => d.and_hms_opt(0, 0, 0).map(|x| x.and_utc()),
                Value::Text(s) => parse_timestamp(s),
                Value::Int(i) => DateTime::from_timestamp(*i, 0),
                _ => None,
            };
            match t {
                Some(t) => {
                    let micros =
                        t.timestamp() as i128 * 1_000_000 + t.timestamp_subsec_micros() as i128;
                    Norm::Units(truncate_micros(micros, plan.precision, true))
                }
                None => raw(v),
            }
        }
        Class::Uuid => match v {
            Value::Uuid(u) => Norm::Uuid(*u),
            Value::Text(s) => parse_uuid(s)
                .map(Norm::Uuid)
                .unwrap_or_else(|| Norm::Raw(s.to_lowercase())),
            Value::Bytes(b) => uuid::Uuid::from_slice(b)
                .map(Norm::Uuid)
                .unwrap_or_else(|_| raw(v)),
            _ => raw(v),
        },
        Class::Json => match v {
            Value::Json(j) => Norm::Json(canonical_json(j)),
            Value::Text(s) => canonical_json_text(s)
                .map(Norm::Json)
                .unwrap_or_else(|| raw(v)),
            _ => raw(v),
        },
    }
}

/// JSON text with object keys sorted (recursively) and no insignificant whitespace.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String((*k).clone()).to_string());
                    out.push(':');
                    write(&m[*k], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            serde_json::Value::Number(n) => {
                let t = n.to_string();
                out.push_str(&canonical_number(&t).unwrap_or(t))
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    write(v, &mut s);
    s
}

/// [`canonical_json`] of JSON text, every number kept exactly as written (serde_json
/// without its crate-wide `arbitrary_precision` reads integers beyond 2^64 as doubles,
/// which would make 18446744073709551617 equal 18446744073709551616). None: not JSON.
pub fn canonical_json_text(text: &str) -> Option<String> {
    use serde_json::value::RawValue;
    fn write(raw: &str, out: &mut String) -> Option<()> {
        let t = raw.trim();
        match t.as_bytes().first()? {
            b'{' => {
                // the last of duplicate keys wins, as serde_json::Value has it
                let m: std::collections::BTreeMap<String, Box<RawValue>> =
                    serde_json::from_str(t).ok()?;
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    write(v.get(), out)?;
                }
                out.push('}');
            }
            b'[' => {
                let a: Vec<Box<RawValue>> = serde_json::from_str(t).ok()?;
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v.get(), out)?;
                }
                out.push(']');
            }
            b'-' | b'0'..=b'9' => {
                // validated as a JSON number, then written from its own digits
                serde_json::from_str::<serde_json::Number>(t).ok()?;
                out.push_str(&canonical_number(t)?);
            }
            _ => out.push_str(
                &serde_json::from_str::<serde_json::Value>(t)
                    .ok()?
                    .to_string(),
            ),
        }
        Some(())
    }
    // the whole text must be one JSON value (RawValue pieces are then valid too)
    let top: Box<RawValue> = serde_json::from_str(text).ok()?;
    let mut s = String::new();
    write(top.get(), &mut s)?;
    Some(s)
}

/// A JSON number's exact value as canonical text: `1.0`, `1e0` and `1` are all `1`,
/// `1.50` is `1.5`, `-0` is `0`; integers of any size keep every digit. Plain decimal
/// notation up to 40 digits either side of the point, otherwise `<digits>e<exponent>`.
fn canonical_number(t: &str) -> Option<String> {
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let all = format!("{int}{frac}");
    let digits = all.trim_start_matches('0');
    if digits.is_empty() {
        return Some("0".into());
    }
    let trimmed = digits.trim_end_matches('0');
    // value = trimmed × 10^e10
    let e10 = exp - frac.len() as i64 + (digits.len() - trimmed.len()) as i64;
    let sign = if neg { "-" } else { "" };
    let n = trimmed.len() as i64;
    Some(if (0..=40).contains(&e10) {
        format!("{sign}{trimmed}{}", "0".repeat(e10 as usize))
    } else if e10 < 0 && -e10 <= 40 {
        if -e10 < n {
            let (a, b) = trimmed.split_at((n + e10) as usize);
            format!("{sign}{a}.{b}")
        } else {
            format!("{sign}0.{}{trimmed}", "0".repeat((-e10 - n) as usize))
        }
    } else {
        format!("{sign}{trimmed}e{e10}")
    })
}

/// Append one field to a hash input: `N` for NULL; `V<text>;` for values whose text
/// never holds `;` or `:` (numbers, times, dates, UUIDs, hex); `V<byte length>:<bytes>`
/// for text of any kind. No value can be mistaken for another or for NULL.
pub fn serialize_field(out: &mut Vec<u8>, n: &Norm) {
    match n.canonical_text() {
        None => out.push(b'N'),
        Some(t) if n.is_textual() => {
            out.push(b'V');
            out.extend_from_slice(t.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(t.as_bytes());
        }
        Some(t) => {
            out.push(b'V');
            out.extend_from_slice(t.as_bytes());
            out.push(b';');
        }
    }
}

/// MD5 of the serialized fields.
pub fn md5_of(fields: &[Norm]) -> [u8; 16] {
    let mut buf = Vec::with_capacity(64);
    for f in fields {
        serialize_field(&mut buf, f);
    }
    let d = Md5::digest(&buf);
    let mut out = [0u8; 16];
    out.copy_from_slice(&d);
    out
}

/// The 64-bit row hash: the first 8 bytes of the MD5 of key and compared columns.
pub fn row_hash(fields: &[Norm]) -> u64 {
    let d = md5_of(fields);
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The very same decoded value: same variant and content, a float by its bits, a
/// decimal with its scale. Normalization is a function of the value alone, so two
/// identical values normalize alike under any column plan (JSON is never identical
/// here: two maps may compare equal in another key order yet print differently).
pub fn identical(a: &Value, b: &Value) -> bool {
    use Value as V;
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::UInt(x), V::UInt(y)) => x == y,
        (V::Float(x), V::Float(y)) => x.to_bits() == y.to_bits(),
        (V::Decimal(x), V::Decimal(y)) => x.serialize() == y.serialize(),
        (V::Text(x), V::Text(y)) => x == y,
        (V::Bytes(x), V::Bytes(y)) => x == y,
        (V::Date(x), V::Date(y)) => x == y,
        (V::Time(x), V::Time(y)) => x == y,
        (V::Timestamp(x), V::Timestamp(y)) => x == y,
        (V::TimestampTz(x), V::TimestampTz(y)) => x == y,
        (V::Uuid(x), V::Uuid(y)) => x == y,
        _ => false,
    }
}

/// Are two decoded values of a column equal as compared (normalized, honouring its
/// tolerance)? Identical values are without normalizing them: a pair of equal rows
/// costs no allocation.
pub fn equal_values(plan: &ColumnPlan, a: &Value, b: &Value) -> bool {
    identical(a, b) || equal_with_tolerance(plan, &normalize(a, plan), &normalize(b, plan))
}

/// Is `a` equal to `b` for this column (honouring its tolerance)?
pub fn equal_with_tolerance(plan: &ColumnPlan, a: &Norm, b: &Norm) -> bool {
    if a == b {
        return true;
    }
    let Some(tol) = plan.tolerance else {
        return false;
    };
    let num = |n: &Norm| -> Option<Decimal> {
        match n {
            Norm::Int(i) => Decimal::from_i128_with_scale(*i, 0).into(),
            Norm::Dec(d) => Some(*d),
            Norm::Float(f) => Decimal::from_f64_retain(f.0),
            Norm::Units(u) => Some(Decimal::from_i128_with_scale(*u, plan.precision.min(6))),
            _ => None,
        }
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= tol,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_numbers_compare_exactly_beyond_two_to_the_64() {
        let c = |t: &str| super::canonical_json_text(t).expect(t);
        assert_ne!(c("[18446744073709551617]"), c("[18446744073709551616]"));
        assert_eq!(c("{\"b\": 1.0, \"a\": 1e2}"), "{\"a\":100,\"b\":1}");
        assert_eq!(c("-0.000"), "0");
        assert_eq!(
            c("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(c("1.50e-1"), "0.15");
        assert_eq!(c("1e300"), "1e300");
        assert_eq!(c("0.1000000000000000000001"), "0.1000000000000000000001");
        assert!(super::canonical_json_text("[1,").is_none());
        assert!(super::canonical_json_text("01").is_none());
        // the same canonical form from a decoded value (numbers that fit)
        let v: serde_json::Value =
            serde_json::from_str(r#"{"b": [1, 2.0, 0.25], "a": 1e2}"#).unwrap();
        assert_eq!(
            super::canonical_json(&v),
            c(r#"{"a": 100, "b": [1, 2, 0.25]}"#)
        );
    }

    use super::*;

    fn plan(class: Class, scale: Option<u32>, precision: u32) -> ColumnPlan {
        ColumnPlan {
            name: "c".into(),
            target_name: "c".into(),
            class,
            scale,
            precision,
            tolerance: None,
            source_type: String::new(),
            target_type: String::new(),
            source_native: class,
            target_native: class,
            source_scale: None,
            target_scale: None,
            source_nullable: true,
            target_nullable: true,
            is_key: false,
        }
    }

    #[test]
    fn decimals_compare_exactly_at_the_lower_scale() {
        let p = plan(Class::Decimal, Some(2), 6);
        let a = normalize(&Value::Decimal(Decimal::from_str("1.50").unwrap()), &p);
        let b = normalize(&Value::Float(1.5), &p);
        let c = normalize(&Value::Text("1.5".into()), &p);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.canonical_text().unwrap(), "1.50");
        let r = normalize(&Value::Decimal(Decimal::from_str("1.555").unwrap()), &p);
        assert_eq!(r.canonical_text().unwrap(), "1.56");
        let z = normalize(&Value::Decimal(Decimal::from_str("-0.001").unwrap()), &p);
        assert_eq!(z.canonical_text().unwrap(), "0.00");
        let free = plan(Class::Decimal, None, 6);
        assert_eq!(
            normalize(&Value::Decimal(Decimal::from_str("1.500").unwrap()), &free)
                .canonical_text()
                .unwrap(),
            "1.5"
        );
    }

    #[test]
    fn timestamps_are_utc_units_at_the_lower_precision() {
        let p = plan(Class::Timestamp, None, 3);
        let tz = normalize(&Value::Text("2024-01-01 12:00:00.1235+02:00".into()), &p);
        let naive = normalize(
            &Value::Timestamp(
                NaiveDateTime::parse_from_str("2024-01-01 10:00:00.123999", "%Y-%m-%d %H:%M:%S%.f")
                    .unwrap(),
            ),
            &p,
        );
        // extra digits are cut off, as MariaDB stores them
        assert_eq!(tz, naive);
        assert_eq!(naive.canonical_text().unwrap(), "1704103200123");
        // before 1970 towards the past: 1969-12-31 23:59:59.9995 is .999
        let old = normalize(&Value::Text("1969-12-31 23:59:59.9995".into()), &p);
        assert_eq!(old.canonical_text().unwrap(), "-1");
        // a negative duration towards zero: -00:00:00.5009 is -00:00:00.500
        let t = normalize(
            &Value::Text("-00:00:00.5009".into()),
            &plan(Class::Time, None, 3),
        );
        assert_eq!(t.canonical_text().unwrap(), "-500");
    }

    #[test]
    fn null_empty_and_lookalike_fields_never_collide() {
        let t = |s: &str| Norm::Text(s.into());
        let h1 = row_hash(&[t("a"), t("bc")]);
        let h2 = row_hash(&[t("ab"), t("c")]);
        let h3 = row_hash(&[Norm::Null, t("")]);
        let h4 = row_hash(&[t(""), Norm::Null]);
        let h5 = row_hash(&[t("N"), t("")]);
        let h6 = row_hash(&[t("V1:N"), Norm::Null]);
        let all = [h1, h2, h3, h4, h5, h6];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j], "{i} vs {j}");
            }
        }
        assert_ne!(
            normalize(&Value::Text(String::new()), &plan(Class::Text, None, 6)),
            Norm::Null
        );
    }

    #[test]
    fn numbers_are_terminated_and_text_is_length_prefixed() {
        let mut out = Vec::new();
        serialize_field(&mut out, &Norm::Int(12));
        serialize_field(&mut out, &Norm::Text("a;b".into()));
        serialize_field(&mut out, &Norm::Null);
        assert_eq!(out, b"V12;V3:a;bN");
        // a number followed by text never reads as other numbers and text
        assert_ne!(
            row_hash(&[Norm::Int(1), Norm::Text("2".into())]),
            row_hash(&[Norm::Int(12), Norm::Text(String::new())])
        );
    }

    #[test]
    fn json_compares_by_value() {
        let p = plan(Class::Json, None, 6);
        let a = normalize(&Value::Text(r#"{"b": [1, 2.0], "a": "x"}"#.into()), &p);
        let b = normalize(&Value::Json(serde_json::json!({"a": "x", "b": [1, 2]})), &p);
        assert_eq!(a, b);
    }

    #[test]
    fn only_identical_values_skip_normalization() {
        let d = |t: &str| Value::Decimal(Decimal::from_str(t).unwrap());
        // equal decimals of another scale print differently (compared as text)
        assert!(!identical(&d("1.50"), &d("1.5")));
        assert!(identical(&d("1.50"), &d("1.50")));
        assert!(!identical(&Value::Float(0.0), &Value::Float(-0.0)));
        assert!(!identical(&Value::Float(f64::NAN), &Value::Int(0)));
        assert!(!identical(&Value::Text(String::new()), &Value::Null));
        let text = plan(Class::Text, None, 6);
        assert!(!equal_values(&text, &d("1.50"), &d("1.5")));
        assert!(!equal_values(
            &text,
            &Value::Float(0.0),
            &Value::Float(-0.0)
        ));
        let dec = plan(Class::Decimal, Some(2), 6);
        assert!(equal_values(&dec, &d("1.50"), &Value::Float(1.5)));
        let ts = plan(Class::Timestamp, None, 0);
        let naive =
            NaiveDateTime::parse_from_str("2024-01-01 10:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert!(equal_values(
            &ts,
            &Value::Timestamp(naive),
            &Value::Text("2024-01-01T10:00:00Z".into())
        ));
    }

    #[test]
    fn tolerance_is_absolute() {
        let mut p = plan(Class::Decimal, Some(3), 6);
        p.tolerance = Some(Decimal::from_str("0.001").unwrap());
        let a = normalize(&Value::Text("1.000".into()), &p);
        let b = normalize(&Value::Text("1.001".into()), &p);
        let c = normalize(&Value::Text("1.002".into()), &p);
        assert!(equal_with_tolerance(&p, &a, &b));
        assert!(!equal_with_tolerance(&p, &a, &c));
    }
}
