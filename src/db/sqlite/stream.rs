//! Reading SQLite tables on a plain thread, at SQLite's own speed.
//!
//! The sqlx driver hands every row through a worker thread and a channel and decodes it
//! into owned values; a diff that reads millions of rows pays that per row. Here a
//! statement is stepped directly (rusqlite) and its columns are borrowed where they
//! lie, so rows that are byte-for-byte identical on both sides are never copied.
//! Callers run these functions on a blocking thread, never on an async worker.

use super::super::{Db, Value};
use crate::error::{Error, Result};
use rusqlite::fallible_streaming_iterator::FallibleStreamingIterator;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// The file behind a SQLite database, when it is one (not `:memory:`, not another engine).
pub async fn local_file(db: &Db) -> Option<PathBuf> {
    if db.dialect() != super::super::Dialect::Sqlite {
        return None;
    }
    let rows = db.query("PRAGMA database_list", &[]).await.ok()?;
    rows.rows
        .iter()
        .find(|r| r.get(1).and_then(Value::as_str) == Some("main"))
        .and_then(|r| r.get(2).and_then(Value::as_str).map(PathBuf::from))
        .filter(|p| !p.as_os_str().is_empty() && p.exists())
}

/// A column of the current row, borrowed from SQLite (valid until the next step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Raw<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl Raw<'_> {
    /// Exactly the same stored value: same storage class and the same bytes (a real by
    /// its bits, so -0.0 is not 0.0). Two identical values decode to identical `Value`s.
    pub fn identical(&self, other: &Raw<'_>) -> bool {
        match (self, other) {
            (Raw::Null, Raw::Null) => true,
            (Raw::Int(a), Raw::Int(b)) => a == b,
            (Raw::Real(a), Raw::Real(b)) => a.to_bits() == b.to_bits(),
            (Raw::Text(a), Raw::Text(b)) | (Raw::Blob(a), Raw::Blob(b)) => a == b,
            _ => false,
        }
    }

    /// Does this decode ([`Raw::value`]) to exactly `v` (identical: same variant and
    /// content, a real by its bits)? Decides without decoding.
    pub fn is(&self, v: &Value) -> bool {
        match (self, v) {
            (Raw::Null, Value::Null) => true,
            (Raw::Int(a), Value::Int(b)) => a == b,
            (Raw::Real(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            // bytes equal to a String's are UTF-8, so they decode to that text
            (Raw::Text(a), Value::Text(b)) => *a == b.as_bytes(),
            (Raw::Text(a), Value::Bytes(b)) => a == b && std::str::from_utf8(a).is_err(),
            (Raw::Blob(a), Value::Bytes(b)) => a == b,
            _ => false,
        }
    }

    /// [`Raw::value`] into `out`, reusing its text or byte buffer.
    pub fn value_into(&self, out: &mut Value) {
        match (self, &mut *out) {
            (Raw::Text(t), Value::Text(buf)) => {
                if let Ok(s) = std::str::from_utf8(t) {
                    buf.clear();
                    buf.push_str(s);
                    return;
                }
            }
            (Raw::Blob(b), Value::Bytes(buf)) => {
                buf.clear();
                buf.extend_from_slice(b);
                return;
            }
            _ => {}
        }
        *out = self.value();
    }

    /// The value as the sqlx path decodes it (`decode_row`): text that is not UTF-8
    /// is read as bytes.
    pub fn value(&self) -> Value {
        match self {
            Raw::Null => Value::Null,
            Raw::Int(i) => Value::Int(*i),
            Raw::Real(f) => Value::Float(*f),
            Raw::Text(t) => match std::str::from_utf8(t) {
                Ok(s) => Value::Text(s.to_string()),
                Err(_) => Value::Bytes(t.to_vec()),
            },
            Raw::Blob(b) => Value::Bytes(b.to_vec()),
        }
    }
}

/// The rows of one query, stepped one at a time.
pub struct Cursor<'s> {
    rows: rusqlite::Rows<'s>,
    columns: usize,
    file: &'s Path,
}

impl Cursor<'_> {
    /// Step to the next row; false at the end.
    pub fn advance(&mut self) -> Result<bool> {
        self.rows.advance().map_err(|e| self.error(e))?;
        Ok(self.rows.get().is_some())
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Column `i` of the current row (NULL when there is none).
    pub fn raw(&self, i: usize) -> Raw<'_> {
        match self.rows.get().and_then(|r| r.get_ref(i).ok()) {
            Some(ValueRef::Integer(v)) => Raw::Int(v),
            Some(ValueRef::Real(v)) => Raw::Real(v),
            Some(ValueRef::Text(t)) => Raw::Text(t),
            Some(ValueRef::Blob(b)) => Raw::Blob(b),
            Some(ValueRef::Null) | None => Raw::Null,
        }
    }

    /// The current row, decoded.
    pub fn row(&self) -> Vec<Value> {
        (0..self.columns).map(|i| self.raw(i).value()).collect()
    }

    fn error(&self, e: rusqlite::Error) -> Error {
        Error::runtime(format!("SQLite database {}: {e}", self.file.display()))
    }
}

fn open(file: &Path) -> Result<Connection> {
    let c = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::runtime(format!("SQLite database {}: {e}", file.display())))?;
    c.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| Error::runtime(format!("SQLite database {}: {e}", file.display())))?;
    Ok(c)
}

/// Run `sql` on the file and hand its cursor to `f`.
pub fn scan<T>(file: &Path, sql: &str, f: impl FnOnce(&mut Cursor<'_>) -> Result<T>) -> Result<T> {
    let conn = open(file)?;
    let err =
        |e: rusqlite::Error| Error::runtime(format!("SQLite database {}: {e}", file.display()));
    let mut stmt = conn.prepare(sql).map_err(err)?;
    let columns = stmt.column_count();
    let rows = stmt.query([]).map_err(err)?;
    let mut c = Cursor {
        rows,
        columns,
        file,
    };
    f(&mut c)
}

/// Run one query on each of two files and hand both cursors to `f` (one thread steps
/// both, so values of the two sides can be compared where they lie).
pub fn scan_two<T>(
    a: (&Path, &str),
    b: (&Path, &str),
    f: impl FnOnce(&mut Cursor<'_>, &mut Cursor<'_>) -> Result<T>,
) -> Result<T> {
    scan(a.0, a.1, |ca| scan(b.0, b.1, |cb| f(ca, cb)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_storage_class_and_bytes_are_identical() {
        assert!(Raw::Int(1).identical(&Raw::Int(1)));
        assert!(!Raw::Int(1).identical(&Raw::Real(1.0)));
        assert!(!Raw::Real(0.0).identical(&Raw::Real(-0.0)));
        assert!(!Raw::Text(b"1").identical(&Raw::Blob(b"1")));
        assert!(!Raw::Text(b"").identical(&Raw::Null));
        assert!(Raw::Null.identical(&Raw::Null));
        assert_eq!(Raw::Text(b"\xff").value(), Value::Bytes(vec![0xff]));
        assert_eq!(Raw::Text("é".as_bytes()).value(), Value::Text("é".into()));
        // `is` and `value_into` agree with `value`
        let raws = [
            Raw::Null,
            Raw::Int(1),
            Raw::Real(-0.0),
            Raw::Real(0.0),
            Raw::Text(b"1"),
            Raw::Text(b"\xff"),
            Raw::Text(b""),
            Raw::Blob(b"1"),
            Raw::Blob(b"\xff"),
        ];
        let mut scratch = Value::Text("old".into());
        for r in raws {
            r.value_into(&mut scratch);
            assert_eq!(scratch, r.value(), "{r:?}");
            for o in raws {
                let v = o.value();
                let same = match (r.value(), &v) {
                    (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
                    (x, y) => &x == y,
                };
                assert_eq!(r.is(&v), same, "{r:?} vs {o:?}");
            }
        }
    }
}
