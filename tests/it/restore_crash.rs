//! `kill -9` during a restore on PostgreSQL: a full-restore rollback killed with SIGKILL
//! at each point inside the restore step (backup verified and nothing touched; one
//! table's rows loaded inside the restore's transaction; tables restored but extra
//! tables not dropped and nothing proven; one of two extra tables dropped) is resumed by `cutover rollback --yes` and ends exactly where an
//! uninterrupted restore ends: every table equal to the pre-cutover database, the
//! sequence back, the extra tables gone, the proof recorded.

use super::examples_billing_mysql::scalar_at;
use super::support::*;
use cutover::testkit;
use std::path::Path;

const SETUP: &str = "
CREATE TABLE accounts (id serial PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL, opened timestamptz NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), placed timestamp NOT NULL, total numeric(10,2), note text);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
INSERT INTO accounts (owner, balance, opened) VALUES
  ('Ana', 120.50, '2024-01-02 10:00:00+00'), ('Bo', 0, '2024-02-03 11:30:00+01'), ('Zoë', -15.25, '2024-03-04 12:45:00-05');
INSERT INTO orders (account_id, placed, total, note) VALUES
  (1, '2024-05-01 09:00:00', 99.99, 'first'), (1, '2024-05-02 09:00:00', 250.00, NULL),
  (2, '2024-05-03 09:00:00', 12.00, 'ünïcode ✓'), (3, '2024-05-04 09:00:00', NULL, 'no total');
";

/// What the cutover did to production before it was rolled back: rows changed and
/// deleted, a sequence moved, the view dropped, two tables the backup does not have.
const CHANGE: &str = "UPDATE accounts SET balance = balance * 2; DELETE FROM orders WHERE id > 2; DROP VIEW big_orders; SELECT setval('accounts_id_seq', 1000); CREATE TABLE extra_a (id int); CREATE TABLE extra_b (id int); INSERT INTO extra_a VALUES (1)";

fn runbook(dir: &Path) {
    std::fs::write(
        dir.join("rb.toml"),
        format!(
            r#"name = "restore-crash"

[targets]
production = "${{env:PROD_URL}}"

[[phases]]
id = "change"

  [[phases.steps]]
  id = "backup-production"
  kind = "backup"
  target = "production"

  [[phases.steps]]
  id = "change-production"
  kind = "sql"
  target = "production"
  sql = "{CHANGE}"

[[rollback]]
id = "full-restore"

  [[rollback.steps]]
  id = "restore-production"
  kind = "restore"
  target = "production"
  from = "backup-production"
  drop_extra = true
"#
        ),
    )
    .unwrap();
}

async fn setup(url: &str) {
    let db = cutover::db::connect(url).await.unwrap();
    for s in cutover::db::split_statements(SETUP) {
        db.execute(&s.sql).await.unwrap();
    }
    db.close().await;
}

/// Run the cutover, then the full restore killed at `point` (None: uninterrupted)
/// and resumed; assert the end state against `before`.
async fn restore_killed_at(point: Option<&str>, before: &str) {
    let Some(prod) = testkit::postgres().await else {
        return;
    };
    setup(&prod.url).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    runbook(dir);
    let env = [("PROD_URL", prod.url.as_str())];
    let r = cutover_env(dir, &["run", "rb.toml", "--headless"], &env);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        scalar_at(&prod.url, "SELECT count(*) FROM orders").await,
        "2",
        "the cutover changed production"
    );
    let rollback = ["rollback", "rb.toml", "--phase", "full-restore", "--yes"];
    let done = match point {
        None => cutover_env(dir, &rollback, &env),
        Some(p) => {
            let mut with_crash = env.to_vec();
            with_crash.push(("CUTOVER_CRASH_AT", p));
            let killed = cutover_env(dir, &rollback, &with_crash);
            assert_eq!(
                killed.code,
                -1,
                "killed by SIGKILL at {p}:\n{}",
                killed.all()
            );
            assert!(
                !killed.stdout.contains("proven equal"),
                "{p}: nothing proven before the kill:\n{}",
                killed.stdout
            );
            let st = cutover_env(dir, &["status", "rb.toml", "--format", "json"], &env);
            let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
            assert_eq!(v["status"], "running", "{p}: unfinished: {}", st.stdout);
            // No --phase: the unfinished attempt is resumed.
            let resumed = cutover_env(dir, &["rollback", "rb.toml", "--yes"], &env);
            assert!(
                resumed.stdout.contains("resuming rollback attempt 1"),
                "{p}: {}",
                resumed.all()
            );
            resumed
        }
    };
    let label = point.unwrap_or("uninterrupted");
    assert_eq!(done.code, 0, "{label}: {}", done.all());
    assert!(
        done.stdout
            .contains("2 of 2 table(s) proven equal to the backup")
            && done.stdout.contains("dropped: "),
        "{label}: {}",
        done.stdout
    );
    // The end state: the pre-cutover database, table by table, sequence and view
    // included, and no extra tables.
    for table in ["accounts", "orders"] {
        let d = cutover(
            dir,
            &[
                "diff", "data", "--source", before, "--target", &prod.url, "--table", table,
            ],
        );
        assert_eq!(d.code, 0, "{label}: {table} as before:\n{}", d.all());
    }
    let state = "SELECT (SELECT last_value || '/' || is_called FROM accounts_id_seq) || ' ' || (SELECT count(*) FROM big_orders) || ' ' || (SELECT count(*) FROM pg_tables WHERE tablename LIKE 'extra_%')";
    assert_eq!(
        scalar_at(&prod.url, state).await,
        scalar_at(before, state).await,
        "{label}: sequence, view and no extra tables"
    );
    assert_eq!(
        cutover_env(dir, &["audit", "verify", "rb.toml"], &env).code,
        0
    );
    // The ledger holds exactly one completed restore with its proof.
    let st = cutover_env(dir, &["status", "rb.toml", "--format", "json"], &env);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let restore = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "restore-production")
        .unwrap_or_else(|| panic!("{label}: {}", st.stdout));
    assert_eq!(restore["state"], "done", "{label}: {restore}");
    let proof = &restore["evidence"]["proof"];
    assert!(
        proof["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["equal"] == true),
        "{label}: {proof}"
    );
    assert_eq!(proof["extra_dropped"], true, "{label}: {proof}");
}

#[tokio::test]
async fn a_restore_killed_with_kill_9_resumes_to_the_state_of_an_uninterrupted_one() {
    let Some(before) = testkit::postgres().await else {
        return;
    };
    setup(&before.url).await;
    // The scale for "the same end state": the uninterrupted restore, then each kill.
    for point in [
        None,
        Some("restore:verified"),
        // one table's rows loaded by binary COPY, the other's not, nothing committed
        Some("restore:table-rows:public.accounts"),
        Some("restore:restored"),
        Some("restore:dropped:1"),
    ] {
        restore_killed_at(point, &before.url).await;
    }
}
