//! Backup manifests: where the copy is, its checksum and size, what it holds.

use crate::steps::backup::BackupEvidence;
use crate::steps::restore::RestoreEvidence;
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

#[derive(Debug)]
pub struct BackupModel {
    /// Labelled fields in display order (target, file, bytes, sha256).
    pub fields: Vec<(String, String)>,
    /// (table, rows) per table the manifest counts.
    pub tables: Vec<(String, Option<u64>)>,
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
        }
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
        }
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
                format!("Tables ({})", self.tables.len()),
                theme.title(),
            )));
            let tw = self.tables.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
            for (t, rows) in &self.tables {
                let rows = rows
                    .map(|r| format!("{} rows", crate::tui::views::thousands(r)))
                    .unwrap_or_default();
                out.push(Line::from(format!("  {t:<tw$}  {rows}")));
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
