//! Malformed runbooks: each gets a file:line:col error saying what was expected, exit 2,
//! without touching any database.

use super::support::*;

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const GOOD_HEAD: &str =
    "name = \"x\"\n[targets]\ndb = \"sqlite://x.db\"\n\n[[phases]]\nid = \"p\"\n";

fn check(text: &str, want: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "rb.toml", text);
    for cmd in [
        &["validate", "rb.toml"][..],
        &["run", "rb.toml", "--headless"][..],
    ] {
        let out = cutover_env(tmp.path(), cmd, &[("CUTOVER_UNSET_FOR_TEST", "")]);
        assert_eq!(out.code, 2, "{cmd:?}: {}", out.all());
        for w in want {
            assert!(
                out.stderr.contains(w),
                "{cmd:?}: expected {w:?} in:\n{}",
                out.stderr
            );
        }
    }
    assert!(
        !tmp.path().join("x.db").exists(),
        "no database may be touched"
    );
}

#[test]
fn unknown_step_kind_names_line_column_and_the_kinds() {
    check(
        &format!(
            "{GOOD_HEAD}  [[phases.steps]]\n  id = \"b\"\n  kind = \"bakup\"\n  target = \"db\"\n"
        ),
        &[
            "rb.toml:9:10: unknown step kind \"bakup\" (did you mean \"backup\"?); expected one of backup,",
            "sql",
        ],
    );
}

#[test]
fn unknown_key_names_line_column_and_the_expected_keys() {
    check(
        &format!(
            "{GOOD_HEAD}  [[phases.steps]]\n  id = \"s\"\n  kind = \"sql\"\n  target = \"db\"\n  sql = \"SELECT 1\"\n  retries = 3\n"
        ),
        &[
            "rb.toml:12:3: unknown key `retries` in step \"s\"; expected one of",
            "sql",
            "target",
        ],
    );
    check(
        "name = \"x\"\ncolour = \"blue\"\n",
        &["rb.toml:2:1: unknown key `colour` in the runbook"],
    );
}

#[test]
fn bad_toml_points_at_the_error() {
    check(
        &format!("{GOOD_HEAD}  [[phases.steps]]\n  id = \"s\n"),
        &["rb.toml:8:", "invalid TOML"],
    );
}

#[test]
fn missing_file_names_the_key_and_path() {
    check(
        &format!(
            "{GOOD_HEAD}  [[phases.steps]]\n  id = \"s\"\n  kind = \"sql\"\n  target = \"db\"\n  file = \"nope.sql\"\n"
        ),
        &["rb.toml:11:10: `file` names \"nope.sql\", which does not exist"],
    );
    check(
        &format!(
            "{GOOD_HEAD}  [[phases.steps]]\n  id = \"m\"\n  kind = \"migrate\"\n  target = \"db\"\n  dir = \"migrations\"\n"
        ),
        &["rb.toml:11:9: `dir` names \"migrations\", which does not exist"],
    );
}

#[test]
fn unset_environment_variable_is_named_with_its_location() {
    check(
        "name = \"x\"\n[targets]\nprod = \"${env:CUTOVER_UNSET_FOR_TEST_XYZ}\"\n[[phases]]\nid = \"p\"\n",
        &["rb.toml:3:8: environment variable CUTOVER_UNSET_FOR_TEST_XYZ is not set"],
    );
}

#[test]
fn unknown_target_and_bad_url_are_located() {
    check(
        &format!(
            "{GOOD_HEAD}  [[phases.steps]]\n  id = \"s\"\n  kind = \"sql\"\n  target = \"prod\"\n  sql = \"SELECT 1\"\n"
        ),
        &["rb.toml:10:12: unknown target \"prod\"; declared targets are db"],
    );
    check(
        "[targets]\ndb = \"oracle://h/x\"\n[[phases]]\nid = \"p\"\n",
        &["rb.toml:2:6: unsupported database URL scheme \"oracle\""],
    );
}

#[test]
fn validate_prints_the_plan_including_mysql_ddl_caveat() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("m")).unwrap();
    write(
        &tmp.path().join("m"),
        "V1__t.sql",
        "CREATE TABLE t (id INT PRIMARY KEY);",
    );
    write(
        tmp.path(),
        "rb.toml",
        "[targets]\nbilling = \"mysql://root@127.0.0.1:1/nowhere\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"m\"\n  kind = \"migrate\"\n  target = \"billing\"\n  dir = \"m\"\n",
    );
    let out = cutover(tmp.path(), &["validate", "rb.toml"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("V1__t"), "{}", out.stdout);
    assert!(
        out.stdout.contains("MySQL/MariaDB commits DDL implicitly"),
        "{}",
        out.stdout
    );
}

/// The first line stays `file:line:col: message` (editors jump to it); under it the
/// offending line is quoted with a caret under the column.
#[test]
fn an_error_quotes_the_line_with_a_caret_under_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let rb = tmp.path().join("rb.toml");
    std::fs::write(
        &rb,
        "name = \"x\"\n\n[targets]\nprod = \"sqlite://p.db\"\n\n[[phases]]\nid = \"p\"\n\n  [[phases.steps]]\n  id = \"s\"\n\tkind = \"bakup\"\n",
    )
    .unwrap();
    let out = crate::support::cutover(tmp.path(), &["validate", "rb.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: rb.toml:11:9: unknown step kind \"bakup\""),
        "{}",
        out.stderr
    );
    assert_eq!(lines[1], "   |");
    assert_eq!(lines[2], "11 | \tkind = \"bakup\"");
    assert_eq!(lines[3], "   | \t       ^^^^^^^", "{}", out.stderr);
}
