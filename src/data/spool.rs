//! `--emit-sql FILE` without `--apply`: the statements are written to the file as the
//! diff finds them (through a `.partial` file beside it), never held in memory, and
//! the script gets its header with the counts once the diff is done.

use super::apply::statements_for;
use super::diff::{DiffSink, Difference};
use super::plan::Plan;
use crate::db::Dialect;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes each difference's statements to a spool file as they come.
pub struct ScriptSpool {
    dialect: Dialect,
    path: PathBuf,
    partial: PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
    pub statements: u64,
}

impl Drop for ScriptSpool {
    /// A diff that failed leaves no partial script behind.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

fn cannot(path: &Path, e: std::io::Error) -> Error {
    Error::runtime(format!("cannot write {}: {e}", path.display()))
}

impl ScriptSpool {
    pub fn create(dialect: Dialect, path: &Path) -> Result<Self> {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        let partial = path.with_file_name(name);
        let file = std::fs::File::create(&partial).map_err(|e| cannot(&partial, e))?;
        Ok(ScriptSpool {
            dialect,
            path: path.to_path_buf(),
            partial,
            out: Some(std::io::BufWriter::new(file)),
            statements: 0,
        })
    }

    /// Write the script: `header` as comments, then the spooled statements.
    pub fn finish(mut self, header: &str) -> Result<()> {
        if let Some(out) = self.out.take() {
            out.into_inner()
                .map_err(|e| cannot(&self.partial, e.into_error()))?;
        }
        let (path, partial) = (&self.path, &self.partial);
        let write = || -> std::io::Result<()> {
            let mut dst = std::io::BufWriter::new(std::fs::File::create(path)?);
            for l in header.lines() {
                writeln!(dst, "-- {l}")?;
            }
            std::io::copy(&mut std::fs::File::open(partial)?, &mut dst)?;
            dst.flush()
        };
        write().map_err(|e| cannot(path, e))
    }
}

impl DiffSink for ScriptSpool {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        for s in statements_for(self.dialect, plan, &d) {
            out.write_all(s.as_bytes())
                .and_then(|_| out.write_all(b";\n"))
                .map_err(|e| cannot(&self.partial, e))?;
            self.statements += 1;
        }
        Ok(())
    }
}
