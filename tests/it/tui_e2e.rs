//! The real binary in a real terminal: tmux runs `cutover demo`, the test types into
//! it (send-keys) and reads the screen (capture-pane). Skips loudly without tmux.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// None (and a loud message) when tmux is not installed.
    fn start(name: &str, cmd: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("skipped: tmux is not installed; the TUI end-to-end test did not run");
            if std::env::var("CUTOVER_REQUIRE_SERVERS").as_deref() == Ok("1") {
                panic!("tmux is required (CUTOVER_REQUIRE_SERVERS=1)");
            }
            return None;
        }
        // A private server: nothing else on the machine is touched.
        let t = Tmux {
            socket: format!("cutover-it-{}-{name}", std::process::id()),
            session: name.to_string(),
        };
        let ok = Command::new("tmux")
            .args([
                "-L",
                &t.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                &t.session,
            ])
            .args(["-x", "100", "-y", "30"])
            .arg(format!("{cmd}; echo EXIT=$?; sleep 60"))
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux new-session")
            .success();
        assert!(ok, "tmux new-session failed");
        Some(t)
    }

    fn screen(&self) -> String {
        let o = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "capture-pane",
                "-p",
                "-t",
                &self.session,
            ])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", &self.session, k])
                .status()
                .expect("send-keys");
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn text(&self, s: &str) {
        Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "send-keys",
                "-t",
                &self.session,
                "-l",
                s,
            ])
            .status()
            .expect("send-keys");
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Wait until the screen contains `what`; panics with the screen after `secs`.
    fn wait_for(&self, what: &str, secs: u64) -> Duration {
        let t0 = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return t0.elapsed();
            }
            if t0.elapsed() > Duration::from_secs(secs) {
                panic!("timed out waiting for {what:?}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn demo_cmd(dir: &Path) -> String {
    let ws = dir.join("ws").display().to_string();
    crate::support::shell_command(
        &["demo", "--dir", &ws],
        &[("CUTOVER_OPERATOR", "alice"), ("NO_COLOR", "1")],
    )
}

/// Approve the waiting checkpoint from the dialog as `name` (in the role the dialog
/// prefills: the one the checkpoint names) with a comment,
/// typing the checkpoint id as confirmation when hazards were raised before it.
fn approve_in_dialog(t: &Tmux, checkpoint: &str, name: &str, comment: &str) {
    t.keys(&["a"]);
    t.wait_for("Approve ]", 10);
    let hazardous = t.screen().contains("Confirm ");
    t.text(name);
    t.keys(&["Tab", "Tab"]); // role is prefilled with the checkpoint's role
    t.text(comment);
    t.keys(&["Tab"]);
    if hazardous {
        t.text(checkpoint);
        t.keys(&["Tab"]);
    }
    t.keys(&["Enter"]);
}

fn status_json(dir: &Path) -> serde_json::Value {
    let runbook = dir.join("ws/runbooks/lerg-cutover.toml");
    let out = crate::support::command(dir, &["status", "--format", "json"])
        .arg(runbook)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status json: {e}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn demo_in_a_terminal_approve_the_five_checkpoints_in_the_dialog_and_quit() {
    let dir = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start("dialog", &demo_cmd(dir.path())) else {
        return;
    };
    t.wait_for("plan-approved awaits approval 0/1", 60);
    // The operator may not approve their own run: the dialog says why.
    t.keys(&["a"]);
    t.wait_for("Approve ]", 10);
    t.text("alice");
    // Name -> Role -> Comment -> Approve: plan-approved carries no hazard (the schema
    // diff's generated migration is never run; issue 11), so no confirmation field.
    t.keys(&["Tab", "Tab", "Tab", "Enter"]);
    t.wait_for("self-approval refused", 10);
    t.keys(&["Escape"]);
    approve_in_dialog(&t, "plan-approved", "bob", "backup manifest checked");
    t.wait_for("approval of plan-approved recorded as bob (ops)", 20);
    // The dialog prefills the role the checkpoint names: its phase's owner.
    for (checkpoint, role) in [
        ("migration-verified", "dba"),
        ("functions-tested", "deploy"),
    ] {
        t.wait_for(&format!("{checkpoint} awaits approval 0/1"), 60);
        approve_in_dialog(&t, checkpoint, "bob", "looked at it");
        t.wait_for(
            &format!("approval of {checkpoint} recorded as bob ({role})"),
            20,
        );
    }
    // QA ticks the integration tests from another terminal; the waiting run sees them.
    let runbook = dir.path().join("ws/runbooks/lerg-cutover.toml");
    for item in ["lerg-integrity", "billing", "user-experience", "frontend"] {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let out = crate::support::command(dir.path(), &["checklist"])
                .arg(&runbook)
                .args(["--item", item, "--pass", "--as", "quinn", "--role", "qa"])
                .output()
                .unwrap();
            if out.status.success() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    t.wait_for("tests-passed awaits approval 0/1", 60);
    // tests-passed lets drop_lerg_codes.sql run: the dialog names the hazard at its
    // file and line, and approving without typing the checkpoint id is refused.
    t.keys(&["a"]);
    t.wait_for("type tests-passed to approve despite hazards", 10);
    t.wait_for("lerg/sql/drop_lerg_codes.sql:1", 10);
    t.text("bob");
    t.keys(&["Tab", "Tab", "Tab", "Tab", "Enter"]);
    t.wait_for("hazards were raised: type tests-passed", 10);
    t.keys(&["Escape"]);
    approve_in_dialog(&t, "tests-passed", "bob", "final backup verified");
    t.wait_for("ready-for-production awaits approval 0/1", 60);
    approve_in_dialog(&t, "ready-for-production", "bob", "go live");
    t.wait_for("finished: completed", 60);
    let screen = t.screen();
    assert!(screen.contains("✓ drop-lerg-codes"), "{screen}");
    // History tab: the chain verifies.
    t.keys(&["3"]);
    t.wait_for("✓ chain verified", 10);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", 20);
    assert!(t.screen().contains("complete."));
    let st = status_json(dir.path());
    assert_eq!(st["status"], "completed", "{st}");
    let approvals = st["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 5, "{st}");
    assert_eq!(approvals[0]["approver"], "bob");
    assert_eq!(approvals[0]["via"], "tui");
    assert_eq!(approvals[0]["comment"], "backup manifest checked");
    assert_eq!(approvals[3]["comment"], "final backup verified");
    assert_eq!(approvals[4]["role"], "lead");
}

#[test]
fn an_approval_from_another_process_is_picked_up_live() {
    let dir = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start("live", &demo_cmd(dir.path())) else {
        return;
    };
    t.wait_for("plan-approved awaits approval 0/1", 60);
    let out = crate::support::command(dir.path(), &["approve"])
        .arg(dir.path().join("ws/runbooks/lerg-cutover.toml"))
        .args([
            "--checkpoint",
            "plan-approved",
            "--as",
            "carol",
            "--role",
            "ops",
        ])
        .args(["--comment", "looked at it from my desk"])
        .env("CUTOVER_OPERATOR", "carol")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The waiting run sees it and carries on by itself to the next checkpoint.
    let seen = t.wait_for("migration-verified awaits approval 0/1", 30);
    eprintln!("approval from another process on screen after {seen:?}");
    // The ledger's history shows who approved, and the checkpoint passed.
    t.keys(&["3", "g"]);
    t.wait_for("#1 run_started", 10);
    // Walk the records down to the approval.
    for _ in 0..40 {
        if t.screen().contains(" approval plan-approved ") {
            break;
        }
        t.keys(&["j"]);
    }
    t.wait_for("approve by carol (ops)", 10);
    t.wait_for("looked at it from my desk", 10);
    // Quit while waiting: asked first; the run stays resumable and says how.
    t.keys(&["q"]);
    t.wait_for("Quit?", 10);
    t.keys(&["y"]);
    t.wait_for("EXIT=4", 20);
    let screen = t.screen();
    assert!(
        screen.contains("stopped at checkpoint \"migration-verified\""),
        "{screen}"
    );
    let st = status_json(dir.path());
    assert_eq!(st["status"], "interrupted", "{st}");
    let cp = st["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "migration-verified")
        .unwrap();
    assert_eq!(cp["state"], "awaiting_approval", "{st}");
    assert_eq!(st["approvals"][0]["approver"], "carol", "{st}");
}

#[test]
fn waiting_pane_leads_with_hazards_and_focus_follows_2() {
    let dir = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start("focus", &demo_cmd(dir.path())) else {
        return;
    };
    t.wait_for("plan-approved awaits approval 0/1", 60);
    // The waiting checkpoint's pane says what to weigh without opening the dialog.
    t.wait_for("Awaiting approval 0/1", 10);
    let s = t.screen();
    // The first checkpoint lets only migrations and checks run: no hazard to list
    // (the legacy table's drop is the last checkpoint's, with its file and line).
    assert!(!s.contains("⚠ Hazards"), "{s}");
    assert!(s.contains("No approvals yet"), "{s}");
    assert!(s.contains("┏ Runbook"), "the runbook has focus first:\n{s}");
    // `2` shows the log and focuses it: `f` changes its level with no Tab between.
    t.keys(&["2", "f"]);
    t.wait_for("Log ≥WARN", 10);
    let s = t.screen();
    assert!(s.contains("┏ Log"), "{s}");
    assert!(s.contains("┌ Runbook"), "{s}");
    assert!(
        s.contains(" Log  ? help"),
        "the footer lists the log's keys:\n{s}"
    );
    t.keys(&["q", "y"]);
    t.wait_for("EXIT=", 20);
}

#[test]
fn slash_filters_the_steps_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start("filter", &demo_cmd(dir.path())) else {
        return;
    };
    t.wait_for("plan-approved awaits approval 0/1", 60);
    assert!(t.screen().contains("consolidate-legacy"));
    t.keys(&["/"]);
    t.text("plan");
    t.wait_for("/plan▏", 10);
    t.keys(&["Enter"]);
    t.wait_for("/plan (1 of ", 10);
    let s = t.screen();
    assert!(!s.contains("consolidate-legacy"), "{s}");
    assert!(s.contains("plan-approved"), "{s}");
    t.keys(&["Escape"]);
    t.wait_for("consolidate-legacy", 10);
    assert!(!t.screen().contains("/plan"));
    t.keys(&["q", "y"]);
    t.wait_for("EXIT=", 20);
}

#[test]
fn a_mouse_click_selects_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start("mouse", &demo_cmd(dir.path())) else {
        return;
    };
    t.wait_for("plan-approved awaits approval 0/1", 60);
    let screen = t.screen();
    let (x, y) = screen
        .lines()
        .enumerate()
        .find_map(|(y, l)| {
            l.find("consolidate-legacy")
                .map(|b| (l[..b].chars().count(), y))
        })
        .expect("step on screen");
    // What a terminal sends for a left click with mouse reporting on (SGR, 1-based).
    t.text(&format!(
        "\x1b[<0;{};{}M\x1b[<0;{};{}m",
        x + 1,
        y + 1,
        x + 1,
        y + 1
    ));
    t.wait_for("consolidate-legacy consolidate", 10);
    t.keys(&["q", "y"]);
    t.wait_for("EXIT=", 20);
}

/// A diff over enough rows to take a few seconds shows a live gauge (percent, rate,
/// ETA) while it runs, then the step's result. SQLite against PostgreSQL: rows are
/// streamed and merged (the engines cannot compare checksums with each other), and the
/// merge reports progress as it goes.
#[tokio::test(flavor = "multi_thread")]
async fn a_progress_gauge_appears_during_a_long_diff() {
    use cutover::testkit;
    // big enough that the diff lasts seconds even on the fast SQLite-against-server merge
    const N: u64 = 2_000_000;
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let lite = testkit::sqlite().await;
    let fill = [
        (
            &lite,
            format!(
                "INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {N}) \
                 SELECT i, CASE WHEN i = {N} THEN 'x' ELSE 'same value ' || i END FROM n"
            ),
        ),
        (
            &pg,
            format!(
                "INSERT INTO t SELECT i, CASE WHEN i = {N} THEN 'y' ELSE 'same value ' || i END \
                 FROM generate_series(1, {N}) AS i"
            ),
        ),
    ];
    for (tdb, insert) in fill {
        let db = tdb.connect().await;
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .await
            .unwrap();
        db.execute(&insert).await.unwrap();
        // the catalog's row count gives the gauge its total (SQLite's rows are counted)
        if tdb.url.starts_with("postgres") {
            db.execute("ANALYZE t").await.unwrap();
        }
        db.close().await;
    }
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("long.toml");
    std::fs::write(
        &runbook,
        format!(
            "name = \"long\"\n[targets]\na = \"{}\"\nb = \"{}\"\n\n\
             [[phases]]\nid = \"look\"\n  [[phases.steps]]\n  id = \"big-diff\"\n  kind = \"diff-data\"\n  \
             source = \"a\"\n  target = \"b\"\n  table = \"t\"\n",
            lite.url, pg.url
        ),
    )
    .unwrap();
    let cmd = crate::support::shell_command(
        &["run", &runbook.display().to_string()],
        &[("NO_COLOR", "1")],
    );
    let Some(t) = Tmux::start("gauge", &cmd) else {
        return;
    };
    // The gauge: "big-diff 40% · ETA 3.1s", a bar, "1,600,000/4,000,000 rows · … rows/s".
    t.wait_for("rows/s", 60);
    let s = t.screen();
    assert!(s.contains("big-diff") && s.contains('%'), "{s}");
    assert!(s.contains("/4,000,000 rows"), "{s}");
    assert!(s.contains('█') || s.contains('░'), "{s}");
    t.wait_for("1 differing rows", 120);
    t.keys(&["q"]);
    t.wait_for("EXIT=", 20);
}

/// (column, row) of `needle` on the screen, 1-based as a terminal reports the mouse.
fn screen_at(screen: &str, needle: &str) -> (usize, usize) {
    screen
        .lines()
        .enumerate()
        .find_map(|(y, l)| l.find(needle).map(|b| (l[..b].chars().count() + 1, y + 1)))
        .unwrap_or_else(|| panic!("{needle} not on screen:\n{screen}"))
}

/// A left click as a terminal with mouse reporting on sends it (SGR).
fn sgr_click(t: &Tmux, (x, y): (usize, usize)) {
    t.text(&format!("\x1b[<0;{x};{y}M\x1b[<0;{x};{y}m"));
}

/// A go-live checklist ticked in the real terminal: the first item with keys (`p`, a
/// note, Enter, Enter), the second with the mouse (click it, click it again, click
/// `[ Pass ]`); the waiting run then goes on to its last step and finishes, and the
/// ledger says who ticked each item and that it came from the TUI.
#[test]
fn checklist_items_ticked_in_a_real_terminal_let_the_run_finish() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("app.db"), "").unwrap();
    std::fs::write(
        d.join("rb.toml"),
        r#"name = "golive"
[targets]
app = "sqlite://app.db"
[policy]
checklist_roles = ["qa"]

[[phases]]
id = "p"
  [[phases.steps]]
  id = "seed"
  kind = "sql"
  target = "app"
  sql = "CREATE TABLE shipped (id INT PRIMARY KEY); INSERT INTO shipped VALUES (1);"

  [[phases.steps]]
  id = "go-live"
  kind = "checklist"
  title = "Go-live checklist"
  items = [
    { id = "tech-login", text = "A technician can log in" },
    { id = "scanner", text = "The scanner works on mobile" },
  ]

  [[phases.steps]]
  id = "after"
  kind = "sql"
  target = "app"
  sql = "INSERT INTO shipped VALUES (2)"
"#,
    )
    .unwrap();
    let rb = d.join("rb.toml").display().to_string();
    let cmd = crate::support::shell_command(
        &["run", &rb],
        &[("CUTOVER_OPERATOR", "quinn"), ("NO_COLOR", "1")],
    );
    let Some(t) = Tmux::start("checklist", &cmd) else {
        return;
    };
    t.wait_for("Go-live checklist: 0 passed, 0 failed, 2 open", 60);
    // A checklist waits for ticks, not for an approval: the title bar and the pane say so.
    t.wait_for("awaiting ticks", 10);
    let s = t.screen();
    assert!(s.contains("checklist awaiting ticks"), "{s}");
    assert!(!s.contains("awaiting approval"), "{s}");
    t.keys(&["1", "p"]);
    t.wait_for("Tick tech-login pass", 10);
    t.text("logged in from the depot");
    t.keys(&["Enter", "Enter"]);
    t.wait_for("Go-live checklist: 1 passed, 0 failed, 1 open", 10);
    let at = screen_at(&t.screen(), "scanner");
    sgr_click(&t, at);
    t.wait_for("› ---- scanner", 10);
    sgr_click(&t, at);
    t.wait_for("Tick scanner", 10);
    sgr_click(&t, screen_at(&t.screen(), "[ Pass ]"));
    t.wait_for("finished: completed", 30);
    let s = t.screen();
    assert!(s.contains("✓ after"), "{s}");
    t.keys(&["q"]);
    t.wait_for("EXIT=0", 20);
    let out = crate::support::cutover(d, &["status", &rb, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let step = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "go-live")
        .unwrap()
        .clone();
    for (i, note) in [(0, Some("logged in from the depot")), (1, None)] {
        let item = &step["evidence"]["items"][i];
        assert_eq!(item["outcome"], "pass", "{step}");
        assert_eq!(item["by"], "quinn", "{step}");
        assert_eq!(item["role"], "qa", "{step}");
        assert_eq!(item["via"], "tui", "{step}");
        assert_eq!(item["note"].as_str(), note, "{step}");
    }
}
