//! The rows of a SELECT read through binary `COPY (…) TO STDOUT`, at PostgreSQL's own
//! streaming speed.
//!
//! sqlx hands every row over as a message decoded column by column through its type
//! checks; a diff that reads millions of rows pays that per row. Here the binary COPY
//! stream (the same binary forms the extended protocol sends) is parsed in place and
//! each column decoded into exactly the [`Value`] [`super::decode_row`] gives, sharing
//! its decoding where it is not trivial (dates and timestamps). Only the types decoded
//! from their bytes alone are read this way: a query with any other result type
//! (numeric, JSON, enums, …) is left to sqlx ([`open`] says `None`).

use super::PgDb;
use crate::db::{Value, sqlx_error};
use crate::error::{Error, Result};
use chrono::{NaiveTime, TimeDelta};
use futures::StreamExt;
use futures::stream::BoxStream;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::{Column, Executor, Statement, TypeInfo};

/// How one result column is decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int,
    Oid,
    Float4,
    Float8,
    Text,
    /// char(n): trailing spaces are padding (as in `decode_row`).
    Bpchar,
    Bytea,
    /// DATE, TIMESTAMP, TIMESTAMPTZ by their type name.
    DateTime(&'static str),
    Time,
    Uuid,
}

fn kind(ty: &str) -> Option<Kind> {
    Some(match ty {
        "BOOL" => Kind::Bool,
        "INT2" | "INT4" | "INT8" => Kind::Int,
        "OID" => Kind::Oid,
        "FLOAT4" => Kind::Float4,
        "FLOAT8" => Kind::Float8,
        "TEXT" | "VARCHAR" | "NAME" | "\"CHAR\"" | "CITEXT" => Kind::Text,
        "BPCHAR" | "CHAR" => Kind::Bpchar,
        "BYTEA" => Kind::Bytea,
        "DATE" => Kind::DateTime("DATE"),
        "TIMESTAMP" => Kind::DateTime("TIMESTAMP"),
        "TIMESTAMPTZ" => Kind::DateTime("TIMESTAMPTZ"),
        "TIME" => Kind::Time,
        "UUID" => Kind::Uuid,
        _ => return None,
    })
}

/// The binary COPY signature, then flags and header-extension length.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// A binary COPY of a SELECT, parsed row by row.
pub struct CopyRows {
    chunks: BoxStream<'static, sqlx::Result<bytes::Bytes>>,
    /// Bytes received and not yet parsed from `pos` on.
    buf: Vec<u8>,
    pos: usize,
    kinds: Vec<Kind>,
    names: Vec<String>,
    header: bool,
    done: bool,
    /// The driver's stream has ended (the connection is ready for its next command).
    drained: bool,
    redacted: String,
}

impl Drop for CopyRows {
    /// A COPY left before its end (an error, or a reader that stopped) still streams
    /// the rest of its rows: read them on a task so the connection returns to the pool
    /// ready for its next command (the driver does not do it on drop).
    fn drop(&mut self) {
        if self.drained {
            return;
        }
        let mut chunks = std::mem::replace(&mut self.chunks, futures::stream::empty().boxed());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { while chunks.next().await.is_some() {} });
        }
    }
}

/// Open a binary COPY of `select`; `None` when a result column has a type this reader
/// does not decode (then read the query through sqlx).
pub async fn open(db: &PgDb, select: &str) -> Result<Option<CopyRows>> {
    let err = |e| sqlx_error(&db.redacted, e);
    let stmt = (&db.pool)
        .prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(
            select.to_string(),
        )))
        .await
        .map_err(err)?;
    let mut kinds = Vec::new();
    let mut names = Vec::new();
    for c in stmt.columns() {
        let Some(k) = kind(c.type_info().name()) else {
            return Ok(None);
        };
        kinds.push(k);
        names.push(c.name().to_string());
    }
    let chunks = db
        .pool
        .copy_out_raw(&format!("COPY ({select}) TO STDOUT (FORMAT binary)"))
        .await
        .map_err(err)?;
    Ok(Some(CopyRows {
        chunks,
        buf: Vec::with_capacity(64 * 1024),
        pos: 0,
        kinds,
        names,
        header: false,
        done: false,
        drained: false,
        redacted: db.redacted.clone(),
    }))
}

fn malformed(what: &str) -> Error {
    Error::runtime(format!(
        "malformed binary COPY stream from PostgreSQL: {what}"
    ))
}

impl CopyRows {
    /// The next row, decoded as `decode_row` decodes it; `None` after the last.
    pub async fn next_row(&mut self) -> Result<Option<Vec<Value>>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if !self.header {
                if let Some(n) = self.header_len()? {
                    self.pos += n;
                    self.header = true;
                    continue;
                }
            } else if let Some(n) = self.tuple_len()? {
                let start = self.pos;
                self.pos += n;
                match n {
                    2 => {
                        // the trailer (field count -1); the driver still reads the
                        // end of the command, or the connection goes back to the pool
                        // with it unread
                        self.done = true;
                        while let Some(c) = self.chunks.next().await {
                            c.map_err(|e| sqlx_error(&self.redacted, e))?;
                        }
                        self.drained = true;
                        return Ok(None);
                    }
                    _ => return self.decode(start).map(Some),
                }
            }
            if !self.more().await? {
                if self.header && self.pos == self.buf.len() {
                    // a COPY that ends without its trailer has lost rows
                    return Err(malformed("it ended without its trailer"));
                }
                return Err(malformed("it ended inside a row"));
            }
        }
    }

    /// Read another chunk into the buffer; false at the end of the stream.
    async fn more(&mut self) -> Result<bool> {
        match self.chunks.next().await {
            Some(Ok(chunk)) => {
                if self.pos > 0 {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                }
                self.buf.extend_from_slice(&chunk);
                Ok(true)
            }
            Some(Err(e)) => Err(sqlx_error(&self.redacted, e)),
            None => Ok(false),
        }
    }

    fn rest(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// The header's length when it is all in the buffer.
    fn header_len(&self) -> Result<Option<usize>> {
        let b = self.rest();
        let fixed = SIGNATURE.len() + 8;
        if b.len() < fixed {
            return Ok(None);
        }
        if &b[..SIGNATURE.len()] != SIGNATURE {
            return Err(malformed("no PGCOPY signature"));
        }
        let ext = i32::from_be_bytes(b[fixed - 4..fixed].try_into().expect("4 bytes"));
        let n = fixed + usize::try_from(ext).map_err(|_| malformed("header length"))?;
        Ok((b.len() >= n).then_some(n))
    }

    /// The length of the next tuple (or the 2-byte trailer) when it is all in the buffer.
    fn tuple_len(&self) -> Result<Option<usize>> {
        let b = self.rest();
        if b.len() < 2 {
            return Ok(None);
        }
        let fields = i16::from_be_bytes([b[0], b[1]]);
        if fields == -1 {
            return Ok(Some(2));
        }
        if fields as usize != self.kinds.len() {
            return Err(malformed(&format!(
                "a row of {fields} fields where {} were selected",
                self.kinds.len()
            )));
        }
        let mut at = 2usize;
        for _ in 0..fields {
            let Some(len) = b.get(at..at + 4) else {
                return Ok(None);
            };
            let len = i32::from_be_bytes(len.try_into().expect("4 bytes"));
            at += 4;
            if len > 0 {
                at += len as usize;
            } else if len < -1 {
                return Err(malformed("a negative field length"));
            }
        }
        Ok((b.len() >= at).then_some(at))
    }

    /// Decode the (complete) tuple starting at `start`.
    fn decode(&self, start: usize) -> Result<Vec<Value>> {
        let b = &self.buf[start..];
        let mut at = 2usize;
        let mut out = Vec::with_capacity(self.kinds.len());
        for (i, k) in self.kinds.iter().enumerate() {
            let len = i32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"));
            at += 4;
            if len < 0 {
                out.push(Value::Null);
                continue;
            }
            let field = &b[at..at + len as usize];
            at += len as usize;
            out.push(value(*k, field).map_err(|e| {
                Error::runtime(format!(
                    "cannot decode column \"{}\" of type {}: {e}",
                    self.names[i],
                    type_name(*k)
                ))
            })?);
        }
        Ok(out)
    }
}

fn type_name(k: Kind) -> &'static str {
    match k {
        Kind::Bool => "BOOL",
        Kind::Int => "an integer",
        Kind::Oid => "OID",
        Kind::Float4 => "FLOAT4",
        Kind::Float8 => "FLOAT8",
        Kind::Text => "text",
        Kind::Bpchar => "BPCHAR",
        Kind::Bytea => "BYTEA",
        Kind::DateTime(t) => t,
        Kind::Time => "TIME",
        Kind::Uuid => "UUID",
    }
}

fn int(b: &[u8]) -> std::result::Result<i64, String> {
    // as sqlx reads an integer: 1 to 8 big-endian bytes, sign-extended
    if b.is_empty() || b.len() > 8 {
        return Err(format!("an integer of {} bytes", b.len()));
    }
    let mut v: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    for x in b {
        v = (v << 8) | *x as i64;
    }
    Ok(v)
}

fn fixed<const N: usize>(b: &[u8]) -> std::result::Result<[u8; N], String> {
    b.try_into()
        .map_err(|_| format!("{} bytes where {N} were expected", b.len()))
}

/// One field's value, exactly as `decode_row` decodes the same binary form.
fn value(k: Kind, b: &[u8]) -> std::result::Result<Value, String> {
    fn text(b: &[u8]) -> std::result::Result<&str, String> {
        std::str::from_utf8(b).map_err(|e| e.to_string())
    }
    Ok(match k {
        Kind::Bool => Value::Bool(*b.first().ok_or("an empty boolean")? != 0),
        Kind::Int => Value::Int(int(b)?),
        Kind::Oid => Value::Int(u32::from_be_bytes(fixed(b)?) as i64),
        Kind::Float4 => Value::Float(f32::from_be_bytes(fixed(b)?) as f64),
        Kind::Float8 => Value::Float(f64::from_be_bytes(fixed(b)?)),
        Kind::Text => Value::Text(text(b)?.to_string()),
        Kind::Bpchar => Value::Text(text(b)?.trim_end_matches(' ').to_string()),
        Kind::Bytea => Value::Bytes(b.to_vec()),
        Kind::DateTime(ty) => super::datetime_value(b, ty).map_err(|e| e.to_string())?,
        Kind::Time => Value::Time(NaiveTime::default() + TimeDelta::microseconds(int(b)?)),
        Kind::Uuid => Value::Uuid(uuid::Uuid::from_slice(b).map_err(|e| e.to_string())?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_sqlx_reads_them() {
        assert_eq!(int(&[0xff, 0xfe]), Ok(-2));
        assert_eq!(int(&(-5i64).to_be_bytes()), Ok(-5));
        assert_eq!(int(&i64::MIN.to_be_bytes()), Ok(i64::MIN));
        assert_eq!(int(&70000i32.to_be_bytes()), Ok(70000));
        assert!(int(&[]).is_err());
    }
}
