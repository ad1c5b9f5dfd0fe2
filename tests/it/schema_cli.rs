//! The `cutover diff schema` and `cutover snapshot` commands as a user runs them:
//! exit codes, output formats, and bad input (unreachable server, wrong password,
//! corrupt or newer snapshot).

use crate::schema_support::*;
use crate::support;
use cutover::testkit;

/// `cutover ARGS` from a scratch directory, as (exit code, stdout, stderr).
fn cutover(args: &[&str]) -> (i32, String, String) {
    let out: support::Out = support::output_in_scratch(args).into();
    (out.code, out.stdout, out.stderr)
}

async fn pair() -> (testkit::TestDb, testkit::TestDb) {
    let (a, b) = (testkit::sqlite().await, testkit::sqlite().await);
    run_sql(
        &a.connect().await,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, bio TEXT);
        CREATE TABLE profiles (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));
        CREATE INDEX users_email ON users (email)"#,
    )
    .await;
    run_sql(
        &b.connect().await,
        r#"CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(50), legacy INT);
        INSERT INTO users (email) VALUES ('a@x')"#,
    )
    .await;
    (a, b)
}

#[tokio::test]
async fn diff_schema_text_json_sql_and_exit_codes() {
    let (a, b) = pair().await;
    let (code, out, err) = cutover(&["diff", "schema", "--source", &a.url, "--target", &a.url]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Equal: no differences."), "{out}");

    let (code, out, _) = cutover(&["diff", "schema", "--source", &a.url, "--target", &b.url]);
    assert_eq!(code, 1);
    assert!(out.contains("1 table missing in target"), "{out}");
    assert!(
        out.contains("column users.bio: missing in target (TEXT)"),
        "{out}"
    );
    assert!(
        out.contains("column users.email: type differs: source VARCHAR(100), target VARCHAR(50)"),
        "{out}"
    );
    assert!(
        out.contains("drop-column: dropping column users.legacy discards its data (1 row)"),
        "{out}"
    );
    assert!(
        out.contains("\n+CREATE TABLE \"profiles\" ("),
        "unified diff of DDL: {out}"
    );
    assert!(out.contains("\n-  \"legacy\" INT"), "{out}");

    let (code, out, _) = cutover(&[
        "diff", "schema", "--source", &a.url, "--target", &b.url, "--format", "json",
    ]);
    assert_eq!(code, 1);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["format"], "cutover-schema-diff");
    assert_eq!(j["version"], 1);
    assert_eq!(j["equal"], false);
    assert!(
        j["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["object"] == "table" && c["name"] == "profiles" && c["change"] == "missing")
    );
    let drop = j["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["code"] == "drop-column")
        .unwrap();
    assert_eq!(drop["object"], "users.legacy");
    assert_eq!(drop["allowed"], false);
    // SQLite rebuilds users to drop the column: the whole rebuild waits for the allowance
    let blocked = j["migration"]["blocked_statements"].to_string();
    assert!(
        blocked.contains("DROP TABLE") && blocked.contains("users"),
        "{blocked}"
    );

    // Writing a plan is not a failure (issue 11): exit 0 like `git diff`, so
    // `diff schema --format sql > plan.sql` survives `set -e`; --exit-code asks for 1.
    let (code, sql, _) = cutover(&[
        "diff", "schema", "--source", &a.url, "--target", &b.url, "--format", "sql",
    ]);
    assert_eq!(code, 0);
    assert!(sql.contains("-- HAZARD drop-column"), "{sql}");
    assert!(sql.contains("\nCREATE TABLE \"profiles\""), "{sql}");
    let (code, again, _) = cutover(&[
        "diff",
        "schema",
        "--source",
        &a.url,
        "--target",
        &b.url,
        "--format",
        "sql",
        "--exit-code",
    ]);
    assert_eq!(code, 1, "--exit-code: differences exit 1");
    assert_eq!(again, sql);
    let (code, _, _) = cutover(&[
        "diff",
        "schema",
        "--source",
        &a.url,
        "--target",
        &a.url,
        "--format",
        "sql",
        "--exit-code",
    ]);
    assert_eq!(code, 0, "--exit-code: equal exits 0");
    let (_, help, _) = cutover(&["diff", "schema", "--help"]);
    assert!(
        help.contains("writing a plan is not a failure") && help.contains("--exit-code"),
        "{help}"
    );

    // --include narrows the comparison; --exclude drops objects from it
    let (code, out, _) = cutover(&[
        "diff",
        "schema",
        "--source",
        &a.url,
        "--target",
        &b.url,
        "--include",
        "prof*",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        j["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] == "profiles"),
        "{out}"
    );
    let (code, _, _) = cutover(&[
        "diff",
        "schema",
        "--source",
        &a.url,
        "--target",
        &b.url,
        "--exclude",
        "*",
    ]);
    assert_eq!(code, 0);

    // applying the generated SQL with the hazard allowed makes them equal
    let (_, sql, _) = cutover(&[
        "diff",
        "schema",
        "--source",
        &a.url,
        "--target",
        &b.url,
        "--format",
        "sql",
        "--allow-hazards",
        "drop-column,narrow-type,not-null-without-default",
    ]);
    let db = b.connect().await;
    let st = cutover::db::split_statements(&sql);
    db.execute_in_transaction(&st)
        .await
        .unwrap_or_else(|e| panic!("{}: {sql}", e.message));
    db.close().await;
    let (code, out, _) = cutover(&["diff", "schema", "--source", &a.url, "--target", &b.url]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn snapshot_capture_compare_and_as_diff_input() {
    let (a, _b) = pair().await;
    let dir = tempfile::tempdir().unwrap();
    let f1 = dir.path().join("snapshots/one.json");
    let f2 = dir.path().join("two.json");
    let (code, out, err) = cutover(&[
        "snapshot",
        "capture",
        "--target",
        &a.url,
        "--out",
        f1.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 tables"), "{out}");
    cutover(&[
        "snapshot",
        "capture",
        "--target",
        &a.url,
        "--out",
        f2.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&f1).unwrap(),
        std::fs::read(&f2).unwrap(),
        "byte-identical"
    );

    let (code, out, _) = cutover(&[
        "snapshot",
        "compare",
        f1.to_str().unwrap(),
        "--target",
        &a.url,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no drift"), "{out}");
    // a snapshot is a valid diff side
    let (code, _, _) = cutover(&[
        "diff",
        "schema",
        "--source",
        f1.to_str().unwrap(),
        "--target",
        &a.url,
    ]);
    assert_eq!(code, 0);

    // a snapshot of some tables is compared on those tables only
    let only = dir.path().join("users-only.json");
    let (code, _, _) = cutover(&[
        "snapshot",
        "capture",
        "--target",
        &a.url,
        "--out",
        only.to_str().unwrap(),
        "--include",
        "users",
    ]);
    assert_eq!(code, 0);
    let (code, out, _) = cutover(&[
        "snapshot",
        "compare",
        only.to_str().unwrap(),
        "--target",
        &a.url,
    ]);
    assert_eq!(code, 0, "{out}");

    run_sql(
        &a.connect().await,
        "ALTER TABLE profiles ADD COLUMN nickname TEXT",
    )
    .await;
    let (code, out, _) = cutover(&[
        "snapshot",
        "compare",
        f1.to_str().unwrap(),
        "--target",
        &a.url,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("DRIFT") && out.contains("column profiles.nickname: extra in target"),
        "{out}"
    );
}

#[tokio::test]
async fn bad_input_exit_codes_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(
        &corrupt,
        "{\"format\": \"cutover-snapshot\", \"version\": 1, \"sch",
    )
    .unwrap();
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, r#"{"format": "cutover-snapshot", "version": 99}"#).unwrap();
    let l = testkit::sqlite().await;

    for f in [&corrupt, &newer] {
        let (code, _, err) = cutover(&[
            "snapshot",
            "compare",
            f.to_str().unwrap(),
            "--target",
            &l.url,
        ]);
        assert_eq!(code, 2, "{err}");
        let (code2, _, err2) = cutover(&[
            "diff",
            "schema",
            "--source",
            f.to_str().unwrap(),
            "--target",
            &l.url,
        ]);
        assert_eq!(code2, 2, "{err2}");
        assert!(
            err.contains(f.file_name().unwrap().to_str().unwrap()),
            "names the file: {err}"
        );
    }
    let (_, _, err) = cutover(&[
        "snapshot",
        "compare",
        newer.to_str().unwrap(),
        "--target",
        &l.url,
    ]);
    assert!(
        err.contains("version 99 is newer than this cutover reads"),
        "{err}"
    );
    let (_, _, err) = cutover(&[
        "diff",
        "schema",
        "--source",
        corrupt.to_str().unwrap(),
        "--target",
        &l.url,
    ]);
    assert!(err.contains("corrupt snapshot"), "{err}");

    // missing snapshot file
    let (code, _, err) = cutover(&[
        "diff",
        "schema",
        "--source",
        "no/such.json",
        "--target",
        &l.url,
    ]);
    assert_eq!(code, 2, "{err}");

    // unknown hazard code
    let (code, _, err) = cutover(&[
        "diff",
        "schema",
        "--source",
        &l.url,
        "--target",
        &l.url,
        "--allow-hazards",
        "drop-everything",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown hazard code \"drop-everything\""),
        "{err}"
    );

    // unreachable server: connection error, exit 3, password redacted
    let (code, _, err) = cutover(&[
        "diff",
        "schema",
        "--source",
        "postgres://app:s3cr3t-pw@127.0.0.1:1/db",
        "--target",
        &l.url,
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("127.0.0.1:1") && !err.contains("s3cr3t-pw"),
        "{err}"
    );
    assert!(err.contains("app:***@"), "{err}");
}

#[tokio::test]
async fn wrong_password_is_a_redacted_connection_error() {
    let Some(m) = testkit::mysql().await else {
        return;
    };
    let admin = m.connect().await;
    let user = format!("cutover_pw_{}", std::process::id());
    admin
        .execute(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY 'right-password'"
        ))
        .await
        .unwrap();
    let server = testkit::mysql_server_url();
    let host = server.rsplit('@').next().unwrap();
    let url = format!("mysql://{user}:wrong-passw0rd@{host}/{}", m.name);
    let (code, _, err) = cutover(&["diff", "schema", "--source", &url, "--target", &url]);
    admin
        .execute(&format!("DROP USER '{user}'@'%'"))
        .await
        .unwrap();
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("authentication failed") || err.contains("Access denied"),
        "{err}"
    );
    assert!(!err.contains("wrong-passw0rd"), "password leaked: {err}");
    assert!(err.contains(&format!("{user}:***@")), "{err}");
}

/// The demo diffs staging against production before its first checkpoint, so the
/// evidence the DBA approves names what production lacks.
#[test]
fn demo_shows_what_production_lacks_before_the_first_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    let (code, out, err) = cutover(&["demo", "--headless", "--dir", ws.to_str().unwrap()]);
    assert_eq!(code, 4, "stops at the first checkpoint: {out}{err}");
    let diff_at = out.find("schema-diff: production lacks").expect(&out);
    let cp_at = out.find("checkpoint plan-approved").expect(&out);
    assert!(diff_at < cp_at, "{out}");
    assert!(
        out.contains("1 table missing in target, 5 columns missing in target"),
        "{out}"
    );
    // The diff's generated migration would drop lerg_codes, but the runbook never runs
    // it: the first checkpoint carries only what the steps it lets run will execute.
    assert!(
        !out.contains("hazards:"),
        "no hazard from the generated diff at the first checkpoint: {out}"
    );
}
