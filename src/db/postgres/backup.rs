//! PostgreSQL backups: the whole database with `pg_dump -Fc -Z0` compressed by us with
//! zstd as it streams (`database.dump.zst`), some tables with binary `COPY` compressed
//! with zstd (their definitions from a schema-only `pg_dump -t`), and the content hashes
//! taken in the same exported snapshot as the data.
//!
//! Backups of manifest version 1 hold the whole database as `database.dump`, pg_dump's
//! own gzip-compressed archive: it is restored from the file as it always was.

use super::backup_hash::{HashMethod, hash_table};
use crate::db::backup::{
    BackupEngine, BackupRequest, BackupResult, ExtraObject, ExtrasRequest, FileDigest,
    RestoreRequest, TableHash, ZSTD_LEVEL, run_tool, tool_version, version_in, zstd_finish,
    zstd_reader, zstd_writer,
};
use crate::error::{Error, Result};
use futures::StreamExt;
use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor, Row};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::str::FromStr;

pub(crate) struct PgBackup;
pub(crate) static BACKUP: PgBackup = PgBackup;

/// Session settings under which a row's text (and so the hash of a row or of a column
/// taken as text) does not depend on the client: set in the backup's snapshot and again
/// for the restore's proof.
const HASH_SETUP: &[&str] = &[
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 3",
    "SET LOCAL bytea_output = 'hex'",
];

pub(super) fn err(redacted: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
    move |e| crate::db::sqlx_error(redacted, e)
}

pub(super) async fn connect(url: &str, redacted: &str) -> Result<PgConnection> {
    let co = PgConnectOptions::from_str(url)
        .map_err(|e| crate::db::connect_error(redacted, e))?
        .application_name("cutover-backup");
    PgConnection::connect_with(&co)
        .await
        .map_err(|e| crate::db::connect_error(redacted, e))
}

/// The libpq tools' connection: the URL without its password, which goes in PGPASSWORD.
fn tool(prog: &str, url: &str) -> Result<tokio::process::Command> {
    let mut u = url::Url::parse(url).map_err(|e| Error::bad_input(format!("bad URL: {e}")))?;
    let password = u.password().map(|p| {
        url::form_urlencoded::parse(format!("p={p}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    let _ = u.set_password(None);
    if u.scheme() == "postgres" || u.scheme() == "postgresql" {
        // keep as is
    }
    let mut cmd = tokio::process::Command::new(prog);
    cmd.arg(format!("--dbname={u}"));
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    cmd.env("PGAPPNAME", "cutover");
    cmd.kill_on_drop(true);
    Ok(cmd)
}

/// The whole-database archive: pg_dump's custom format, uncompressed by pg_dump and
/// compressed with zstd by cutover (manifest version 2 on).
pub(crate) const ARCHIVE_ZST: &str = "database.dump.zst";
/// The whole-database archive of manifest version 1: `pg_dump -Fc`'s own file.
pub(crate) const ARCHIVE_V1: &str = "database.dump";

/// The whole-database archive among a backup's files: (name, zstd-compressed by us).
pub(super) fn whole_archive(files: &[String]) -> Result<(&str, bool)> {
    if let Some(f) = files.iter().find(|f| f.as_str() == ARCHIVE_ZST) {
        return Ok((f, true));
    }
    files
        .iter()
        .find(|f| f.as_str() == ARCHIVE_V1)
        .map(|f| (f.as_str(), false))
        .ok_or_else(|| Error::bad_input("the backup has no pg_dump archive"))
}

/// Run `pg_dump` (its archive on standard output) and write that output
/// zstd-compressed into `path` as it comes, on a blocking thread beside the dump. The
/// file is synced before this returns; memory stays bounded by one buffer.
async fn dump_compressed(
    mut cmd: tokio::process::Command,
    path: &std::path::Path,
) -> Result<FileDigest> {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::runtime(format!("cannot run pg_dump: {e}")))?;
    let out = child
        .stdout
        .take()
        .expect("piped")
        .into_owned_fd()
        .map_err(|e| Error::runtime(format!("pg_dump's output: {e}")))?;
    let path = path.to_path_buf();
    let compress = tokio::task::spawn_blocking(move || -> Result<FileDigest> {
        let mut w = zstd_writer(&path)?;
        std::io::copy(&mut std::fs::File::from(out), &mut w)?;
        zstd_finish(w)
    });
    let status = child
        .wait_with_output()
        .await
        .map_err(|e| Error::runtime(format!("cannot run pg_dump: {e}")))?;
    let compressed = compress
        .await
        .map_err(|e| Error::runtime(format!("compressing pg_dump's archive: {e}")))?;
    if !status.status.success() {
        return Err(Error::runtime(format!(
            "pg_dump failed ({}): {}",
            status.status,
            crate::redact::scrub(String::from_utf8_lossy(&status.stderr).trim())
        )));
    }
    compressed
}

/// Run a `pg_restore` command on a whole-database archive: a version 1 archive is
/// given as its path; a zstd one is decompressed into the tool's standard input (a
/// custom-format archive read from a pipe is read in order, which a full restore and
/// `-l` do). Returns the tool's output; a failed run is an error naming `what`.
pub(super) async fn pg_restore_archive(
    mut cmd: tokio::process::Command,
    dir: &std::path::Path,
    files: &[String],
    what: &str,
) -> Result<std::process::Output> {
    use std::process::Stdio;
    let (file, zst) = whole_archive(files)?;
    let path = dir.join(file);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let failed = |out: &std::process::Output| {
        Error::runtime(format!(
            "{what} failed ({}): {}",
            out.status,
            crate::redact::scrub(String::from_utf8_lossy(&out.stderr).trim())
        ))
    };
    if !zst {
        let out = cmd
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| Error::runtime(format!("cannot run {what}: {e}")))?;
        if !out.status.success() {
            return Err(failed(&out));
        }
        return Ok(out);
    }
    let (child, feed) = spawn_fed(cmd, &path, what)?;
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| Error::runtime(format!("cannot run {what}: {e}")))?;
    let fed = feed
        .await
        .map_err(|e| Error::runtime(format!("feeding {what}: {e}")))?;
    if !out.status.success() {
        return Err(failed(&out));
    }
    match fed {
        // the tool stopped reading once it had what it needed (`-l` reads the table of
        // contents only) and succeeded
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(out),
        Err(e) => Err(Error::runtime(format!("{what}: reading {file}: {e}"))),
        Ok(()) => Ok(out),
    }
}

/// Start `cmd` with the zstd file at `path` decompressed into its standard input, on a
/// blocking thread: the child, and the task feeding it (an error when the file could
/// not be read whole, or the child stopped reading).
pub(super) fn spawn_fed(
    mut cmd: tokio::process::Command,
    path: &std::path::Path,
    what: &str,
) -> Result<(
    tokio::process::Child,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let mut input = zstd_reader(path)?;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::runtime(format!("cannot run {what}: {e}")))?;
    let stdin = child
        .stdin
        .take()
        .expect("piped")
        .into_owned_fd()
        .map_err(|e| Error::runtime(format!("{what}'s input: {e}")))?;
    let feed = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::io::copy(&mut input, &mut std::fs::File::from(stdin)).map(|_| ())
    });
    Ok((child, feed))
}

/// `pg_dump`'s major version, refusing a missing tool or one older than the server.
fn check_tool(prog: &str, server_num: i64) -> Result<String> {
    let Some(v) = tool_version(prog) else {
        return Err(Error::runtime(format!(
            "{prog} is not installed (not found on PATH); a PostgreSQL backup needs it"
        ))
        .with_hint("install the PostgreSQL client tools of the server's major version or newer"));
    };
    let (major, minor) = version_in(&v, "(PostgreSQL)").unwrap_or((0, 0));
    let server_major = server_num / 10000;
    if (major as i64) < server_major {
        return Err(Error::runtime(format!(
            "{prog} {major}.{minor} is older than the server (PostgreSQL {server_major}); it cannot dump it"
        ))
        .with_hint(format!("install the PostgreSQL {server_major} client tools or newer")));
    }
    Ok(format!("{prog} {major}.{minor}"))
}

/// The base tables to back up, qualified `schema.table`.
async fn list_tables(
    c: &mut PgConnection,
    redacted: &str,
    schema: Option<&str>,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' \
         AND ($1::text IS NULL OR n.nspname = $1) AND NOT c.relispartition ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&mut *c)
    .await
    .map_err(err(redacted))?;
    Ok(rows
        .iter()
        .map(|r| r.get::<String, _>(0))
        .filter(|t| !crate::db::bookkeeping::is_trust_table(t))
        .collect())
}

/// `a` or `s.a` as `schema.table` (unqualified names are in the current schema).
async fn qualify(c: &mut PgConnection, redacted: &str, name: &str) -> Result<String> {
    let row = sqlx::query(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.oid = to_regclass($1)",
    )
    .bind(quote_qualified(name))
    .fetch_optional(&mut *c)
    .await
    .map_err(err(redacted))?;
    row.map(|r| r.get::<String, _>(0))
        .ok_or_else(|| Error::bad_input(format!("table \"{name}\" does not exist in {redacted}")))
}

fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// `schema.table` quoted part by part (a name without a dot stays unqualified).
pub(super) fn quote_qualified(name: &str) -> String {
    match name.split_once('.') {
        Some((s, t)) => format!("{}.{}", q(s), q(t)),
        None => q(name),
    }
}

/// How many connections the restore's proof hashes tables on at once.
const PROOF_CONNECTIONS: usize = 2;

async fn hash_tables(
    c: &mut PgConnection,
    redacted: &str,
    tables: &[String],
    method: HashMethod,
) -> Result<BTreeMap<String, TableHash>> {
    hash_setup(c, redacted).await?;
    let mut out = BTreeMap::new();
    for t in tables {
        out.insert(t.clone(), hash_table(c, redacted, t, method).await?);
    }
    Ok(out)
}

/// The session settings of [`HASH_SETUP`], for the current transaction, sent as one
/// batch (one round trip).
async fn hash_setup(c: &mut PgConnection, redacted: &str) -> Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(HASH_SETUP.join(";\n")))
        .execute(&mut *c)
        .await
        .map_err(err(redacted))?;
    Ok(())
}

impl BackupEngine for PgBackup {
    fn tool_plan(&self, whole: bool) -> String {
        let found = tool_version("pg_dump")
            .map(|v| format!("found {}", v.lines().next().unwrap_or("")))
            .unwrap_or_else(|| "NOT FOUND on PATH: the backup will be refused".into());
        if whole {
            format!(
                "whole database with pg_dump -Fc -Z0, zstd-compressed by cutover ({found}), the plain tables' rows by binary COPY, hashes in the same exported snapshot"
            )
        } else {
            format!(
                "tables with binary COPY, zstd-compressed; definitions with pg_dump --schema-only ({found})"
            )
        }
    }

    fn backup<'a>(&'a self, req: BackupRequest<'a>) -> BoxFuture<'a, Result<BackupResult>> {
        Box::pin(async move {
            let r = req.redacted;
            let mut c = connect(req.url, r).await?;
            let server_num: i64 =
                sqlx::query_scalar("SELECT current_setting('server_version_num')::int8")
                    .fetch_one(&mut c)
                    .await
                    .map_err(err(r))?;
            let server_version: String =
                sqlx::query_scalar("SELECT current_setting('server_version')")
                    .fetch_one(&mut c)
                    .await
                    .map_err(err(r))?;
            let tool_name = check_tool("pg_dump", server_num)?;
            let mut tx = c.begin().await.map_err(err(r))?;
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await
                .map_err(err(r))?;
            let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
                .fetch_one(&mut *tx)
                .await
                .map_err(err(r))?;
            let mut result = BackupResult {
                server_version: format!("PostgreSQL {server_version}"),
                consistency: format!(
                    "one REPEATABLE READ transaction exported snapshot {snapshot}: pg_dump --snapshot and the hashes read the same instant"
                ),
                ..Default::default()
            };
            match req.tables {
                None => {
                    let tables = list_tables(&mut tx, r, req.schema).await?;
                    // the plain tables' rows by binary COPY, the rest by pg_dump
                    let mut plain = super::rows::plain_tables(&mut tx, r, req.schema).await?;
                    // one --exclude-table-data argument a table: past what a command
                    // line holds, every table's rows stay in the archive
                    let args: usize = plain.iter().map(|t| t.pattern().len() + 24).sum();
                    if args > super::rows::MAX_PATTERN_BYTES {
                        (req.log)(format!(
                            "{} tables: their rows stay in pg_dump's archive (too many to leave out of it by name)",
                            plain.len()
                        ));
                        plain.clear();
                    }
                    result.tool = format!(
                        "{tool_name} -Fc -Z0 | zstd -{ZSTD_LEVEL}, the rows of {} plain table(s) by COPY (FORMAT binary) | zstd -{ZSTD_LEVEL}",
                        plain.len()
                    );
                    let file = ARCHIVE_ZST;
                    let mut cmd = tool("pg_dump", req.url)?;
                    cmd.arg("-Fc")
                        .arg("-Z0")
                        .arg(format!("--snapshot={snapshot}"));
                    if let Some(s) = req.schema {
                        cmd.arg("-n").arg(q(s));
                    }
                    for t in &plain {
                        cmd.arg(format!("--exclude-table-data={}", t.pattern()));
                    }
                    (req.log)(format!(
                        "pg_dump -Fc -Z0 --snapshot={snapshot} | zstd → {file} (without the rows of {} plain table(s))",
                        plain.len()
                    ));
                    // the dump, the rows and the hashing run side by side in the same
                    // snapshot
                    let path = req.dir.join(file);
                    let dump = tokio::spawn(async move { dump_compressed(cmd, &path).await });
                    let (hashes, rows) = tokio::join!(
                        hash_tables(&mut tx, r, &tables, HashMethod::best(server_num)),
                        super::rows::back_up_rows(req.url, r, &snapshot, &plain, req.dir, req.log)
                    );
                    let dumped = dump
                        .await
                        .map_err(|e| Error::runtime(format!("pg_dump task: {e}")))?;
                    result.tables = hashes?;
                    result.digests.insert(file.into(), dumped?);
                    result.files.push(file.into());
                    for (f, digest) in rows? {
                        result.digests.insert(f.clone(), digest);
                        result.files.push(f);
                    }
                }
                Some(names) => {
                    result.tool = format!("COPY (FORMAT binary) + zstd; {tool_name} --schema-only");
                    let mut tables = Vec::new();
                    for n in names {
                        tables.push(qualify(&mut tx, r, n).await?);
                    }
                    for (i, t) in tables.iter().enumerate() {
                        let schema_file = format!("table-{i}.schema.dump");
                        let mut cmd = tool("pg_dump", req.url)?;
                        cmd.arg("-Fc")
                            .arg("--schema-only")
                            .arg(format!("--snapshot={snapshot}"))
                            .arg("-t")
                            .arg(quote_qualified(t))
                            .arg("-f")
                            .arg(req.dir.join(&schema_file));
                        run_tool(cmd, "pg_dump --schema-only").await?;
                        let data_file = format!("table-{i}.copy.zst");
                        (req.log)(format!("COPY {t} TO STDOUT (FORMAT binary) → {data_file}"));
                        let mut w = zstd_writer(&req.dir.join(&data_file))?;
                        {
                            let sql =
                                format!("COPY {} TO STDOUT (FORMAT binary)", quote_qualified(t));
                            let mut s = tx.copy_out_raw(&sql).await.map_err(err(r))?;
                            while let Some(chunk) = s.next().await {
                                let chunk = chunk.map_err(err(r))?;
                                w.write_all(&chunk)?;
                            }
                        }
                        result.digests.insert(data_file.clone(), zstd_finish(w)?);
                        result.files.push(schema_file);
                        result.files.push(data_file);
                        // the sequences the table owns: their values are data too
                        let seqs = sqlx::query(
                            "SELECT s.oid::regclass::text FROM pg_class s JOIN pg_depend d ON d.objid = s.oid \
                             WHERE s.relkind = 'S' AND d.refobjid = to_regclass($1) AND d.deptype IN ('a', 'i')",
                        )
                        .bind(quote_qualified(t))
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err(r))?;
                        for s in seqs {
                            let name: String = s.get(0);
                            let v = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "SELECT last_value::text || ',' || is_called::text FROM {name}"
                            )))
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(err(r))?;
                            result.sequences.insert(name, v.get::<String, _>(0));
                        }
                    }
                    result.tables =
                        hash_tables(&mut tx, r, &tables, HashMethod::best(server_num)).await?;
                }
            }
            tx.commit().await.map_err(err(r))?;
            Ok(result)
        })
    }

    fn restore<'a>(&'a self, req: RestoreRequest<'a>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let r = req.redacted;
            if !req.table_backup {
                let (file, zst) = whole_archive(req.files)?;
                if zst && req.files.iter().any(|f| f == super::rows::ROWS_LIST) {
                    // a script on standard output: no connection of its own
                    let mut cmd = tokio::process::Command::new("pg_restore");
                    cmd.kill_on_drop(true);
                    return super::rows::restore(
                        req.url, r, req.dir, req.files, file, cmd, req.log,
                    )
                    .await;
                }
                let mut cmd = tool("pg_restore", req.url)?;
                cmd.args([
                    "--clean",
                    "--if-exists",
                    "--single-transaction",
                    "--exit-on-error",
                ]);
                (req.log)(if zst {
                    format!("zstd -d {file} | pg_restore --clean --if-exists --single-transaction")
                } else {
                    format!("pg_restore --clean --if-exists --single-transaction {file}")
                });
                pg_restore_archive(cmd, req.dir, req.files, "pg_restore").await?;
                return Ok(());
            }
            // table backup: definitions where missing, then the rows in one transaction
            let mut c = connect(req.url, r).await?;
            let pairs: Vec<(String, String)> = req
                .files
                .iter()
                .filter_map(|f| {
                    let stem = f.strip_suffix(".schema.dump")?;
                    Some((f.clone(), format!("{stem}.copy.zst")))
                })
                .collect();
            // which table each pair holds: read from the schema archive's list
            let mut work = Vec::new();
            for (schema_file, data_file) in &pairs {
                let list = std::process::Command::new("pg_restore")
                    .arg("-l")
                    .arg(req.dir.join(schema_file))
                    .output()
                    .map_err(|e| Error::runtime(format!("cannot run pg_restore: {e}")))?;
                let text = String::from_utf8_lossy(&list.stdout);
                let table = text
                    .lines()
                    .filter(|l| !l.starts_with(';'))
                    .find_map(|l| {
                        let f: Vec<&str> = l.split_whitespace().collect();
                        (f.len() >= 6 && f[3] == "TABLE").then(|| format!("{}.{}", f[4], f[5]))
                    })
                    .ok_or_else(|| {
                        Error::bad_input(format!(
                            "{schema_file}: no table definition in the archive"
                        ))
                    })?;
                if let Some(only) = req.tables
                    && !only
                        .iter()
                        .any(|o| o == &table || table.ends_with(&format!(".{o}")))
                {
                    continue;
                }
                work.push((table, schema_file.clone(), data_file.clone()));
            }
            for (table, schema_file, _) in &work {
                let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
                    .bind(quote_qualified(table))
                    .fetch_one(&mut c)
                    .await
                    .map_err(err(r))?;
                if exists.is_none() {
                    (req.log)(format!(
                        "{table} is missing: creating it from {schema_file}"
                    ));
                    let mut cmd = tool("pg_restore", req.url)?;
                    cmd.args(["--single-transaction", "--exit-on-error"])
                        .arg(req.dir.join(schema_file));
                    run_tool(cmd, "pg_restore --schema-only").await?;
                }
            }
            let mut tx = c.begin().await.map_err(err(r))?;
            for (table, _, data_file) in &work {
                (req.log)(format!("COPY {table} FROM {data_file}"));
                tx.execute(sqlx::AssertSqlSafe(format!(
                    "TRUNCATE ONLY {}",
                    quote_qualified(table)
                )))
                .await
                .map_err(err(r))?;
                let mut input = zstd_reader(&req.dir.join(data_file))?;
                let mut copy = tx
                    .copy_in_raw(&format!(
                        "COPY {} FROM STDIN (FORMAT binary)",
                        quote_qualified(table)
                    ))
                    .await
                    .map_err(err(r))?;
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = input.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    copy.send(&buf[..n]).await.map_err(err(r))?;
                }
                copy.finish().await.map_err(err(r))?;
            }
            for (seq, v) in req.sequences {
                let (last, called) = v.split_once(',').unwrap_or((v, "true"));
                sqlx::query("SELECT setval(to_regclass($1), $2::int8, $3::bool)")
                    .bind(seq)
                    .bind(last)
                    .bind(called)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err(r))?;
            }
            tx.commit().await.map_err(err(r))?;
            Ok(())
        })
    }

    fn content_hashes<'a>(
        &'a self,
        url: &'a str,
        redacted: &'a str,
        tables: &'a [String],
        recorded: &'a BTreeMap<String, TableHash>,
    ) -> BoxFuture<'a, Result<BTreeMap<String, TableHash>>> {
        Box::pin(async move {
            // several tables at once, each on a connection of its own (each query may
            // use parallel workers too): a database of many tables is proven in about
            // the time of its largest ones instead of the sum of round trips
            let queue =
                std::sync::Mutex::new(tables.iter().collect::<std::collections::VecDeque<_>>());
            let worker = || async {
                let mut c = connect(url, redacted).await?;
                // a table the manifest lacks: this server's best method (its version
                // came with the connection)
                let best = HashMethod::best(c.server_version_num().unwrap_or(0).into());
                let mut tx = c.begin().await.map_err(err(redacted))?;
                hash_setup(&mut tx, redacted).await?;
                let mut out = BTreeMap::new();
                loop {
                    let Some(t) = queue.lock().expect("queue").pop_front() else {
                        break;
                    };
                    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
                        .bind(quote_qualified(t))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err(redacted))?;
                    if exists.is_some() {
                        // the manifest's method
                        let method = recorded
                            .get(t.as_str())
                            .and_then(|h| HashMethod::of(&h.hash))
                            .unwrap_or(best);
                        out.insert(t.clone(), hash_table(&mut tx, redacted, t, method).await?);
                    }
                }
                tx.commit().await.map_err(err(redacted))?;
                Ok::<_, Error>(out)
            };
            let n = tables.len().clamp(1, PROOF_CONNECTIONS);
            let mut out = BTreeMap::new();
            for mut part in futures::future::try_join_all((0..n).map(|_| worker())).await? {
                out.append(&mut part);
            }
            Ok(out)
        })
    }

    fn tables<'a>(
        &'a self,
        url: &'a str,
        redacted: &'a str,
        schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let mut c = connect(url, redacted).await?;
            list_tables(&mut c, redacted, schema).await
        })
    }

    fn objects_not_in_backup<'a>(
        &'a self,
        req: ExtrasRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<ExtraObject>>> {
        Box::pin(super::backup_extras::objects_not_in_backup(req))
    }

    fn drop_objects<'a>(
        &'a self,
        url: &'a str,
        redacted: &'a str,
        objects: &'a [ExtraObject],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(super::backup_extras::drop_objects(url, redacted, objects))
    }

    fn drop_table<'a>(
        &'a self,
        url: &'a str,
        redacted: &'a str,
        table: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut c = connect(url, redacted).await?;
            c.execute(sqlx::AssertSqlSafe(format!(
                "DROP TABLE {}",
                quote_qualified(table)
            )))
            .await
            .map_err(err(redacted))?;
            Ok(())
        })
    }
}
