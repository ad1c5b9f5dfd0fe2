//! A whole-database MariaDB backup restores FLOAT columns bit-exactly, though
//! `mariadb-dump` writes them with 6 significant digits (issue 7): the backup appends
//! corrective UPDATEs by key; a table with no key is named in a warning.

use crate::backup_roundtrip::{exec, run, scalar};
use cutover::testkit;

const FIXTURE: &str = r#"
CREATE TABLE t (id int PRIMARY KEY, f FLOAT, g FLOAT NOT NULL DEFAULT 0);
INSERT INTO t (id, f, g) VALUES (1, 16777216, 1.2345678), (2, 0.1, 3.402823466e38),
  (3, -1.17549435e-38, 1.4e-45), (4, NULL, 16777217);
CREATE TABLE `b k` (k varbinary(8) NOT NULL, name varchar(10) CHARACTER SET latin1 NOT NULL,
  `fl``t` FLOAT, PRIMARY KEY (k, name));
INSERT INTO `b k` VALUES (0x00ff27, 'ñ''x`', 1.2345678), (X'', '', 16777216);
CREATE TABLE u (id int NULL, code varchar(5) NOT NULL, f FLOAT, UNIQUE KEY (id), UNIQUE KEY (code));
INSERT INTO u VALUES (1, 'a', 0.1), (NULL, 'b', 1.2345678);
CREATE TABLE ts (at timestamp(6) NOT NULL PRIMARY KEY, f FLOAT, twice FLOAT AS (f * 2) VIRTUAL,
  kept FLOAT AS (f + 1) PERSISTENT);
INSERT INTO ts (at, f) VALUES ('2024-03-31 01:30:00.5', 16777216), ('2024-10-27 00:30:00', 1.2345678);
CREATE TABLE plain (f FLOAT);
INSERT INTO plain VALUES (0.1), (1.5), (123456), (NULL);
"#;

/// Every FLOAT of the fixture as its exact double text, in key order (CAST AS CHAR:
/// GROUP_CONCAT cuts a bare double's text to the FLOAT's display width).
const EXACT: &str = "SELECT CONCAT_WS(' | ',
  (SELECT GROUP_CONCAT(id, '=', IFNULL(CAST(CAST(f AS DOUBLE) AS CHAR(32)), 'NULL'), '/', CAST(CAST(g AS DOUBLE) AS CHAR(32)) ORDER BY id) FROM t),
  (SELECT GROUP_CONCAT(HEX(k), '=', CAST(CAST(`fl``t` AS DOUBLE) AS CHAR(32)) ORDER BY k) FROM `b k`),
  (SELECT GROUP_CONCAT(code, '=', CAST(CAST(f AS DOUBLE) AS CHAR(32)) ORDER BY code) FROM u),
  (SELECT GROUP_CONCAT(at, '=', CAST(CAST(f AS DOUBLE) AS CHAR(32)), '/', CAST(CAST(twice AS DOUBLE) AS CHAR(32)),
     '/', CAST(CAST(kept AS DOUBLE) AS CHAR(32)) ORDER BY at) FROM ts))";

#[tokio::test]
async fn mariadb_backup_restores_float_columns_exactly() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(&d, FIXTURE).await;
    let before = scalar(&d, EXACT).await;
    for exact in [
        "1=16777216/1.2345677614212036",
        "2=0.10000000149011612/3.4028234663852886e38",
        "3=-1.1754943508222875e-38/1.401298464324817e-45",
        "4=NULL/16777216",
        "00FF27=1.2345677614212036",
        "=16777216",
        "a=0.10000000149011612",
        "b=1.2345677614212036",
        "=16777216/33554432/16777216",
    ] {
        assert!(before.contains(exact), "fixture: {exact} not in {before}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = run(dir, &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "backup failed:\n{}", o.all());
    // `plain` has no key, but none of its values is rounded by the dump
    assert!(!o.all().contains("WARNING"), "{}", o.all());
    let m = std::fs::read_to_string(dir.join("bk/manifest.json")).unwrap();
    assert!(
        m.contains("FLOAT columns of b k, t, ts, u restored exactly"),
        "{m}"
    );

    exec(
        &d,
        "UPDATE t SET f = 1, g = 2; UPDATE `b k` SET `fl``t` = NULL; UPDATE u SET f = 7; DELETE FROM plain; UPDATE ts SET f = 3",
    )
    .await;
    d.close().await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
    assert_eq!(o.code, 0, "restore failed:\n{}", o.all());
    assert!(
        o.stdout
            .contains("5 of 5 table(s) proven equal to the backup"),
        "the restore must prove each table:\n{}",
        o.stdout
    );
    let d = db.connect().await;
    assert_eq!(
        scalar(&d, EXACT).await,
        before,
        "FLOATs not restored exactly"
    );
    d.close().await;
}

#[tokio::test]
async fn mariadb_backup_names_a_keyless_table_whose_floats_it_cannot_correct() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(
        &d,
        "CREATE TABLE loose (id int NULL, f FLOAT, UNIQUE KEY (id)); INSERT INTO loose VALUES (1, 16777216), (2, 0.5)",
    )
    .await;
    d.close().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = run(dir, &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "backup failed:\n{}", o.all());
    let warning = "table \"loose\" (FLOAT column(s) \"f\", 1 row(s) affected): mariadb-dump rounds FLOAT to 6 significant digits; table has no key to correct it; the restore proof will report it";
    assert!(o.all().contains(warning), "no warning:\n{}", o.all());
    let m = std::fs::read_to_string(dir.join("bk/manifest.json")).unwrap();
    assert!(m.contains("has no key to correct it"), "{m}");
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
    assert!(
        o.all().contains("loose has different content"),
        "the proof must report the rounded table:\n{}",
        o.all()
    );
}

#[tokio::test]
async fn mariadb_table_backup_restores_float_columns_exactly() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(&d, FIXTURE).await;
    let before = scalar(&d, EXACT).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = run(
        dir,
        &[
            "backup", "--target", &db.url, "--out", "bk", "--tables", "t",
        ],
    );
    assert_eq!(o.code, 0, "backup failed:\n{}", o.all());
    let m = std::fs::read_to_string(dir.join("bk/manifest.json")).unwrap();
    assert!(m.contains("FLOAT columns of t restored exactly"), "{m}");
    exec(&d, "UPDATE t SET f = 1, g = 2").await;
    d.close().await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
    assert_eq!(o.code, 0, "restore failed:\n{}", o.all());
    assert!(o.stdout.contains("✓ t: 4 rows (backup 4)"), "{}", o.stdout);
    let d = db.connect().await;
    assert_eq!(
        scalar(&d, EXACT).await,
        before,
        "FLOATs not restored exactly"
    );
    d.close().await;
}

/// A table with an UPDATE trigger is not corrected: the correcting UPDATE would fire
/// the trigger on restore (here writing audit rows). The backup says so, and the
/// restore leaves the audit table exactly as it was backed up.
#[tokio::test]
async fn mariadb_backup_does_not_fire_update_triggers_to_correct_floats() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(
        &d,
        "CREATE TABLE audited (id int PRIMARY KEY, f FLOAT); CREATE TABLE audit_log (id int, note varchar(20)); CREATE TRIGGER audited_upd AFTER UPDATE ON audited FOR EACH ROW INSERT INTO audit_log VALUES (NEW.id, 'updated'); INSERT INTO audited VALUES (1, 16777216), (2, 0.5)",
    )
    .await;
    d.close().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = run(dir, &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "backup failed:\n{}", o.all());
    let warning = "table \"audited\" (FLOAT column(s) \"f\", 1 row(s) affected): mariadb-dump rounds FLOAT to 6 significant digits; a correcting UPDATE would fire its UPDATE trigger(s) \"audited_upd\"; the restore proof will report it";
    assert!(o.all().contains(warning), "no warning:\n{}", o.all());
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
    assert!(
        o.all().contains("audited has different content"),
        "the proof must report the rounded table:\n{}",
        o.all()
    );
    let d = db.connect().await;
    assert_eq!(
        scalar(&d, "SELECT CAST(COUNT(*) AS CHAR) FROM audit_log").await,
        "0",
        "restoring must not fire the trigger"
    );
    d.close().await;
}
