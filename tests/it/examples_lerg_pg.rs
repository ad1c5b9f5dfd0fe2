//! The LERG demo's runbook against PostgreSQL, its targets given on the command line
//! (`--target NAME=URL`): the demo's data loaded into fresh databases, the run to
//! completion with its five owners' approvals and QA's checklist, then the three
//! rollback levels, each ending with a data diff against the pre-cutover database.

use super::support::*;
use cutover::testkit;
use std::path::Path;

/// A password the local server ignores (trust authentication): it must never show.
const SECRET: &str = "w8-s3cret-pw";

fn with_password(url: &str) -> String {
    url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{SECRET}@"),
        1,
    )
}

/// `cutover diff data` of one table; exit 0 means equal.
fn diff_table(ws: &Path, source: &str, target: &str, table: &str) -> Out {
    cutover(
        ws,
        &[
            "diff", "data", "--source", source, "--target", target, "--table", table,
        ],
    )
}

async fn pg_scalar(url: &str, sql: &str) -> String {
    let db = cutover::db::connect(url).await.unwrap();
    let r = db.query(sql, &[]).await.unwrap();
    db.close().await;
    r.scalar().map(|v| v.to_string()).unwrap_or_default()
}

fn copy_in(ws: &Path, file: &str, to: &str, tables: &str) {
    let from = format!("sqlite://{}", ws.join(file).display());
    let o = cutover(
        ws,
        &[
            "copy", "--from", &from, "--to", to, "--tables", tables, "--create",
        ],
    );
    assert_eq!(o.code, 0, "load {file}: {}", o.all());
}

#[tokio::test]
async fn the_demo_runbook_runs_on_postgres_with_targets_overridden_and_rolls_back_three_ways() {
    let Some(staging) = testkit::postgres().await else {
        return;
    };
    let Some(prod) = testkit::postgres().await else {
        return;
    };
    let Some(before) = testkit::postgres().await else {
        return;
    };
    let (_tmp, ws) = demo_workspace();
    copy_in(&ws, "staging.db", &staging.url, "enhanced_lerg,profiles");
    copy_in(&ws, "production.db", &prod.url, "lerg_codes,profiles");
    copy_in(&ws, "production.db", &before.url, "lerg_codes,profiles");
    let t_staging = format!("staging={}", with_password(&staging.url));
    let t_prod = format!("production={}", prod.url);
    let t_before = format!("production_before={}", before.url);
    let targets = [
        "--target",
        t_staging.as_str(),
        "--target",
        t_prod.as_str(),
        "--target",
        t_before.as_str(),
    ];
    let with = |args: &[&str]| {
        let mut v: Vec<&str> = args.to_vec();
        v.extend_from_slice(&targets);
        cutover(&ws, &v)
    };

    // An unknown target name is bad input, naming the runbook's targets.
    let bad = cutover(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--target",
            "prod=postgres://x@127.0.0.1/nope",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(
        bad.stderr.contains("declares no target \"prod\"")
            && bad
                .stderr
                .contains("production, production_before, staging"),
        "{}",
        bad.stderr
    );
    let bad = cutover(&ws, &["validate", RUNBOOK, "--target", "production"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(bad.stderr.contains("NAME=URL"), "{}", bad.stderr);

    // validate plans the PostgreSQL paths, the password redacted.
    let v = with(&["validate", RUNBOOK]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(v.stdout.contains("pg_dump -Fc"), "{}", v.stdout);
    assert!(
        v.stdout.contains("postgres://postgres:***@"),
        "{}",
        v.stdout
    );
    assert!(!v.all().contains(SECRET), "{}", v.all());

    // The whole cutover, on PostgreSQL, its five checkpoints approved by their owners;
    // QA ticks the integration tests when the run stops at them.
    let first = with(&["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS]);
    assert_eq!(first.code, 4, "{}", first.all());
    assert!(
        first
            .stdout
            .contains("stopped at checklist \"integration-tests\""),
        "{}",
        first.all()
    );
    tick_integration_tests(&ws);
    let rest = with(&["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS]);
    assert_eq!(rest.code, 0, "{}", rest.all());
    let r = Out {
        code: rest.code,
        stdout: format!("{}{}", first.stdout, rest.stdout),
        stderr: format!("{}{}", first.stderr, rest.stderr),
    };
    assert!(
        r.stdout.contains("pg_dump 15") || r.stdout.contains("pg_dump"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("applied 3 of 3 migration(s)"),
        "{}",
        r.stdout
    );
    for line in [
        "consolidate-legacy: enhanced_lerg ← lerg_codes: 429 inserted, 0 updated, 0 unchanged, 0 conflict(s); corrected 3 row(s)",
        "set-trial-dates: 11 of 11 row(s) of profiles.trial_expires_at filled",
        "success-criteria: checks of ../checks/lerg: 9 of 9 passed",
        "lookup-latency: checks of ../checks/lerg: 1 of 1 passed",
    ] {
        assert!(r.stdout.contains(line), "{line}: {}", r.stdout);
    }
    let st = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let mut owners: Vec<(String, String)> = v["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["checkpoint"].as_str().unwrap().to_string(),
                a["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    owners.sort();
    assert_eq!(
        owners,
        [
            ("functions-tested", "deploy"),
            ("migration-verified", "dba"),
            ("plan-approved", "ops"),
            ("ready-for-production", "lead"),
            ("tests-passed", "qa"),
        ]
        .map(|(c, r)| (c.to_string(), r.to_string()))
    );
    assert!(r.stdout.contains("complete."), "{}", r.stdout);
    assert!(!r.all().contains(SECRET), "{}", r.all());
    super::golden::assert_golden("lerg-cutover-postgres", &prod.url);
    // It ran on PostgreSQL, not on the workspace's SQLite files.
    assert_eq!(
        pg_scalar(&prod.url, "SELECT count(*) FROM enhanced_lerg").await,
        "440"
    );
    assert_eq!(
        pg_scalar(
            &prod.url,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'lerg_codes'"
        )
        .await,
        "0",
        "legacy table dropped"
    );
    assert_eq!(
        scalar(
            &ws.join("production.db"),
            "SELECT count(*) FROM sqlite_master WHERE name = 'enhanced_lerg'"
        )
        .await,
        "0",
        "the SQLite production is untouched"
    );
    let ledger = std::fs::read(ws.join("runbooks/.cutover/ledger.db")).unwrap();
    assert!(
        !ledger.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the ledger holds no password"
    );
    let st = cutover(&ws, &["audit", "export", RUNBOOK, "--format", "jsonl"]);
    assert!(
        st.stdout.contains(&prod.name),
        "the ledger records the overridden target: {}",
        st.stdout
    );

    // A rollback without the run's --target options would act on the file's SQLite
    // targets: refused, naming what differs, and nothing touched.
    let wrong = cutover(
        &ws,
        &["rollback", RUNBOOK, "--phase", "data-rollback", "--yes"],
    );
    assert_eq!(wrong.code, 2, "{}", wrong.all());
    assert!(
        wrong
            .stderr
            .contains("started on other databases than this command names")
            && wrong.stderr.contains("--target NAME=URL"),
        "{}",
        wrong.stderr
    );
    assert_eq!(
        scalar(
            &ws.join("production.db"),
            "SELECT count(*) FROM sqlite_master WHERE name = 'enhanced_lerg'"
        )
        .await,
        "0",
        "the SQLite production is still untouched"
    );

    // Data level: lerg_codes comes back as before the cutover; enhanced_lerg stays.
    let t = with(&["rollback", RUNBOOK, "--phase", "data-rollback", "--yes"]);
    assert_eq!(t.code, 0, "{}", t.all());
    let d = diff_table(&ws, &before.url, &prod.url, "lerg_codes");
    assert_eq!(d.code, 0, "lerg_codes equal to before: {}", d.all());
    assert_eq!(
        pg_scalar(&prod.url, "SELECT count(*) FROM enhanced_lerg").await,
        "440"
    );

    // Schema rollback: the migrations undone, the users kept and equal to before.
    let s = with(&["rollback", RUNBOOK, "--phase", "schema-rollback", "--yes"]);
    assert_eq!(s.code, 0, "{}", s.all());
    assert_eq!(
        pg_scalar(&prod.url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'enhanced_lerg' AND table_schema = 'public'").await,
        "0"
    );
    for table in ["profiles", "lerg_codes"] {
        let d = diff_table(&ws, &before.url, &prod.url, table);
        assert_eq!(d.code, 0, "{table} after the schema rollback: {}", d.all());
    }

    // Immediate: production changed again after the rollbacks; the complete backup
    // brings every table back to the pre-cutover state, and the rollback's own last
    // steps say so.
    let db = cutover::db::connect(&prod.url).await.unwrap();
    db.execute("UPDATE profiles SET email = 'changed@example.com' WHERE id = 1; DELETE FROM lerg_codes WHERE npa = '201'")
        .await
        .unwrap();
    db.close().await;
    assert_eq!(diff_table(&ws, &before.url, &prod.url, "profiles").code, 1);
    let f = with(&[
        "rollback",
        RUNBOOK,
        "--phase",
        "immediate-rollback",
        "--yes",
    ]);
    assert_eq!(f.code, 0, "{}", f.all());
    assert!(
        f.stdout.contains("proven equal to the backup"),
        "{}",
        f.stdout
    );
    assert!(
        f.stdout
            .contains("schema-as-before: production_before and production: schemas equal"),
        "{}",
        f.stdout
    );
    for table in ["profiles", "lerg_codes"] {
        let d = diff_table(&ws, &before.url, &prod.url, table);
        assert_eq!(d.code, 0, "{table} after the full restore: {}", d.all());
    }
    let st = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(v["status"], "rolled_back", "{}", st.stdout);
    assert_eq!(cutover(&ws, &["audit", "verify", RUNBOOK]).code, 0);
}
