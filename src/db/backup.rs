//! Backups and restores of a whole database or of some tables, one implementation per
//! engine (`src/db/<engine>/backup.rs`) behind [`BackupEngine`]. The engine writes the
//! data files into a directory and returns each table's row count and content hash,
//! taken at the same snapshot as the data; the manifest, the files' SHA-256 and the
//! completion marker are engine-neutral (`steps::backup`).

use crate::error::{Error, Result};
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// One table's row count and order-independent content hash, as the engine computes it.
/// The same engine recomputes it after a restore; equal means the same rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableHash {
    pub rows: u64,
    pub hash: String,
}

/// What to back up and where.
pub struct BackupRequest<'a> {
    pub url: &'a str,
    pub redacted: &'a str,
    /// An existing, empty directory for the data files.
    pub dir: &'a Path,
    /// Only these tables (the native path); None = the whole database (the dump tool).
    pub tables: Option<&'a [String]>,
    /// Only this schema (PostgreSQL).
    pub schema: Option<&'a str>,
    pub log: &'a (dyn Fn(String) + Send + Sync),
}

/// What an engine's backup wrote.
#[derive(Debug, Clone, Default)]
pub struct BackupResult {
    pub server_version: String,
    /// The tool and version used (`pg_dump 15.20`, `mariadb-dump 10.11.19`, `VACUUM INTO`).
    pub tool: String,
    /// How the hashes and the data were made to be of the same instant.
    pub consistency: String,
    /// Files written, relative to the directory.
    pub files: Vec<String>,
    /// Per table (as the engine names it, e.g. `public.orders`): rows and content hash.
    pub tables: BTreeMap<String, TableHash>,
    /// Sequence values recorded for a table-level backup (name → `last_value,is_called`).
    pub sequences: BTreeMap<String, String>,
    /// Files (among `files`) whose SHA-256 was taken of their bytes as they were
    /// written ([`zstd_writer`]): not read again for the manifest.
    pub digests: BTreeMap<String, FileDigest>,
}

/// A file's SHA-256 (hex) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub sha256: String,
    pub bytes: u64,
}

/// What to restore from where.
pub struct RestoreRequest<'a> {
    pub url: &'a str,
    pub redacted: &'a str,
    pub dir: &'a Path,
    /// The files of the backup (relative to `dir`), as the manifest lists them.
    pub files: &'a [String],
    /// The backup was of some tables only (restored with its native path).
    pub table_backup: bool,
    /// Restore only these tables (of the backup's).
    pub tables: Option<&'a [String]>,
    pub sequences: &'a BTreeMap<String, String>,
    pub log: &'a (dyn Fn(String) + Send + Sync),
}

/// An object in the target that a whole-database backup does not have (created after
/// it) and that its restore would fail on or leave behind: a view, a function, a
/// trigger, a foreign key, a policy... Tables the backup lacks are listed apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraObject {
    /// What it is, in the engine's words (`view`, `function`, `foreign key`, ...).
    pub kind: String,
    /// Its name as the user knows it (`public.v`, `fk on public.orders`, `f(integer)`).
    pub name: String,
    /// The statement that drops it (engine SQL, identifiers quoted by the engine).
    pub(crate) drop: String,
}

impl std::fmt::Display for ExtraObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// Where to look for objects a whole-database backup does not have.
pub struct ExtrasRequest<'a> {
    pub url: &'a str,
    pub redacted: &'a str,
    pub dir: &'a Path,
    /// The backup's files (relative to `dir`), as the manifest lists them.
    pub files: &'a [String],
    /// The backup's schema (PostgreSQL `--schema`), None for all.
    pub schema: Option<&'a str>,
    /// Tables in the target that the backup lacks: what hangs on them alone goes with
    /// them, and is not listed.
    pub extra_tables: &'a [String],
}

/// One engine's backup and restore.
pub trait BackupEngine: Send + Sync {
    /// One line for the plan: which tool a backup uses, and whether it is installed.
    /// Does not touch the database.
    fn tool_plan(&self, whole: bool) -> String;

    /// Write the backup's data files into `req.dir`.
    fn backup<'a>(&'a self, req: BackupRequest<'a>) -> BoxFuture<'a, Result<BackupResult>>;

    /// Put the data back (the caller has verified the files).
    fn restore<'a>(&'a self, req: RestoreRequest<'a>) -> BoxFuture<'a, Result<()>>;

    /// Row counts and content hashes of `tables` now (the restore's proof), each taken
    /// with the method its `recorded` hash (the manifest's) was taken with, where an
    /// engine has several.
    fn content_hashes<'a>(
        &'a self,
        url: &'a str,
        redacted: &'a str,
        tables: &'a [String],
        recorded: &'a BTreeMap<String, TableHash>,
    ) -> BoxFuture<'a, Result<BTreeMap<String, TableHash>>>;

    /// The tables in the database (as the manifest names them), within `schema` if given.
    fn tables<'a>(
        &'a self,
        url: &'a str,
        redacted: &'a str,
        schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<String>>>;

    /// Objects other than tables that the target has, the whole-database backup in
    /// `req.dir` does not, and its restore would fail on or leave behind. Read-only.
    /// None on engines whose whole restore replaces everything (SQLite's file).
    fn objects_not_in_backup<'a>(
        &'a self,
        _req: ExtrasRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<ExtraObject>>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Drop objects found by [`BackupEngine::objects_not_in_backup`], before the load.
    fn drop_objects<'a>(
        &'a self,
        _url: &'a str,
        _redacted: &'a str,
        objects: &'a [ExtraObject],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if objects.is_empty() {
                Ok(())
            } else {
                Err(Error::runtime(
                    "this engine cannot drop objects before a restore",
                ))
            }
        })
    }

    /// Drop a table that is in the target but not in the backup.
    fn drop_table<'a>(
        &'a self,
        url: &'a str,
        redacted: &'a str,
        table: &'a str,
    ) -> BoxFuture<'a, Result<()>>;
}

/// Run a tool to completion, failing with its (scrubbed) standard error.
pub(crate) async fn run_tool(mut cmd: tokio::process::Command, what: &str) -> Result<()> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| Error::runtime(format!("cannot run {what}: {e}")))?;
    if !out.status.success() {
        return Err(Error::runtime(format!(
            "{what} failed ({}): {}",
            out.status,
            crate::redact::scrub(String::from_utf8_lossy(&out.stderr).trim())
        )));
    }
    Ok(())
}

/// The first `major.minor` version number in a tool's `--version` output.
pub(crate) fn version_in(text: &str, after: &str) -> Option<(u32, u32)> {
    let start = text.find(after).map(|i| i + after.len()).unwrap_or(0);
    let rest = &text[start..];
    let pos = rest.find(|c: char| c.is_ascii_digit())?;
    let mut parts = rest[pos..]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// `prog --version`, or None when it is not installed.
pub(crate) fn tool_version(prog: &str) -> Option<String> {
    let out = std::process::Command::new(prog)
        .arg("--version")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The zstd level of every file cutover compresses: pg_dump's default gzip (level 6,
/// in its own single process) was most of a whole-database dump's time; zstd's level 1
/// is several times faster and compresses this data better than gzip -6.
pub(crate) const ZSTD_LEVEL: i32 = 1;

/// How far level 1's match search skips ahead past bytes where it found no match
/// (`TargetLength` of its "fast" strategy), with the literals still Huffman-coded:
/// left to itself, zstd stops coding them once this is set (the 438 MB of a 5M-row
/// MariaDB dump: 257 MB with `zstd -1 --zstd=tlen=2`, 146 MB with
/// `--compress-literals` too, 136 MB with plain `-1`). With both, `zstd -T1` took
/// 1.26-1.43 s of CPU on that dump against 1.75-1.83 s for `-1` (three runs each),
/// and the whole backup's client CPU went from about 5.9 to 5.4 s. The file is an
/// ordinary zstd stream either way.
const ZSTD_ACCELERATION: u32 = 2;

/// A file being written whose SHA-256 is taken of its bytes as they go: a backup's
/// file is not read again to seal it in the manifest.
///
/// Every [`WRITEBACK`] bytes, the kernel is asked to start writing what was written
/// to disk. The file is synced before the backup is sealed either way; without this,
/// nothing is written until that sync (Linux holds dirty pages up to 30 s or a tenth
/// of memory), which then waits for the whole file: 0.23-0.58 s for the 136 MB of a
/// 5M-row MariaDB backup on a two-core machine, while nothing else is done (0.15-0.18 s
/// with this).
pub(crate) struct DigestFile {
    file: std::fs::File,
    sha: sha2::Sha256,
    bytes: u64,
    /// Bytes whose writeback was asked for.
    started: u64,
}

/// Bytes written between two requests to start writing them back.
const WRITEBACK: u64 = 8 << 20;

impl std::io::Write for DigestFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        sha2::Digest::update(&mut self.sha, &buf[..n]);
        self.bytes += n as u64;
        if self.bytes - self.started >= WRITEBACK {
            start_writeback(&self.file, self.started, self.bytes - self.started);
            self.started = self.bytes;
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// A zstd-compressed file written as a sequence of independent frames of
/// [`ZSTD_FRAME`] bytes of input each (memory stays bounded by one frame), its SHA-256
/// taken as it is written; end it with [`zstd_finish`]. zstd reads such frames one
/// after the other as one stream (`zstd -d` too).
///
/// Whole frames rather than zstd's streaming encoder: the streaming encoder copies
/// its input into a ring buffer and, once that wraps, matches through its slower
/// "external dictionary" path; a whole frame is compressed in place. Frames of 4 MiB
/// lose almost nothing at level 1, whose window is 512 KiB.
pub(crate) struct ZstdWriter {
    out: DigestFile,
    zc: zstd::bulk::Compressor<'static>,
    input: Vec<u8>,
    frame: Vec<u8>,
    frames: u64,
}

/// The input bytes of one frame of a [`ZstdWriter`].
pub(crate) const ZSTD_FRAME: usize = 4 << 20;

impl ZstdWriter {
    /// Compresses what is buffered as one frame.
    fn frame(&mut self) -> std::io::Result<()> {
        self.frame.clear();
        self.frame
            .reserve(zstd::zstd_safe::compress_bound(self.input.len()));
        self.zc.compress_to_buffer(&self.input, &mut self.frame)?;
        self.out.write_all(&self.frame)?;
        self.input.clear();
        self.frames += 1;
        Ok(())
    }
}

impl std::io::Write for ZstdWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let n = (ZSTD_FRAME - self.input.len()).min(rest.len());
            self.input.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.input.len() == ZSTD_FRAME {
                self.frame()?;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Asks the kernel to start writing `len` bytes of `file` from `offset` to disk,
/// without waiting for them (`sync_file_range`'s `SYNC_FILE_RANGE_WRITE`). Only a
/// head start for the sync that follows, which reports any error: this one's is
/// ignored.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain system call on an open file's descriptor; no memory is passed.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File, _offset: u64, _len: u64) {}

pub(crate) fn zstd_writer(path: &Path) -> Result<ZstdWriter> {
    let file = std::fs::File::create(path)
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", path.display())))?;
    let out = DigestFile {
        file,
        sha: <sha2::Sha256 as sha2::Digest>::new(),
        bytes: 0,
        started: 0,
    };
    let zstd_err = |e: std::io::Error| Error::runtime(format!("zstd {}: {e}", path.display()));
    let mut zc = zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(zstd_err)?;
    for p in [
        zstd::zstd_safe::CParameter::TargetLength(ZSTD_ACCELERATION),
        zstd::zstd_safe::CParameter::LiteralCompressionMode(zstd::zstd_safe::ParamSwitch::Enable),
    ] {
        zc.set_parameter(p).map_err(zstd_err)?;
    }
    Ok(ZstdWriter {
        out,
        zc,
        input: Vec::with_capacity(ZSTD_FRAME),
        frame: Vec::new(),
        frames: 0,
    })
}

/// The end of a [`zstd_writer`] file: its last block written, the file synced; its
/// SHA-256 and size.
pub(crate) fn zstd_finish(mut w: ZstdWriter) -> Result<FileDigest> {
    // the last frame (an empty file's only one: a zstd file has at least one)
    if !w.input.is_empty() || w.frames == 0 {
        w.frame()?;
    }
    let out = w.out;
    out.file.sync_all()?;
    Ok(FileDigest {
        sha256: hex::encode(sha2::Digest::finalize(out.sha)),
        bytes: out.bytes,
    })
}

pub(crate) fn zstd_reader(
    path: &Path,
) -> Result<zstd::stream::read::Decoder<'static, std::io::BufReader<std::fs::File>>> {
    let f = std::fs::File::open(path)
        .map_err(|e| Error::runtime(format!("cannot open {}: {e}", path.display())))?;
    zstd::stream::read::Decoder::new(f)
        .map_err(|e| Error::runtime(format!("zstd {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_zstd_file_of_several_frames_reads_back_whole_and_an_empty_one_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.zst");
        // 2.5 frames, written in pieces that straddle the frames' ends
        let data: Vec<u8> = (0..ZSTD_FRAME * 5 / 2)
            .map(|i| (i % 251) as u8 ^ (i / 4093) as u8)
            .collect();
        let mut w = zstd_writer(&path).unwrap();
        for piece in data.chunks(1_000_003) {
            w.write_all(piece).unwrap();
        }
        let digest = zstd_finish(w).unwrap();
        let file = std::fs::read(&path).unwrap();
        assert_eq!(digest.bytes, file.len() as u64);
        assert_eq!(
            digest.sha256,
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&file))
        );
        let mut back = Vec::new();
        zstd_reader(&path).unwrap().read_to_end(&mut back).unwrap();
        assert!(
            back == data,
            "read back {} of {} bytes",
            back.len(),
            data.len()
        );
        // three frames, each readable on its own by zstd's one-shot decoder
        let first = zstd::zstd_safe::find_frame_compressed_size(&file).unwrap();
        assert!(first < file.len());
        let one = zstd::bulk::decompress(&file[..first], ZSTD_FRAME).unwrap();
        assert_eq!(one, data[..ZSTD_FRAME]);

        let empty = dir.path().join("e.zst");
        zstd_finish(zstd_writer(&empty).unwrap()).unwrap();
        let mut back = Vec::new();
        zstd_reader(&empty).unwrap().read_to_end(&mut back).unwrap();
        assert!(back.is_empty());
        assert!(std::fs::metadata(&empty).unwrap().len() > 0);
    }
}
