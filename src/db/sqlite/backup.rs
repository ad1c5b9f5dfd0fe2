//! SQLite backups: `VACUUM INTO` a file (one read transaction, so consistent), the
//! content hashes computed from that copy itself; restore replaces the file or copies
//! single tables back through `ATTACH`.

use crate::db::backup::{BackupEngine, BackupRequest, BackupResult, RestoreRequest, TableHash};
use crate::db::{ConnectOptions, Db, Statement, Value};
use crate::error::{Error, Result};
use futures::StreamExt;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub(crate) struct SqliteBackup;
pub(crate) static BACKUP: SqliteBackup = SqliteBackup;

const FILE: &str = "database.db";

async fn open(url: &str) -> Result<Db> {
    crate::db::connect_with(
        url,
        ConnectOptions {
            max_connections: 1,
            ..Default::default()
        },
    )
    .await
}

async fn list_tables(db: &Db) -> Result<Vec<String>> {
    let rows = db.query(super::SQL_LIST_TABLES, &[]).await?;
    Ok(rows
        .rows
        .iter()
        .map(|r| r[0].to_string())
        .filter(|t| !crate::db::bookkeeping::is_trust_table(t))
        .collect())
}

/// Rows and the sum (mod 2^128) of each row's SHA-256 (first 16 bytes) over an
/// unambiguous serialization of its stored values.
async fn hash_tables(db: &Db, tables: &[String]) -> Result<BTreeMap<String, TableHash>> {
    let present = list_tables(db).await?;
    let mut out = BTreeMap::new();
    for t in tables.iter().filter(|t| present.contains(t)) {
        let mut sum: u128 = 0;
        let mut rows = 0u64;
        let mut s = db.stream(
            format!("SELECT * FROM {}", db.dialect().quote_ident(t)),
            vec![],
        );
        while let Some(row) = s.next().await {
            let mut h = Sha256::new();
            for v in row? {
                let (tag, bytes): (u8, Vec<u8>) = match v {
                    Value::Null => (0, vec![]),
                    Value::Int(i) => (1, i.to_le_bytes().to_vec()),
                    Value::Float(f) => (2, f.to_bits().to_le_bytes().to_vec()),
                    Value::Bytes(b) => (3, b),
                    other => (4, other.to_string().into_bytes()),
                };
                h.update([tag]);
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(&bytes);
            }
            let d = h.finalize();
            let mut first = [0u8; 16];
            first.copy_from_slice(&d[..16]);
            sum = sum.wrapping_add(u128::from_le_bytes(first));
            rows += 1;
        }
        out.insert(
            t.clone(),
            TableHash {
                rows,
                hash: format!("{sum:032x}"),
            },
        );
    }
    Ok(out)
}

impl BackupEngine for SqliteBackup {
    fn tool_plan(&self, _whole: bool) -> String {
        "VACUUM INTO a copy of the file (always the whole file), hashes computed from the copy"
            .into()
    }

    fn backup<'a>(&'a self, req: BackupRequest<'a>) -> BoxFuture<'a, Result<BackupResult>> {
        Box::pin(async move {
            let db = open(req.url).await?;
            let version = db.query("SELECT sqlite_version()", &[]).await?;
            let path = req.dir.join(FILE);
            let p = path
                .to_str()
                .ok_or_else(|| Error::bad_input("backup path is not valid UTF-8"))?;
            (req.log)(format!("VACUUM INTO {}", path.display()));
            db.execute(&format!("VACUUM INTO {}", db.dialect().quote_literal(p)))
                .await?;
            let tables = match req.tables {
                Some(t) => {
                    let all = list_tables(&db).await?;
                    for n in t {
                        if !all.contains(n) {
                            return Err(Error::bad_input(format!(
                                "table \"{n}\" does not exist in {}",
                                req.redacted
                            )));
                        }
                    }
                    t.to_vec()
                }
                None => list_tables(&db).await?,
            };
            db.close().await;
            std::fs::File::open(&path)?.sync_all()?;
            let copy = open(&format!("sqlite://{p}?mode=ro")).await?;
            let hashes = hash_tables(&copy, &tables).await;
            copy.close().await;
            Ok(BackupResult {
                server_version: format!(
                    "SQLite {}",
                    version.scalar().map(|v| v.to_string()).unwrap_or_default()
                ),
                tool: "VACUUM INTO".into(),
                consistency: "VACUUM INTO copies in one read transaction; the hashes are computed from the copy itself".into(),
                files: vec![FILE.into()],
                tables: hashes?,
                sequences: BTreeMap::new(),
                digests: BTreeMap::new(),
            })
        })
    }

    fn restore<'a>(&'a self, req: RestoreRequest<'a>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let file = req.dir.join(FILE);
            let target = std::path::PathBuf::from(super::sqlite_path(req.url));
            match req.tables {
                None => {
                    let tmp = target.with_extension("restore.partial");
                    std::fs::copy(&file, &tmp)?;
                    std::fs::File::open(&tmp)?.sync_all()?;
                    for side in ["-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{side}", target.display()));
                    }
                    std::fs::rename(&tmp, &target)?;
                    (req.log)(format!(
                        "{} replaced by the backup's copy",
                        target.display()
                    ));
                    Ok(())
                }
                Some(tables) => {
                    let db = open(req.url).await?;
                    let res = restore_tables_from_file(&db, &file, tables).await;
                    db.close().await;
                    res
                }
            }
        })
    }

    fn content_hashes<'a>(
        &'a self,
        url: &'a str,
        _redacted: &'a str,
        tables: &'a [String],
        _recorded: &'a BTreeMap<String, TableHash>,
    ) -> BoxFuture<'a, Result<BTreeMap<String, TableHash>>> {
        Box::pin(async move {
            let db = open(url).await?;
            let out = hash_tables(&db, tables).await;
            db.close().await;
            out
        })
    }

    fn tables<'a>(
        &'a self,
        url: &'a str,
        _redacted: &'a str,
        _schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let db = open(url).await?;
            let out = list_tables(&db).await;
            db.close().await;
            out
        })
    }

    fn drop_table<'a>(
        &'a self,
        url: &'a str,
        _redacted: &'a str,
        table: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let db = open(url).await?;
            let out = db
                .execute(&format!("DROP TABLE {}", db.dialect().quote_ident(table)))
                .await;
            db.close().await;
            out.map(|_| ())
        })
    }
}

/// Put `tables` back into `db` from the SQLite file `file`: each table dropped,
/// recreated from the file's definition with its indexes and triggers, and refilled,
/// all in one transaction. `db` must be a single connection (ATTACH is per connection
/// and not allowed inside a transaction); the caller closes it.
pub async fn restore_tables_from_file(
    db: &Db,
    file: &std::path::Path,
    tables: &[String],
) -> Result<()> {
    let d = db.dialect();
    let path = file
        .to_str()
        .ok_or_else(|| Error::bad_input("backup path is not valid UTF-8"))?;
    db.execute(&format!(
        "ATTACH DATABASE {} AS cutover_backup",
        d.quote_literal(path)
    ))
    .await?;
    let res = async {
        let mut stmts = Vec::new();
        for t in tables {
            let def = db
                .query("SELECT sql FROM cutover_backup.sqlite_master WHERE type = 'table' AND name = ?", &[t.as_str().into()])
                .await?;
            let Some(create) = def.scalar().map(|v| v.to_string()) else {
                return Err(Error::bad_input(format!(
                    "table \"{t}\" is not in the backup {}",
                    file.display()
                )));
            };
            let q = d.quote_ident(t);
            stmts.push(Statement::new(format!("DROP TABLE IF EXISTS main.{q}")));
            stmts.push(Statement::new(create));
            stmts.push(Statement::new(format!(
                "INSERT INTO main.{q} SELECT * FROM cutover_backup.{q}"
            )));
            let idx = db
                .query("SELECT sql FROM cutover_backup.sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL", &[t.as_str().into()])
                .await?;
            for r in idx.rows {
                stmts.push(Statement::new(r[0].to_string()));
            }
        }
        db.execute_in_transaction(&stmts).await.map_err(|e| {
            Error::runtime(format!(
                "table restore failed at statement {}: {} (rolled back)",
                e.index + 1,
                e.message
            ))
        })
    }
    .await;
    let _ = db.execute("DETACH DATABASE cutover_backup").await;
    res.map(|_| ())
}
