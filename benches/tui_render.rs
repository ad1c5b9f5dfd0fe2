//! TUI speed: time to first frame, and render time per frame while scrolling a data
//! diff of 1,000,000 differing rows. Goals: first frame < 200 ms, frames < 16 ms median.
//!
//! Run: `cargo bench --bench tui_render` (tmux needed for the real-binary figures).
//!
//! - First frame, real binary: `cutover run` on the demo workspace inside tmux, from
//!   spawning the process to the first frame on screen (capture-pane polled every
//!   2 ms). Beside it, the floor: `cutover status` on the same runbook (process start,
//!   runbook parse, ledger open, exit), and `tmux`'s own latency (`echo` in a pane).
//! - First frame, in process: AppState from the runbook, App, first draw.
//! - Frames: one key (j / PageDown / l) then one full draw into a 120x40 and an 80x24
//!   buffer, with the million-row diff selected; median, p95 and max over all frames.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use cutover::tui::app::Focus;
use cutover::tui::views::evidence::data_diff::{DataDiffModel, RowKind, RowStore};
use cutover::tui::views::evidence::{Body, EvidenceModel};
use cutover::tui::{Action, App, AppState, PhasePlan, StepPlan, Tab, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROWS: usize = 1_000_000;

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn pct(v: &[Duration], p: f64) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn million_row_diff() -> DataDiffModel {
    let mut rows = RowStore::new(5);
    for i in 0..ROWS {
        let id = (i as u64 * 7 + 100_000).to_string();
        let email_s = format!("user{i}@staging.example");
        let email_t = format!("user{i}@prod.example");
        let amount = format!("{}.{:02}", i % 100_000, i % 100);
        let amount_t = format!("{}.{:02}", i % 100_000, (i + 1) % 100);
        let kind = match i % 20 {
            0 => RowKind::OnlyInSource,
            1 => RowKind::OnlyInTarget,
            _ => RowKind::Changed,
        };
        rows.push(
            kind,
            &id,
            &[
                (Some("active"), Some("active")),
                (Some(&email_s), Some(&email_t)),
                (
                    Some(&amount),
                    Some(if i % 3 == 0 { &amount_t } else { &amount }),
                ),
                (None, Some("2026-11-21T02:00:00Z")),
                (Some("gold"), Some("gold")),
            ],
        );
    }
    DataDiffModel {
        table: Some("consumer_orders".into()),
        key_columns: vec!["id".into()],
        columns: ["status", "email", "amount", "updated_at", "tier"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows,
        ..Default::default()
    }
}

fn plan() -> Vec<PhasePlan> {
    let step = |id: &str, kind: &str| StepPlan {
        id: id.into(),
        kind: kind.into(),
        title: id.into(),
        targets: vec!["production".into()],
        plan: vec![format!("{kind} step")],
        instructions: None,
    };
    vec![PhasePlan {
        id: "verify".into(),
        title: "Verify".into(),
        rollback: false,
        steps: vec![
            step("backup", "backup"),
            step("orders-diff", "diff-data"),
            step("go", "checkpoint"),
        ],
    }]
}

fn key(app: &mut App, code: KeyCode) {
    let mut next = app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
    while let Some(a) = next.take() {
        next = app.update(a);
    }
}

fn frames(app: &mut App, w: u16, h: u16, n: usize) -> Vec<Duration> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| app.draw(f)).unwrap();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let code = match i % 50 {
            0 => KeyCode::PageDown,
            25 => KeyCode::Char('l'),
            30 => KeyCode::Char('h'),
            49 if i % 1000 == 999 => KeyCode::Char('G'),
            _ => KeyCode::Char('j'),
        };
        key(app, code);
        term.draw(|f| app.draw(f)).unwrap();
        out.push(t.elapsed());
    }
    out
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let o = Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Spawn `cmd` in a fresh tmux pane and time until `marker` shows on screen;
/// None when tmux cannot start a server here.
fn time_to_screen(socket: &str, cmd: &str, marker: &str) -> Option<Duration> {
    let _ = tmux(socket, &["kill-session", "-t", "b"]);
    let t = Instant::now();
    let st = Command::new("tmux")
        .args([
            "-L",
            socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "b",
            "-x",
            "120",
            "-y",
            "40",
        ])
        .arg(format!("{cmd}; sleep 30"))
        .env("TERM", "xterm-256color")
        .status()
        .ok()?;
    if !st.success() {
        return None;
    }
    loop {
        if tmux(socket, &["capture-pane", "-p", "-t", "b"]).contains(marker) {
            return Some(t.elapsed());
        }
        if t.elapsed() > Duration::from_secs(30) {
            panic!(
                "{marker:?} never appeared: {}",
                tmux(socket, &["capture-pane", "-p", "-t", "b"])
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn real_binary() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("first frame, real binary: skipped (tmux is not installed)");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_cutover");
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let ok = Command::new(bin)
        .args(["demo", "--no-run", "--dir"])
        .arg(&ws)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let rb = ws.join("runbooks/lerg-cutover.toml");
    let socket = format!("cutover-bench-{}", std::process::id());
    let runs = 7;
    let (mut ui, mut status, mut echo) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        // The run resumes each time (quitting leaves it resumable).
        let Some(first) = time_to_screen(
            &socket,
            &format!("env CUTOVER_OPERATOR=alice {bin} run {}", rb.display()),
            "Runbook ",
        ) else {
            println!("first frame, real binary: skipped (tmux could not start a server here)");
            return;
        };
        ui.push(first);
        let _ = tmux(&socket, &["send-keys", "-t", "b", "C-c"]);
        std::thread::sleep(Duration::from_millis(300));
        let t = Instant::now();
        let o = Command::new(bin).arg("status").arg(&rb).output().unwrap();
        assert!(o.status.success());
        status.push(t.elapsed());
        echo.extend(time_to_screen(&socket, "echo tmux-ready", "tmux-ready"));
    }
    let _ = tmux(&socket, &["kill-server"]);
    let (u, s, e) = (median(&mut ui), median(&mut status), median(&mut echo));
    println!("first frame, real binary (`cutover run` in tmux, median of {runs}):");
    println!("  cutover TUI first frame on screen      {:>10}", ms(u));
    println!(
        "  peer/floor: `cutover status` wall time {:>10}  (ratio {:.2}x)",
        ms(s),
        u.as_secs_f64() / s.as_secs_f64()
    );
    println!(
        "  peer/floor: `echo` on screen via tmux  {:>10}  (tmux's own latency)",
        ms(e)
    );
    println!(
        "  goal < 200 ms: {}",
        if u < Duration::from_millis(200) {
            "met"
        } else {
            "NOT met"
        }
    );
}

fn main() {
    println!(
        "TUI render benchmark ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    real_binary();

    // First frame in process, from the demo runbook.
    let rb_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/lerg-cutover.toml");
    let mut firsts = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        let phases = match cutover::steps::Runbook::load(&rb_path) {
            Ok(rb) => AppState::plan_of(&rb),
            Err(_) => plan(),
        };
        let mut app = App::new(AppState::new("lerg-cutover", phases), Theme::colored());
        let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
        term.draw(|f| app.draw(f)).unwrap();
        firsts.push(t.elapsed());
    }
    println!(
        "first frame in process (runbook parse + state + draw 120x40, median of 9): {}",
        ms(median(&mut firsts))
    );

    let t = Instant::now();
    let model = million_row_diff();
    let build = t.elapsed();
    println!(
        "built a {ROWS}-row data diff model in {} (off the UI thread in the app)",
        ms(build)
    );
    let mut state = AppState::new("bench", plan());
    state.live_clock = false;
    let mut app = App::new(state, Theme::colored());
    app.update(Action::Evidence {
        step: "orders-diff".into(),
        model: Arc::new(EvidenceModel {
            kind: "diff-data".into(),
            hazards: vec![],
            body: Body::DataDiff(model),
            warning: None,
        }),
    });
    app.select_step("orders-diff");
    app.tab = Tab::Evidence;
    app.focus = Focus::Right;
    for (w, h) in [(120u16, 40u16), (80, 24)] {
        key(&mut app, KeyCode::Char('g'));
        let mut f = frames(&mut app, w, h, 2000);
        let p95 = pct(&f, 0.95);
        let max = *f.iter().max().unwrap();
        let med = median(&mut f);
        println!(
            "frame {w}x{h} with {ROWS} differing rows, scrolling (2000 frames): median {}  p95 {}  max {}  goal < 16 ms: {}",
            ms(med),
            ms(p95),
            ms(max),
            if med < Duration::from_millis(16) {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    // Same frames with a 10-row diff: the cost must not depend on the row count.
    let mut small = RowStore::new(5);
    for i in 0..10 {
        small.push(
            RowKind::Changed,
            &i.to_string(),
            &[(Some("a"), Some("b")); 5],
        );
    }
    let mut app2 = App::new(AppState::new("bench", plan()), Theme::colored());
    app2.update(Action::Evidence {
        step: "orders-diff".into(),
        model: Arc::new(EvidenceModel {
            kind: "diff-data".into(),
            hazards: vec![],
            body: Body::DataDiff(DataDiffModel {
                columns: ["status", "email", "amount", "updated_at", "tier"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                rows: small,
                ..Default::default()
            }),
            warning: None,
        }),
    });
    app2.select_step("orders-diff");
    app2.tab = Tab::Evidence;
    app2.focus = Focus::Right;
    let mut f = frames(&mut app2, 120, 40, 2000);
    println!(
        "peer: the same frames 120x40 with a 10-row diff: median {}",
        ms(median(&mut f))
    );
}
