//! Backups that must not be restored, and restores that must not go ahead: each is
//! refused naming the file or the object, exit 2, and the target is left as it was.

use crate::backup_roundtrip::{exec, run, scalar};
use crate::support;
use cutover::testkit;
use std::path::Path;

/// A SQLite database with two rows in `t`, backed up into `dir/bk`.
async fn sqlite_with_backup(dir: &Path) -> testkit::TestDb {
    let db = testkit::sqlite().await;
    let d = db.connect().await;
    exec(
        &d,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');",
    )
    .await;
    d.close().await;
    let o = run(dir, &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    db
}

/// Change the target after the backup, so a restore that went ahead would show.
async fn mark(db: &testkit::TestDb) {
    let d = db.connect().await;
    exec(&d, "UPDATE t SET v = 'changed' WHERE id = 1").await;
    d.close().await;
}

async fn untouched(db: &testkit::TestDb) {
    let d = db.connect().await;
    assert_eq!(
        scalar(&d, "SELECT v FROM t WHERE id = 1").await,
        "changed",
        "the target was touched"
    );
    d.close().await;
}

#[tokio::test]
async fn a_truncated_file_is_refused_naming_it_and_nothing_is_touched() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = pg.connect().await;
    exec(&d, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g;").await;
    let o = run(dir, &["backup", "--target", &pg.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let f = dir.join("bk/database.dump.zst");
    let len = std::fs::metadata(&f).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&f)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    exec(&d, "UPDATE t SET v = 'changed' WHERE id = 1").await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &pg.url, &[]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr.contains("bk/database.dump.zst") && o.stderr.contains("truncated"),
        "{}",
        o.stderr
    );
    assert_eq!(
        scalar(&d, "SELECT v FROM t WHERE id = 1").await,
        "changed",
        "the target was touched"
    );
    d.close().await;
}

#[tokio::test]
async fn a_changed_byte_in_a_file_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = sqlite_with_backup(dir).await;
    let f = dir.join("bk/database.db");
    let mut bytes = std::fs::read(&f).unwrap();
    let n = bytes.len() - 10;
    bytes[n] ^= 0xff;
    std::fs::write(&f, bytes).unwrap();
    mark(&db).await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr
            .contains("bk/database.db does not match its SHA-256"),
        "{}",
        o.stderr
    );
    untouched(&db).await;
}

#[tokio::test]
async fn a_missing_manifest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = sqlite_with_backup(dir).await;
    std::fs::remove_file(dir.join("bk/manifest.json")).unwrap();
    mark(&db).await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr.contains("bk/manifest.json is missing"),
        "{}",
        o.stderr
    );
    untouched(&db).await;
    let o = crate::backup_roundtrip::restore_yes(dir, "nothing-here", &db.url, &[]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr.contains("no backup at nothing-here"),
        "{}",
        o.stderr
    );
}

#[tokio::test]
async fn a_backup_of_another_engine_is_refused() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let _db = sqlite_with_backup(dir).await;
    let d = pg.connect().await;
    exec(
        &d,
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'changed');",
    )
    .await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &pg.url, &[]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr.contains("is a backup of a SQLite database") && o.stderr.contains("is PostgreSQL"),
        "{}",
        o.stderr
    );
    assert_eq!(scalar(&d, "SELECT v FROM t WHERE id = 1").await, "changed");
    d.close().await;
}

#[tokio::test]
async fn extra_tables_in_the_target_are_named_and_kept_unless_drop_extra() {
    let Some(my) = testkit::mysql().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = my.connect().await;
    exec(
        &d,
        "CREATE TABLE t (id int PRIMARY KEY, v varchar(10)); INSERT INTO t VALUES (1, 'a');",
    )
    .await;
    let o = run(dir, &["backup", "--target", &my.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    exec(
        &d,
        "CREATE TABLE newer (x int); INSERT INTO newer VALUES (7);",
    )
    .await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &my.url, &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout.contains("1 table(s) not in the backup kept") && o.stdout.contains("newer"),
        "{}",
        o.stdout
    );
    assert_eq!(scalar(&d, "SELECT x FROM newer").await, "7", "kept");
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &my.url, &["--drop-extra"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout.contains("not in the backup dropped: newer"),
        "{}",
        o.stdout
    );
    let n = scalar(&d, "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'newer'").await;
    assert_eq!(n, "0", "dropped when asked");
    d.close().await;
}

#[tokio::test]
async fn kill_9_during_backup_leaves_a_backup_restore_refuses_and_a_rerun_completes() {
    for point in ["backup:before-manifest", "backup:before-complete"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let db = testkit::sqlite().await;
        let d = db.connect().await;
        exec(
            &d,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');",
        )
        .await;
        d.close().await;
        let o = support::cutover_env(
            dir,
            &["backup", "--target", &db.url, "--out", "bk"],
            &[("CUTOVER_CRASH_AT", point)],
        );
        assert_eq!(
            o.code,
            -1,
            "{point}: killed by SIGKILL, so no exit code: {}",
            o.all()
        );
        assert!(dir.join("bk").exists() && !dir.join("bk/COMPLETE").exists());
        mark_v(&db).await;
        let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
        assert_eq!(o.code, 2, "{point}: {}", o.all());
        assert!(o.stderr.contains("interrupted"), "{point}: {}", o.stderr);
        let d = db.connect().await;
        assert_eq!(
            scalar(&d, "SELECT v FROM t").await,
            "changed",
            "{point}: untouched"
        );
        d.close().await;
        // the same command again completes the backup
        let o = run(dir, &["backup", "--target", &db.url, "--out", "bk"]);
        assert_eq!(o.code, 0, "{point}: {}", o.all());
        assert!(
            o.stdout.contains("clearing an interrupted backup"),
            "{}",
            o.stdout
        );
        let o = crate::backup_roundtrip::restore_yes(dir, "bk", &db.url, &[]);
        assert_eq!(o.code, 0, "{point}: {}", o.all());
    }
}

async fn mark_v(db: &testkit::TestDb) {
    let d = db.connect().await;
    exec(&d, "UPDATE t SET v = 'changed'").await;
    d.close().await;
}

#[tokio::test]
async fn an_existing_backup_or_foreign_directory_is_never_written_into() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = sqlite_with_backup(dir).await;
    let before = std::fs::read(dir.join("bk/manifest.json")).unwrap();
    let o = run(dir, &["backup", "--target", &db.url, "--out", "bk"]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr.contains("already holds a complete backup"),
        "{}",
        o.stderr
    );
    assert_eq!(std::fs::read(dir.join("bk/manifest.json")).unwrap(), before);
    std::fs::create_dir(dir.join("mine")).unwrap();
    std::fs::write(dir.join("mine/notes.txt"), "keep").unwrap();
    let o = run(dir, &["backup", "--target", &db.url, "--out", "mine"]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(o.stderr.contains("is not empty"), "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("mine/notes.txt")).unwrap(),
        "keep"
    );
}

#[tokio::test]
async fn restore_without_a_terminal_requires_yes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = sqlite_with_backup(dir).await;
    mark(&db).await;
    let o = run(dir, &["restore", "--from", "bk", "--target", &db.url]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(o.stderr.contains("pass --yes"), "{}", o.stderr);
    untouched(&db).await;
}

#[tokio::test]
async fn a_missing_dump_tool_is_refused_clearly() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let o = support::cutover_env(
        tmp.path(),
        &["backup", "--target", &pg.url, "--out", "bk"],
        &[("PATH", "/nonexistent")],
    );
    assert_eq!(o.code, 3, "{}", o.all());
    assert!(
        o.stderr.contains("pg_dump is not installed"),
        "{}",
        o.stderr
    );
    assert!(
        o.stdout.contains("NOT FOUND on PATH"),
        "the plan says so first: {}",
        o.stdout
    );
}

#[tokio::test]
async fn single_tables_from_a_whole_postgres_backup_are_refused_not_half_restored() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = pg.connect().await;
    exec(
        &d,
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');",
    )
    .await;
    let o = run(dir, &["backup", "--target", &pg.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    exec(&d, "UPDATE t SET v = 'changed'").await;
    let o = run(
        dir,
        &[
            "restore", "--from", "bk", "--target", &pg.url, "--tables", "t", "--yes",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr.contains("whole-database backup") && o.stderr.contains("--tables"),
        "{}",
        o.stderr
    );
    assert_eq!(scalar(&d, "SELECT v FROM t").await, "changed");
    d.close().await;
}

/// A directory holding `prog`, a stand-in that answers `--version` with `version` and
/// fails if anything else is asked of it.
fn old_tool(dir: &Path, prog: &str, version: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("old-tools");
    std::fs::create_dir_all(&bin).unwrap();
    let p = bin.join(prog);
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo '{version}'; exit 0; fi\necho 'this stand-in dumps nothing' >&2; exit 9\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[tokio::test]
async fn a_dump_tool_older_than_the_server_is_refused_before_it_runs() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = old_tool(tmp.path(), "pg_dump", "pg_dump (PostgreSQL) 9.6.24");
    let o = support::cutover_env(
        tmp.path(),
        &["backup", "--target", &pg.url, "--out", "bk"],
        &[("PATH", &path)],
    );
    assert_eq!(o.code, 3, "{}", o.all());
    assert!(
        o.stderr
            .contains("pg_dump 9.6 is older than the server (PostgreSQL 1"),
        "{}",
        o.stderr
    );
    assert!(
        !o.all().contains("this stand-in dumps nothing"),
        "refused before the tool was asked to dump: {}",
        o.all()
    );
    assert!(!tmp.path().join("bk/COMPLETE").exists());
}

#[tokio::test]
async fn a_mariadb_dump_older_than_the_server_is_refused_before_it_runs() {
    let Some(my) = testkit::mysql().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = old_tool(
        tmp.path(),
        "mariadb-dump",
        "mariadb-dump  Ver 10.19 Distrib 10.1.48-MariaDB, for debian-linux-gnu (x86_64)",
    );
    let o = support::cutover_env(
        tmp.path(),
        &["backup", "--target", &my.url, "--out", "bk"],
        &[("PATH", &path)],
    );
    assert_eq!(o.code, 3, "{}", o.all());
    assert!(
        o.stderr
            .contains("mariadb-dump 10.1 is older than the server"),
        "{}",
        o.stderr
    );
    assert!(
        !o.all().contains("this stand-in dumps nothing"),
        "{}",
        o.all()
    );
    assert!(!tmp.path().join("bk/COMPLETE").exists());
}
