//! The history view switches runs: `]` and `[` list one run's records at a time (the
//! title names the run and which of how many), then every run's again.

use crate::tui_support::*;
use crossterm::event::KeyCode;
use cutover::tui::state::{ChainStatus, LedgerRow};
use cutover::tui::{Action, Theme};
use insta::assert_snapshot;

/// Three runs: the first rejected at its checkpoint, the second abandoned, the third going.
fn three_runs() -> Vec<LedgerRow> {
    let runs = [
        (
            "aaaa1111bbbb",
            vec![
                ("run_started", None, "run aaaa1111 by alice"),
                (
                    "approval",
                    Some("plan-approved"),
                    "reject by bob (dba): wrong backup",
                ),
                ("run_finished", None, "rejected"),
            ],
        ),
        (
            "cccc2222dddd",
            vec![
                ("run_started", None, "run cccc2222 by alice"),
                ("run_abandoned", None, "abandoned by alice: start over"),
            ],
        ),
        (
            "eeee3333ffff",
            vec![
                ("run_started", None, "run eeee3333 by alice"),
                (
                    "step_finished",
                    Some("backup-production"),
                    "backed up production.db",
                ),
            ],
        ),
    ];
    let mut seq = 0;
    let mut out = Vec::new();
    for (run, records) in runs {
        for (kind, step, detail) in records {
            seq += 1;
            out.push(LedgerRow {
                seq,
                run_id: run.into(),
                created_at: format!("02:{seq:02}:00"),
                kind: kind.into(),
                step_id: step.map(str::to_string),
                hash: format!("{:0>64}", format!("c{seq}")),
                detail: detail.into(),
            });
        }
    }
    out
}

#[test]
fn brackets_list_one_run_at_a_time_then_every_run() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::History(
        three_runs(),
        ChainStatus::Verified { records: 7 },
    ));
    key(&mut a, KeyCode::Char('3'));
    let out = render(&mut a, 120, 40);
    assert!(out.contains("History (7 records, 3 runs)"), "{out}");
    assert!(
        out.contains("run aaaa1111 by alice") && out.contains("backed up production.db"),
        "{out}"
    );

    key(&mut a, KeyCode::Char(']'));
    for (w, h) in [(80, 24), (120, 40)] {
        let out = render(&mut a, w, h);
        assert!(
            out.contains("History run aaaa1111 (1 of 3): 3 records"),
            "{w}x{h}: {out}"
        );
        assert!(out.contains("plan-approved reject"), "{w}x{h}: {out}");
        assert!(!out.contains("abandoned by alice"), "{w}x{h}: {out}");
        assert!(!out.contains("backed up production.db"), "{w}x{h}: {out}");
        assert_snapshot!(format!("history_first_run_{w}x{h}"), out);
    }
    assert_eq!(a.history.records(&a.state).len(), 3);

    key(&mut a, KeyCode::Char(']'));
    let out = render(&mut a, 120, 40);
    assert!(out.contains("(2 of 3)"), "{out}");
    assert!(out.contains("abandoned by alice: start over"), "{out}");
    assert!(!out.contains("reject by bob"), "{out}");

    // Back past the first run: every run again.
    key(&mut a, KeyCode::Char('['));
    key(&mut a, KeyCode::Char('['));
    let out = render(&mut a, 120, 40);
    assert!(out.contains("History (7 records, 3 runs)"), "{out}");
    assert_eq!(a.history.records(&a.state).len(), 7);
    // `[` from every run goes to the newest.
    key(&mut a, KeyCode::Char('['));
    assert!(render(&mut a, 120, 40).contains("(3 of 3)"));
    assert_eq!(a.history.records(&a.state).len(), 2);
}
