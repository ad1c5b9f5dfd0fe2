//! Hazards read from the SQL that runs (issue 11): a checkpoint carries the hazards of
//! the statements the steps it lets run will execute, at their file and line, and its
//! requirements rise per policy; not those of a generated diff nobody runs. And
//! `cutover lint` reports the same for CI.

use super::support::*;
use serde_json::Value;
use std::path::Path;

fn status(ws: &Path, runbook: &str) -> Value {
    let st = cutover(ws, &["status", runbook, "--format", "json"]);
    assert_eq!(st.code, 0, "{}", st.all());
    serde_json::from_str(&st.stdout).unwrap()
}

fn codes_at(waiting: &Value) -> Vec<(String, String)> {
    waiting["hazard_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["code"].as_str().unwrap().to_string(),
                h["at"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The demo: nothing at `plan-approved` (the schema diff's generated migration would
/// drop lerg_codes, but the runbook never runs it, and the migrations and scripts up to
/// the next checkpoint drop nothing); `drop-table` from drop_lerg_codes.sql:1 at
/// `tests-passed`, the checkpoint that lets the cleanup phase run, shown before the
/// table is dropped and kept in the evidence after.
#[test]
fn demo_checkpoints_carry_the_hazards_of_the_sql_they_let_run() {
    let (_tmp, ws) = demo_workspace();
    let first = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(first.code, 4, "{}", first.all());
    assert!(
        !first.stdout.contains("hazards:"),
        "plan-approved carries no hazard: {}",
        first.stdout
    );
    let st = status(&ws, RUNBOOK);
    assert_eq!(st["waiting_for"]["checkpoint"], "plan-approved");
    assert_eq!(st["waiting_for"]["hazards"], serde_json::json!([]), "{st}");
    // The diff still shows its migration's hazard as evidence to read.
    let diff = st["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "schema-diff")
        .unwrap();
    assert_eq!(diff["evidence"]["hazards"][0]["code"], "drop-table");
    assert_eq!(diff["hazards"], serde_json::json!([]));

    let ok = cutover(
        &ws,
        &[
            "approve",
            RUNBOOK,
            "--checkpoint",
            "plan-approved",
            "--as",
            "olu",
            "--role",
            "ops",
            "--comment",
            "plan read",
        ],
    );
    assert_eq!(ok.code, 0, "{}", ok.all());
    // Checkpoints 2 and 3 let no destructive SQL run; the run stops at the checklist.
    let to_checklist = cutover(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--approve-as",
            "dana:dba,dev:deploy",
        ],
    );
    assert_eq!(to_checklist.code, 4, "{}", to_checklist.all());
    assert!(
        !to_checklist.stdout.contains("hazards:"),
        "{}",
        to_checklist.stdout
    );
    tick_integration_tests(&ws);
    let second = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(second.code, 4, "{}", second.all());
    assert!(
        second
            .stdout
            .contains("drop-table at lerg/sql/drop_lerg_codes.sql:1: drops table lerg_codes"),
        "{}",
        second.stdout
    );
    let st = status(&ws, RUNBOOK);
    assert_eq!(st["waiting_for"]["checkpoint"], "tests-passed");
    assert_eq!(
        codes_at(&st["waiting_for"]),
        vec![(
            "drop-table".to_string(),
            "lerg/sql/drop_lerg_codes.sql:1".to_string()
        )]
    );
    let text = cutover(&ws, &["status", RUNBOOK]);
    assert!(
        text.stdout
            .contains("hazard drop-table at lerg/sql/drop_lerg_codes.sql:1"),
        "{}",
        text.stdout
    );
    // The table is still there while the checkpoint waits.
    assert_eq!(
        cutover(
            &ws,
            &["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS]
        )
        .code,
        0
    );
    let st = status(&ws, RUNBOOK);
    let cp = st["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "tests-passed")
        .unwrap();
    assert_eq!(cp["evidence"]["hazards"], serde_json::json!(["drop-table"]));
    assert_eq!(
        cp["evidence"]["hazard_details"][0]["at"],
        "lerg/sql/drop_lerg_codes.sql:1"
    );
    let plan = st["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "plan-approved")
        .unwrap();
    assert_eq!(plan["evidence"]["hazards"], serde_json::json!([]));
}

const POLICY_RUNBOOK: &str = r#"
name = "wipe"
[targets]
db = "sqlite://db.sqlite"
[policy]
approvals = 1
roles = ["dba"]
[policy.hazards]
extra_approvals = 1
require_roles = ["lead"]

[[phases]]
id = "p"
  [[phases.steps]]
  id = "setup"
  kind = "sql"
  target = "db"
  sql = "CREATE TABLE t (a int); INSERT INTO t VALUES (1)"
  [[phases.steps]]
  id = "go"
  kind = "checkpoint"
  [[phases.steps]]
  id = "wipe"
  kind = "sql"
  target = "db"
  file = "wipe.sql"
  [[phases.steps]]
  id = "after"
  kind = "checkpoint"
  [[phases.steps]]
  id = "count"
  kind = "sql"
  target = "db"
  sql = "INSERT INTO t VALUES (3)"
"#;

/// A DELETE and an UPDATE without WHERE in the script after a checkpoint raise it by
/// the policy's extra approval and role; the next checkpoint, whose steps are harmless,
/// asks for the plain policy again.
#[test]
fn sql_hazards_raise_the_checkpoint_per_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    std::fs::write(ws.join("rb.toml"), POLICY_RUNBOOK).unwrap();
    std::fs::write(ws.join("db.sqlite"), b"").unwrap(); // an empty SQLite database
    std::fs::write(
        ws.join("wipe.sql"),
        "-- start over\nDELETE FROM t;\nUPDATE t\n  SET a = 2;\n",
    )
    .unwrap();
    // validate shows them in the plan, before anything runs
    let v = cutover(ws, &["validate", "rb.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stdout.contains(
            "hazard delete-without-where at wipe.sql:2: deletes every row of t (no WHERE)"
        ),
        "{}",
        v.stdout
    );
    let run = cutover(ws, &["run", "rb.toml", "--headless"]);
    assert_eq!(run.code, 4, "{}", run.all());
    let st = status(ws, "rb.toml");
    let w = &st["waiting_for"];
    assert_eq!(w["checkpoint"], "go");
    assert_eq!(w["required"], 2, "{w}");
    assert_eq!(w["roles"], serde_json::json!(["dba", "lead"]));
    assert_eq!(
        codes_at(w),
        vec![
            ("delete-without-where".into(), "wipe.sql:2".into()),
            ("update-without-where".into(), "wipe.sql:3".into())
        ]
    );
    for (who, role) in [("dana", "dba"), ("lee", "lead")] {
        let a = cutover(
            ws,
            &[
                "approve",
                "rb.toml",
                "--checkpoint",
                "go",
                "--as",
                who,
                "--role",
                role,
                "--comment",
                "ok",
            ],
        );
        assert_eq!(a.code, 0, "{}", a.all());
    }
    let run = cutover(ws, &["run", "rb.toml", "--headless"]);
    assert_eq!(run.code, 4, "{}", run.all());
    let st = status(ws, "rb.toml");
    let w = &st["waiting_for"];
    assert_eq!(w["checkpoint"], "after");
    assert_eq!(w["required"], 1, "{w}");
    assert_eq!(w["hazards"], serde_json::json!([]));
}

/// On MySQL/MariaDB a script mixing DDL with other statements is not atomic: the
/// checkpoint before it carries implicit-commit-ddl at the first DDL line.
#[tokio::test]
async fn mysql_ddl_in_a_script_is_an_implicit_commit_hazard() {
    let Some(m) = cutover::testkit::mysql().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    std::fs::write(
        ws.join("rb.toml"),
        format!(
            "name = \"ddl\"\n[targets]\ndb = \"{}\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"go\"\n  kind = \"checkpoint\"\n  [[phases.steps]]\n  id = \"mix\"\n  kind = \"sql\"\n  target = \"db\"\n  file = \"mix.sql\"\n",
            m.url
        ),
    )
    .unwrap();
    std::fs::write(
        ws.join("mix.sql"),
        "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\nALTER TABLE t ADD COLUMN b int;\n",
    )
    .unwrap();
    let run = cutover(ws, &["run", "rb.toml", "--headless"]);
    assert_eq!(run.code, 4, "{}", run.all());
    let st = status(ws, "rb.toml");
    assert_eq!(
        codes_at(&st["waiting_for"]),
        vec![("implicit-commit-ddl".into(), "mix.sql:1".into())]
    );
    let msg = st["waiting_for"]["hazard_details"][0]["message"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("2 of its 3 statements are DDL (lines 1, 3)"),
        "{msg}"
    );
}

fn lint(dir: &Path, args: &[&str]) -> Out {
    let mut a = vec!["lint"];
    a.extend_from_slice(args);
    cutover(dir, &a)
}

#[test]
fn lint_passes_good_files_and_fails_destructive_ones_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("migrations/sub")).unwrap();
    std::fs::write(
        d.join("migrations/V1__good.sql"),
        "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b text;\nUPDATE t SET b = 'x' WHERE a = 1;\n",
    )
    .unwrap();
    let good = lint(d, &["migrations"]);
    assert_eq!(good.code, 0, "{}", good.all());
    assert!(
        good.stdout
            .contains("1 file(s), 3 statement(s): 0 error(s)"),
        "{}",
        good.stdout
    );

    // A warning alone does not fail.
    std::fs::write(
        d.join("migrations/sub/V2__rename.sql"),
        "ALTER TABLE t RENAME COLUMN b TO c;\n",
    )
    .unwrap();
    let warn = lint(d, &["migrations"]);
    assert_eq!(warn.code, 0, "{}", warn.all());
    assert!(
        warn.stdout
            .contains("migrations/sub/V2__rename.sql:1: warning rename-column"),
        "{}",
        warn.stdout
    );

    std::fs::write(
        d.join("migrations/V3__bad.sql"),
        "-- cleanup\nTRUNCATE t;\n\nDELETE\n  FROM t;\n",
    )
    .unwrap();
    let bad = lint(d, &["migrations"]);
    assert_eq!(bad.code, 1, "{}", bad.all());
    assert!(
        bad.stdout
            .contains("migrations/V3__bad.sql:2: error truncate: empties table t"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout
            .contains("migrations/V3__bad.sql:4: error delete-without-where"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains("2 error(s), 1 warning(s)"),
        "{}",
        bad.stdout
    );

    let gh = lint(d, &["migrations/V3__bad.sql", "--format", "github"]);
    assert_eq!(gh.code, 1);
    assert!(
        gh.stdout.lines().any(|l| l
            == "::error file=migrations/V3__bad.sql,line=2,title=truncate::empties table t: every row is removed"),
        "{}",
        gh.stdout
    );

    let js = lint(d, &["migrations", "--format", "json"]);
    assert_eq!(js.code, 1);
    let v: Value = serde_json::from_str(&js.stdout).unwrap();
    assert_eq!(v["format"], "cutover-lint");
    assert_eq!(v["errors"], 2);
    assert_eq!(v["warnings"], 1);
    let hz: Vec<&Value> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["hazards"].as_array().unwrap())
        .collect();
    assert!(hz.iter().any(|h| h["code"] == "delete-without-where"
        && h["line"] == 4
        && h["severity"] == "error"));
}

#[test]
fn lint_counts_acknowledged_hazards_as_allowed_and_refuses_bad_comments() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("drop.sql"),
        "-- cutover:allow drop-table lerg_codes was archived by backup-lerg-codes\nDROP TABLE lerg_codes;\nDELETE FROM audit; -- cutover:allow delete-without-where audit is rebuilt nightly\n",
    )
    .unwrap();
    let ok = lint(d, &["drop.sql"]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    assert!(
        ok.stdout.contains(
            "drop.sql:2: allowed drop-table: drops table lerg_codes and every row in it (acknowledged: lerg_codes was archived by backup-lerg-codes)"
        ),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout
            .contains("0 error(s), 0 warning(s), 2 acknowledged"),
        "{}",
        ok.stdout
    );

    // Acknowledging one code does not acknowledge another on the same statement.
    std::fs::write(
        d.join("other.sql"),
        "-- cutover:allow truncate wrong code\nDROP TABLE lerg_codes;\n",
    )
    .unwrap();
    assert_eq!(lint(d, &["other.sql"]).code, 1);

    std::fs::write(
        d.join("noreason.sql"),
        "SELECT 1;\n-- cutover:allow drop-table\nDROP TABLE x;\n",
    )
    .unwrap();
    let e = lint(d, &["noreason.sql"]);
    assert_eq!(e.code, 2, "{}", e.all());
    assert!(
        e.stderr.contains("noreason.sql:2:") && e.stderr.contains("gives no reason"),
        "{}",
        e.stderr
    );

    std::fs::write(
        d.join("typo.sql"),
        "-- cutover:allow drop-tabel gone\nDROP TABLE x;\n",
    )
    .unwrap();
    let e = lint(d, &["typo.sql"]);
    assert_eq!(e.code, 2, "{}", e.all());
    assert!(
        e.stderr
            .contains("typo.sql:1: unknown hazard code \"drop-tabel\""),
        "{}",
        e.stderr
    );

    let e = lint(d, &["missing.sql"]);
    assert_eq!(e.code, 2, "{}", e.all());
    assert!(
        e.stderr.contains("missing.sql: no such file"),
        "{}",
        e.stderr
    );
}

#[test]
fn lint_with_dialect_mysql_reports_implicit_commit_ddl_as_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("m.sql"),
        "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n",
    )
    .unwrap();
    let plain = lint(d, &["m.sql"]);
    assert!(
        !plain.stdout.contains("implicit-commit-ddl"),
        "{}",
        plain.stdout
    );
    let my = lint(d, &["m.sql", "--dialect", "mariadb"]);
    assert_eq!(my.code, 0, "a warning: {}", my.all());
    assert!(
        my.stdout.contains("m.sql:1: warning implicit-commit-ddl"),
        "{}",
        my.stdout
    );
    let e = lint(d, &["m.sql", "--dialect", "oracle"]);
    assert_eq!(e.code, 2, "{}", e.all());
}

#[test]
fn lint_judges_type_changes_and_index_drops_against_earlier_migrations() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("migrations")).unwrap();
    std::fs::write(
        d.join("migrations/V1__schema.sql"),
        "CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(320) NOT NULL);\n\
         CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),\n\
           note varchar(100), total numeric(12,2));\n\
         CREATE INDEX orders_customer_idx ON orders (customer_id);\n",
    )
    .unwrap();
    // V10 runs after V2 (version order, not path order): it sees V2's widened column.
    std::fs::write(
        d.join("migrations/V2__widen.sql"),
        "ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);\n\
         ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);\n",
    )
    .unwrap();
    std::fs::write(
        d.join("migrations/V10__narrow.sql"),
        "ALTER TABLE orders ALTER COLUMN note TYPE varchar(150);\n\
         ALTER TABLE customers ALTER COLUMN email TYPE varchar(100);\n\
         ALTER TABLE orders ALTER COLUMN status TYPE text;\n\
         DROP INDEX orders_customer_idx;\n",
    )
    .unwrap();
    let out = lint(d, &["migrations", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let got: Vec<(String, String, u64)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let path = f["path"].as_str().unwrap().to_string();
            f["hazards"].as_array().unwrap().iter().map(move |h| {
                (
                    path.clone(),
                    h["code"].as_str().unwrap().to_string(),
                    h["line"].as_u64().unwrap(),
                )
            })
        })
        .filter(|(_, c, _)| c != "table-rewrite")
        .collect();
    let n = "migrations/V10__narrow.sql".to_string();
    assert_eq!(
        got,
        vec![
            (n.clone(), "narrow-type".into(), 1),
            (n.clone(), "narrow-type".into(), 2),
            (n.clone(), "type-change".into(), 3),
            (n.clone(), "drop-fk-index".into(), 4),
        ],
        "read after V2, note is varchar(200) -> varchar(150) (read before it, it would widen); {}",
        out.stdout
    );
    assert_eq!(v["notices"], 1);
    let text = lint(d, &["migrations"]);
    assert!(
        text.stdout.contains(
            "migrations/V10__narrow.sql:1: warning narrow-type: changes the type of orders.note from varchar(200) to varchar(150)"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "migrations/V10__narrow.sql:2: warning narrow-type: changes the type of customers.email from varchar(320) to varchar(100)"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("migrations/V10__narrow.sql:3: notice type-change: changes the type of orders.status to text; old type unknown"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("migrations/V10__narrow.sql:4: warning drop-fk-index: dropping index orders_customer_idx on orders leaves foreign key (customer_id) without an index"),
        "{}",
        text.stdout
    );
}

/// A `migrate` step's checkpoint judges each migration against the ones before it
/// (applied ones included): V3 narrows a column V1 declared and drops the only index of
/// V1's foreign key; V2's widening raises nothing; and the run waits on them.
#[test]
fn migrate_checkpoint_judges_later_migrations_against_earlier_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    std::fs::write(
        ws.join("rb.toml"),
        "name = \"m\"\n[targets]\ndb = \"sqlite://db.sqlite\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"go\"\n  kind = \"checkpoint\"\n  [[phases.steps]]\n  id = \"m\"\n  kind = \"migrate\"\n  target = \"db\"\n  dir = \"migrations\"\n",
    )
    .unwrap();
    std::fs::write(ws.join("db.sqlite"), b"").unwrap();
    std::fs::create_dir_all(ws.join("migrations")).unwrap();
    std::fs::write(
        ws.join("migrations/V1__schema.sql"),
        "CREATE TABLE parent (id integer PRIMARY KEY);\n\
         CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id), code varchar(20));\n\
         CREATE INDEX child_parent ON child (parent_id);\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("migrations/V2__widen.sql"),
        "ALTER TABLE child ALTER COLUMN code TYPE varchar(40);\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("migrations/V3__tighten.sql"),
        "-- the code is two letters now\nALTER TABLE child ALTER COLUMN code TYPE varchar(2);\nDROP INDEX child_parent;\n",
    )
    .unwrap();
    let v = cutover(ws, &["validate", "rb.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stdout.contains(
            "hazard narrow-type at migrations/V3__tighten.sql:2: changes the type of child.code from varchar(40) to varchar(2)"
        ),
        "{}",
        v.stdout
    );
    let run = cutover(ws, &["run", "rb.toml", "--headless"]);
    assert_eq!(run.code, 4, "{}", run.all());
    let st = status(ws, "rb.toml");
    assert_eq!(
        codes_at(&st["waiting_for"]),
        vec![
            ("narrow-type".into(), "migrations/V3__tighten.sql:2".into()),
            (
                "drop-fk-index".into(),
                "migrations/V3__tighten.sql:3".into()
            ),
        ]
    );
}
