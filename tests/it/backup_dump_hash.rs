//! A MariaDB backup reads most tables' hashes off the dump's own rows as they stream
//! (no second scan on the server); those hashes must be exactly what the restore's
//! proof recomputes on the server, for every value the dump escapes, pads or formats.

use crate::backup_proof_direct::{manifest_tables, proofs};
use crate::backup_roundtrip::{assert_proven, exec, restore_yes, run};
use cutover::db::backup::TableHash;
use cutover::testkit;
use std::collections::BTreeMap;
use std::path::Path;

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn mariadb_hashes_read_off_the_dump_are_the_servers_for_every_kind_of_value() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(
        &d,
        r#"CREATE TABLE t (
             id int PRIMARY KEY, u bigint unsigned, s varchar(40) CHARACTER SET utf8mb4, m varchar(10) CHARACTER SET utf8mb3,
             c char(6), bn binary(4), vb varbinary(8), bl blob, tx mediumtext, j json,
             en enum('a','b c'), st set('x','y'), d date, dt datetime(3), ts timestamp(6) NULL, tm time(2), y year,
             n decimal(12,4), neg smallint NOT NULL DEFAULT -7
           ) CHARACTER SET utf8mb4;
           CREATE TABLE `we``ird` (k int PRIMARY KEY, v text);
           CREATE TABLE empty_one (k int PRIMARY KEY);
           CREATE TABLE other (k int PRIMARY KEY, f float, l varchar(5) CHARACTER SET latin1);
           CREATE TABLE log (k int);
           CREATE TABLE `line
break` (k int PRIMARY KEY, v varchar(9));
           INSERT INTO `line
break` VALUES (1, 'a'), (2, NULL);
           CREATE TRIGGER t_gone AFTER DELETE ON t FOR EACH ROW
           INSERT INTO log VALUES
           (OLD.id);
           SET time_zone = '+00:00';
           INSERT INTO t (id, u, s, m, c, bn, vb, bl, tx, j, en, st, d, dt, ts, tm, y, n) VALUES
             (1, 18446744073709551615, 'it''s a \\ "quote"\n\r\t\0 end\Z', 'é', 'pad  ', X'0100', X'00FF27', X'', REPEAT('x|y,z)', 300), '{"a": [1, "b)"]}',
              'b c', 'x,y', '0000-00-00', '2024-01-02 03:04:05.120', '2038-01-19 03:14:07.999999', '-838:59:59.99', 1901, -12345678.5),
             (2, 0, '', '', '', X'', X'', NULL, '', NULL, NULL, '', '2024-02-29', '1000-01-01 00:00:00', NULL, '00:00:00', 0, 0),
             (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             (4, 5, '😀 LOCK TABLES `t` WRITE;', 'N', 'N', X'4E', X'4E', X'4E', '\\%_', 'null', 'a', 'y', '9999-12-31', '9999-12-31 23:59:59.999', '1970-01-01 00:00:01', '838:59:59', 2155, 0.0001);
           INSERT INTO `we``ird` SELECT seq, CONCAT('row ', seq, ' ', REPEAT('\'', seq % 3)) FROM seq_1_to_3000;
           INSERT INTO other VALUES (1, 16777217, 'é')"#,
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let o = run(tmp.path(), &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let m = manifest(&tmp.path().join("bk"));
    // four tables read off the dump (log too, empty at the backup); `other` (FLOAT,
    // latin1) on the server; and the rows of a table whose name holds a line break,
    // which splits its `LOCK TABLES` line, not found there: hashed on the server after
    // the dump, in the same snapshot
    let consistency = m["consistency"].as_str().unwrap();
    assert!(
        consistency.contains("the hashes of 4 of 6 table(s) taken from the dump's own rows"),
        "{consistency}"
    );
    assert!(
        o.all()
            .contains("break not read off the dump as expected: hashing them on the server"),
        "{}",
        o.all()
    );
    let recorded: BTreeMap<String, TableHash> =
        serde_json::from_value(m["tables"].clone()).unwrap();
    assert_eq!(recorded["t"].rows, 4);
    assert_eq!(recorded["we`ird"].rows, 3000);
    assert_eq!(recorded["empty_one"].rows, 0);
    assert_eq!(recorded["line\nbreak"].rows, 2);
    let names = ["t", "we`ird", "empty_one", "other", "log", "line\nbreak"];
    assert_eq!(proofs(&db.url, &names, &recorded).await, recorded);

    // a change of one escaped byte is seen, and the next backup agrees with the server
    exec(&d, "UPDATE t SET s = REPLACE(s, '\\0', '\\Z') WHERE id = 1").await;
    let now = proofs(&db.url, &names, &recorded).await;
    assert_ne!(now["t"].hash, recorded["t"].hash);
    let o = run(tmp.path(), &["backup", "--target", &db.url, "--out", "bk2"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let again = manifest_tables(&tmp.path().join("bk2"));
    assert_eq!(again["t"], now["t"]);

    // and the first backup restores, proven table by table by the server
    exec(
        &d,
        "DELETE FROM t WHERE id > 1; DROP TABLE `we``ird`; DELETE FROM `line\nbreak`",
    )
    .await;
    assert_proven(&restore_yes(tmp.path(), "bk", &db.url, &[]), 6);
    d.close().await;
}
