//! The `command` step: the application's own programs run with arguments, a working
//! directory and environment (values from `${env:...}` scrubbed from evidence, log and
//! ledger), a timeout and the exit codes that count; output kept as evidence; killed
//! with its whole process group on timeout and when the run is stopped (Ctrl-C).

use super::support::*;
use cutover::db::Dialect;
use cutover::testkit::{self, TestDb};

const SECRET: &str = "tok-8c1f55e0a7";

/// The engine's own client writing one row: the command a person would run.
fn client_argv(db: &TestDb, sql: &str) -> String {
    let sql = sql.replace('"', "\\\"");
    match db.dialect {
        Dialect::Sqlite => format!(
            "[\"sqlite3\", \"-bail\", \"{}\", \"{sql}\"]",
            db.url.trim_start_matches("sqlite://")
        ),
        Dialect::Postgres => {
            format!(
                "[\"psql\", \"-X\", \"-v\", \"ON_ERROR_STOP=1\", \"${{env:APP_DB}}\", \"-c\", \"{sql}\"]"
            )
        }
        Dialect::Mysql => format!(
            "[\"mariadb\", \"-h\", \"127.0.0.1\", \"-u\", \"root\", \"{}\", \"-e\", \"{sql}\"]",
            db.name
        ),
    }
}

fn runbook(db: &TestDb, sql: &str) -> String {
    format!(
        r#"name = "app-deploy"
[targets]
app = "{url}"

[[phases]]
id = "deploy"
  [[phases.steps]]
  id = "app-migrate"
  kind = "command"
  run = {argv}
  cwd = "app"
  target = "app"
  env = {{ APP_DB = "${{env:APP_DB}}", API_TOKEN = "${{env:API_TOKEN}}", APP_ENV = "production" }}
  timeout = 60

  [[phases.steps]]
  id = "smoke"
  kind = "command"
  run = ["sh", "-c", "echo env=$APP_ENV token=$API_TOKEN; echo warming up >&2"]
  cwd = "app"
  env = {{ API_TOKEN = "${{env:API_TOKEN}}", APP_ENV = "production" }}

  [[phases.steps]]
  id = "one-row"
  kind = "check"
  target = "app"
  query = "SELECT count(*) FROM deployed"
  expect = 1
"#,
        url = db.url,
        argv = client_argv(db, sql)
    )
}

fn run_env(d: &std::path::Path, db: &TestDb, args: &[&str]) -> Out {
    cutover_env(d, args, &[("APP_DB", &db.url), ("API_TOKEN", SECRET)])
}

#[tokio::test]
async fn command_runs_the_engines_own_client_and_keeps_its_output() {
    for db in testkit::all_engines().await {
        let what = format!("{:?}", db.dialect);
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir(d.join("app")).unwrap();
        // A failing statement: the client exits non-zero; the run stops with exit 1,
        // its stderr kept in the evidence and named in the failure.
        std::fs::write(
            d.join("rb.toml"),
            runbook(&db, "INSERT INTO missing_table VALUES (1)"),
        )
        .unwrap();
        let out = run_env(d, &db, &["run", "rb.toml", "--headless"]);
        assert_eq!(out.code, 1, "{what}: {}", out.all());
        assert!(
            out.stderr
                .contains("ended with exit 1, success is exit 0; last output:"),
            "{what}: {}",
            out.stderr
        );
        assert!(
            out.stderr.to_lowercase().contains("missing_table"),
            "{what}: {}",
            out.stderr
        );
        let st = run_env(d, &db, &["status", "rb.toml", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
        let step = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "app-migrate")
            .unwrap()
            .clone();
        assert_eq!(step["evidence"]["exit_code"], 1, "{what}: {step}");
        assert!(
            step["evidence"]["stderr"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("missing_table"),
            "{what}: {step}"
        );
        assert_eq!(step["evidence"]["cwd"], "app", "{step}");

        // Fixed: the command creates the table, the check after it sees the row.
        std::fs::write(
            d.join("rb.toml"),
            runbook(
                &db,
                "CREATE TABLE deployed (id INT PRIMARY KEY); INSERT INTO deployed VALUES (1)",
            ),
        )
        .unwrap();
        let out = run_env(d, &db, &["run", "rb.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        assert!(out.stdout.contains("app-migrate: "), "{}", out.stdout);
        assert!(out.stdout.contains(": exit 0 ("), "{}", out.stdout);
        assert!(
            out.stdout.contains("one-row: query: 1 as expected"),
            "{what}: {}",
            out.stdout
        );

        // The secret from the environment is nowhere: not in the evidence, the log, the ledger.
        let st = run_env(d, &db, &["status", "rb.toml", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
        let smoke = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "smoke")
            .unwrap()
            .clone();
        assert_eq!(
            smoke["evidence"]["stdout"], "env=production token=***\n",
            "{smoke}"
        );
        assert_eq!(smoke["evidence"]["stderr"], "warming up\n", "{smoke}");
        assert!(
            smoke["evidence"]["env"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e == "API_TOKEN=${env:API_TOKEN}"),
            "{smoke}"
        );
        assert!(!st.stdout.contains(SECRET));
        for f in ["ledger.db", "cutover.log"] {
            let bytes = std::fs::read(d.join(".cutover").join(f)).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "{what}: the secret is in {f}"
            );
        }
        let log = std::fs::read_to_string(d.join(".cutover/cutover.log")).unwrap();
        assert!(
            log.contains("stdout: env=production token=***"),
            "the output streams to the log: {log}"
        );
    }
}

fn one_step(d: &std::path::Path, step: &str) {
    std::fs::write(
        d.join("rb.toml"),
        format!("name = \"cmd\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"c\"\n  kind = \"command\"\n{step}"),
    )
    .unwrap();
}

fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Err(_) => true,
        // A zombie waiting for its reaper is dead too.
        Ok(stat) => stat.split_whitespace().nth(2) == Some("Z"),
    }
}

fn wait_file(p: &std::path::Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Ok(s) = std::fs::read_to_string(p)
            && s.ends_with('\n')
        {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            p.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn command_not_found_times_out_or_is_stopped_with_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();

    one_step(d, "  run = [\"no-such-deploy-tool\", \"migrate\"]\n");
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("program \"no-such-deploy-tool\" not found (looked in PATH"),
        "{}",
        out.stderr
    );

    // Timed out: exit 3 at the timeout, the program and what it started killed.
    one_step(
        d,
        "  run = [\"sh\", \"-c\", \"sleep 60 & echo $! > sleeper.pid; echo still busy >&2; wait\"]\n  timeout = 1\n",
    );
    let started = std::time::Instant::now();
    let out = cutover(
        d,
        &[
            "run",
            "rb.toml",
            "--headless",
            "--new",
            "--abandon",
            "next case",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the timeout holds"
    );
    assert!(out.stderr.contains("timed out after 1s and was killed (its whole process group); last stderr line: still busy"), "{}", out.stderr);
    let pid = std::fs::read_to_string(d.join("sleeper.pid")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        gone(&pid),
        "the background sleep {pid} outlived the timeout"
    );

    // Ctrl-C during the command: the run stops resumably and the program is killed.
    std::fs::remove_file(d.join("sleeper.pid")).unwrap();
    one_step(
        d,
        "  run = [\"sh\", \"-c\", \"sleep 60 & echo $! > sleeper.pid; wait\"]\n",
    );
    let mut child = command(
        d,
        &[
            "run",
            "rb.toml",
            "--headless",
            "--new",
            "--abandon",
            "ctrl-c case",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let pid = wait_file(&d.join("sleeper.pid"));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "interrupted");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(gone(&pid), "the command {pid} outlived the run");
}

#[test]
fn command_runbook_errors_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (step, want) in [
        (
            "  run = \"make migrate\"\n",
            "rb.toml:7:9: without `shell = true`, `run` is the program and its arguments as an array",
        ),
        (
            "  run = [\"true\"]\n  cwd = \"nowhere\"\n",
            "rb.toml:8:9: `cwd` names \"nowhere\", which does not exist",
        ),
        (
            "  run = [\"true\"]\n  timeout = 0\n",
            "rb.toml:8:3: `timeout` must be a positive number of seconds",
        ),
        (
            "  run = [\"true\"]\n  env = { TOKEN = \"${env:CUTOVER_TEST_UNSET_VAR}\" }\n",
            "environment variable CUTOVER_TEST_UNSET_VAR is not set",
        ),
        (
            "  run = [\"true\"]\n  success_codes = []\n",
            "`success_codes` is empty",
        ),
    ] {
        one_step(d, step);
        let out = cutover(d, &["validate", "rb.toml"]);
        assert_eq!(out.code, 2, "{step}: {}", out.all());
        assert!(
            out.stderr.contains(want),
            "{step}: want {want}: {}",
            out.stderr
        );
    }
}
