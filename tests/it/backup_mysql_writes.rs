//! A MariaDB backup stops writes only while the snapshots open, not for the whole
//! dump: a write made while the dump reads its rows goes through at once, and the
//! backup stays consistent (its restore proves every table, the one written to during
//! the backup included).

use crate::backup_roundtrip::{exec, restore_yes, scalar};
use crate::support;
use cutover::testkit;

#[tokio::test]
async fn writes_go_through_while_the_dump_reads_and_the_backup_stays_consistent() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(
        &d,
        "CREATE TABLE big (id INT PRIMARY KEY, s VARCHAR(100) NOT NULL);
         INSERT INTO big SELECT seq, REPEAT('x', 90) FROM seq_1_to_400000;
         CREATE TABLE w (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL);
         INSERT INTO w (n) VALUES (0);",
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut backup = support::command(dir, &["backup", "--target", &db.url, "--out", "bk"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // write until the backup ends; after each write, are `big`'s rows being read now
    // (by the dump, or by cutover writing them into the dump)?
    let (mut writes, mut while_reading) = (0, 0);
    while backup.try_wait().unwrap().is_none() {
        exec(&d, &format!("INSERT INTO w (n) VALUES ({writes})")).await;
        writes += 1;
        let reading = scalar(
            &d,
            "SELECT COUNT(*) FROM information_schema.processlist \
             WHERE (info LIKE '%SQL_NO_CACHE%FROM `big`%' OR info LIKE 'SELECT * FROM `big`%') \
             AND id <> CONNECTION_ID()",
        )
        .await;
        if reading != "0" {
            while_reading += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let out: support::Out = backup.wait_with_output().unwrap().into();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        while_reading > 0,
        "no write went through while the dump read rows ({writes} writes during the backup)"
    );
    let manifest = std::fs::read_to_string(dir.join("bk/manifest.json")).unwrap();
    assert!(manifest.contains("writes waited"), "{manifest}");

    // the rows written during the backup are in neither the dump nor the hashes, or in
    // both: the restore proves `w` as well as `big`
    exec(&d, "DELETE FROM w; DELETE FROM big WHERE id > 10").await;
    let o = restore_yes(dir, "bk", &db.url, &[]);
    crate::backup_roundtrip::assert_proven(&o, 2);
    d.close().await;
}
