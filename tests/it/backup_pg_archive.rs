//! The form of a whole PostgreSQL database's archive: `database.dump.zst` (`pg_dump
//! -Fc -Z0` compressed by cutover with zstd, manifest version 2) round-trips, and a
//! backup of manifest version 1 (`database.dump`, pg_dump's own gzip) still restores.

use crate::backup_roundtrip::{exec, run, scalar};
use cutover::testkit;
use sha2::Digest;
use std::path::Path;

const FIXTURE: &str = "CREATE TABLE t (id int PRIMARY KEY, v text, n numeric(10,2));
INSERT INTO t SELECT g, 'v' || g, g / 7.0 FROM generate_series(1, 3000) g;
CREATE VIEW tv AS SELECT id FROM t WHERE id < 10;";

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("bk/manifest.json")).unwrap()).unwrap()
}

/// Rewrite `bk` as the previous release wrote a whole PostgreSQL backup: `pg_dump
/// -Fc` into `database.dump`, manifest version 1 listing it, sealed again.
fn as_version_1(dir: &Path, url: &str) {
    let bk = dir.join("bk");
    let st = std::process::Command::new("pg_dump")
        .arg(format!("--dbname={url}"))
        .arg("-Fc")
        .arg("-f")
        .arg(bk.join("database.dump"))
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::remove_file(bk.join("database.dump.zst")).unwrap();
    let bytes = std::fs::read(bk.join("database.dump")).unwrap();
    let mut m = manifest(dir);
    m["version"] = 1.into();
    m["tool"] = "pg_dump 15 -Fc".into();
    let files = m["files"].as_object_mut().unwrap();
    files.remove("database.dump.zst");
    files.insert(
        "database.dump".into(),
        serde_json::json!({"bytes": bytes.len(), "sha256": hex::encode(sha2::Sha256::digest(&bytes))}),
    );
    let mut text = serde_json::to_string_pretty(&m).unwrap();
    text.push('\n');
    std::fs::write(bk.join("manifest.json"), &text).unwrap();
    let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    std::fs::write(
        bk.join("COMPLETE"),
        format!("cutover-backup complete\nmanifest sha256 {sha}\n"),
    )
    .unwrap();
}

/// Back up, damage (rows changed, a table dropped), restore and check every row is
/// back; then a view made after the backup is refused by name (the archive's table of
/// contents read with `pg_restore -l`) until `--drop-extra`.
async fn backup_damage_restore(v1: bool) {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = pg.connect().await;
    exec(&d, FIXTURE).await;
    let before = scalar(
        &d,
        "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t",
    )
    .await;
    let o = run(dir, &["backup", "--target", &pg.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let m = manifest(dir);
    assert_eq!(m["version"], 2);
    assert!(
        m["files"].get("database.dump.zst").is_some() && m["files"].get("database.dump").is_none(),
        "the archive is pg_dump's custom format compressed by cutover: {m}"
    );
    // the file is zstd (its magic number), and inside it a pg_dump custom archive
    let zst = std::fs::read(dir.join("bk/database.dump.zst")).unwrap();
    assert_eq!(&zst[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
    assert_eq!(&zstd::decode_all(&zst[..]).unwrap()[..5], b"PGDMP");
    if v1 {
        as_version_1(dir, &pg.url);
    }

    exec(&d, "UPDATE t SET v = 'changed' WHERE id % 3 = 0; DELETE FROM t WHERE id > 2900; DROP VIEW tv; CREATE VIEW later AS SELECT 1 AS one;").await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &pg.url, &[]);
    assert_eq!(
        o.code,
        2,
        "a view made after the backup must be refused:\n{}",
        o.all()
    );
    assert!(o.stderr.contains("view public.later"), "{}", o.stderr);
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM t").await,
        "2900",
        "the target was touched"
    );

    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &pg.url, &["--drop-extra"]);
    crate::backup_roundtrip::assert_proven(&o, 1);
    assert_eq!(
        scalar(
            &d,
            "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t"
        )
        .await,
        before
    );
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM tv").await,
        "9",
        "view back"
    );
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM pg_views WHERE viewname = 'later'").await,
        "0"
    );
    d.close().await;
}

#[tokio::test]
async fn a_zstd_archive_backup_round_trips() {
    backup_damage_restore(false).await;
}

#[tokio::test]
async fn a_version_1_backup_with_pg_dumps_own_archive_still_restores() {
    backup_damage_restore(true).await;
}

/// A damaged compressed archive whose SHA-256 was (wrongly) recorded as is: pg_restore
/// refuses it (its rows now being in files of their own, the archive is small and its
/// cut is found by the look before the restore; a cut inside rows that stay in the
/// archive is `backup_pg_rows`' test), and the database is as it was.
#[tokio::test]
async fn a_corrupt_zstd_archive_fails_inside_the_transaction() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = pg.connect().await;
    exec(&d, FIXTURE).await;
    let o = run(dir, &["backup", "--target", &pg.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    // cut the compressed archive after its first frame's start: pg_restore gets the
    // table of contents and part of the data, then the end of its input
    let f = dir.join("bk/database.dump.zst");
    let bytes = std::fs::read(&f).unwrap();
    let cut = &bytes[..bytes.len() * 2 / 3];
    std::fs::write(&f, cut).unwrap();
    let mut m = manifest(dir);
    m["files"]["database.dump.zst"] =
        serde_json::json!({"bytes": cut.len(), "sha256": hex::encode(sha2::Sha256::digest(cut))});
    let mut text = serde_json::to_string_pretty(&m).unwrap();
    text.push('\n');
    std::fs::write(dir.join("bk/manifest.json"), &text).unwrap();
    let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    std::fs::write(
        dir.join("bk/COMPLETE"),
        format!("cutover-backup complete\nmanifest sha256 {sha}\n"),
    )
    .unwrap();
    exec(&d, "UPDATE t SET v = 'changed' WHERE id = 1").await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &pg.url, &[]);
    assert_ne!(o.code, 0, "{}", o.all());
    // pg_restore's own message says why (its look at the archive's contents, or the
    // restore's script, stopped short)
    assert!(
        o.stderr.contains("pg_restore") && o.stderr.contains("failed"),
        "{}",
        o.stderr
    );
    assert_eq!(scalar(&d, "SELECT v FROM t WHERE id = 1").await, "changed");
    assert_eq!(scalar(&d, "SELECT count(*) FROM t").await, "3000");
    d.close().await;
}

/// A damaged archive (its bytes no longer the manifest's) is refused by its SHA-256,
/// even though the look at the target that runs beside that check would refuse too
/// (a view made after the backup, and `pg_restore -l` on a broken file): the damage is
/// what is said, and nothing is touched.
#[tokio::test]
async fn a_damaged_archive_is_refused_by_its_checksum_before_anything_else() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = pg.connect().await;
    exec(&d, FIXTURE).await;
    let o = run(dir, &["backup", "--target", &pg.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    // the zstd frame's header overwritten: nothing in the file decompresses
    let f = dir.join("bk/database.dump.zst");
    let mut bytes = std::fs::read(&f).unwrap();
    bytes[..16].fill(0xff);
    std::fs::write(&f, &bytes).unwrap();
    exec(
        &d,
        "UPDATE t SET v = 'changed' WHERE id = 1; CREATE VIEW later AS SELECT 1 AS one;",
    )
    .await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &pg.url, &["--drop-extra"]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr
            .contains("does not match its SHA-256 in the manifest"),
        "{}",
        o.all()
    );
    assert_eq!(scalar(&d, "SELECT v FROM t WHERE id = 1").await, "changed");
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM pg_views WHERE viewname = 'later'").await,
        "1",
        "the view made after the backup was dropped"
    );
    d.close().await;
}
