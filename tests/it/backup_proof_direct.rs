//! The restore's proof function itself (`BackupEngine::content_hashes`), called on a
//! table that differs from the manifest: a change is never hidden by the way the proof
//! is computed (MariaDB's CRC pair building each row's text once, over two halves of a
//! large table), and on the unchanged table the proof gives the manifest's hash.

use crate::backup_hash_split::assert_split_size;
use crate::backup_roundtrip::{exec, run, scalar};
use cutover::db::backup::TableHash;
use cutover::testkit;
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) fn manifest_tables(dir: &Path) -> BTreeMap<String, TableHash> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    serde_json::from_value(m["tables"].clone()).unwrap()
}

/// The restore's proof of `tables` on `url`, each with the method `recorded` names.
pub(crate) async fn proofs(
    url: &str,
    tables: &[&str],
    recorded: &BTreeMap<String, TableHash>,
) -> BTreeMap<String, TableHash> {
    let engine = cutover::db::dialect_of(url).unwrap().sql().backup();
    let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    engine
        .content_hashes(url, url, &tables, recorded)
        .await
        .unwrap()
}

async fn proof(url: &str, table: &str, recorded: &BTreeMap<String, TableHash>) -> TableHash {
    let mut now = proofs(url, &[table], recorded).await;
    now.remove(table).expect("the table is proven")
}

#[tokio::test]
async fn mariadb_proof_sees_a_changed_row_in_either_half_with_the_crc_pair() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    // large enough (by the server's estimate) to be hashed in two halves of its key
    exec(
        &d,
        "CREATE TABLE big (id bigint PRIMARY KEY, s varchar(40) NULL, ts timestamp(6) NULL, d decimal(10,2) NOT NULL) ENGINE=InnoDB;
         INSERT INTO big SELECT seq, IF(seq % 7 = 0, NULL, md5(seq)), IF(seq % 5 = 0, NULL, TIMESTAMPADD(MICROSECOND, seq, '2024-01-01')), seq / 100 FROM seq_1_to_120000;
         ANALYZE TABLE big",
    )
    .await;
    assert_split_size(&d, "big").await;
    let tmp = tempfile::tempdir().unwrap();
    let o = run(tmp.path(), &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let recorded = manifest_tables(&tmp.path().join("bk"));
    let want = recorded["big"].clone();
    assert_eq!(want.rows, 120_000);
    assert!(want.hash.starts_with("crc32+crc32c:"), "{}", want.hash);
    assert_eq!(proof(&db.url, "big", &recorded).await, want);

    // each CRC summed by itself over the whole table, with the row text written out
    // twice: what the pair must give whatever order the server evaluates it in
    let row = "CONCAT(`id`, '|', COALESCE(CONCAT(LENGTH(`s`), ':', CAST(`s` AS BINARY)), 'N'), '|', COALESCE(`ts`, 'N'), '|', `d`)";
    let separately = async |crc: &str| {
        scalar(
            &d,
            &format!("SELECT CAST(SUM({crc}({row})) AS CHAR) FROM big"),
        )
        .await
    };
    for change in [
        "UPDATE big SET s = 'x' WHERE id = 10",
        "UPDATE big SET ts = NULL WHERE id = 119990",
        "UPDATE big SET d = d + 0.01 WHERE id = 60001",
    ] {
        exec(&d, change).await;
        let got = proof(&db.url, "big", &recorded).await;
        assert_eq!(got.rows, 120_000);
        assert_ne!(got.hash, want.hash, "not seen: {change}");
        let expected = format!(
            "crc32+crc32c:{}:{}",
            separately("CRC32").await,
            separately("CRC32C").await
        );
        assert_eq!(got.hash, expected, "after {change}");
    }
    d.close().await;
}
