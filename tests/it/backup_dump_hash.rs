//! A MariaDB backup writes most tables' rows itself, in the dump's format, hashing
//! them as they go (no second scan on the server); those hashes must be exactly what
//! the restore's proof recomputes on the server, for every value the dump escapes,
//! pads or formats, and the rows must restore as the dump's own would.

use crate::backup_proof_direct::{manifest_tables, proofs};
use crate::backup_roundtrip::{assert_proven, exec, restore_yes, run, scalar};
use cutover::db::backup::TableHash;
use cutover::testkit;
use std::collections::BTreeMap;
use std::path::Path;

/// The backup's dump, decompressed.
fn dump_text(dir: &Path) -> String {
    let file = std::fs::File::open(dir.join("database.sql.zst")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut zstd::stream::read::Decoder::new(file).unwrap(),
        &mut text,
    )
    .unwrap();
    text
}

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
    // four tables' rows written by cutover (log too, empty at the backup); `other`
    // (FLOAT, latin1) dumped and hashed on the server; and a table whose name holds a
    // line break, which would split its `CREATE TABLE` line, left to the dump, whose
    // rows the reader of the dump does not find either: hashed on the server after
    // the dump, in the same snapshot
    let consistency = m["consistency"].as_str().unwrap();
    assert!(
        consistency.contains("the rows of 4 of 6 table(s) read by cutover in that snapshot"),
        "{consistency}"
    );
    let dump = dump_text(&tmp.path().join("bk"));
    for (table, by_cutover) in [
        ("t", true),
        ("we``ird", true),
        ("log", true),
        ("other", false),
    ] {
        // a line of its own (t holds the same text in a value)
        let lock = format!("\nLOCK TABLES `{table}` WRITE;\n");
        assert_eq!(dump.matches(&lock).count(), 1, "{lock} once in the dump");
        let ours = format!("-- Dumping data for table `{table}` (rows read by cutover");
        assert_eq!(dump.contains(&ours), by_cutover, "{ours}");
    }
    // the rows go after the table, before its trigger
    let rows_at = dump.find("INSERT INTO `t` VALUES").unwrap();
    assert!(dump.find("CREATE TABLE `t` (").unwrap() < rows_at);
    assert!(rows_at < dump.find("TRIGGER t_gone").unwrap());
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

    // a backup of tables by name: MariaDB's tool then writes all their rows or none
    // (it ignores --ignore-table-data for tables named), so cutover writes them only
    // when it writes all of them, the dump run with --no-data
    for (tables, ours) in [("we`ird,log", true), ("t,other", false)] {
        let out = format!("bk-{}", tables.len());
        let o = run(
            tmp.path(),
            &[
                "backup", "--target", &db.url, "--out", &out, "--tables", tables,
            ],
        );
        assert_eq!(o.code, 0, "{}", o.all());
        let consistency = manifest(&tmp.path().join(&out))["consistency"].to_string();
        assert_eq!(
            consistency.contains("the rows of 2 of 2 table(s) read by cutover"),
            ours,
            "{consistency}"
        );
        let dump = std::fs::read(tmp.path().join(&out).join("tables.sql.zst")).unwrap();
        let dump = String::from_utf8(zstd::decode_all(&dump[..]).unwrap()).unwrap();
        assert_eq!(
            dump.matches("\nLOCK TABLES `").count(),
            2,
            "{tables}: each table's rows once"
        );
        let names: Vec<&str> = tables.split(',').collect();
        let table_hashes = manifest_tables(&tmp.path().join(&out));
        assert_eq!(proofs(&db.url, &names, &table_hashes).await, table_hashes);
    }

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

#[tokio::test]
async fn mariadb_rows_read_in_slices_of_the_key_are_each_written_once() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    // 250,000 rows: two slices of the key's range (-5 to 320,000), the keys uneven
    // (a gap above 249,993, some negative), a value with a line break in each
    exec(
        &d,
        "CREATE TABLE big (id bigint PRIMARY KEY, v varchar(20), b varbinary(4)) CHARACTER SET utf8mb4;
         INSERT INTO big SELECT seq, CONCAT('r', seq, '\\n'), IF(seq % 7 = 0, NULL, UNHEX(HEX(seq))) FROM seq_1_to_249993;
         INSERT INTO big VALUES (-5, 'neg', NULL), (-1, '', X''), (0, NULL, X'00'),
           (300000, 'gap', NULL), (310000, 'gap', NULL), (320000, 'gap', NULL), (319999, 'gap', NULL);
         ANALYZE TABLE big",
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let o = run(tmp.path(), &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let recorded = manifest_tables(&tmp.path().join("bk"));
    assert_eq!(recorded["big"].rows, 250_000);
    let consistency = manifest(&tmp.path().join("bk"))["consistency"].to_string();
    assert!(
        consistency.contains("the rows of 1 of 1 table(s) read by cutover"),
        "{consistency}"
    );
    assert_eq!(proofs(&db.url, &["big"], &recorded).await, recorded);
    let dump = dump_text(&tmp.path().join("bk"));
    // every row's line once: each key's text appears at the start of exactly one row
    // (159,998: where the first slice ends and the second starts)
    for key in [
        "-5", "0", "1", "159997", "159998", "159999", "249993", "300000", "320000",
    ] {
        assert_eq!(dump.matches(&format!("\n({key},")).count(), 1, "row {key}");
    }
    exec(
        &d,
        "DELETE FROM big WHERE id % 3 = 0; UPDATE big SET v = 'x'",
    )
    .await;
    assert_proven(&restore_yes(tmp.path(), "bk", &db.url, &[]), 1);
    assert_eq!(scalar(&d, "SELECT COUNT(*) FROM big").await, "250000");
    assert_eq!(
        scalar(&d, "SELECT v FROM big WHERE id = 249990").await,
        "r249990\n"
    );
    d.close().await;
}
