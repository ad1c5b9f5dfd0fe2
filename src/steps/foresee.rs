//! Hazards foreseen in the SQL a step will run: its scripts and migrations read
//! statement by statement (`schema::lint`) before it runs, each hazard at its
//! `file:line`. The checkpoint that lets the step run carries them.

use super::Hazard;
use crate::db::Dialect;
use crate::schema::lint::{Known, script_hazards_with};
use std::path::{Path, PathBuf};

/// The hazards of one script, labelled with `label` (the file as the runbook names it).
pub fn script(text: &str, label: &str, dialect: Option<Dialect>) -> Vec<Hazard> {
    script_with(text, label, dialect, &mut Known::default())
}

/// [`script`] judged against (and adding to) what the SQL read before it declares.
pub fn script_with(
    text: &str,
    label: &str,
    dialect: Option<Dialect>,
    known: &mut Known,
) -> Vec<Hazard> {
    script_hazards_with(text, dialect, known)
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
    file_with(path, label, dialect, &mut Known::default())
}

/// [`file`] judged against (and adding to) what the SQL read before it declares.
pub fn file_with(
    path: &Path,
    label: &str,
    dialect: Option<Dialect>,
    known: &mut Known,
) -> Vec<Hazard> {
    match std::fs::read_to_string(path) {
        Ok(text) => script_with(&text, label, dialect, known),
        Err(e) => vec![Hazard {
            code: "unreadable-sql".into(),
            message: format!("cannot read {label} ({e}): its statements were not checked"),
            at: Some(label.to_string()),
        }],
    }
}

/// The `.sql` files under `dir` (recursively, as refinery finds migrations) in the
/// order they run: migrations (`V2__x.sql`, `U10__y.sql`) by version, so `V10` comes
/// after `V2`; then any other file by path.
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
    out.sort_by_cached_key(|p| (migration_version(p).unwrap_or(u64::MAX), p.clone()));
    out
}

/// The version of a refinery migration file name (`V12__name.sql` -> 12).
fn migration_version(p: &Path) -> Option<u64> {
    let name = p.file_name()?.to_str()?;
    let rest = name.strip_prefix(['V', 'U', 'v', 'u'])?;
    let (v, _) = rest.split_once("__")?;
    v.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_in_version_order() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["V10__c.sql", "V2__b.sql", "V1__a.sql", "notes.sql"] {
            std::fs::write(dir.path().join(n), "SELECT 1;").unwrap();
        }
        let names: Vec<String> = sql_files(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["V1__a.sql", "V2__b.sql", "V10__c.sql", "notes.sql"]);
    }
}
