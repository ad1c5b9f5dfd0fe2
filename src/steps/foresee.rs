//! Hazards foreseen in the SQL a step will run: its scripts and migrations read
//! statement by statement (`schema::lint`) before it runs, each hazard at its
//! `file:line`. The checkpoint that lets the step run carries them.

use super::Hazard;
use crate::db::Dialect;
use crate::schema::lint::script_hazards;
use std::path::{Path, PathBuf};

/// The hazards of one script, labelled with `label` (the file as the runbook names it).
pub fn script(text: &str, label: &str, dialect: Option<Dialect>) -> Vec<Hazard> {
    script_hazards(text, dialect)
        .hazards
        .into_iter()
        .map(|h| Hazard {
            code: h.code.to_string(),
            message: match &h.allowed {
                Some(why) => format!("{} (acknowledged in the file: {why})", h.message),
                None => h.message,
            },
            at: Some(format!("{label}:{}", h.line)),
        })
        .collect()
}

/// A file's hazards; a file that cannot be read is itself reported, since what it
/// would run was not checked.
pub fn file(path: &Path, label: &str, dialect: Option<Dialect>) -> Vec<Hazard> {
    match std::fs::read_to_string(path) {
        Ok(text) => script(&text, label, dialect),
        Err(e) => vec![Hazard {
            code: "unreadable-sql".into(),
            message: format!("cannot read {label} ({e}): its statements were not checked"),
            at: Some(label.to_string()),
        }],
    }
}

/// The `.sql` files under `dir` (recursively, as refinery finds migrations), sorted.
pub fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "sql") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
