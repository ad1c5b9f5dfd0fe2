//! `validate` refuses what `run` would refuse, before any database is touched: each
//! error names the file, line and column of the offending value, and `run` stops at
//! the same place with the same exit code.

use super::support::*;

const HEADER: &str =
    "name = \"v\"\n[targets]\napp = \"sqlite://a.db\"\nprod = \"postgres://u@localhost/db\"\n";

const SQL_PHASE: &str = "[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"s\"\n  kind = \"sql\"\n  target = \"app\"\n  sql = \"SELECT 1\"\n";

/// Validate (and run) `body` after the header; both must exit 2 with `expected`
/// (which starts with the file:line:col).
fn refused(body: &str, expected: &str) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.db"), "").unwrap();
    std::fs::write(tmp.path().join("rb.toml"), format!("{HEADER}{body}")).unwrap();
    let v = cutover(tmp.path(), &["validate", "rb.toml"]);
    assert_eq!(v.code, 2, "validate accepted it: {}", v.all());
    assert!(
        v.stderr.contains(&format!("error: rb.toml:{expected}")),
        "expected rb.toml:{expected}\ngot: {}",
        v.stderr
    );
    let r = cutover(tmp.path(), &["run", "rb.toml", "--headless"]);
    assert_eq!(r.code, 2, "run went ahead: {}", r.all());
    assert!(r.stderr.contains(expected), "{}", r.stderr);
}

#[test]
fn a_backup_on_a_server_engine_is_planned_with_its_dump_tool() {
    // Every step kind now supports every engine; a backup of PostgreSQL is planned with
    // pg_dump rather than refused (it was SQLite-only before).
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("rb.toml"),
        format!("{HEADER}[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"b\"\n  kind = \"backup\"\n  target = \"prod\"\n"),
    )
    .unwrap();
    let v = cutover(tmp.path(), &["validate", "rb.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(v.stdout.contains("pg_dump"), "{}", v.stdout);
}

#[test]
fn a_restore_must_name_a_backup_step_before_it() {
    let rollback = |from: &str| {
        format!(
            "{SQL_PHASE}[[rollback]]\nid = \"r\"\n  [[rollback.steps]]\n  id = \"x\"\n  kind = \"restore\"\n  target = \"app\"\n  from = \"{from}\"\n"
        )
    };
    refused(
        &rollback("backup-app"),
        "18:10: `from` names \"backup-app\", but no backup step with that id comes before this restore",
    );
    refused(
        &rollback("s"),
        "18:10: `from` names step \"s\", a sql step, not a backup",
    );
    // The same runbook with the backup first is accepted.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.db"), "").unwrap();
    let ok = format!(
        "{HEADER}{}[[rollback]]\nid = \"r\"\n  [[rollback.steps]]\n  id = \"x\"\n  kind = \"restore\"\n  target = \"app\"\n  from = \"s\"\n",
        SQL_PHASE
            .replace("kind = \"sql\"", "kind = \"backup\"")
            .replace("  sql = \"SELECT 1\"\n", "")
    );
    std::fs::write(tmp.path().join("rb.toml"), ok).unwrap();
    let v = cutover(tmp.path(), &["validate", "rb.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
}

#[test]
fn a_checkpoint_inside_a_rollback_phase_is_refused() {
    refused(
        &format!(
            "{SQL_PHASE}[[rollback]]\nid = \"r\"\n  [[rollback.steps]]\n  id = \"ok\"\n  kind = \"checkpoint\"\n"
        ),
        "16:10: step \"ok\" is a checkpoint inside a rollback phase",
    );
}

#[test]
fn duplicate_phase_or_step_ids_are_refused_naming_both_places() {
    refused(
        &format!("{SQL_PHASE}{}", SQL_PHASE.replace("\"s\"", "\"s2\"")),
        "13:1: phase id \"p\" is used twice (first at rb.toml:6:6)",
    );
    // A rollback phase may not reuse a phase's id either.
    refused(
        &format!(
            "{SQL_PHASE}{}",
            SQL_PHASE
                .replace("[[phases]]", "[[rollback]]")
                .replace("[[phases.steps]]", "[[rollback.steps]]")
                .replace("\"s\"", "\"s2\"")
        ),
        "13:1: phase id \"p\" is used twice",
    );
    refused(
        &format!("{SQL_PHASE}{}", SQL_PHASE.replace("\"p\"", "\"q\"")),
        "15:3: step id \"s\" is used twice (first at rb.toml:7:3)",
    );
}

#[test]
fn an_empty_phase_is_refused() {
    refused(
        &format!("{SQL_PHASE}[[phases]]\nid = \"empty\"\ntitle = \"nothing here\"\n"),
        "12:1: phase \"empty\" has no steps",
    );
    refused(
        &format!("{SQL_PHASE}[[rollback]]\nid = \"undo\"\n"),
        "12:1: rollback phase \"undo\" has no steps",
    );
}

#[test]
fn a_negative_count_is_refused_at_its_value() {
    refused(
        "[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"c\"\n  kind = \"check\"\n  target = \"app\"\n  query = \"SELECT 1\"\n  expect_rows = -1\n",
        "12:17: `expect_rows` in step \"c\" is a count and cannot be negative, found -1",
    );
    refused(
        &format!("[policy]\nhazards = {{ extra_approvals = -2 }}\n{SQL_PHASE}"),
        "6:31: `extra_approvals`",
    );
    refused(
        "[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"d\"\n  kind = \"diff-data\"\n  source = \"app\"\n  target = \"app\"\n  table = \"t\"\n  limit = -5\n",
        "13:11: `limit` in step \"d\" is a count and cannot be negative, found -5",
    );
    refused(
        "[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"c\"\n  kind = \"copy\"\n  from = \"app\"\n  into = \"prod\"\n  table = \"t\"\n  batch = -10\n",
        "13:3: `batch` (rows per transaction) must be at least 1, not -10",
    );
}
