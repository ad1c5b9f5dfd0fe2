//! Where a backup step writes: always a directory of its own per run and step, so that
//! no run (a new one, a rollback attempt, a resumed one) ever writes over another run's
//! way back. The backup step asks this one function; nothing else builds the path.

/// The backup directory of step `step_id` in run `run_id`, relative to the runbook's
/// directory: `<base>/<run-id>/<step-id>`. `out` (the step's `out =`) chooses `<base>`:
/// a directory, or a file name whose directory is the base and whose name the backup
/// keeps inside its own directory (`out = "../backups/prod.db"` writes
/// `../backups/<run-id>/<step-id>/prod.db`). Without `out` the base is
/// `.cutover/backups`.
pub fn destination(out: Option<&str>, run_id: &str, step_id: &str) -> BackupPath {
    let (base, name) = match out {
        None => (".cutover/backups".to_string(), None),
        Some(o) => {
            let p = std::path::Path::new(o);
            match (p.extension(), p.file_name()) {
                (Some(_), Some(name)) => (
                    p.parent()
                        .map(|d| d.display().to_string())
                        .filter(|d| !d.is_empty())
                        .unwrap_or_else(|| ".".into()),
                    Some(name.to_string_lossy().into_owned()),
                ),
                _ => (o.trim_end_matches('/').to_string(), None),
            }
        }
    };
    BackupPath {
        dir: format!("{base}/{run_id}/{step_id}"),
        name,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPath {
    /// The step's directory for this run, relative to the runbook's directory.
    pub dir: String,
    /// The file name `out` asked for, if it named a file.
    pub name: Option<String>,
}

impl BackupPath {
    /// The single-file backup inside the directory (`name`, or `default_name`).
    pub fn file(&self, default_name: &str) -> String {
        format!(
            "{}/{}",
            self.dir,
            self.name.as_deref().unwrap_or(default_name)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_and_step_has_its_own_directory() {
        let a = destination(Some("../backups/prod.db"), "r1", "backup-prod");
        assert_eq!(a.file("x.db"), "../backups/r1/backup-prod/prod.db");
        let b = destination(Some("../backups/prod.db"), "r2", "backup-prod");
        assert_ne!(a.dir, b.dir);
        assert_eq!(
            destination(Some("backups/"), "r1", "s").file("s.db"),
            "backups/r1/s/s.db"
        );
        assert_eq!(
            destination(None, "r1", "s").file("s.db"),
            ".cutover/backups/r1/s/s.db"
        );
        assert_eq!(
            destination(Some("prod.db"), "r1", "s").file("s.db"),
            "./r1/s/prod.db"
        );
    }
}
