//! Loading a `mariadb-dump`/`mysqldump` script with each table's rows on several
//! connections at once.
//!
//! The client (`mariadb`/`mysql`) runs the script as it would alone, except the rows:
//! a table's INSERT statements (between the dump's `LOCK TABLES t WRITE;` and
//! `UNLOCK TABLES;`) go to [`LOAD_CONNECTIONS`] connections of our own. A server
//! spends most of a restore parsing and applying those statements on one thread per
//! connection; on two cores, 1M rows of the backup benchmark loaded in about 4.2 s on
//! three connections (4.3–4.9 s on two) against 7.6–8.6 s through the client alone.
//!
//! Order is kept both ways:
//! - before a table's first rows, the client is asked to echo a marker, which it does
//!   only once every statement before it (the table's CREATE) has run;
//! - nothing after the rows (ENABLE KEYS, the table's triggers, the next table, the
//!   FLOAT corrections at the end) reaches the client until every row statement has
//!   finished, so no trigger fires on a restored row.
//!
//! The `LOCK TABLES`/`UNLOCK TABLES` pair around the rows is left out: it would shut
//! the other connections out, and it only ever served speed. Every other byte of the
//! script reaches the client in order, including the session settings of its header,
//! which each row connection also runs before its first statement.

use super::script::{Line, TopLevel, is_comment, rows_end, trimmed};
use crate::error::{Error, Result};
use sqlx::Executor;
use sqlx::mysql::MySqlConnection;
use std::io::BufRead;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, mpsc};

/// Connections loading a table's rows at once, besides the client's own.
pub(super) const LOAD_CONNECTIONS: usize = 3;

/// Client bytes gathered before they are handed over (whole lines).
const CLIENT_CHUNK: usize = 64 << 10;

/// What the dump is cut into, in the script's order.
#[derive(Debug, PartialEq)]
enum Piece {
    /// The header's session settings (`/*!40101 SET NAMES utf8mb4 */;` …), which the
    /// row connections run too. Sent once, when the header ends.
    Session(Vec<String>),
    /// Whole lines for the client.
    Client(Vec<u8>),
    /// One INSERT statement of a table's rows and the line it starts on.
    Rows { line: usize, sql: String },
}

/// Cuts a dump into [`Piece`]s. Line-based, as the dump tools write: one statement
/// ends at a line ending with the delimiter, a row statement at a line ending `);`
/// (the tools escape newlines inside values). Rows are taken only between a
/// top-level `LOCK TABLES … WRITE;` and its `UNLOCK TABLES;` with `;` as delimiter;
/// a row statement that is not UTF-8 goes to the client, in order, like any other.
fn split_dump(mut input: impl BufRead, mut send: impl FnMut(Piece) -> bool) -> Result<()> {
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    let mut top = TopLevel::new();
    let mut header = Some(Vec::new());
    let mut rows: Option<(usize, Vec<u8>)> = None;
    let mut client = Vec::with_capacity(CLIENT_CHUNK);
    let flush = |client: &mut Vec<u8>, send: &mut dyn FnMut(Piece) -> bool| {
        client.is_empty() || send(Piece::Client(std::mem::take(client)))
    };
    let rows_piece = |line: usize, sql: Vec<u8>| match String::from_utf8(sql) {
        Ok(sql) => Piece::Rows { line, sql },
        Err(e) => Piece::Client(e.into_bytes()),
    };
    loop {
        buf.clear();
        if input
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::runtime(format!("reading the dump: {e}")))?
            == 0
        {
            break;
        }
        line_no += 1;
        let text = trimmed(&buf);
        if let Some((_, sql)) = rows.as_mut() {
            sql.extend_from_slice(&buf);
            if rows_end(text) {
                let (line, sql) = rows.take().expect("rows");
                if !flush(&mut client, &mut send) || !send(rows_piece(line, sql)) {
                    return Ok(());
                }
            }
            continue;
        }
        if let Some(settings) = header.as_mut() {
            let comment = is_comment(text);
            let setting = (text.starts_with(b"/*!") || text.starts_with(b"SET "))
                && text.windows(4).any(|w| w == b"SET ");
            if setting {
                // mysqldump's `SET @@SESSION.SQL_LOG_BIN= 0;` too; a GLOBAL setting
                // (GTID_PURGED) is the client's alone
                if !text.windows(8).any(|w| w.eq_ignore_ascii_case(b"@@GLOBAL")) {
                    settings.push(String::from_utf8_lossy(text).into_owned());
                }
            } else if !comment {
                let settings = header.take().expect("header");
                if !send(Piece::Session(settings)) {
                    return Ok(());
                }
            }
        }
        match top.line(text) {
            Line::Rows => {
                if rows_end(text) {
                    if !flush(&mut client, &mut send) || !send(rows_piece(line_no, buf.clone())) {
                        return Ok(());
                    }
                } else {
                    rows = Some((line_no, buf.clone()));
                }
                continue;
            }
            Line::DataStart | Line::DataEnd => continue,
            Line::Other => {}
        }
        client.extend_from_slice(&buf);
        if client.len() >= CLIENT_CHUNK && !flush(&mut client, &mut send) {
            return Ok(());
        }
    }
    if let Some((_, sql)) = rows {
        // a row statement the dump never closed: the client says what is wrong with it
        client.extend_from_slice(&sql);
    }
    if let Some(settings) = header {
        send(Piece::Session(settings));
    }
    flush(&mut client, &mut send);
    Ok(())
}

/// The table a row statement fills, for messages.
fn table_of(sql: &str) -> &str {
    sql.strip_prefix("INSERT INTO ")
        .and_then(|s| s.split_once(" VALUES").or_else(|| s.split_once(" (")))
        .map(|(t, _)| t.trim())
        .unwrap_or("?")
}

struct Job {
    line: usize,
    sql: String,
}

type Done = std::result::Result<(), (usize, String, sqlx::Error)>;

/// Runs the dump `input` through `cmd` (the client, connected to the target database)
/// with row statements on [`LOAD_CONNECTIONS`] connections to `url`. `file` names the
/// dump in messages.
pub(super) async fn load_dump(
    mut cmd: tokio::process::Command,
    prog: &str,
    url: &str,
    redacted: &str,
    file: &str,
    input: impl std::io::Read + Send + 'static,
) -> Result<()> {
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::runtime(format!("cannot run {prog}: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let errors = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    // the client's output, read all along so that it never blocks on a full pipe;
    // only our markers matter
    let (mark_tx, mut marks) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            if l.starts_with(MARK) && mark_tx.send(l).is_err() {
                break;
            }
        }
    });
    let (piece_tx, mut pieces) = mpsc::channel::<Piece>(2);
    let splitter = tokio::task::spawn_blocking(move || {
        split_dump(std::io::BufReader::with_capacity(256 << 10, input), |p| {
            piece_tx.blocking_send(p).is_ok()
        })
    });

    let mut loader = Loader {
        url: url.to_string(),
        redacted: redacted.to_string(),
        session: Vec::new(),
        jobs: None,
        done: None,
        workers: Vec::new(),
        outstanding: 0,
        finished: 0,
    };
    let mut synced = true;
    let mut marker = 0usize;
    let mut failed: Option<Error> = None;
    let mut fed = Ok(());
    while let Some(p) = pieces.recv().await {
        let step = async {
            match p {
                Piece::Session(s) => loader.session = s,
                Piece::Client(bytes) => {
                    loader.barrier().await?;
                    if let Err(e) = stdin.write_all(&bytes).await {
                        return Ok(Err(e));
                    }
                    synced = false;
                }
                Piece::Rows { line, sql } => {
                    if !synced {
                        marker += 1;
                        let mark = format!("{MARK}{marker}");
                        let q = format!("SELECT '{mark}';\n");
                        if let Err(e) = stdin.write_all(q.as_bytes()).await {
                            return Ok(Err(e));
                        }
                        // everything before the marker has run once it is echoed
                        loop {
                            match marks.recv().await {
                                Some(m) if m == mark => break,
                                Some(_) => continue,
                                None => {
                                    return Ok(Err(std::io::Error::other(
                                        "the client ended before the table's rows",
                                    )));
                                }
                            }
                        }
                        synced = true;
                    }
                    loader.send(Job { line, sql }).await?;
                }
            }
            Ok::<_, Error>(Ok(()))
        }
        .await;
        match step {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                fed = Err(e);
                break;
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    drop(pieces);
    if failed.is_none() && fed.is_ok() {
        // the dump read to its end (a read error stops the client rather than letting
        // it end as if the script were whole) and every row statement finished
        let read = async {
            splitter
                .await
                .map_err(|e| Error::runtime(format!("reading the dump: {e}")))?
        };
        if let Err(e) = loader.barrier().await {
            failed = Some(e);
        } else if let Err(e) = read.await {
            failed = Some(e);
        }
    }
    loader.close().await;
    if let Some(e) = failed {
        let _ = child.start_kill();
        let _ = child.wait().await;
        return Err(e.context(file));
    }
    drop(stdin);
    let status = child.wait().await?;
    let text = errors.await.unwrap_or_default();
    if !status.success() || fed.is_err() {
        return Err(Error::runtime(format!(
            "{prog} failed ({status}): {}",
            crate::redact::scrub(text.trim())
        )));
    }
    Ok(())
}

/// The prefix of the markers the client echoes.
const MARK: &str = "cutover-load-sync-";

/// The row connections: started at the first rows, fed from one queue.
struct Loader {
    url: String,
    redacted: String,
    session: Vec<String>,
    jobs: Option<mpsc::Sender<Job>>,
    done: Option<mpsc::UnboundedReceiver<Done>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    outstanding: usize,
    /// Row statements finished so far.
    finished: usize,
}

impl Loader {
    async fn start(&mut self) -> Result<()> {
        let (jobs, queue) = mpsc::channel::<Job>(LOAD_CONNECTIONS);
        let queue = Arc::new(Mutex::new(queue));
        let (done_tx, done) = mpsc::unbounded_channel::<Done>();
        for _ in 0..LOAD_CONNECTIONS {
            let mut c = super::backup::connect(&self.url, &self.redacted).await?;
            for s in &self.session {
                c.execute(sqlx::AssertSqlSafe(s.clone()))
                    .await
                    .map_err(super::backup::err(&self.redacted))?;
            }
            let (queue, done_tx) = (queue.clone(), done_tx.clone());
            self.workers.push(tokio::spawn(async move {
                worker(c, queue, done_tx).await;
            }));
        }
        self.jobs = Some(jobs);
        self.done = Some(done);
        Ok(())
    }

    async fn send(&mut self, job: Job) -> Result<()> {
        if self.jobs.is_none() {
            self.start().await?;
        }
        // a failure already reported stops the load at once
        while let Ok(d) = self.done.as_mut().expect("started").try_recv() {
            self.outstanding -= 1;
            self.check(d)?;
        }
        self.jobs
            .as_ref()
            .expect("started")
            .send(job)
            .await
            .map_err(|_| Error::runtime("the row connections stopped"))?;
        self.outstanding += 1;
        Ok(())
    }

    /// Waits until every row statement sent has finished.
    async fn barrier(&mut self) -> Result<()> {
        while self.outstanding > 0 {
            let d = self
                .done
                .as_mut()
                .expect("started")
                .recv()
                .await
                .ok_or_else(|| Error::runtime("the row connections stopped"))?;
            self.outstanding -= 1;
            self.check(d)?;
        }
        Ok(())
    }

    fn check(&mut self, d: Done) -> Result<()> {
        d.map_err(|(line, table, e)| {
            crate::db::sqlx_error(&self.redacted, e)
                .context(format!("the rows of {table} at line {line}"))
        })?;
        self.finished += 1;
        // crash points (testkit builds only): N row statements in, the rest not
        crate::crash::point(&format!("restore:rows:{}", self.finished));
        Ok(())
    }

    async fn close(&mut self) {
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.await;
        }
    }
}

async fn worker(
    mut c: MySqlConnection,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    done: mpsc::UnboundedSender<Done>,
) {
    loop {
        let job = queue.lock().await.recv().await;
        let Some(Job { line, sql }) = job else { break };
        let r = match c.execute(sqlx::AssertSqlSafe(sql.as_str())).await {
            Ok(_) => Ok(()),
            Err(e) => Err((line, table_of(&sql).to_string(), e)),
        };
        let stop = r.is_err();
        if done.send(r).is_err() || stop {
            break;
        }
    }
    let _ = sqlx::Connection::close(c).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(script: &str) -> Vec<Piece> {
        let mut out = Vec::new();
        split_dump(script.as_bytes(), |p| {
            out.push(p);
            true
        })
        .unwrap();
        out
    }

    fn client(p: &[Piece]) -> String {
        p.iter()
            .filter_map(|p| match p {
                Piece::Client(b) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            })
            .collect()
    }

    const DUMP: &str = "/*M!999999\\- enable the sandbox mode */ \n\
-- MariaDB dump\n\
/*!40101 SET NAMES utf8mb4 */;\n\
/*!40103 SET TIME_ZONE='+00:00' */;\n\
\n\
DROP TABLE IF EXISTS `a`;\n\
/*!40101 SET @saved_cs_client     = @@character_set_client */;\n\
CREATE TABLE `a` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n);\n\
LOCK TABLES `a` WRITE;\n\
/*!40000 ALTER TABLE `a` DISABLE KEYS */;\n\
INSERT INTO `a` VALUES (1),\n(2);\n\
INSERT INTO `a` VALUES (3);\n\
/*!40000 ALTER TABLE `a` ENABLE KEYS */;\n\
UNLOCK TABLES;\n\
DELIMITER ;;\n\
/*!50003 CREATE*/ /*!50003 TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN\n\
INSERT INTO `log` VALUES (NEW.id);\n\
END */;;\n\
DELIMITER ;\n";

    #[test]
    fn rows_go_apart_and_everything_else_to_the_client_in_order() {
        let p = pieces(DUMP);
        assert_eq!(
            p[0],
            Piece::Session(vec![
                "/*!40101 SET NAMES utf8mb4 */;".into(),
                "/*!40103 SET TIME_ZONE='+00:00' */;".into()
            ])
        );
        let rows: Vec<(usize, &str)> = p
            .iter()
            .filter_map(|p| match p {
                Piece::Rows { line, sql } => Some((*line, sql.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (14, "INSERT INTO `a` VALUES (1),\n(2);\n"),
                (16, "INSERT INTO `a` VALUES (3);\n")
            ]
        );
        let c = client(&p);
        // the lock pair is gone; the trigger body's INSERT stays with the client
        assert!(!c.contains("LOCK TABLES"), "{c}");
        assert!(c.contains("INSERT INTO `log` VALUES (NEW.id);"), "{c}");
        assert!(
            c.contains("CREATE TABLE `a`") && c.contains("ENABLE KEYS"),
            "{c}"
        );
        // order: CREATE before the rows, ENABLE KEYS after
        let first_rows = p
            .iter()
            .position(|p| matches!(p, Piece::Rows { .. }))
            .unwrap();
        assert!(client(&p[..first_rows]).contains("DISABLE KEYS"));
        assert!(client(&p[first_rows..]).starts_with("/*!40000 ALTER TABLE `a` ENABLE KEYS"));
        assert_eq!(table_of(rows[0].1), "`a`");
    }

    #[test]
    fn the_session_settings_of_a_mysqldump_header_are_kept_but_not_global_ones() {
        let p = pieces(
            "/*!40101 SET NAMES utf8mb4 */;\nSET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN;\nSET @@SESSION.SQL_LOG_BIN= 0;\nSET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'x:1-5';\n\nDROP TABLE IF EXISTS `a`;\n",
        );
        assert_eq!(
            p[0],
            Piece::Session(vec![
                "/*!40101 SET NAMES utf8mb4 */;".into(),
                "SET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN;".into(),
                "SET @@SESSION.SQL_LOG_BIN= 0;".into(),
            ])
        );
        assert!(client(&p).contains("GTID_PURGED"));
    }

    #[test]
    fn inserts_outside_a_data_section_stay_with_the_client() {
        let p = pieces(
            "INSERT INTO `a` VALUES (1);\nLOCK TABLES `a` WRITE;\nUPDATE a SET x = 1;\nINSERT INTO `a` VALUES (2);\nUNLOCK TABLES;\n",
        );
        // the client gets the first INSERT and the UPDATE, in order, before the rows
        assert!(
            matches!(&p[1], Piece::Client(b) if b == b"INSERT INTO `a` VALUES (1);\nUPDATE a SET x = 1;\n"),
            "{p:?}"
        );
        assert!(
            p.iter().any(|p| matches!(p, Piece::Rows { line: 4, .. })),
            "{p:?}"
        );
    }

    #[test]
    fn a_row_statement_that_is_not_utf8_goes_to_the_client() {
        let mut d = b"LOCK TABLES `a` WRITE;\nINSERT INTO `a` VALUES ('".to_vec();
        d.extend_from_slice(&[0xff, 0xfe]);
        d.extend_from_slice(b"');\nUNLOCK TABLES;\n");
        let mut out = Vec::new();
        split_dump(&d[..], |p| {
            out.push(p);
            true
        })
        .unwrap();
        assert!(!out.iter().any(|p| matches!(p, Piece::Rows { .. })));
        assert!(
            out.iter()
                .any(|p| matches!(p, Piece::Client(b) if b.starts_with(b"INSERT INTO")))
        );
    }
}
