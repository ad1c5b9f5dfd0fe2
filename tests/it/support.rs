//! Helpers for driving the real `cutover` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const OPERATOR: &str = "olga-operator";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cutover")
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Out {
    fn from(o: Output) -> Self {
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// The one way tests start the `cutover` binary: `cutover ARGS` in `dir` with a
/// cleared environment, so nothing from the shell running the tests (a
/// `CUTOVER_LEDGER`, `CUTOVER_SOURCE`/`CUTOVER_TARGET`, `CUTOVER_CRASH_AT`, `NO_COLOR`,
/// `USER`) changes what it does. It gets only `PATH` and `HOME`, the operator
/// ([`OPERATOR`]) and whatever the test adds with `.env(..)`; stdin is empty.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir).args(args).env_clear();
    for k in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    c.env("CUTOVER_OPERATOR", OPERATOR);
    c.stdin(Stdio::null());
    c
}

/// The same environment as [`command`] as a shell command line, for a terminal the
/// test drives (tmux): `env -i` keeps only `PATH`, `HOME`, the pane's `TERM`, the
/// operator and the test's `env`, then runs `cutover ARGS`.
pub fn shell_command(args: &[&str], env: &[(&str, &str)]) -> String {
    fn quote(s: &str) -> String {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
    let mut line = String::from("env -i TERM=\"$TERM\"");
    for k in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(k) {
            line.push_str(&format!(" {k}={}", quote(&v)));
        }
    }
    let mut vars = vec![("CUTOVER_OPERATOR", OPERATOR)];
    vars.retain(|(k, _)| !env.iter().any(|(e, _)| e == k));
    for (k, v) in vars.iter().chain(env) {
        line.push_str(&format!(" {k}={}", quote(v)));
    }
    line.push(' ');
    line.push_str(&quote(bin()));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    line
}

/// Run `cutover ARGS` from a scratch directory of its own, removed when the run ends.
pub fn output_in_scratch(args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    command(cwd.path(), args).output().expect("run cutover")
}

/// Run `cutover ARGS` in `dir` and collect its output.
pub fn cutover(dir: &Path, args: &[&str]) -> Out {
    command(dir, args).output().expect("run cutover").into()
}

pub fn cutover_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = command(dir, args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run cutover").into()
}

/// A fresh demo workspace (files and databases, not run) in a temp dir.
pub fn demo_workspace() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = cutover(tmp.path(), &["demo", "--dir", "ws", "--no-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let ws = tmp.path().join("ws");
    (tmp, ws)
}

pub const RUNBOOK: &str = "runbooks/lerg-cutover.toml";

/// Every user table of a SQLite file, rows sorted, as text; cutover's own bookkeeping
/// (marks with run ids, migration timestamps) left out.
pub async fn dump_sqlite(path: &Path) -> String {
    let db = cutover::db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let tables = db
        .query("SELECT name, sql FROM sqlite_master WHERE type IN ('table','index') AND name NOT LIKE 'sqlite_%' ORDER BY name", &[])
        .await
        .unwrap();
    let mut out = String::new();
    for t in &tables.rows {
        let name = t[0].to_string();
        // The run's anchors and lock come and go with each run: not the user's data.
        if name == "cutover_anchors" || name == "cutover_locks" {
            continue;
        }
        out.push_str(&format!("## {name}\n{}\n", t[1]));
        // Bookkeeping whose rows carry the run id: its shape is compared, not its rows.
        if name == "cutover_marks"
            || name == "cutover_copy_progress"
            || name == "cutover_batch_progress"
            || name == "refinery_schema_history"
            || t[1].to_string().starts_with("CREATE INDEX")
        {
            if name == "refinery_schema_history" {
                let v = db.query("SELECT version, name, checksum FROM refinery_schema_history ORDER BY version", &[]).await.unwrap();
                out.push_str(&format!("{:?}\n", v.rows));
            }
            continue;
        }
        let rows = db
            .query(&format!("SELECT * FROM \"{name}\" ORDER BY 1"), &[])
            .await
            .unwrap();
        for r in rows.rows {
            out.push_str(&format!("{r:?}\n"));
        }
    }
    db.close().await;
    out
}

pub async fn scalar(path: &Path, sql: &str) -> String {
    let db = cutover::db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let r = db.query(sql, &[]).await.unwrap();
    db.close().await;
    r.scalar().map(|v| v.to_string()).unwrap_or_default()
}

/// The demo's five checkpoint owners, one per phase: preparation (ops), migration
/// (dba), functions (deploy), integration tests (qa), go-live (lead).
pub const DEMO_APPROVERS: &str = "olu:ops,dana:dba,dev:deploy,quinn:qa,lee:lead";

/// Tick every item of the demo's integration-test checklist pass, as quinn (qa), the
/// way a tester does from another terminal.
pub fn tick_integration_tests(ws: &Path) {
    for item in ["lerg-integrity", "billing", "user-experience", "frontend"] {
        let out = cutover(
            ws,
            &[
                "checklist",
                RUNBOOK,
                "--item",
                item,
                "--pass",
                "--as",
                "quinn",
                "--role",
                "qa",
            ],
        );
        assert_eq!(out.code, 0, "tick {item}: {}", out.all());
    }
}

/// A demo workspace whose run completed: `cutover run` with the five owners'
/// approvals, stopping at the integration-test checklist, ticked by quinn (qa).
pub fn completed_demo() -> (tempfile::TempDir, PathBuf) {
    let (tmp, ws) = demo_workspace();
    let out = cutover(
        &ws,
        &["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS],
    );
    assert_eq!(out.code, 4, "stops at the checklist: {}", out.all());
    assert!(out.stdout.contains("integration-tests"), "{}", out.all());
    tick_integration_tests(&ws);
    let out = cutover(
        &ws,
        &["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    (tmp, ws)
}

/// Poll `cutover status --format json` (with `extra` args) until `pred` holds; panics after 30 s.
pub fn wait_for_status(
    ws: &Path,
    extra: &[&str],
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut args = vec!["status", RUNBOOK, "--format", "json"];
    args.extend_from_slice(extra);
    loop {
        let st = cutover(ws, &args);
        let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap_or_default();
        if pred(&v) {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status never reached the expected state: {}",
            st.all()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
