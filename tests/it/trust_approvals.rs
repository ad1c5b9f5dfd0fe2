//! Approvals a DBA can stake a production on (issue 12, items 3–5): an approval binds
//! to every file the steps it lets run will read; only the roster's people in the
//! roster's roles decide, names compared normalized; signed approvals that
//! `ssh-keygen -Y verify` accepts; a rejection stands until withdrawn.

use crate::support::{RUNBOOK, cutover, cutover_env, scalar};
use std::path::Path;
use std::process::Command;

const MIGRATION: &str = "runbooks/lerg/migrations/V2__profiles_billing.sql";

fn approve(ws: &Path, cp: &str, who: &str, role: &str, extra: &[&str]) -> crate::support::Out {
    let mut args = vec![
        "approve",
        RUNBOOK,
        "--checkpoint",
        cp,
        "--as",
        who,
        "--role",
        role,
    ];
    args.extend_from_slice(extra);
    cutover(ws, &args)
}

fn run(ws: &Path) -> crate::support::Out {
    cutover(ws, &["run", RUNBOOK, "--headless"])
}

fn status_json(ws: &Path) -> serde_json::Value {
    let out = cutover(ws, &["status", RUNBOOK, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    serde_json::from_str(&out.stdout).unwrap()
}

/// The demo's policy as the tests below start from: one role, dba, deciding every
/// checkpoint (the demo's own checkpoints each name their phase's owner; what is
/// tested here is how approvals bind, not who owns which phase).
const ONE_ROLE: &str = "[policy]\napprovals = 1\nroles = [\"dba\"]\nallow_self_approval = false\n";

/// A demo workspace (not run) whose checkpoints all follow the policy's roles, with
/// the policy [`ONE_ROLE`].
fn demo_workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, ws) = crate::support::demo_workspace();
    let p = ws.join(RUNBOOK);
    let text = std::fs::read_to_string(&p).unwrap();
    let start = text
        .find("[policy]\n")
        .expect("the demo runbook has a policy");
    let end = start
        + text[start..]
            .find("\n\n")
            .expect("a blank line after the policy");
    let mut text = format!("{}{ONE_ROLE}{}", &text[..start], &text[end + 1..]);
    for owner in ["ops", "dba", "deploy", "qa", "lead"] {
        let line = format!("  roles = [\"{owner}\"]\n");
        assert!(
            text.contains(&line),
            "the demo's checkpoint owned by {owner}"
        );
        text = text.replace(&line, "");
    }
    std::fs::write(&p, text).unwrap();
    (tmp, ws)
}

/// Rewrite the demo runbook's `[policy]` table.
fn set_policy(ws: &Path, policy: &str) {
    let p = ws.join(RUNBOOK);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(ONE_ROLE), "the demo runbook's policy changed");
    std::fs::write(&p, text.replace(ONE_ROLE, policy)).unwrap();
}

#[test]
fn a_migration_edited_after_approval_makes_it_stale_and_is_not_applied() {
    let (_tmp, ws) = demo_workspace();
    let prod = ws.join("production.db");
    let out = run(&ws);
    assert_eq!(out.code, 4, "{}", out.all());
    let out = approve(&ws, "plan-approved", "dana", "dba", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("policy met"), "{}", out.all());

    // After the approval, someone appends a destructive statement to a migration.
    let m = ws.join(MIGRATION);
    let mut text = std::fs::read_to_string(&m).unwrap();
    text.push_str("\nDELETE FROM profiles WHERE id > 5;\n");
    std::fs::write(&m, text).unwrap();

    let st = cutover(&ws, &["status", RUNBOOK]);
    assert!(
        st.stdout
            .contains("STALE: lerg/migrations/V2__profiles_billing.sql changed since it was given"),
        "status must name the changed file:\n{}",
        st.all()
    );
    let out = run(&ws);
    assert_eq!(
        out.code,
        4,
        "the old approval must not let the edit run:\n{}",
        out.all()
    );
    assert!(
        out.stdout.contains(
            "stale: dana's approve no longer counts: lerg/migrations/V2__profiles_billing.sql changed since it was given"
        ),
        "{}",
        out.all()
    );
    assert_eq!(
        scalar(&prod, "SELECT count(*) FROM profiles").await_blocking(),
        "11"
    );
    let v = status_json(&ws);
    assert_eq!(v["steps"][5]["id"], "plan-approved");
    assert_ne!(v["steps"][5]["state"], "done", "{v:#}");
    let stale = v["waiting_for"]["stale"].to_string();
    assert!(
        stale.contains(
            "dana's approve no longer counts: lerg/migrations/V2__profiles_billing.sql changed"
        ),
        "{v:#}"
    );
    assert!(
        v["waiting_for"]["files"]
            .to_string()
            .contains("lerg/migrations/V2__profiles_billing.sql"),
        "{v:#}"
    );
}

#[test]
fn a_migration_edited_after_the_checkpoint_passed_is_refused_before_it_runs() {
    let (_tmp, ws) = demo_workspace();
    let prod = ws.join("production.db");
    assert_eq!(run(&ws).code, 4);
    assert_eq!(approve(&ws, "plan-approved", "dana", "dba", &[]).code, 0);
    // The run passes the checkpoint and dies just before the migration step...
    let out = cutover_env(
        &ws,
        &["run", RUNBOOK, "--headless"],
        &[("CUTOVER_CRASH_AT", "before:schema")],
    );
    assert_ne!(out.code, 0, "{}", out.all());
    // ...the migration is edited while nobody watches, and the run is resumed.
    let m = ws.join(MIGRATION);
    let mut text = std::fs::read_to_string(&m).unwrap();
    text.push_str("\nDELETE FROM profiles WHERE id > 5;\n");
    std::fs::write(&m, text).unwrap();
    let out = run(&ws);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains(
            "lerg/migrations/V2__profiles_billing.sql changed after checkpoint \"plan-approved\" was approved"
        ),
        "{}",
        out.all()
    );
    assert_eq!(
        scalar(&prod, "SELECT count(*) FROM profiles").await_blocking(),
        "11"
    );
}

#[test]
fn self_approval_is_refused_whatever_the_case_or_spacing() {
    let (_tmp, ws) = demo_workspace();
    let env = [("CUTOVER_OPERATOR", "olga")];
    let out = cutover_env(&ws, &["run", RUNBOOK, "--headless"], &env);
    assert_eq!(out.code, 4, "{}", out.all());
    for name in ["Olga", "olga ", " OLGA", "ｏｌｇａ"] {
        let out = approve(&ws, "plan-approved", name, "dba", &[]);
        assert_eq!(
            out.code,
            2,
            "{name:?} approved olga's own run:\n{}",
            out.all()
        );
        assert!(
            out.stderr.contains("self-approval refused"),
            "{}",
            out.all()
        );
    }
    let v = status_json(&ws);
    assert_eq!(v["approvals"].as_array().unwrap().len(), 0, "{v:#}");
}

#[test]
fn only_the_roster_decides_in_the_roles_it_gives() {
    let (_tmp, ws) = demo_workspace();
    set_policy(
        &ws,
        "[policy]\napprovals = 1\nroles = [\"dba\", \"lead\"]\n\n[policy.roster]\ndana = [\"dba\"]\n\"Erin Lee\" = [\"lead\"]\n",
    );
    assert_eq!(run(&ws).code, 4);
    let out = approve(&ws, "plan-approved", "mallory", "dba", &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("mallory is not on the roster"),
        "{}",
        out.all()
    );
    // Roles are the roster's, not the approver's word.
    let out = approve(&ws, "plan-approved", "dana", "lead", &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("gives dana the role(s) dba, not \"lead\""),
        "{}",
        out.all()
    );
    // Names on the roster compare normalized too.
    let out = approve(&ws, "plan-approved", "erin  lee", "lead", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(run(&ws).code, 4, "the run goes on to the next checkpoint");
    let v = status_json(&ws);
    assert_eq!(
        v["waiting_for"]["checkpoint"], "migration-verified",
        "{v:#}"
    );
}

fn keygen(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success(), "{:?}", out);
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public.trim().to_string())
}

#[test]
fn signed_approvals_verify_with_ssh_keygen_and_a_forged_signature_is_refused() {
    let (tmp, ws) = demo_workspace();
    let keys = tmp.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let (dana_key, dana_pub) = keygen(&keys, "dana");
    let (mallory_key, _) = keygen(&keys, "mallory");
    std::fs::write(
        ws.join("runbooks/roster.toml"),
        format!("dana = {{ roles = [\"dba\"], key = \"{dana_pub}\" }}\n"),
    )
    .unwrap();
    set_policy(
        &ws,
        "[policy]\napprovals = 1\nroles = [\"dba\"]\nrequire_signatures = true\nroster = \"roster.toml\"\n",
    );
    // Signatures required: --approve-as is refused (allow_command_line_approvals defaults to false).
    let out = cutover(
        &ws,
        &["run", RUNBOOK, "--headless", "--approve-as", "dana:dba"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("--approve-as is refused"),
        "{}",
        out.all()
    );
    let out = run(&ws);
    assert_eq!(out.code, 4, "{}", out.all());
    assert!(out.all().contains("--sign-with"), "{}", out.all());

    // Unsigned, and signed with someone else's key: refused.
    let out = approve(&ws, "plan-approved", "dana", "dba", &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("requires signed decisions"),
        "{}",
        out.all()
    );
    let forged = mallory_key.display().to_string();
    let out = approve(
        &ws,
        "plan-approved",
        "dana",
        "dba",
        &["--sign-with", &forged],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("signature refused for dana"),
        "{}",
        out.all()
    );

    let key = dana_key.display().to_string();
    let out = approve(&ws, "plan-approved", "dana", "dba", &["--sign-with", &key]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("(signed)"), "{}", out.all());

    // OpenSSH's own tool accepts the stored signature over the documented message.
    let v = status_json(&ws);
    let a = &v["approvals"][0];
    let message = format!(
        "cutover approval v1\nrun: {}\ncheckpoint: plan-approved\nevidence: {}\ndecision: approve\napprover: dana\nrole: dba\n",
        v["run_id"].as_str().unwrap(),
        a["evidence_hash"].as_str().unwrap()
    );
    let sig = keys.join("approval.sig");
    std::fs::write(&sig, a["signature"].as_str().unwrap()).unwrap();
    let allowed = keys.join("allowed_signers");
    std::fs::write(&allowed, format!("dana {dana_pub}\n")).unwrap();
    let verify = |message: &str| {
        let mut child = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-n", "cutover", "-I", "dana", "-f"])
            .arg(&allowed)
            .arg("-s")
            .arg(&sig)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = verify(&message);
    assert!(ok.status.success(), "ssh-keygen -Y verify: {ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Good \"cutover\" signature for dana"));
    // The signature binds the decision: the same signature over "reject" fails.
    let bad = verify(&message.replace("decision: approve", "decision: reject"));
    assert!(!bad.status.success(), "{bad:?}");

    let out = cutover(&ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(out.code, 0, "{}", out.all());
    let out = run(&ws);
    assert_eq!(out.code, 4, "{}", out.all());
    let v = status_json(&ws);
    assert_eq!(v["waiting_for"]["checkpoint"], "migration-verified");

    // Someone with write access to the ledger appends a well-chained approval of the
    // next checkpoint as dana, carrying dana's earlier signature: it does not count,
    // and audit verify names it.
    let hash = v["waiting_for"]["evidence_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let run_id = v["run_id"].as_str().unwrap().to_string();
    let ledger_url = format!(
        "sqlite://{}",
        ws.join("runbooks/.cutover/ledger.db").display()
    );
    let stolen = a["signature"].as_str().unwrap().to_string();
    async {
        use cutover::ledger::{ApprovalGiven, Decision, Entry, Ledger};
        let ledger = Ledger::open(&ledger_url).await.unwrap();
        let e: Entry = Entry::Approval(ApprovalGiven {
            approver: "dana".into(),
            role: "dba".into(),
            decision: Decision::Approve,
            comment: None,
            evidence_hash: hash,
            runbook_hash: String::new(),
            via: "cli".into(),
            files: Default::default(),
            signature: Some(stolen),
            withdraws: Vec::new(),
        });
        ledger
            .append_entry("lerg-cutover", &run_id, Some("migration-verified"), &e)
            .await
            .unwrap();
        ledger.close().await;
    }
    .await_blocking();
    let out = run(&ws);
    assert_eq!(
        out.code,
        4,
        "a forged approval let the run pass:\n{}",
        out.all()
    );
    let out = cutover(&ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("the signature does not verify with the roster's key"),
        "{}",
        out.all()
    );
}

#[test]
fn a_rejection_stands_until_withdrawn_and_approve_says_so() {
    let (_tmp, ws) = demo_workspace();
    assert_eq!(run(&ws).code, 4);
    let out = cutover(
        &ws,
        &[
            "reject",
            RUNBOOK,
            "--checkpoint",
            "plan-approved",
            "--as",
            "dana",
            "--role",
            "dba",
            "--comment",
            "wrong window",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let out = approve(&ws, "plan-approved", "erin", "dba", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stdout.contains("policy met"), "{}", out.all());
    assert!(
        out.stdout.contains(
            "your approval is recorded, but the rejection by dana (dba): \"wrong window\" stands"
        ),
        "{}",
        out.all()
    );
    assert!(out.stdout.contains("--withdraw-rejection"), "{}", out.all());
    assert!(out.stdout.contains("--new"), "{}", out.all());
    let out = run(&ws);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("rejected by dana"), "{}", out.all());
    assert!(out.stderr.contains("--withdraw-rejection"), "{}", out.all());
    assert!(
        out.stderr.contains(&format!("cutover run {RUNBOOK} --new")),
        "{}",
        out.all()
    );
    let st = cutover(&ws, &["status", RUNBOOK]);
    assert!(
        st.stdout
            .contains("rejected: checkpoint plan-approved by dana"),
        "{}",
        st.all()
    );
    assert!(st.stdout.contains("--withdraw-rejection"), "{}", st.all());
    assert!(!st.stdout.contains("waiting for:"), "{}", st.all());

    // Only the rejecter withdraws; the rejecter's own approval must wait for that.
    let out = approve(
        &ws,
        "plan-approved",
        "erin",
        "dba",
        &["--withdraw-rejection"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("only dana (who rejected)"),
        "{}",
        out.all()
    );
    let out = approve(&ws, "plan-approved", "Dana", "dba", &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("your rejection"), "{}", out.all());
    let out = approve(
        &ws,
        "plan-approved",
        "dana",
        "dba",
        &["--withdraw-rejection"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("policy met"), "{}", out.all());
    let out = run(&ws);
    assert_eq!(
        out.code,
        4,
        "erin's approval lets the run continue:\n{}",
        out.all()
    );
    assert_eq!(
        status_json(&ws)["waiting_for"]["checkpoint"],
        "migration-verified"
    );
}

#[test]
fn a_new_run_gets_past_a_rejected_one() {
    let (_tmp, ws) = demo_workspace();
    assert_eq!(run(&ws).code, 4);
    let out = cutover(
        &ws,
        &[
            "reject",
            RUNBOOK,
            "--checkpoint",
            "plan-approved",
            "--as",
            "dana",
            "--role",
            "dba",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let first = status_json(&ws)["run_id"].clone();
    // The way out is named, and it records why the rejected run is left behind.
    let out = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert!(out.all().contains("--new --abandon"), "{}", out.all());
    let out = cutover(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--new",
            "--abandon",
            "rejected plan",
        ],
    );
    assert_eq!(out.code, 4, "{}", out.all());
    let v = status_json(&ws);
    assert_ne!(v["run_id"], first);
    assert_eq!(v["status"], "awaiting_approval", "{v:#}");
}

/// `support::scalar` is async; these tests are plain `#[test]`s that start processes.
trait Blocking {
    type Out;
    fn await_blocking(self) -> Self::Out;
}

impl<F: std::future::Future> Blocking for F {
    type Out = F::Output;
    fn await_blocking(self) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(self)
    }
}
