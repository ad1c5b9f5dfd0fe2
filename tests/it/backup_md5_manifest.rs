//! A MySQL/MariaDB backup hashed with MD5 (a server without CRC32C, or a backup written
//! before the method was named) is proven with MD5 by a restore on a server that would
//! pick the CRC pair today: equal table by table, and a table whose content differs
//! from the manifest is named.

use crate::backup_roundtrip::{exec, scalar};
use crate::support;
use cutover::testkit;
use std::path::Path;

const FIXTURE: &str =
    "CREATE TABLE t1 (id int PRIMARY KEY, f float, note varchar(20), b varbinary(8));
CREATE TABLE t2 (id int PRIMARY KEY, v decimal(10,2));
INSERT INTO t1 VALUES (1, 1.5, 'a|b', 0x00ff), (2, NULL, '', NULL), (3, 0.1, 'N', X'');
INSERT INTO t2 VALUES (1, 1.50), (2, -7.00);";

fn backup_md5(dir: &Path, url: &str, out: &str) {
    let o = support::cutover_env(
        dir,
        &["backup", "--target", url, "--out", out],
        &[("CUTOVER_TEST_MYSQL_HASH", "md5")],
    );
    assert_eq!(o.code, 0, "{}", o.all());
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Rewrite the manifest and seal it again, as a backup written that way would be.
pub(crate) fn reseal(dir: &Path, m: &serde_json::Value) {
    let old = std::fs::read(dir.join("manifest.json")).unwrap();
    let mut text = serde_json::to_string_pretty(m).unwrap();
    text.push('\n');
    std::fs::write(dir.join("manifest.json"), &text).unwrap();
    let sha = |b: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b));
    let complete = std::fs::read_to_string(dir.join("COMPLETE")).unwrap();
    std::fs::write(
        dir.join("COMPLETE"),
        complete.replace(&sha(&old), &sha(text.as_bytes())),
    )
    .unwrap();
}

/// Record `file`'s present bytes in the manifest of the backup in `dir`, as if the
/// backup had written them, and re-seal it.
pub(crate) fn reseal_file(dir: &Path, file: &str) {
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    m["files"][file] = serde_json::json!({
        "bytes": bytes.len(),
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
    });
    reseal(dir, &m);
}

fn restore(dir: &Path, url: &str, from: &str) -> support::Out {
    // no CUTOVER_TEST_MYSQL_HASH: this MariaDB would hash with the CRC pair
    crate::backup_roundtrip::restore_yes(dir, from, url, &[])
}

#[tokio::test]
async fn an_md5_manifest_is_proven_with_md5_and_a_differing_table_is_named() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(&d, FIXTURE).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    backup_md5(dir, &db.url, "bk");
    let m = manifest(&dir.join("bk"));
    for t in ["t1", "t2"] {
        let h = m["tables"][t]["hash"].as_str().unwrap();
        assert!(h.starts_with("md5-64:"), "{t}: {h}");
    }

    // the database moves on; the restore brings it back and proves it with MD5
    exec(
        &d,
        "UPDATE t1 SET note = 'changed' WHERE id = 1; DELETE FROM t2 WHERE id = 2",
    )
    .await;
    let o = restore(dir, &db.url, "bk");
    crate::backup_roundtrip::assert_proven(&o, 2);
    for t in ["t1", "t2"] {
        let h = m["tables"][t]["hash"].as_str().unwrap();
        assert!(
            o.stdout.contains(&format!("✓ {t}: "))
                && o.stdout.contains(&format!("content hash {h} (backup {h})")),
            "{t} proven with its MD5: {}",
            o.stdout
        );
    }
    assert_eq!(scalar(&d, "SELECT note FROM t1 WHERE id = 1").await, "a|b");

    // one row of t1 differs from what a second backup recorded: the MD5 sees it
    exec(&d, "UPDATE t1 SET b = 0x00fe WHERE id = 1").await;
    backup_md5(dir, &db.url, "bk2");
    let m2 = manifest(&dir.join("bk2"));
    assert_ne!(m2["tables"]["t1"]["hash"], m["tables"]["t1"]["hash"]);
    assert_eq!(m2["tables"]["t2"]["hash"], m["tables"]["t2"]["hash"]);
    // a backup whose manifest recorded that row, but whose data holds the old one
    let mut forged = m.clone();
    forged["tables"]["t1"] = m2["tables"]["t1"].clone();
    reseal(&dir.join("bk"), &forged);
    let o = restore(dir, &db.url, "bk");
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stdout.contains(
            "restored tables do not match the backup: t1 has different content (same 3 rows)"
        ) && o.stdout.contains("✓ t2: ")
            && o.stdout.contains("✗ t1: "),
        "{}",
        o.stdout
    );
    d.close().await;
}

#[tokio::test]
async fn a_manifest_from_before_the_hash_method_was_named_is_proven_with_its_md5() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let d = db.connect().await;
    exec(&d, FIXTURE).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = support::cutover(dir, &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    // the hashes as backups before the CRC pair recorded them: one MD5 a row over
    // 'V<length>:<text>' or 'N', fields joined by '|', the sums as a bare number
    let old = |cols: &str, t: &str| {
        let fields: Vec<String> = cols
            .split(',')
            .map(|c| format!("COALESCE(CONCAT('V', LENGTH(`{c}`), ':', `{c}`), 'N')"))
            .collect();
        format!(
            "SELECT CAST(COALESCE(SUM(CAST(CONV(SUBSTRING(MD5(CONCAT({})), 1, 16), 16, 10) AS UNSIGNED)), 0) AS CHAR) FROM {t}",
            fields.join(", '|', ")
        )
    };
    let mut m = manifest(&dir.join("bk"));
    let h1 = scalar(&d, &old("id,f,note,b", "t1")).await;
    let h2 = scalar(&d, &old("id,v", "t2")).await;
    m["tables"]["t1"]["hash"] = h1.clone().into();
    m["tables"]["t2"]["hash"] = h2.clone().into();
    reseal(&dir.join("bk"), &m);
    exec(&d, "DELETE FROM t1").await;
    let o = restore(dir, &db.url, "bk");
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("2 of 2 table(s) proven equal to the backup")
            && o.stdout
                .contains(&format!("content hash {h1} (backup {h1})")),
        "{}",
        o.stdout
    );
    d.close().await;
}

/// A PostgreSQL backup records `rec64:` hashes (each row's columns hashed as their own
/// types); one whose manifest holds bare numbers (each row's text hashed, as backups
/// before that recorded, and as a server before 14 does) is proven with that method,
/// and a table whose content differs from it is named.
#[tokio::test]
async fn a_postgres_manifest_of_row_text_hashes_is_proven_with_them() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let d = db.connect().await;
    exec(
        &d,
        "CREATE TABLE t1 (id int PRIMARY KEY, f real, note text, b bytea, at timestamptz);
         CREATE TABLE t2 (id int PRIMARY KEY, v numeric(10,2));
         INSERT INTO t1 VALUES (1, 1.5, 'a,b', '\\x00ff', '2024-01-01 10:00:00+02'), (2, NULL, '', NULL, NULL);
         INSERT INTO t2 VALUES (1, 1.50), (2, -7.00);",
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = support::cutover(dir, &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let mut m = manifest(&dir.join("bk"));
    let key = |t: &str| format!("public.{t}");
    for t in ["t1", "t2"] {
        let h = m["tables"][key(t)]["hash"].as_str().unwrap();
        assert!(h.starts_with("rec64:"), "{t}: {h}");
    }
    // the hashes as the row-text method takes them, in the backup's settings (the
    // database's defaults, for a new connection)
    let name = db.url.rsplit('/').next().unwrap().to_string();
    for set in [
        "TimeZone = 'UTC'",
        "DateStyle = 'ISO, YMD'",
        "IntervalStyle = 'postgres'",
        "extra_float_digits = 3",
        "bytea_output = 'hex'",
    ] {
        exec(&d, &format!("ALTER DATABASE \"{name}\" SET {set}")).await;
    }
    let fresh = db.connect().await;
    let old = |t: &str| {
        format!("SELECT coalesce(sum(hashtextextended(r::text, 0)), 0)::text FROM {t} AS r")
    };
    let h1 = scalar(&fresh, &old("t1")).await;
    let h2 = scalar(&fresh, &old("t2")).await;
    fresh.close().await;
    m["tables"][key("t1")]["hash"] = h1.clone().into();
    m["tables"][key("t2")]["hash"] = h2.clone().into();
    reseal(&dir.join("bk"), &m);

    exec(&d, "UPDATE t1 SET note = 'changed' WHERE id = 1").await;
    let o = restore(dir, &db.url, "bk");
    assert_eq!(o.code, 0, "{}", o.all());
    for h in [&h1, &h2] {
        assert!(
            o.stdout.contains(&format!("content hash {h} (backup {h})")),
            "proven with the row-text hash {h}: {}",
            o.stdout
        );
    }
    assert_eq!(scalar(&d, "SELECT note FROM t1 WHERE id = 1").await, "a,b");

    // a manifest recording other content for t1 than its data holds: t1 is named
    let mut forged = m.clone();
    forged["tables"][key("t1")]["hash"] = "12345".into();
    reseal(&dir.join("bk"), &forged);
    let o = restore(dir, &db.url, "bk");
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stdout.contains("t1 has different content") && o.stdout.contains("✗ public.t1: "),
        "{}",
        o.stdout
    );
    d.close().await;
}
