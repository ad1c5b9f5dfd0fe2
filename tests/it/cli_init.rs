//! `cutover init` (issue 14, item 4): a new runbook that validates clean on each engine,
//! whose commented steps are real steps, that runs end to end on SQLite, and that is
//! never written over an existing directory.

use crate::support::cutover;
use std::path::Path;

fn init(dir: &Path, args: &[&str]) -> crate::support::Out {
    let mut a = vec!["init"];
    a.extend_from_slice(args);
    cutover(dir, &a)
}

#[test]
fn init_validates_clean_on_every_engine_and_ignores_the_ledger_and_backups() {
    let tmp = tempfile::tempdir().unwrap();
    for (engine, url) in [
        ("sqlite", None),
        ("postgres", Some("postgres://app@db.example/app")),
        ("mysql", Some("mysql://app@db.example/app")),
    ] {
        let dir = format!("new-{engine}");
        let out = init(tmp.path(), &[&dir, "--engine", engine]);
        assert_eq!(out.code, 0, "{engine}: {}", out.all());
        let runbook = format!("{dir}/cutover.toml");
        let mut args = vec!["validate", runbook.as_str()];
        let (s, p);
        if let Some(u) = url {
            s = format!("staging={u}");
            p = format!("production={u}2");
            args.extend(["--target", &s, "--target", &p]);
        }
        let out = cutover(tmp.path(), &args);
        assert_eq!(out.code, 0, "{engine}: {}", out.all());
        assert!(
            out.stdout.contains(&format!("runbook \"new-{engine}\"")),
            "{}",
            out.stdout
        );
        for kind in [
            "backup",
            "diff-schema",
            "checkpoint",
            "migrate",
            "check",
            "restore",
        ] {
            assert!(
                out.stdout.contains(kind),
                "{engine}: no {kind} step\n{}",
                out.stdout
            );
        }
        let ignore = std::fs::read_to_string(tmp.path().join(&dir).join(".gitignore")).unwrap();
        assert!(
            ignore.lines().any(|l| l == ".cutover/") && ignore.lines().any(|l| l == "backups/")
        );
    }
}

#[test]
fn the_commented_steps_are_real_steps_once_uncommented() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(init(tmp.path(), &["rb"]).code, 0);
    let path = tmp.path().join("rb/cutover.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Uncomment every commented-out step table (lines "  # key = ..." after a
    // "  # [[phases.steps]]"), leaving prose comments alone.
    let mut out = String::new();
    let mut in_step = false;
    let mut uncommented = 0;
    for line in text.lines() {
        let t = line.trim_start();
        if t == "# [[phases.steps]]" {
            in_step = true;
            uncommented += 1;
        } else if !t.starts_with('#') || t == "#" {
            in_step = false;
        }
        if in_step {
            out.push_str(&line.replacen("# ", "", 1));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert!(uncommented >= 14, "{uncommented} commented steps");
    std::fs::write(&path, out).unwrap();
    std::fs::create_dir_all(tmp.path().join("rb/sql")).unwrap();
    std::fs::write(tmp.path().join("rb/sql/fix_data.sql"), "SELECT 1;\n").unwrap();
    std::fs::create_dir_all(tmp.path().join("rb/data")).unwrap();
    std::fs::write(tmp.path().join("rb/data/prices.csv"), "id,price\n").unwrap();
    let v = cutover(tmp.path(), &["validate", "rb/cutover.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    for kind in [
        "sql",
        "copy",
        "sync",
        "diff-data",
        "snapshot",
        "drift-check",
    ] {
        assert!(
            v.stdout.contains(&format!(" {kind} ")),
            "no {kind} step:\n{}",
            v.stdout
        );
    }
}

#[tokio::test]
async fn the_sqlite_scaffold_runs_to_completion_and_its_check_passes() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(init(tmp.path(), &["rb"]).code, 0);
    // Staging has the example table (as the migration will create it); production is empty.
    let staging = tmp.path().join("rb/staging.db");
    std::fs::File::create(&staging).unwrap();
    let db = cutover::db::connect(&format!("sqlite://{}", staging.display()))
        .await
        .unwrap();
    let migration =
        std::fs::read_to_string(tmp.path().join("rb/migrations/V1__example.sql")).unwrap();
    let code: Vec<&str> = migration
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect();
    for stmt in code.join("\n").split(';').filter(|s| !s.trim().is_empty()) {
        db.execute(stmt).await.unwrap();
    }
    db.close().await;
    let production = tmp.path().join("rb/production.db");
    std::fs::File::create(&production).unwrap();
    let out = cutover(
        tmp.path(),
        &[
            "run",
            "rb/cutover.toml",
            "--headless",
            "--approve-as",
            "dana:dba",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("example-has-rows"), "{}", out.stdout);
    let st = cutover(
        tmp.path(),
        &["status", "rb/cutover.toml", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(v["status"], "completed", "{v:#}");
}

#[test]
fn init_never_writes_over_an_existing_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("taken");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cutover.toml"), "mine").unwrap();
    let out = init(tmp.path(), &["taken"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("not empty"), "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(dir.join("cutover.toml")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}
