//! Snapshots: a database's normalized schema plus per-table row counts and content
//! fingerprints, as pretty JSON that is byte-identical for an unchanged database (no
//! timestamps, everything sorted) so it can live in git and be diffed.

use super::{Filter, Schema, SchemaDiff};
use crate::db::{Db, Dialect, Value};
use crate::error::{Error, Result};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

pub const FORMAT: &str = "cutover-snapshot";
pub const VERSION: u64 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableData {
    pub rows: u64,
    /// Order-independent fingerprint of the table's content: the sum (mod 2^128) of
    /// the SHA-256 (first 16 bytes) of each row's unambiguous serialization.
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    pub version: u64,
    pub dialect: Dialect,
    /// The `--include` / `--exclude` patterns it was captured with (compare uses them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    pub schema: Schema,
    /// Per table (qualified name): row count and content fingerprint.
    pub tables: BTreeMap<String, TableData>,
}

impl Snapshot {
    /// Capture a live database.
    pub async fn capture(db: &Db, filter: &Filter) -> Result<Snapshot> {
        let mut schema = super::introspect(db).await?;
        filter.apply(&mut schema);
        let mut tables = BTreeMap::new();
        for t in &schema.tables {
            tables.insert(t.qname(), fingerprint(db, t).await?);
        }
        Ok(Snapshot {
            format: FORMAT.into(),
            version: VERSION,
            dialect: db.dialect(),
            include: filter.include.clone(),
            exclude: filter.exclude.clone(),
            schema,
            tables,
        })
    }

    /// The file's bytes: pretty JSON with a trailing newline.
    /// The filter to capture the same set of objects again.
    pub fn filter(&self) -> Filter {
        Filter::new(self.include.clone(), self.exclude.clone())
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("snapshot serializes");
        s.push('\n');
        s
    }

    pub fn write(&self, path: &Path) -> Result<String> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::runtime(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let text = self.to_json();
        std::fs::write(path, &text)
            .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))?;
        Ok(hex::encode(Sha256::digest(text.as_bytes())))
    }

    /// Read a snapshot file; a corrupt file or one from a newer cutover is bad input.
    pub fn read(path: &Path) -> Result<Snapshot> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::bad_input(format!("cannot read snapshot {}: {e}", path.display()))
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, name: &str) -> Result<Snapshot> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::bad_input(format!(
                "{name}:{}:{}: corrupt snapshot, not valid JSON: {e}",
                e.line(),
                e.column()
            ))
        })?;
        if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(Error::bad_input(format!(
                "{name}: not a cutover snapshot (no \"format\": \"{FORMAT}\")"
            ))
            .with_hint("create one with `cutover snapshot capture --target URL --out FILE`"));
        }
        let version = v.get("version").and_then(|f| f.as_u64()).unwrap_or(0);
        if version > VERSION {
            return Err(Error::bad_input(format!(
                "{name}: snapshot format version {version} is newer than this cutover reads (version {VERSION})"
            ))
            .with_hint("upgrade cutover, or capture the snapshot again with this version"));
        }
        if version == 0 {
            return Err(Error::bad_input(format!(
                "{name}: corrupt snapshot: missing or invalid \"version\""
            )));
        }
        serde_json::from_value(v)
            .map_err(|e| Error::bad_input(format!("{name}: corrupt snapshot: {e}")))
    }
}

/// Count and fingerprint one table's rows (one scan, in the database's order).
pub async fn fingerprint(db: &Db, t: &super::Table) -> Result<TableData> {
    let d = db.dialect();
    let q = super::ddl::Ddl::new(d, d).qt(t);
    // Columns are listed, never `*`: a cached prepared `SELECT *` goes stale when the
    // table changes (and the listed columns make the statement text change with it).
    let cols = t
        .columns
        .iter()
        .map(|c| d.quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = match d.sql().row_text(&cols) {
        Some(row) => format!("SELECT {row} FROM {q}"),
        None => format!("SELECT {cols} FROM {q}"),
    };
    let mut sum: u128 = 0;
    let mut rows = 0u64;
    let mut stream = db.stream(sql, vec![]);
    while let Some(row) = stream.next().await {
        let row = row?;
        let mut h = Sha256::new();
        for v in &row {
            match v {
                Value::Null => h.update([0u8]),
                other => {
                    let s = match other {
                        Value::Bytes(b) => hex::encode(b),
                        x => x.to_string(),
                    };
                    h.update([1u8]);
                    h.update((s.len() as u64).to_le_bytes());
                    h.update(s.as_bytes());
                }
            }
        }
        let digest = h.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        sum = sum.wrapping_add(u128::from_le_bytes(first));
        rows += 1;
    }
    Ok(TableData {
        rows,
        fingerprint: format!("{sum:032x}"),
    })
}

/// What differs between a snapshot and a live database.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub schema: SchemaDiff,
    /// Tables whose row count or content changed: (table, what).
    pub data: Vec<DataDrift>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataDrift {
    pub table: String,
    pub snapshot_rows: Option<u64>,
    pub live_rows: Option<u64>,
    pub content_changed: bool,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.schema.is_equal() && self.data.is_empty()
    }

    /// One line per difference, naming the object.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .schema
            .changes
            .iter()
            .map(super::report::change_line)
            .collect();
        for d in &self.data {
            out.push(match (d.snapshot_rows, d.live_rows) {
                (Some(a), Some(b)) if a != b => {
                    format!("table {}: {a} rows in the snapshot, {b} now", d.table)
                }
                _ => format!(
                    "table {}: content changed (same row count, different fingerprint)",
                    d.table
                ),
            });
        }
        out
    }
}

/// Compare a snapshot (as taken) with the same database now.
pub fn drift(snap: &Snapshot, now: &Snapshot) -> Drift {
    let schema = super::diff::diff(&snap.schema, &now.schema);
    let mut data = Vec::new();
    for (name, then) in &snap.tables {
        match now.tables.get(name) {
            Some(cur) if cur == then => {}
            Some(cur) => data.push(DataDrift {
                table: name.clone(),
                snapshot_rows: Some(then.rows),
                live_rows: Some(cur.rows),
                content_changed: cur.fingerprint != then.fingerprint,
            }),
            None => {} // a missing table is reported by the schema diff
        }
    }
    Drift { schema, data }
}
