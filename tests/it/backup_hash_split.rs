//! A large MariaDB table is hashed in two halves of its primary key, one on each of the
//! backup's two connections. The hash is the one a single scan of the whole table gives
//! (`crc32+crc32c`, as older backups recorded it: they stay provable), a change in
//! either half is seen, and a restore proves the table with the same halves.

use crate::backup_roundtrip::{exec, run, scalar};
use cutover::testkit;
use std::path::Path;

fn manifest_hash(dir: &Path, name: &str) -> (u64, String) {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(name).join("manifest.json")).unwrap())
            .unwrap();
    let t = &m["tables"]["big"];
    (
        t["rows"].as_u64().unwrap(),
        t["hash"].as_str().unwrap().to_string(),
    )
}

/// Asserts the server estimates `table` large enough for a backup to hash it in two
/// halves of its key.
pub(crate) async fn assert_split_size(d: &cutover::db::Db, table: &str) {
    let estimate: u64 = scalar(
        d,
        &format!(
            "SELECT CAST(table_rows AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'"
        ),
    )
    .await
    .parse()
    .unwrap();
    assert!(
        estimate >= 100_000,
        "estimate {estimate}: too small to be split"
    );
}

fn backup(dir: &Path, url: &str, name: &str) -> (u64, String) {
    let o = run(dir, &["backup", "--target", url, "--out", name]);
    assert_eq!(o.code, 0, "{}", o.all());
    manifest_hash(dir, name)
}

#[tokio::test]
async fn a_split_table_hashes_as_one_scan_and_sees_a_change_in_either_half() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(
        &d,
        "CREATE TABLE big (id bigint PRIMARY KEY, s varchar(40) NULL, d decimal(10,2) NOT NULL) ENGINE=InnoDB;
         INSERT INTO big SELECT seq, IF(seq % 7 = 0, NULL, md5(seq)), seq / 100 FROM seq_1_to_120000;
         ANALYZE TABLE big",
    )
    .await;
    // large enough (by the server's estimate) to be hashed in two halves
    assert_split_size(&d, "big").await;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (rows, hash) = backup(dir, &db.url, "bk");
    assert_eq!(rows, 120_000);
    // the same as one scan of the whole table, each CRC summed by itself
    let row =
        "CONCAT(`id`, '|', COALESCE(CONCAT(LENGTH(`s`), ':', CAST(`s` AS BINARY)), 'N'), '|', `d`)";
    let whole = |crc: &str| format!("SELECT CAST(SUM({crc}({row})) AS CHAR) FROM big");
    let expected = format!(
        "crc32+crc32c:{}:{}",
        scalar(&d, &whole("CRC32")).await,
        scalar(&d, &whole("CRC32C")).await
    );
    assert_eq!(hash, expected);

    // one changed row in the lower half, then one in the upper half: both are seen
    exec(&d, "UPDATE big SET s = 'x' WHERE id = 10").await;
    let (_, low) = backup(dir, &db.url, "low");
    assert_ne!(low, hash, "a change in the lower half was not seen");
    exec(
        &d,
        "UPDATE big SET s = md5(10) WHERE id = 10; UPDATE big SET d = 0 WHERE id = 119990",
    )
    .await;
    let (_, high) = backup(dir, &db.url, "high");
    assert_ne!(high, hash, "a change in the upper half was not seen");
    assert_ne!(high, low);

    // the restore brings back the first backup and proves it, halves and all
    exec(&d, "DELETE FROM big WHERE id > 60000").await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("1 of 1 table(s) proven equal to the backup")
            && o.stdout
                .contains(&format!("content hash {hash} (backup {hash})")),
        "{}",
        o.stdout
    );
    assert_eq!(
        scalar(&d, "SELECT CAST(d AS CHAR) FROM big WHERE id = 119990").await,
        "1199.90"
    );
    d.close().await;
}
