//! The rows of a whole-database backup's plain tables, by binary `COPY`, beside
//! `pg_dump`'s archive of everything else.
//!
//! PostgreSQL parses a binary `COPY` about twice as fast as the text one `pg_dump`
//! writes (5M rows of bigint, int, text, numeric and timestamptz: 2.6-3.1 s against
//! 5.0-6.0 s into a new table), and loading the rows is most of a restore. So a backup
//! takes, in the same exported snapshot as the dump, each plain table's rows with
//! `COPY (SELECT … FROM ONLY t) TO STDOUT (FORMAT binary)`, zstd-compressed, one file a
//! table, listed in [`ROWS_LIST`]; `pg_dump` leaves those tables' data out
//! (`--exclude-table-data`) and keeps everything else: definitions, sequences and
//! their values, the rows of any other table, large objects.
//!
//! The restore runs, in one transaction on one connection, the script `pg_restore
//! --clean --if-exists --single-transaction -f -` makes of the archive, statement by
//! statement; the listed tables' rows are loaded by binary `COPY` where the script's
//! data section ends, before its first index, constraint, trigger or policy, as
//! `pg_restore` would load them. A failure anywhere rolls the whole restore back.
//!
//! Only tables whose every column is of a built-in type with binary send and receive
//! functions (or an enum, or an array of such a type) are listed: a binary `COPY`
//! needs them, and an extension's type, a composite or `aclitem` may lack them. The
//! others' rows stay in the archive.

use super::backup::{connect, err, spawn_fed};
use crate::db::backup::{FileDigest, zstd_finish, zstd_reader, zstd_writer};
use crate::error::{Error, Result};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor, Row};
use std::io::{Read, Write};
use std::path::Path;

/// At most this many bytes of `--exclude-table-data` arguments on pg_dump's command
/// line (Linux allows 2 MiB of arguments and environment in all).
pub(super) const MAX_PATTERN_BYTES: usize = 512 * 1024;

/// The list of the tables whose rows are in files of their own.
pub(crate) const ROWS_LIST: &str = "rows.json";

/// One table whose rows a backup holds by binary `COPY`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct RowsFile {
    pub schema: String,
    pub table: String,
    /// The columns in the file, in order (generated ones are left out, as pg_dump does).
    pub columns: Vec<String>,
    /// The file, relative to the backup's directory.
    pub file: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RowsList {
    tables: Vec<RowsFile>,
}

fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

impl RowsFile {
    fn qualified(&self) -> String {
        format!("{}.{}", q(&self.schema), q(&self.table))
    }

    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| q(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The `--exclude-table-data` pattern naming exactly this table (quoted parts
    /// match literally).
    pub fn pattern(&self) -> String {
        self.qualified()
    }

    pub fn name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// The plain tables (ordinary tables and partitions, not an extension's) of the
/// database, or of `schema`, whose columns all have built-in binary forms, with their
/// non-generated columns; in the transaction `c` is in.
pub(super) async fn plain_tables(
    c: &mut PgConnection,
    redacted: &str,
    schema: Option<&str>,
) -> Result<Vec<RowsFile>> {
    let rows = sqlx::query(
        "SELECT n.nspname, c.relname, \
                array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '') AS cols, \
                bool_and(t.typsend::oid <> 0 AND t.typreceive::oid <> 0 \
                         AND (e.oid IS NULL OR (e.typsend::oid <> 0 AND e.typreceive::oid <> 0)) \
                         AND (t.typnamespace = 'pg_catalog'::regnamespace OR t.typtype = 'e' \
                              OR (t.typelem <> 0 AND e.typnamespace = 'pg_catalog'::regnamespace))) AS builtin \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type e ON e.oid = t.typelem \
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' \
           AND ($1::text IS NULL OR n.nspname = $1) \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                           AND d.objid = c.oid AND d.deptype = 'e') \
         GROUP BY n.nspname, c.relname ORDER BY 1, 2",
    )
    .bind(schema)
    .fetch_all(&mut *c)
    .await
    .map_err(err(redacted))?;
    let mut out = Vec::new();
    for r in rows {
        let cols: Option<Vec<String>> = r.get(2);
        let builtin: Option<bool> = r.get(3);
        let cols = cols.unwrap_or_default();
        if builtin != Some(true) || cols.is_empty() {
            continue;
        }
        let file = format!("rows-{}.copy.zst", out.len());
        out.push(RowsFile {
            schema: r.get(0),
            table: r.get(1),
            columns: cols,
            file,
        });
    }
    Ok(out)
}

/// Each table's rows into its file, read in `snapshot` on a connection of its own;
/// then the list. Returns each file written with its digest.
pub(super) async fn back_up_rows(
    url: &str,
    redacted: &str,
    snapshot: &str,
    tables: &[RowsFile],
    dir: &Path,
    log: &(dyn Fn(String) + Send + Sync),
) -> Result<Vec<(String, FileDigest)>> {
    let mut c = connect(url, redacted).await?;
    let mut tx = c.begin().await.map_err(err(redacted))?;
    tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
        .map_err(err(redacted))?;
    // SET TRANSACTION SNAPSHOT takes a literal only
    let lit = snapshot.replace('\'', "''");
    tx.execute(sqlx::AssertSqlSafe(format!(
        "SET TRANSACTION SNAPSHOT '{lit}'"
    )))
    .await
    .map_err(err(redacted))?;
    let mut out = Vec::new();
    if !tables.is_empty() {
        log(format!(
            "rows of {} table(s) by COPY (FORMAT binary) | zstd → rows-N.copy.zst",
            tables.len()
        ));
    }
    for t in tables {
        let sql = format!(
            "COPY (SELECT {} FROM ONLY {}) TO STDOUT (FORMAT binary)",
            t.column_list(),
            t.qualified()
        );
        let mut w = zstd_writer(&dir.join(&t.file))?;
        {
            let mut s = tx.copy_out_raw(&sql).await.map_err(err(redacted))?;
            while let Some(chunk) = s.next().await {
                w.write_all(&chunk.map_err(err(redacted))?)?;
            }
        }
        out.push((t.file.clone(), zstd_finish(w)?));
    }
    tx.commit().await.map_err(err(redacted))?;
    let list = serde_json::to_vec_pretty(&RowsList {
        tables: tables.to_vec(),
    })
    .map_err(|e| Error::runtime(format!("{ROWS_LIST}: {e}")))?;
    let path = dir.join(ROWS_LIST);
    std::fs::write(&path, &list)
        .and_then(|_| std::fs::File::open(&path)?.sync_all())
        .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))?;
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&list));
    out.push((
        ROWS_LIST.into(),
        FileDigest {
            sha256: sha,
            bytes: list.len() as u64,
        },
    ));
    Ok(out)
}

fn read_list(dir: &Path) -> Result<Vec<RowsFile>> {
    let path = dir.join(ROWS_LIST);
    let text = std::fs::read(&path)
        .map_err(|e| Error::bad_input(format!("cannot read {}: {e}", path.display())))?;
    let list: RowsList = serde_json::from_slice(&text)
        .map_err(|e| Error::bad_input(format!("{}: {e}", path.display())))?;
    Ok(list.tables)
}

/// Is the entry type of a script header (`-- Name: …; Type: T; …`) past the data
/// section? Indexes, constraints, triggers, rules, policies, a materialized view's
/// data, publications, subscriptions and the access privileges that close a script.
fn after_data(kind: &str) -> bool {
    matches!(
        kind,
        "INDEX"
            | "INDEX ATTACH"
            | "STATISTICS"
            | "CONSTRAINT"
            | "CHECK CONSTRAINT"
            | "FK CONSTRAINT"
            | "TRIGGER"
            | "EVENT TRIGGER"
            | "RULE"
            | "POLICY"
            | "ROW SECURITY"
            | "MATERIALIZED VIEW DATA"
            | "PUBLICATION"
            | "PUBLICATION TABLE"
            | "PUBLICATION TABLES IN SCHEMA"
            | "SUBSCRIPTION"
            | "SUBSCRIPTION TABLE"
            | "ACL"
            | "DEFAULT ACL"
    )
}

/// The entry type named by a script's header line, if it is one.
fn header_kind(line: &str) -> Option<&str> {
    if !(line.starts_with("-- Name: ") || line.starts_with("-- Data for Name: ")) {
        return None;
    }
    let rest = &line[line.find("; Type: ")? + "; Type: ".len()..];
    Some(rest.split(';').next().unwrap_or(rest).trim())
}

/// Where the text of a PostgreSQL script stands: inside what, after what was read.
#[derive(Debug, Default, Clone, PartialEq)]
enum Lex {
    #[default]
    Code,
    Single,
    Double,
    Dollar(String),
    Block(u32),
}

impl Lex {
    /// Read `line`; the offsets just past each `;` that ends a statement.
    fn ends(&mut self, line: &str) -> Vec<usize> {
        let b = line.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match self {
                Lex::Code => match b[i] {
                    b'-' if b.get(i + 1) == Some(&b'-') => return out,
                    b'/' if b.get(i + 1) == Some(&b'*') => {
                        *self = Lex::Block(1);
                        i += 1;
                    }
                    b'\'' => *self = Lex::Single,
                    b'"' => *self = Lex::Double,
                    b';' => out.push(i + 1),
                    b'$' => {
                        let word = i > 0
                            && (b[i - 1].is_ascii_alphanumeric()
                                || b[i - 1] == b'_'
                                || b[i - 1] == b'$');
                        let tag_len = b[i + 1..]
                            .iter()
                            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                            .count();
                        let starts_ok = b.get(i + 1).is_none_or(|c| !c.is_ascii_digit());
                        if !word && starts_ok && b.get(i + 1 + tag_len) == Some(&b'$') {
                            *self = Lex::Dollar(line[i + 1..i + 1 + tag_len].to_string());
                            i += tag_len + 1;
                        }
                    }
                    _ => {}
                },
                Lex::Single => {
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            *self = Lex::Code;
                        }
                    }
                }
                Lex::Double => {
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            i += 1;
                        } else {
                            *self = Lex::Code;
                        }
                    }
                }
                Lex::Dollar(tag) => {
                    let close = format!("${tag}$");
                    let close = close.as_bytes();
                    match b[i..].windows(close.len()).position(|w| w == close) {
                        Some(at) => {
                            i += at + close.len() - 1;
                            *self = Lex::Code;
                        }
                        None => return out,
                    }
                }
                Lex::Block(depth) => {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        *depth += 1;
                        i += 1;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        *depth -= 1;
                        i += 1;
                        if *depth == 0 {
                            *self = Lex::Code;
                        }
                    }
                }
            }
            i += 1;
        }
        out
    }
}

/// A statement of the script that the restore does not send: the script's own
/// transaction (the restore holds one of its own).
fn own_transaction(stmt: &str) -> bool {
    let s = stmt.trim().trim_end_matches(';').trim();
    s.eq_ignore_ascii_case("BEGIN") || s.eq_ignore_ascii_case("COMMIT")
}

/// Statements are sent a batch at a time (one round trip), a batch at most this big.
const BATCH_BYTES: usize = 1 << 20;

/// The restore of a backup with a rows list: see the module's documentation.
/// `pg_restore` is the command, without a database to connect to (it writes a script).
pub(super) async fn restore(
    url: &str,
    redacted: &str,
    dir: &Path,
    files: &[String],
    archive: &str,
    mut pg_restore: tokio::process::Command,
    log: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    use std::process::Stdio;
    let tables = read_list(dir)?;
    // only files the manifest lists (and so whose SHA-256 was checked) are read
    if let Some(t) = tables.iter().find(|t| !files.contains(&t.file)) {
        return Err(Error::bad_input(format!(
            "{ROWS_LIST} names {} for the rows of {}, a file the manifest does not list",
            t.file,
            t.name()
        )));
    }
    log(format!(
        "zstd -d {archive} | pg_restore --clean --if-exists --single-transaction -f - (definitions and the other rows), {} table(s)' rows by COPY (FORMAT binary), in one transaction",
        tables.len()
    ));
    pg_restore
        .args(["--clean", "--if-exists", "--single-transaction", "-f", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (mut child, feed) = spawn_fed(pg_restore, &dir.join(archive), "pg_restore")?;
    let stderr = child.stderr.take().expect("piped");
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let mut r = tokio::io::BufReader::new(stderr);
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut r, &mut text).await;
        text
    });
    let mut script =
        tokio::io::BufReader::with_capacity(1 << 18, child.stdout.take().expect("piped"));

    let mut c = connect(url, redacted).await?;
    let mut tx = c.begin().await.map_err(err(redacted))?;
    let mut lex = Lex::default();
    // statements read, not sent yet (and their entry); the one being read
    let mut pending = Pending {
        sql: String::new(),
        entry: String::from("the script's start"),
    };
    let mut stmt = String::new();
    let mut loaded = false;
    let mut line_no = 0usize;
    let mut raw = Vec::new();
    // the script ended inside the rows of this COPY
    let mut cut: Option<String> = None;
    'lines: loop {
        if next_line(&mut script, &mut raw).await? == 0 {
            break;
        }
        line_no += 1;
        let line = std::str::from_utf8(&raw).map_err(|_| {
            Error::runtime(format!(
                "{archive}: pg_restore's script line {line_no} is not UTF-8"
            ))
        })?;
        let at_boundary = lex == Lex::Code && stmt.trim().is_empty();
        if at_boundary {
            if let Some(kind) = header_kind(line.trim_end()) {
                pending.flush(&mut tx, redacted, archive).await?;
                if !loaded && after_data(kind) {
                    load_rows(&mut tx, redacted, dir, &tables, log).await?;
                    loaded = true;
                }
                pending.entry = line.trim_start_matches("-- ").trim_end().to_string();
                stmt.clear();
                continue;
            }
            if line.starts_with("--") || line.trim().is_empty() {
                continue;
            }
            if line.starts_with("\\restrict ") || line.starts_with("\\unrestrict ") {
                continue;
            }
            if line.starts_with('\\') {
                return Err(Error::runtime(format!(
                    "{archive}: pg_restore's script line {line_no} is a psql command cutover does not run: {}",
                    line.trim_end()
                )));
            }
        }
        let mut from = 0;
        for end in lex.ends(line) {
            stmt.push_str(&line[from..end]);
            from = end;
            let done = std::mem::take(&mut stmt);
            if own_transaction(&done) {
                continue;
            }
            let t = done.trim_start();
            if t.starts_with("COPY ") && t.trim_end().ends_with("FROM stdin;") {
                pending.flush(&mut tx, redacted, archive).await?;
                if !copy_text(&mut tx, redacted, t, &mut script, &mut line_no, archive).await? {
                    cut = Some(t.trim().trim_end_matches(';').to_string());
                    break 'lines;
                }
                continue;
            }
            pending.sql.push_str(&done);
            pending.sql.push('\n');
            if pending.sql.len() >= BATCH_BYTES {
                pending.flush(&mut tx, redacted, archive).await?;
            }
        }
        stmt.push_str(&line[from..]);
    }
    // the script's end: pg_restore has finished or is finishing, and if it failed, its
    // own message says why the script stopped where it did
    let status = child
        .wait()
        .await
        .map_err(|e| Error::runtime(format!("pg_restore: {e}")))?;
    let stderr = errors.await.unwrap_or_default();
    if !status.success() {
        return Err(Error::runtime(format!(
            "pg_restore failed ({status}): {}; nothing was restored",
            crate::redact::scrub(stderr.trim())
        )));
    }
    if let Some(head) = cut {
        return Err(Error::runtime(format!(
            "{archive}: pg_restore's script ends inside the rows of {head}; nothing was restored"
        )));
    }
    if lex != Lex::Code || !stmt.trim().is_empty() {
        return Err(Error::runtime(format!(
            "{archive}: pg_restore's script ends inside a statement (at line {line_no}); nothing was restored"
        )));
    }
    pending.flush(&mut tx, redacted, archive).await?;
    match feed.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(Error::runtime(format!(
                "{archive}: {e}; nothing was restored"
            )));
        }
        Err(e) => return Err(Error::runtime(format!("feeding pg_restore: {e}"))),
    }
    // the script was whole: a script without indexes, constraints or grants ends with
    // its data
    if !loaded {
        load_rows(&mut tx, redacted, dir, &tables, log).await?;
    }
    tx.commit().await.map_err(err(redacted))?;
    Ok(())
}

/// The statements read and not sent yet, and the script entry they restore (for an
/// error).
struct Pending {
    sql: String,
    entry: String,
}

impl Pending {
    /// Send what is pending as one batch (one round trip), if anything is.
    async fn flush(
        &mut self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        redacted: &str,
        archive: &str,
    ) -> Result<()> {
        let sql = std::mem::take(&mut self.sql);
        if sql.trim().is_empty() {
            return Ok(());
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await
            .map_err(|e| {
                crate::db::sqlx_error(redacted, e)
                    .context(format!("{archive}: restoring {}", self.entry))
            })?;
        Ok(())
    }
}

/// The script's next line into `buf` (its newline kept); 0 at its end.
async fn next_line(
    script: &mut (impl tokio::io::AsyncBufRead + Unpin),
    buf: &mut Vec<u8>,
) -> Result<usize> {
    use tokio::io::AsyncBufReadExt;
    buf.clear();
    script
        .read_until(b'\n', buf)
        .await
        .map_err(|e| Error::runtime(format!("reading pg_restore's script: {e}")))
}

/// The text rows after a script's `COPY … FROM stdin;`, up to its `\.` line. False when
/// the script ends first (the COPY aborted).
async fn copy_text(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    redacted: &str,
    stmt: &str,
    script: &mut (impl tokio::io::AsyncBufRead + Unpin),
    line_no: &mut usize,
    archive: &str,
) -> Result<bool> {
    let head = stmt.trim().trim_end_matches(';');
    let mut copy = tx
        .copy_in_raw(head)
        .await
        .map_err(|e| crate::db::sqlx_error(redacted, e).context(format!("{archive}: {head}")))?;
    let mut buf = Vec::with_capacity(1 << 16);
    let mut line = Vec::new();
    loop {
        let n = next_line(script, &mut line).await?;
        *line_no += 1;
        if n == 0 {
            let _ = copy.abort("the script ended inside COPY data").await;
            return Ok(false);
        }
        if line == b"\\.\n" || line == b"\\." {
            break;
        }
        buf.extend_from_slice(&line);
        if buf.len() >= 1 << 16 {
            copy.send(buf.as_slice()).await.map_err(|e| {
                crate::db::sqlx_error(redacted, e).context(format!("{archive}: {head}"))
            })?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_slice()).await.map_err(|e| {
            crate::db::sqlx_error(redacted, e).context(format!("{archive}: {head}"))
        })?;
    }
    copy.finish()
        .await
        .map_err(|e| crate::db::sqlx_error(redacted, e).context(format!("{archive}: {head}")))?;
    Ok(true)
}

/// Every listed table's rows, by binary `COPY` from its file.
async fn load_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    redacted: &str,
    dir: &Path,
    tables: &[RowsFile],
    log: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    for t in tables {
        log(format!("COPY {} FROM {} (FORMAT binary)", t.name(), t.file));
        let sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            t.qualified(),
            t.column_list()
        );
        let what = |e: sqlx::Error| {
            crate::db::sqlx_error(redacted, e).context(format!(
                "{}: the rows of {}",
                t.file,
                t.name()
            ))
        };
        let mut input = zstd_reader(&dir.join(&t.file))?;
        let mut copy = tx.copy_in_raw(&sql).await.map_err(what)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = input
                .read(&mut buf)
                .map_err(|e| Error::runtime(format!("{}: {e}", t.file)))?;
            if n == 0 {
                break;
            }
            copy.send(&buf[..n]).await.map_err(what)?;
        }
        copy.finish().await.map_err(what)?;
        // crash points (testkit builds only): some tables' rows loaded, not committed
        crate::crash::point(&format!("restore:table-rows:{}", t.name()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(script: &str) -> Vec<String> {
        let mut lex = Lex::default();
        let mut out = Vec::new();
        let mut stmt = String::new();
        for line in script.split_inclusive('\n') {
            let mut from = 0;
            for end in lex.ends(line) {
                stmt.push_str(&line[from..end]);
                from = end;
                out.push(std::mem::take(&mut stmt).trim().to_string());
            }
            stmt.push_str(&line[from..]);
        }
        out
    }

    #[test]
    fn statements_end_only_outside_quotes_comments_and_dollar_bodies() {
        let script = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; -- x;\n SELECT ';'; $body$;\n\
                      COMMENT ON TABLE t IS 'it''s; fine';\n\
                      CREATE TABLE \"a;b\" (x int); /* a; /* nested; */ still; */ SELECT $1;\n\
                      SELECT 1 -- trailing; comment\n;\n\
                      SELECT $$a;$$, a$b$c;\n";
        assert_eq!(
            ends(script),
            vec![
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; -- x;\n SELECT ';'; $body$;",
                "COMMENT ON TABLE t IS 'it''s; fine';",
                "CREATE TABLE \"a;b\" (x int);",
                "/* a; /* nested; */ still; */ SELECT $1;",
                "SELECT 1 -- trailing; comment\n;",
                "SELECT $$a;$$, a$b$c;",
            ]
        );
    }

    #[test]
    fn headers_name_their_entry_type_and_the_data_section_ends_at_the_first_index_or_constraint() {
        assert_eq!(
            header_kind("-- Name: c c_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres"),
            Some("CONSTRAINT")
        );
        assert_eq!(
            header_kind("-- Data for Name: c; Type: TABLE DATA; Schema: public; Owner: postgres"),
            Some("TABLE DATA")
        );
        assert_eq!(header_kind("-- Dumped by pg_dump version 15.20"), None);
        assert!(after_data("FK CONSTRAINT") && after_data("TRIGGER") && after_data("ACL"));
        assert!(!after_data("TABLE") && !after_data("TABLE DATA") && !after_data("SEQUENCE SET"));
        assert!(own_transaction("BEGIN;") && own_transaction("COMMIT;\n"));
        assert!(!own_transaction("COMMENT ON TABLE t IS 'x';"));
    }
}
