//! MySQL/MariaDB backups with the server's own dump tool (`mariadb-dump`, else
//! `mysqldump`), its output compressed with zstd as it streams; the content hashes are
//! taken in a consistent-snapshot transaction under the same global read lock as the
//! dump's start (see `consistency` below).

use super::backup_hash::HashMethod;
use crate::db::backup::{
    BackupEngine, BackupRequest, BackupResult, ExtraObject, ExtrasRequest, RestoreRequest,
    TableHash, tool_version, version_in, zstd_finish, zstd_reader, zstd_writer,
};
use crate::error::{Error, Result};
use futures::future::BoxFuture;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{Connection, Executor, Row};
use std::collections::BTreeMap;
use std::io::Write;
use std::str::FromStr;
use tokio::io::AsyncReadExt;

pub(crate) struct MySqlBackup;
pub(crate) static BACKUP: MySqlBackup = MySqlBackup;

pub(super) fn err(redacted: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
    move |e| crate::db::sqlx_error(redacted, e)
}

pub(super) async fn connect(url: &str, redacted: &str) -> Result<MySqlConnection> {
    let url = url.replacen("mariadb://", "mysql://", 1);
    let co = MySqlConnectOptions::from_str(&url)
        .map_err(|e| crate::db::connect_error(redacted, e))?
        .charset("utf8mb4")
        .timezone(Some("+00:00".to_string()))
        .pipes_as_concat(false);
    MySqlConnection::connect_with(&co)
        .await
        .map_err(|e| crate::db::connect_error(redacted, e))
}

pub(super) fn q(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// The dump tool installed: `mariadb-dump`, else `mysqldump`.
fn dump_tool() -> Option<(&'static str, String)> {
    ["mariadb-dump", "mysqldump"]
        .into_iter()
        .find_map(|p| tool_version(p).map(|v| (p, v)))
}

fn client_tool() -> Option<&'static str> {
    ["mariadb", "mysql"]
        .into_iter()
        .find(|p| tool_version(p).is_some())
}

/// Host, port, user and database of a URL as tool arguments; the password in MYSQL_PWD.
fn tool(prog: &str, url: &str) -> Result<(tokio::process::Command, String)> {
    let u = url::Url::parse(url).map_err(|e| Error::bad_input(format!("bad URL: {e}")))?;
    let db = u.path().trim_start_matches('/').to_string();
    let mut cmd = tokio::process::Command::new(prog);
    cmd.arg("--protocol=TCP")
        .arg(format!("--host={}", u.host_str().unwrap_or("127.0.0.1")))
        .arg(format!("--port={}", u.port().unwrap_or(3306)))
        .arg(format!("--user={}", percent(u.username())))
        .arg("--default-character-set=utf8mb4");
    if let Some(p) = u.password() {
        cmd.env("MYSQL_PWD", percent(p));
    }
    cmd.kill_on_drop(true);
    Ok((cmd, percent(&db)))
}

fn percent(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The dump tool, its name and version for the manifest, and whether it is MariaDB's
/// (which has `--ignore-table-data`).
fn check_tool(server: &str) -> Result<(&'static str, String, bool)> {
    let Some((prog, v)) = dump_tool() else {
        return Err(Error::runtime(
            "neither mariadb-dump nor mysqldump is installed (not found on PATH); a MySQL/MariaDB backup needs one",
        )
        .with_hint("install the MariaDB or MySQL client tools"));
    };
    let tool_v = version_in(&v, "Distrib ").unwrap_or((0, 0));
    let server_v = version_in(server, "").unwrap_or((0, 0));
    let same_family = v.contains("MariaDB") == server.contains("MariaDB");
    if same_family && tool_v < server_v {
        return Err(Error::runtime(format!(
            "{prog} {}.{} is older than the server ({server})",
            tool_v.0, tool_v.1
        ))
        .with_hint("install client tools of the server's version or newer"));
    }
    Ok((
        prog,
        format!("{prog} {}.{}", tool_v.0, tool_v.1),
        v.contains("MariaDB"),
    ))
}

/// Whether `out`, the start of a `--single-transaction` dump, shows that the dump's
/// transaction is open: the tools write their header, then start the transaction, and
/// only then write the first object (a table, a view's stand-in, routines, events) or,
/// for an empty database, the completion line.
fn dump_started(out: &[u8]) -> bool {
    const AFTER_START: [&[u8]; 5] = [
        b"-- Table structure for table ",
        b"-- Temporary table structure for view ",
        b"-- Dumping routines for database ",
        b"-- Dumping events for database ",
        b"-- Dump completed",
    ];
    AFTER_START
        .iter()
        .any(|m| out.windows(m.len()).any(|w| w == *m))
}

async fn list_tables(c: &mut MySqlConnection, redacted: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(err(redacted))?;
    Ok(rows
        .iter()
        .map(|r| r.get::<String, _>(0))
        .filter(|t| !crate::db::bookkeeping::is_trust_table(t))
        .collect())
}

impl BackupEngine for MySqlBackup {
    fn tool_plan(&self, whole: bool) -> String {
        let found = dump_tool()
            .map(|(p, v)| format!("{p}: {}", v.lines().next().unwrap_or("")))
            .unwrap_or_else(|| {
                "mariadb-dump/mysqldump NOT FOUND on PATH: the backup will be refused".into()
            });
        let what = if whole {
            "whole database (routines, triggers, events)"
        } else {
            "tables"
        };
        format!(
            "{what} with {found} --single-transaction, zstd-compressed; the rows of tables whose columns the dump writes as the server's text (integers, decimals, dates and times, UTF-8 text, binary) read by cutover on two connections in a snapshot taken under the same read lock and written into the dump in its own format (MariaDB's tool told --ignore-table-data for them), each hashed as written; the others' rows dumped by the tool and hashed in that snapshot; FLOAT columns (which the dump writes with 6 significant digits) restored exactly by UPDATEs by key appended to the dump, a table without a key or with UPDATE triggers named in a warning"
        )
    }

    fn backup<'a>(&'a self, req: BackupRequest<'a>) -> BoxFuture<'a, Result<BackupResult>> {
        Box::pin(async move {
            let r = req.redacted;
            let mut c = connect(req.url, r).await?;
            let server: String = sqlx::query_scalar("SELECT VERSION()")
                .fetch_one(&mut c)
                .await
                .map_err(err(r))?;
            let (prog, tool_name, mariadb_tool) = check_tool(&server)?;
            let method = HashMethod::best(&mut c).await;
            // the second connection hashing beside the first (backup_hash.rs)
            let mut c2 = connect(req.url, r).await?;
            // the connections reading the rows cutover writes itself (dump_rows.rs)
            let mut readers = Vec::new();
            for _ in 0..super::dump_rows::READERS {
                readers.push(connect(req.url, r).await?);
            }
            let tables = match req.tables {
                None => list_tables(&mut c, r).await?,
                Some(names) => {
                    let all = list_tables(&mut c, r).await?;
                    for n in names {
                        if !all.contains(n) {
                            return Err(Error::bad_input(format!(
                                "table \"{n}\" does not exist in {r}"
                            )));
                        }
                    }
                    names.to_vec()
                }
            };
            // Writes stop (global read lock, on a connection of its own) while our
            // snapshots (two hashing, the row readers) open and the dump's own snapshot opens; they resume as soon as
            // the dump writes its first object, which it does only after starting its
            // transaction (see `dump_started`).
            let mut lk = connect(req.url, r).await?;
            lk.execute("FLUSH TABLES WITH READ LOCK")
                .await
                .map_err(err(r))?;
            let locked = std::time::Instant::now();
            let result = async {
                for conn in [&mut c, &mut c2].into_iter().chain(readers.iter_mut()) {
                    conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        .await
                        .map_err(err(r))?;
                    conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                        .await
                        .map_err(err(r))?;
                }
                // FLOAT columns the dump will round, and how to correct them (issue 7)
                let floats = super::backup_float::float_tables(&mut c, r, &tables).await?;
                // tables whose hashes are read off the dump's own rows (dump_hash.rs);
                // the others are hashed on the server beside the dump
                let hashable = match method {
                    HashMethod::Crc => super::dump_hash::hashable(&mut c, r, &tables).await?,
                    _ => BTreeMap::new(),
                };
                let on_server: Vec<String> =
                    tables.iter().filter(|t| !hashable.contains_key(*t)).cloned().collect();
                // of those, the tables whose rows cutover writes (and hashes) itself in
                // place of the dump's (dump_rows.rs); the others' hashes are read off
                // the dump's rows (dump_hash.rs). MariaDB's tool leaves a table's rows
                // out with --ignore-table-data, but not when it is given the tables by
                // name: a backup of tables then writes their rows itself only if it
                // writes all of them (the dump run with --no-data)
                let writable = |t: &String| mariadb_tool && super::dump_rows::nameable(t);
                let whole = req.tables.is_none();
                let all_writable =
                    on_server.is_empty() && hashable.keys().all(writable);
                let (own, from_dump): (BTreeMap<_, _>, BTreeMap<_, _>) = hashable
                    .into_iter()
                    .partition(|(t, _)| writable(t) && (whole || all_writable));
                // the rows cutover writes go in as the dump's text passes (dump_rows.rs)
                let mut spliced = if own.is_empty() {
                    None
                } else {
                    let plans = super::dump_rows::plan(&mut readers[0], r, &own).await?;
                    Some(super::dump_rows::start(readers, r.to_string(), plans))
                };
                let from_dump: BTreeMap<String, Vec<super::dump_hash::Field>> = from_dump
                    .into_iter()
                    .map(|(t, cols)| (t, cols.iter().map(|c| c.field).collect()))
                    .collect();
                let float_warnings = super::backup_float::keyless_warnings(&floats);
                for w in &float_warnings {
                    (req.log)(format!("WARNING: {w}"));
                }
                let file = if req.tables.is_none() { "database.sql.zst" } else { "tables.sql.zst" };
                let (mut cmd, db) = tool(prog, req.url)?;
                cmd.args(["--single-transaction", "--hex-blob", "--tz-utc", "--quick"]);
                if req.tables.is_none() {
                    cmd.args(["--routines", "--events", "--triggers"]).arg(&db);
                } else {
                    cmd.arg("--triggers").arg(&db).args(&tables);
                }
                if whole {
                    for t in own.keys() {
                        cmd.arg(format!("--ignore-table-data={db}.{t}"));
                    }
                } else if !own.is_empty() {
                    cmd.arg("--no-data");
                }
                (req.log)(format!("{prog} --single-transaction {db} → {file}"));
                let mut child = cmd
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| Error::runtime(format!("cannot run {prog}: {e}")))?;
                let mut stdout = child.stdout.take().expect("piped");
                let mut stderr = child.stderr.take().expect("piped");
                let path = req.dir.join(file);
                let (started, dump_open) = tokio::sync::oneshot::channel::<()>();
                // the dump's output in chunks of about 1 MiB (several pipe reads each), read
                // off the pipe here and, on a thread of its own, hashed (dump_hash.rs) and
                // compressed; the chunks' buffers come back to be filled again
                let (chunks, mut sink_in) = tokio::sync::mpsc::channel::<Vec<u8>>(2);
                let (spent, reuse) = std::sync::mpsc::channel::<Vec<u8>>();
                let mut hasher = (!from_dump.is_empty())
                    .then(|| super::dump_hash::DumpHasher::new(&from_dump));
                let sink = tokio::task::spawn_blocking(move || {
                    let mut w = zstd_writer(&path)?;
                    while let Some(chunk) = sink_in.blocking_recv() {
                        if let Some(h) = hasher.as_mut() {
                            h.feed(&chunk);
                        }
                        match spliced.as_mut() {
                            Some(s) => s.write(&chunk, &mut w)?,
                            None => w.write_all(&chunk)?,
                        }
                        let _ = spent.send(chunk);
                    }
                    Ok::<_, Error>((w, hasher.map(|h| h.finish()), spliced))
                });
                let reader = async move {
                    const CHUNK: usize = 1 << 20;
                    let mut started = Some(started);
                    let mut tail: Vec<u8> = Vec::new();
                    loop {
                        let mut buf = reuse.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                        buf.clear();
                        let mut end = false;
                        while buf.len() < CHUNK {
                            let from = buf.len();
                            if stdout.read_buf(&mut buf).await? == 0 {
                                end = true;
                                break;
                            }
                            if started.is_some() {
                                // a marker may straddle two reads: look at the last bytes too
                                tail.extend_from_slice(&buf[from..]);
                                if dump_started(&tail) {
                                    let _ = started.take().expect("unsent").send(());
                                }
                                tail.drain(..tail.len().saturating_sub(64));
                            }
                        }
                        // a closed sink has failed: its error is reported below
                        if (!buf.is_empty() && chunks.send(buf).await.is_err()) || end {
                            return Ok::<_, Error>(());
                        }
                    }
                };
                let errors = async move {
                    let mut s = String::new();
                    let _ = stderr.read_to_string(&mut s).await;
                    s
                };
                let reading = tokio::spawn(reader);
                let err_text = tokio::spawn(errors);
                // writes resume once the dump's snapshot is open (or the dump has ended);
                // our snapshots were opened before, under the same lock
                let unlock = async {
                    let _ = dump_open.await;
                    let held = locked.elapsed();
                    lk.execute("UNLOCK TABLES").await.map(|_| held)
                };
                let (hashes, unlocked) = tokio::join!(
                    super::backup_hash::hash_tables(&mut c, &mut c2, r, &on_server, method),
                    unlock
                );
                let held = unlocked.map_err(err(r))?;
                let read = reading
                    .await
                    .map_err(|e| Error::runtime(format!("{prog} output: {e}")))?;
                let (mut w, dumped, spliced) = sink
                    .await
                    .map_err(|e| Error::runtime(format!("{prog} output: {e}")))??;
                read?;
                let status = child.wait().await?;
                let err_text = err_text.await.unwrap_or_default();
                if !status.success() {
                    return Err(Error::runtime(format!(
                        "{prog} failed ({status}): {}",
                        crate::redact::scrub(err_text.trim())
                    )));
                }
                let mut hashes = hashes?;
                let own_hashes = match spliced {
                    Some(s) => s.finish()?,
                    None => BTreeMap::new(),
                };
                let written = own_hashes.len();
                hashes.extend(own_hashes);
                let mut read_off_dump = 0;
                if let Some(got) = dumped {
                    read_off_dump = got.hashed.len();
                    hashes.extend(got.hashed);
                    if !got.unresolved.is_empty() {
                        // still in our snapshot: the same data the dump wrote
                        (req.log)(format!(
                            "the rows of {} not read off the dump as expected: hashing them on the server",
                            got.unresolved.join(", ")
                        ));
                        hashes.extend(
                            super::backup_hash::hash_tables(&mut c, &mut c2, r, &got.unresolved, method)
                                .await?,
                        );
                    }
                }
                // in our snapshot, opened under the read lock as the dump's was
                let fixes = super::backup_float::append_fixes(&mut c, r, &floats, &mut w).await?;
                let digest = zstd_finish(w)?;
                let mut consistency = format!(
                    "FLUSH TABLES WITH READ LOCK held from before the START TRANSACTION WITH CONSISTENT SNAPSHOT of our connections (2 hashing, {} reading rows) until the dump (--single-transaction) had started its own, so the dump, the rows cutover wrote and the hashes saw the same data; writes waited {} ms",
                    super::dump_rows::READERS,
                    held.as_millis()
                );
                if written > 0 {
                    consistency.push_str(&format!(
                        "; the rows of {written} of {} table(s) read by cutover in that snapshot and written into the dump in its own format (the dump told to leave them with --ignore-table-data), each hashed as written (each row's CRC-32 and CRC-32C over the text the restore's proof recomputes on the server)",
                        tables.len()
                    ));
                }
                if read_off_dump > 0 {
                    consistency.push_str(&format!(
                        "; the hashes of {read_off_dump} of {} table(s) taken from the dump's own rows as they were written (each row's CRC-32 and CRC-32C over the text the restore's proof recomputes on the server)",
                        tables.len()
                    ));
                }
                let fixed: Vec<&str> = floats.iter().filter(|t| t.corrected()).map(|t| t.table.as_str()).collect();
                if !fixed.is_empty() {
                    consistency.push_str(&format!(
                        "; FLOAT columns of {} restored exactly by {fixes} UPDATE(s) by key appended to the dump, read in the same snapshot (the dump writes FLOAT with 6 significant digits)",
                        fixed.join(", ")
                    ));
                }
                for w in &float_warnings {
                    consistency.push_str(&format!("; WARNING: {w}"));
                }
                c.execute("COMMIT").await.map_err(err(r))?;
                c2.execute("COMMIT").await.map_err(err(r))?;
                Ok(BackupResult {
                    server_version: server.clone(),
                    tool: format!("{tool_name} --single-transaction"),
                    consistency,
                    files: vec![file.to_string()],
                    tables: hashes,
                    sequences: BTreeMap::new(),
                    digests: BTreeMap::from([(file.to_string(), digest)]),
                })
            }
            .await;
            let _ = lk.execute("UNLOCK TABLES").await;
            result
        })
    }

    fn restore<'a>(&'a self, req: RestoreRequest<'a>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let file = req
                .files
                .iter()
                .find(|f| f.ends_with(".sql.zst"))
                .ok_or_else(|| Error::bad_input("the backup has no dump file"))?;
            if req.tables.is_some() && !req.table_backup {
                return Err(Error::bad_input(
                    "restoring single tables from a whole-database MySQL backup is not supported; back up those tables with --tables",
                ));
            }
            let prog = client_tool().ok_or_else(|| {
                Error::runtime("neither mariadb nor mysql (the client) is installed; a MySQL/MariaDB restore needs one")
            })?;
            let (mut cmd, db) = tool(prog, req.url)?;
            // -N and --unbuffered: the loader reads its markers off the client's output
            cmd.args(["--skip-column-names", "--unbuffered"]).arg(&db);
            (req.log)(format!(
                "{prog} {db} < {file}, each table's rows on {} connections at once (DDL commits implicitly: not one transaction)",
                super::load::LOAD_CONNECTIONS
            ));
            let input = zstd_reader(&req.dir.join(file))?;
            super::load::load_dump(cmd, prog, req.url, req.redacted, file, input).await
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
            let mut c = connect(url, redacted).await?;
            let all = list_tables(&mut c, redacted).await?;
            let present: Vec<String> = tables.iter().filter(|t| all.contains(t)).cloned().collect();
            let mut c2 = connect(url, redacted).await?;
            // each table with the method the manifest's hash names (an older backup's
            // MD5, a MySQL backup's MD5), never this server's default
            let mut groups: BTreeMap<&'static str, (HashMethod, Vec<String>)> = BTreeMap::new();
            for t in present {
                let method = match recorded.get(&t) {
                    Some(h) => HashMethod::of(&h.hash).ok_or_else(|| {
                        Error::bad_input(format!(
                            "the backup's hash of {t} (\"{}\") names no method this version knows",
                            h.hash
                        ))
                    })?,
                    None => HashMethod::best(&mut c).await,
                };
                let key = match method {
                    HashMethod::Crc => "crc",
                    HashMethod::Md5 => "md5",
                    HashMethod::LegacyMd5 => "legacy",
                };
                groups.entry(key).or_insert((method, Vec::new())).1.push(t);
            }
            let mut out = BTreeMap::new();
            for (method, tables) in groups.into_values() {
                out.extend(
                    super::backup_hash::hash_tables(&mut c, &mut c2, redacted, &tables, method)
                        .await?,
                );
            }
            Ok(out)
        })
    }

    fn tables<'a>(
        &'a self,
        url: &'a str,
        redacted: &'a str,
        _schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let mut c = connect(url, redacted).await?;
            list_tables(&mut c, redacted).await
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
            c.execute(sqlx::AssertSqlSafe(format!("DROP TABLE {}", q(table))))
                .await
                .map_err(err(redacted))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::dump_started;

    #[test]
    fn a_dump_has_started_its_transaction_once_it_writes_an_object() {
        let header = b"-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n-- Host: 127.0.0.1    Database: x\n-- Server version\t10.11.19\n\n/*!40101 SET NAMES utf8mb4 */;\n";
        assert!(!dump_started(header));
        let mut out = header.to_vec();
        out.extend_from_slice(b"\n--\n-- Table structure for table `a`\n--\n");
        assert!(dump_started(&out));
        assert!(dump_started(
            b"/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n\n-- Dump completed on 2026-11-29"
        ));
    }
}
