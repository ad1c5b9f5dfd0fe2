//! A MariaDB restore loads each table's rows on several connections while the client
//! runs the rest of the dump: the rows must all arrive, before the table's triggers
//! exist (a trigger firing on a restored row would change another table), and a row
//! statement that fails must stop the restore naming its table and line.

use crate::backup_roundtrip::{exec, restore_yes, run, scalar};
use cutover::db::Db;
use cutover::testkit::{self, TestDb};
use std::io::{Read, Write};
use std::path::Path;

/// 30,001 rows of about 190 bytes (a dump of several INSERT statements) and an audit
/// trigger created after the first 30,000, so that `audit` holds one row; and a row
/// whose AUTO_INCREMENT key is 0, which comes back as 0 only if the row connections
/// run the dump's session settings (`NO_AUTO_VALUE_ON_ZERO`) as the client does.
const FIXTURE: &str = "
CREATE TABLE big (id INT PRIMARY KEY, s VARCHAR(200) NOT NULL);
CREATE TABLE audit (id INT NOT NULL);
CREATE TABLE z (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL);
INSERT INTO z VALUES (7, 1), (5, 2);
UPDATE z SET id = 0 WHERE id = 7;
INSERT INTO big SELECT seq, CONCAT(seq, ':', REPEAT('x', 180)) FROM seq_1_to_30000;
CREATE TRIGGER big_ai AFTER INSERT ON big FOR EACH ROW INSERT INTO audit VALUES (NEW.id);
INSERT INTO big VALUES (30001, 'last');
";

/// The fixture in a fresh MariaDB database, backed up into `bk` of the returned
/// directory.
async fn backed_up() -> Option<(TestDb, Db, tempfile::TempDir)> {
    let db = testkit::mysql().await?;
    let d = db.connect().await;
    exec(&d, FIXTURE).await;
    let tmp = tempfile::tempdir().unwrap();
    let o = run(tmp.path(), &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    Some((db, d, tmp))
}

fn dump_text(bk: &Path) -> String {
    let mut s = String::new();
    zstd::stream::read::Decoder::new(std::fs::File::open(bk.join("database.sql.zst")).unwrap())
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s
}

#[tokio::test]
async fn rows_load_on_several_connections_and_no_trigger_fires_on_them() {
    let Some((db, d, tmp)) = backed_up().await else {
        return;
    };
    let dir = tmp.path();
    let statements = dump_text(&dir.join("bk"))
        .lines()
        .filter(|l| l.starts_with("INSERT INTO `big`"))
        .count();
    assert!(
        statements >= 3,
        "the test needs a table of several row statements, the dump has {statements}"
    );

    exec(
        &d,
        "DELETE FROM big WHERE id > 100; DELETE FROM audit; DELETE FROM z",
    )
    .await;
    let o = restore_yes(dir, "bk", &db.url, &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(
        scalar(&d, "SELECT GROUP_CONCAT(id ORDER BY id) FROM z").await,
        "0,5"
    );
    assert!(
        o.all()
            .contains("each table's rows on 3 connections at once")
            && o.stdout
                .contains("3 of 3 table(s) proven equal to the backup"),
        "{}",
        o.all()
    );
    assert_eq!(scalar(&d, "SELECT count(*) FROM big").await, "30001");
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM audit").await,
        "1",
        "the trigger fired on restored rows"
    );
    // the trigger is back and works after the restore
    exec(&d, "INSERT INTO big VALUES (30002, 'after')").await;
    assert_eq!(scalar(&d, "SELECT count(*) FROM audit").await, "2");
    d.close().await;
}

/// Rewrites the backup's dump with `edit` and seals its manifest again, as a forger
/// with write access to the backup could.
fn rewrite_dump(bk: &Path, edit: impl FnOnce(&str) -> String) {
    let text = edit(&dump_text(bk));
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.write_all(text.as_bytes()).unwrap();
    replace_dump(bk, &enc.finish().unwrap());
}

/// Puts `bytes` in place of the backup's dump file and seals its manifest again.
fn replace_dump(bk: &Path, bytes: &[u8]) {
    std::fs::write(bk.join("database.sql.zst"), bytes).unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bk.join("manifest.json")).unwrap()).unwrap();
    m["files"]["database.sql.zst"] = serde_json::json!({"bytes": bytes.len(), "sha256": sha});
    crate::backup_md5_manifest::reseal(bk, &m);
}

#[tokio::test]
async fn a_failing_row_statement_stops_the_restore_naming_the_table_and_line() {
    let Some((db, d, tmp)) = backed_up().await else {
        return;
    };
    let dir = tmp.path();
    // a second copy of row 7, as its own statement after the table's rows and the
    // ENABLE KEYS line (which the load waits for the rows before), so that it is the
    // one to fail whichever connection loads what
    let mut line = 0;
    rewrite_dump(&dir.join("bk"), |dump| {
        let mut out = String::new();
        for (n, l) in dump.lines().enumerate() {
            out.push_str(l);
            out.push('\n');
            if l.starts_with("/*!40000 ALTER TABLE `big` ENABLE KEYS") {
                out.push_str("INSERT INTO `big` VALUES (7,'again');\n");
                line = n + 2;
            }
        }
        out
    });
    let o = restore_yes(dir, "bk", &db.url, &[]);
    assert_eq!(o.code, 3, "{}", o.all());
    let err = o.all();
    assert!(
        err.contains("database.sql.zst")
            && err.contains(&format!("the rows of `big` at line {line}:"))
            && err.contains("Duplicate entry '7'"),
        "{err}"
    );
    assert!(!err.contains("proven equal"), "{err}");
    // the client stopped before the table's trigger: nothing after the rows ran
    assert_eq!(
        scalar(
            &d,
            "SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()"
        )
        .await,
        "0"
    );
    d.close().await;
}

#[tokio::test]
async fn a_restore_killed_while_loading_rows_is_run_again_to_the_same_end() {
    let Some((db, d, tmp)) = backed_up().await else {
        return;
    };
    let dir = tmp.path();
    exec(
        &d,
        "DELETE FROM big WHERE id > 100; DELETE FROM audit; DELETE FROM z",
    )
    .await;
    let killed: crate::support::Out = crate::support::command(
        dir,
        &["restore", "--from", "bk", "--target", &db.url, "--yes"],
    )
    .env("CUTOVER_CRASH_AT", "restore:rows:1")
    .output()
    .unwrap()
    .into();
    assert_eq!(killed.code, -1, "killed by SIGKILL: {}", killed.all());
    // one row statement in, the table's trigger not yet back
    let partial: i64 = scalar(&d, "SELECT count(*) FROM big")
        .await
        .parse()
        .unwrap();
    assert!(
        partial > 0 && partial < 30001,
        "{partial} rows after the kill"
    );
    // the same command again ends as an uninterrupted restore does
    let o = restore_yes(dir, "bk", &db.url, &[]);
    crate::backup_roundtrip::assert_proven(&o, 3);
    assert_eq!(scalar(&d, "SELECT count(*) FROM big").await, "30001");
    assert_eq!(scalar(&d, "SELECT count(*) FROM audit").await, "1");
    assert_eq!(
        scalar(&d, "SELECT GROUP_CONCAT(id ORDER BY id) FROM z").await,
        "0,5"
    );
    d.close().await;
}

#[tokio::test]
async fn a_sealed_dump_that_cannot_be_read_to_its_end_is_refused_before_anything_is_touched() {
    let Some((db, d, tmp)) = backed_up().await else {
        return;
    };
    let dir = tmp.path();
    // a zstd stream cut in the middle, sealed as if it were whole (a forger's or a
    // buggy writer's): its SHA-256 matches, its reading fails part way
    let whole = std::fs::read(dir.join("bk/database.sql.zst")).unwrap();
    replace_dump(&dir.join("bk"), &whole[..whole.len() / 2]);
    exec(&d, "DELETE FROM big WHERE id > 100").await;
    let o = restore_yes(dir, "bk", &db.url, &[]);
    assert_eq!(o.code, 3, "{}", o.all());
    assert!(
        o.all()
            .contains("reading bk/database.sql.zst: incomplete frame"),
        "{}",
        o.all()
    );
    assert!(!o.all().contains("proven equal"), "{}", o.all());
    // the whole dump is read (for the objects it names) before the load starts, so
    // the cut is found with the database as it was
    assert_eq!(scalar(&d, "SELECT count(*) FROM big").await, "100");
    assert_eq!(
        scalar(
            &d,
            "SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()"
        )
        .await,
        "1"
    );
    d.close().await;
}
