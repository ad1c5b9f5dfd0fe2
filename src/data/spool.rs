//! Statements spooled to a file as the diff finds them, never held in memory: counted,
//! then read back in order, to be executed in batches (`apply.rs`: `--apply`, sync) or
//! written as a script (`--emit-sql`, with a header that needs the counts).
//!
//! The file is private to the run and anonymous (created unlinked, `O_TMPFILE` on
//! Linux), so the operating system removes it on every way out: success, an error, the
//! user answering "no", a panic or a killed process. It lives in the OS temp dir
//! (`TMPDIR`), or beside the script `--emit-sql` writes. Each statement is framed by its
//! length, so literals holding newlines or `;` read back exactly as they were made.

use super::apply::statements_for;
use super::diff::{DiffSink, Difference};
use super::plan::Plan;
use crate::db::Dialect;
use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Statements written to an anonymous file as they come, then read back in order.
pub struct Spool {
    /// Where the file goes: `None` is the OS temp dir.
    dir: Option<PathBuf>,
    file: State,
    statements: u64,
}

enum State {
    /// Not created yet (no statement so far).
    None,
    Writing(BufWriter<File>),
    /// Flushed: only read from now on.
    Sealed(File),
}

fn cannot(what: &str, dir: &Path, e: std::io::Error) -> Error {
    Error::runtime(format!(
        "cannot {what} the statements' spool file (in {}): {e}",
        dir.display()
    ))
    .with_hint("it needs room for the statements, about their size as a script: free some there, or choose a roomier directory (TMPDIR, or the script's with --emit-sql)")
}

impl Spool {
    /// A spool in the OS temp dir, created with its first statement.
    pub fn temp() -> Self {
        Spool {
            dir: None,
            file: State::None,
            statements: 0,
        }
    }

    /// A spool beside `path` (the script it will be written to), created now, so an
    /// unwritable place is known before the diff runs.
    pub fn beside(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file = tempfile::tempfile_in(&dir)
            .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))?;
        Ok(Spool {
            dir: Some(dir),
            file: State::Writing(BufWriter::new(file)),
            statements: 0,
        })
    }

    fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// How many statements were spooled.
    pub fn len(&self) -> u64 {
        self.statements
    }

    pub fn is_empty(&self) -> bool {
        self.statements == 0
    }

    /// Append one statement.
    pub fn push(&mut self, sql: &str) -> Result<()> {
        if let State::None = self.file {
            let file = match &self.dir {
                Some(d) => tempfile::tempfile_in(d),
                None => tempfile::tempfile(),
            }
            .map_err(|e| cannot("create", &self.dir(), e))?;
            self.file = State::Writing(BufWriter::new(file));
        }
        let State::Writing(out) = &mut self.file else {
            return Err(Error::runtime(
                "internal: a statement spooled after the spool was sealed",
            ));
        };
        let len = (sql.len() as u64).to_le_bytes();
        if let Err(e) = out
            .write_all(&len)
            .and_then(|_| out.write_all(sql.as_bytes()))
        {
            return Err(cannot("write", &self.dir(), e));
        }
        self.statements += 1;
        Ok(())
    }

    /// Flush what was written; the spool can be read from then on (and no longer
    /// written). Sealing twice is harmless.
    pub fn seal(&mut self) -> Result<()> {
        if let State::Writing(_) = self.file {
            let State::Writing(out) = std::mem::replace(&mut self.file, State::None) else {
                unreachable!("matched above");
            };
            let file = out
                .into_inner()
                .map_err(|e| cannot("write", &self.dir(), e.into_error()))?;
            self.file = State::Sealed(file);
        }
        Ok(())
    }

    /// The statements in the order spooled, one at a time (the spool must be sealed).
    /// One reader at a time: a new one starts again from the first statement.
    pub fn read(&self) -> Result<Reader<'_>> {
        let file = match &self.file {
            State::None => None,
            State::Sealed(f) => {
                let mut f: &File = f;
                f.seek(SeekFrom::Start(0))
                    .map_err(|e| cannot("read", &self.dir(), e))?;
                Some(BufReader::with_capacity(64 * 1024, f))
            }
            State::Writing(_) => {
                return Err(Error::runtime(
                    "internal: a spool read before it was sealed",
                ));
            }
        };
        Ok(Reader {
            file,
            left: self.statements,
            dir: self.dir(),
        })
    }

    /// Write the statements to `path` as a script: `header` as comments, then each
    /// statement followed by `;` and a newline. Seals the spool.
    pub fn write_script(&mut self, header: &str, path: &Path) -> Result<()> {
        self.seal()?;
        let cannot_write =
            |e: std::io::Error| Error::runtime(format!("cannot write {}: {e}", path.display()));
        let mut dst = BufWriter::new(File::create(path).map_err(cannot_write)?);
        for l in header.lines() {
            writeln!(dst, "-- {l}").map_err(cannot_write)?;
        }
        for sql in self.read()? {
            dst.write_all(sql?.as_bytes())
                .and_then(|_| dst.write_all(b";\n"))
                .map_err(cannot_write)?;
        }
        dst.flush().map_err(cannot_write)
    }
}

/// Reads a sealed spool's statements back, one at a time.
pub struct Reader<'a> {
    file: Option<BufReader<&'a File>>,
    left: u64,
    dir: PathBuf,
}

impl Iterator for Reader<'_> {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        if self.left == 0 {
            return None;
        }
        let file = self.file.as_mut()?;
        self.left -= 1;
        let mut one = || -> std::io::Result<String> {
            let mut len = [0u8; 8];
            file.read_exact(&mut len)?;
            let mut sql = vec![0u8; u64::from_le_bytes(len) as usize];
            file.read_exact(&mut sql)?;
            String::from_utf8(sql).map_err(std::io::Error::other)
        };
        Some(one().map_err(|e| {
            self.left = 0;
            cannot("read", &self.dir, e)
        }))
    }
}

/// The statements of `spools`, one after the other, each opened when reached.
pub fn read_all<'a>(spools: Vec<&'a Spool>) -> impl Iterator<Item = Result<String>> + Send + 'a {
    spools.into_iter().flat_map(
        |s| -> Box<dyn Iterator<Item = Result<String>> + Send + 'a> {
            match s.read() {
                Ok(r) => Box::new(r),
                Err(e) => Box::new(std::iter::once(Err(e))),
            }
        },
    )
}

/// Spools each difference's statements as the diff finds them, counting them as
/// [`super::apply::SqlSink`] does.
pub struct SpoolSink {
    dialect: Dialect,
    pub spool: Spool,
    pub counts: super::apply::StatementCounts,
}

impl SpoolSink {
    pub fn new(dialect: Dialect, spool: Spool) -> Self {
        SpoolSink {
            dialect,
            spool,
            counts: Default::default(),
        }
    }
}

impl DiffSink for SpoolSink {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        let sts = statements_for(self.dialect, plan, &d);
        self.counts.add(&d, sts.len());
        for s in &sts {
            self.spool.push(s)?;
        }
        Ok(())
    }
}
