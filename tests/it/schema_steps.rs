//! The `diff-schema`, `snapshot` and `drift-check` step kinds, run from a real runbook
//! against real databases, in order, each seeing the evidence of the ones before.

use crate::schema_support::*;
use cutover::db::Targets;
use cutover::steps::Runbook;
use cutover::steps::{PriorStep, StepContext, StepOutcome};
use cutover::testkit;
use cutover::vocab::EventSink;

struct Run {
    rb: Runbook,
    targets: Targets,
    prior: Vec<PriorStep>,
}

impl Run {
    fn new(dir: &std::path::Path, toml: &str) -> Run {
        let path = dir.join("runbook.toml");
        std::fs::write(&path, toml).unwrap();
        let rb = Runbook::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let targets = Targets::new(rb.targets.clone());
        Run {
            rb,
            targets,
            prior: vec![],
        }
    }

    async fn step(&mut self, id: &str) -> cutover::Result<StepOutcome> {
        let (phase, def) = self.rb.find_step(id).expect("step");
        let sink = EventSink::discard();
        let ctx = StepContext {
            run_id: "test",
            phase: &phase.id,
            step_id: &def.id,
            dir: &self.rb.dir,
            targets: &self.targets,
            events: &sink,
            prior: &self.prior,
            anchor: None,
            batches: None,
        };
        let out = def.step.run(&ctx).await;
        if let Ok(o) = &out {
            self.prior.push(PriorStep {
                id: def.id.clone(),
                kind: def.step.kind().to_string(),
                evidence: Some(o.evidence.clone()),
            });
        }
        out
    }
}

fn runbook(staging: &str, prod: &str) -> String {
    format!(
        r#"
name = "schema-steps"
[targets]
staging = "{staging}"
prod = "{prod}"

[[phases]]
id = "check"
[[phases.steps]]
id = "what-prod-lacks"
kind = "diff-schema"
source = "staging"
target = "prod"

[[phases.steps]]
id = "must-match"
kind = "diff-schema"
source = "staging"
target = "prod"
expect = "equal"

[[phases.steps]]
id = "snap-prod"
kind = "snapshot"
target = "prod"
out = "snapshots/prod.json"

[[phases.steps]]
id = "drift"
kind = "drift-check"
target = "prod"

[[phases.steps]]
id = "drift-from-file"
kind = "drift-check"
target = "prod"
snapshot = "snapshots/prod.json"
"#
    )
}

#[tokio::test]
async fn diff_snapshot_and_drift_steps() {
    let (s, p) = (testkit::sqlite().await, testkit::sqlite().await);
    let (sdb, pdb) = (s.connect().await, p.connect().await);
    run_sql(&sdb, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL); CREATE TABLE profiles (id INTEGER PRIMARY KEY, bio TEXT)").await;
    run_sql(&pdb, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, old_flag INT); INSERT INTO users (email) VALUES ('a@x')").await;
    let dir = tempfile::tempdir().unwrap();
    let mut run = Run::new(dir.path(), &runbook(&s.url, &p.url));

    let out = run.step("what-prod-lacks").await.unwrap();
    assert!(out.failure.is_none());
    assert!(
        out.summary.contains("1 table missing in target"),
        "{}",
        out.summary
    );
    assert_eq!(out.evidence.to_json()["format"], "cutover-schema-diff");
    assert!(
        out.evidence.to_json()["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "profiles")
    );
    // The generated migration's hazard is in the evidence the DBA reads, but the step
    // runs none of that migration, so it raises nothing for the checkpoint (issue 11).
    let hz = out.evidence.to_json()["hazards"].clone();
    assert_eq!(hz.as_array().unwrap().len(), 1, "{hz}");
    assert_eq!(hz[0]["code"], "drop-column");
    assert!(
        hz[0]["message"]
            .as_str()
            .unwrap()
            .contains("users.old_flag")
    );
    assert!(out.hazards.is_empty(), "{:?}", out.hazards);

    let out = run.step("must-match").await.unwrap();
    let f = out.failure.expect("expect = equal fails on a difference");
    assert!(f.contains("1 table missing in target"), "{f}");

    let out = run.step("snap-prod").await.unwrap();
    let path = out.evidence.to_json()["path"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&path).exists());
    assert_eq!(out.evidence.to_json()["sha256"].as_str().unwrap().len(), 64);

    let out = run.step("drift").await.unwrap();
    assert!(out.failure.is_none(), "{:?}", out.failure);

    // someone alters prod after the snapshot
    run_sql(&pdb, "ALTER TABLE users ADD COLUMN sneaky INT").await;
    let out = run.step("drift").await.unwrap();
    let f = out.failure.expect("drift must fail the step");
    assert!(f.contains("column users.sneaky: extra in target"), "{f}");
    let out = run.step("drift-from-file").await.unwrap();
    assert!(out.failure.is_some());

    // a snapshot file edited after the step wrote it is not trusted
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("old_flag", "old_flaG"),
    )
    .unwrap();
    let out = run.step("drift").await.unwrap();
    assert!(
        out.failure
            .unwrap()
            .contains("changed after snapshot step snap-prod wrote it")
    );
}

#[tokio::test]
async fn equal_schemas_pass_and_drift_needs_a_snapshot() {
    let (s, p) = (testkit::sqlite().await, testkit::sqlite().await);
    for db in [s.connect().await, p.connect().await] {
        run_sql(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY)").await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut run = Run::new(dir.path(), &runbook(&s.url, &p.url));
    let out = run.step("must-match").await.unwrap();
    assert!(out.failure.is_none() && out.hazards.is_empty());
    assert!(out.summary.contains("schemas equal"));
    let e = run.step("drift").await.unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.message.contains("no earlier snapshot step"),
        "{}",
        e.message
    );
}

#[test]
fn bad_step_keys_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.toml");
    std::fs::write(
        &path,
        "[targets]\na = \"sqlite://a.db\"\n[[phases]]\nid = \"p\"\n[[phases.steps]]\nkind = \"diff-schema\"\nsource = \"a\"\ntarget = \"nope\"\n",
    )
    .unwrap();
    let e = Runbook::load(&path).err().expect("unknown target");
    assert!(
        e.message.contains("rb.toml:8") && e.message.contains("unknown target \"nope\""),
        "{}",
        e.message
    );
    std::fs::write(
        &path,
        "[targets]\na = \"sqlite://a.db\"\n[[phases]]\nid = \"p\"\n[[phases.steps]]\nkind = \"diff-schema\"\nsource = \"a\"\ntarget = \"a\"\nexpect = \"same\"\n",
    )
    .unwrap();
    let e = Runbook::load(&path).err().expect("bad expect");
    assert!(
        e.message.contains("rb.toml:9") && e.message.contains("\"equal\""),
        "{}",
        e.message
    );
}
