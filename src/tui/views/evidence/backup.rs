//! Backup manifests: where the copy is, its checksum and size, what it holds.

use crate::steps::backup::{BackupEvidence, BackupManifest};
use crate::steps::restore::{RestoreEvidence, RestoreProof};
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

#[derive(Debug)]
pub struct BackupModel {
    /// Labelled fields in display order (target, file, bytes, sha256, then the
    /// manifest's or the proof's).
    pub fields: Vec<(String, String)>,
    /// (table, rows) per table the manifest counts.
    pub tables: Vec<(String, Option<u64>)>,
    /// Per table, what the manifest or the proof says beyond its rows (its content
    /// hash; equal or differing, with both hashes), by table name.
    pub details: std::collections::BTreeMap<String, String>,
    /// Heading of the table list ("Tables", "Proof").
    pub tables_title: String,
}

impl BackupModel {
    /// From a `backup` step's manifest.
    pub fn from_backup(e: &BackupEvidence) -> BackupModel {
        BackupModel {
            fields: vec![
                ("target".into(), e.target.clone()),
                ("file".into(), e.file.clone()),
                (
                    "bytes".into(),
                    format!("{} ({})", e.bytes, human_bytes(e.bytes)),
                ),
                ("sha256".into(), e.sha256.clone()),
            ],
            tables: row_counts(&e.tables),
            details: Default::default(),
            tables_title: "Tables".into(),
        }
        .with_manifest(e.manifest.as_ref())
    }

    fn with_manifest(mut self, m: Option<&BackupManifest>) -> BackupModel {
        let Some(m) = m else {
            return self;
        };
        let f = &mut self.fields;
        f.push((
            "engine".into(),
            format!("{} ({})", m.engine.name(), m.server_version),
        ));
        f.push(("tool".into(), m.tool.clone()));
        f.push(("consistency".into(), m.consistency.clone()));
        f.push(("source".into(), m.source.clone()));
        f.push((
            "scope".into(),
            match (&m.schema, m.table_backup) {
                (_, true) => "some tables (restorable table by table)".into(),
                (Some(s), false) => format!("schema {s}"),
                (None, false) => "whole database".into(),
            },
        ));
        f.push(("taken".into(), m.created_at.clone()));
        let bytes: u64 = m.files.values().map(|s| s.bytes).sum();
        f.push((
            "files".into(),
            format!(
                "{} ({}), each with its SHA-256: {}",
                m.files.len(),
                human_bytes(bytes),
                m.files.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
        f.push((
            "format".into(),
            format!("{} v{}, sealed by COMPLETE", m.format, m.version),
        ));
        if !m.sequences.is_empty() {
            f.push((
                "sequences".into(),
                m.sequences
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        if let Some(a) = &m.ledger_anchor {
            f.push((
                "ledger".into(),
                format!("run {}, record {} ({})", a.run_id, a.seq, short(&a.hash)),
            ));
        }
        self.tables = m
            .tables
            .iter()
            .map(|(t, h)| (t.clone(), Some(h.rows)))
            .collect();
        self.details = m
            .tables
            .iter()
            .map(|(t, h)| (t.clone(), format!("hash {}", h.hash)))
            .collect();
        self
    }

    fn with_proof(mut self, p: Option<&RestoreProof>) -> BackupModel {
        let Some(p) = p else {
            return self;
        };
        let equal = p.tables.iter().filter(|t| t.equal).count();
        self.fields.push(("tool".into(), p.tool.clone()));
        self.fields
            .push(("manifest".into(), format!("sha256 {}", p.manifest_sha256)));
        self.fields.push((
            "proof".into(),
            format!(
                "{equal} of {} table(s) equal to the backup (rows and content hash){}",
                p.tables.len(),
                if p.all_equal() { "" } else { ": NOT PROVEN" }
            ),
        ));
        if !p.extra_objects.is_empty() {
            self.fields.push((
                "extra objects".into(),
                format!("{} (dropped before the load)", p.extra_objects.join(", ")),
            ));
        }
        if !p.extra_tables.is_empty() {
            self.fields.push((
                "extra tables".into(),
                format!(
                    "{} ({})",
                    p.extra_tables.join(", "),
                    if p.extra_dropped { "dropped" } else { "kept" }
                ),
            ));
        }
        self.tables_title = "Proof".into();
        self.tables = p
            .tables
            .iter()
            .map(|t| (t.table.clone(), Some(t.rows_found)))
            .collect();
        self.details = p
            .tables
            .iter()
            .map(|t| {
                let d = if t.equal {
                    format!("equal  hash {}", t.hash_expected)
                } else {
                    format!(
                        "DIFFERS  expected {} rows, hash {}; found hash {}",
                        t.rows_expected,
                        t.hash_expected,
                        t.hash_found.as_deref().unwrap_or("(table missing)")
                    )
                };
                (t.table.clone(), d)
            })
            .collect();
        self
    }

    /// From what a `restore` step put back.
    pub fn from_restore(e: &RestoreEvidence) -> BackupModel {
        BackupModel {
            fields: vec![
                ("target".into(), e.target.clone()),
                ("from".into(), e.from.clone()),
                ("file".into(), e.file.clone()),
                ("sha256".into(), e.sha256.clone()),
            ],
            tables: row_counts(&e.tables),
            details: Default::default(),
            tables_title: "Tables".into(),
        }
        .with_proof(e.proof.as_ref())
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let mut out = vec![Line::from(Span::styled("Backup manifest", theme.title()))];
        let w = self.fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in &self.fields {
            out.push(Line::from(vec![
                Span::styled(format!("  {k:<w$}  "), theme.dim()),
                Span::raw(v.clone()),
            ]));
        }
        if !self.tables.is_empty() {
            out.push(Line::from(Span::styled(
                format!("{} ({})", self.tables_title, self.tables.len()),
                theme.title(),
            )));
            let tw = self.tables.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
            let rows_of = |r: &Option<u64>| {
                r.map(|r| format!("{} rows", crate::tui::views::thousands(r)))
                    .unwrap_or_default()
            };
            let rw = self
                .tables
                .iter()
                .map(|(_, r)| rows_of(r).len())
                .max()
                .unwrap_or(0);
            for (t, rows) in &self.tables {
                let rows = rows_of(rows);
                match self.details.get(t) {
                    Some(d) => {
                        let style = if d.starts_with("DIFFERS") {
                            theme.bad()
                        } else {
                            theme.dim()
                        };
                        out.push(Line::from(vec![
                            Span::raw(format!("  {t:<tw$}  {rows:<rw$}  ")),
                            Span::styled(d.clone(), style),
                        ]));
                    }
                    None => out.push(Line::from(format!("  {t:<tw$}  {rows}"))),
                }
            }
        }
        out
    }
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn row_counts(tables: &std::collections::BTreeMap<String, i64>) -> Vec<(String, Option<u64>)> {
    tables
        .iter()
        .map(|(t, n)| (t.clone(), u64::try_from(*n).ok()))
        .collect()
}

/// The first 12 characters of a hash.
fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}
