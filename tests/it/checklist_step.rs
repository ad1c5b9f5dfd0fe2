//! The `checklist` step: the run waits until people tick every item pass (any order,
//! headless with `cutover checklist`), fails when one is ticked fail, and `cutover
//! status` lists each item with who ticked it. Ticks are ledger records bound to the
//! run and to the item's wording; roles and the roster decide who may tick.

use super::support::*;
use cutover::db::Value;
use cutover::testkit;

fn runbook(url: &str, policy: &str, scanner_text: &str) -> String {
    format!(
        r#"name = "golive"
[targets]
app = "{url}"
[policy]
roles = ["dba"]
{policy}

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
    {{ id = "tech-login", text = "A technician can log in" }},
    {{ id = "scanner", text = "{scanner_text}" }},
  ]

  [[phases.steps]]
  id = "after"
  kind = "sql"
  target = "app"
  sql = "INSERT INTO shipped VALUES (2)"
"#
    )
}

fn tick(d: &std::path::Path, args: &[&str]) -> Out {
    let mut a = vec!["checklist", "rb.toml"];
    a.extend_from_slice(args);
    cutover(d, &a)
}

async fn shipped(url: &str) -> i64 {
    let db = cutover::db::connect(url).await.unwrap();
    let rows = db.query("SELECT count(*) FROM shipped", &[]).await.unwrap();
    db.close().await;
    match rows.scalar() {
        Some(Value::Int(n)) => *n,
        Some(v) => v.to_string().parse().unwrap(),
        None => panic!("no count"),
    }
}

#[tokio::test]
async fn checklist_waits_fails_and_completes_on_every_engine() {
    for db in testkit::all_engines().await {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let policy = "checklist_roles = [\"qa\"]";
        std::fs::write(
            d.join("rb.toml"),
            runbook(&db.url, policy, "The scanner works on mobile"),
        )
        .unwrap();
        let what = format!("{:?}", db.dialect);

        // The run stops at the checklist naming every open item and the command.
        let out = cutover(d, &["run", "rb.toml", "--headless"]);
        assert_eq!(out.code, 4, "{what}: {}", out.all());
        assert!(
            out.stdout
                .contains("stopped at checklist \"go-live\": 2 item(s) not ticked yet"),
            "{what}: {}",
            out.stdout
        );
        assert!(
            out.stdout
                .contains("[ ] scanner: The scanner works on mobile"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout
                .contains("cutover checklist rb.toml --step go-live --item ID --pass --as NAME"),
            "{}",
            out.stdout
        );
        assert_eq!(
            shipped(&db.url).await,
            1,
            "{what}: nothing after the checklist ran"
        );

        // An item that does not exist, a role the checklist does not take, no verdict: exit 2, nothing recorded.
        let bad = tick(
            d,
            &["--item", "printer", "--pass", "--as", "ana", "--role", "qa"],
        );
        assert_eq!(bad.code, 2, "{}", bad.all());
        assert!(
            bad.stderr.contains(
                "checklist \"go-live\" has no item \"printer\"; its items are: tech-login, scanner"
            ),
            "{}",
            bad.stderr
        );
        let bad = tick(
            d,
            &[
                "--item", "scanner", "--pass", "--as", "ana", "--role", "dba",
            ],
        );
        assert_eq!(bad.code, 2, "{}", bad.all());
        assert!(
            bad.stderr
                .contains("role \"dba\" may not tick checklist \"go-live\"; the policy allows: qa"),
            "{}",
            bad.stderr
        );
        let bad = tick(d, &["--item", "scanner", "--as", "ana", "--role", "qa"]);
        assert_eq!(bad.code, 2, "{}", bad.all());
        let st = cutover(d, &["status", "rb.toml"]);
        assert!(
            st.stdout.contains("0 of 2 passed, 0 failed, 2 open"),
            "{}",
            st.stdout
        );

        // Any order: the second item first; a failing item stops the run with exit 1.
        let ok = tick(
            d,
            &[
                "--item",
                "scanner",
                "--pass",
                "--as",
                "ana",
                "--role",
                "qa",
                "--note",
                "iPhone 15 and a Pixel",
            ],
        );
        assert_eq!(ok.code, 0, "{}", ok.all());
        assert!(
            ok.stdout
                .contains("1 of 2 item(s) passed, 0 failed, 1 open"),
            "{}",
            ok.stdout
        );
        let ok = tick(
            d,
            &[
                "--item",
                "tech-login",
                "--fail",
                "--as",
                "bob",
                "--role",
                "qa",
                "--note",
                "403 after SSO",
            ],
        );
        assert_eq!(ok.code, 0, "{}", ok.all());
        let out = cutover(d, &["run", "rb.toml", "--headless"]);
        assert_eq!(out.code, 1, "{what}: {}", out.all());
        assert!(
            out.stderr
                .contains("1 of 2 item(s) failed: tech-login (by bob: 403 after SSO)"),
            "{}",
            out.stderr
        );
        assert_eq!(
            shipped(&db.url).await,
            1,
            "{what}: a failed checklist lets nothing after it run"
        );

        // Fixed and ticked pass: the run goes on; status says who ticked each item and why.
        let ok = tick(
            d,
            &[
                "--item",
                "tech-login",
                "--pass",
                "--as",
                "bob",
                "--role",
                "qa",
                "--note",
                "SSO fixed",
            ],
        );
        assert_eq!(ok.code, 0, "{}", ok.all());
        let out = cutover(d, &["run", "rb.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        assert!(
            out.stdout.contains("go-live: 2 of 2 item(s) passed"),
            "{}",
            out.stdout
        );
        assert_eq!(shipped(&db.url).await, 2, "{what}");
        let st = cutover(d, &["status", "rb.toml"]);
        assert!(st.stdout.contains("checklist go-live — Go-live checklist: 2 of 2 passed, 0 failed, 0 open (ticked by qa)"), "{}", st.stdout);
        let line = |id: &str| {
            st.stdout
                .lines()
                .find(|l| l.contains(&format!("PASS {id}")))
                .unwrap_or_else(|| panic!("{id}: {}", st.stdout))
                .to_string()
        };
        assert!(
            line("tech-login").contains("— bob (qa)")
                && line("tech-login").contains("\"SSO fixed\""),
            "{}",
            st.stdout
        );
        assert!(
            line("scanner").contains("— ana (qa)")
                && line("scanner").contains("\"iPhone 15 and a Pixel\""),
            "{}",
            st.stdout
        );
        let json = cutover(d, &["status", "rb.toml", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        let step = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "go-live")
            .unwrap()
            .clone();
        assert_eq!(step["evidence"]["passed"], 2, "{step}");
        assert_eq!(step["evidence"]["items"][0]["by"], "bob", "{step}");
        assert_eq!(step["evidence"]["items"][0]["outcome"], "pass", "{step}");

        // The run is complete: its ticks are final.
        let late = tick(
            d,
            &["--item", "scanner", "--fail", "--as", "ana", "--role", "qa"],
        );
        assert_eq!(late.code, 2, "{}", late.all());
        assert!(
            late.stderr
                .contains("no run of runbook \"golive\" is in progress"),
            "{}",
            late.stderr
        );
        let audit = cutover(d, &["audit", "verify", "rb.toml"]);
        assert_eq!(audit.code, 0, "{}", audit.all());
    }
}

#[tokio::test]
async fn checklist_ticks_need_the_roster_role_and_bind_to_the_run_and_wording() {
    let db = testkit::sqlite().await;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let policy = "checklist_roles = [\"qa\"]\n[policy.roster]\ndana = [\"qa\"]\nerin = [\"dba\"]\nfinn = [\"qa\", \"dba\"]";
    std::fs::write(
        d.join("rb.toml"),
        runbook(&db.url, policy, "The scanner works on mobile"),
    )
    .unwrap();

    // Before any run reaches the checklist there is nothing to tick.
    let early = tick(d, &["--item", "scanner", "--pass", "--as", "dana"]);
    assert_eq!(early.code, 2, "{}", early.all());
    assert!(
        early
            .stderr
            .contains("no run of runbook \"golive\" is in progress"),
        "{}",
        early.stderr
    );
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 4, "{}", out.all());

    // Not on the roster; on it without the role (whatever role is claimed): refused.
    let r = tick(
        d,
        &[
            "--item", "scanner", "--pass", "--as", "mallory", "--role", "qa",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("mallory is not on the roster"),
        "{}",
        r.stderr
    );
    let r = tick(
        d,
        &[
            "--item", "scanner", "--pass", "--as", "erin", "--role", "qa",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("gives erin the role(s) dba, none of which may tick checklist \"go-live\""),
        "{}",
        r.stderr
    );
    // The roster gives the role: --role may be left out (finn's one role that may tick is qa).
    let r = tick(d, &["--item", "scanner", "--pass", "--as", "Dana "]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Dana (qa) ticked \"scanner\" pass"),
        "{}",
        r.stdout
    );
    let r = tick(d, &["--item", "tech-login", "--pass", "--as", "finn"]);
    assert_eq!(r.code, 0, "{}", r.all());

    // Reworded after it was ticked: the tick was for other words and no longer counts.
    std::fs::write(
        d.join("rb.toml"),
        runbook(&db.url, policy, "The scanner works on mobile and tablet"),
    )
    .unwrap();
    let st = cutover(d, &["status", "rb.toml"]);
    assert!(
        st.stdout.contains("1 of 2 passed, 0 failed, 1 open"),
        "{}",
        st.stdout
    );
    assert!(st.stdout.contains("---- scanner"), "{}", st.stdout);

    // A new run starts with no ticks: ticks of the abandoned run are not carried over.
    let out = cutover(
        d,
        &[
            "run",
            "rb.toml",
            "--headless",
            "--new",
            "--abandon",
            "reworded the checklist",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all()); // the seed's table exists: the new run's sql fails
    std::fs::write(
        d.join("rb.toml"),
        runbook(&db.url, policy, "The scanner works on mobile and tablet")
            .replace("CREATE TABLE shipped", "CREATE TABLE IF NOT EXISTS shipped")
            .replace("INSERT INTO shipped VALUES (1);", ""),
    )
    .unwrap();
    let out = cutover(
        d,
        &[
            "run",
            "rb.toml",
            "--headless",
            "--new",
            "--abandon",
            "seed fixed",
        ],
    );
    assert_eq!(out.code, 4, "{}", out.all());
    assert!(
        out.stdout.contains("2 item(s) not ticked yet"),
        "{}",
        out.stdout
    );
}

#[test]
fn checklist_runbook_errors_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = "name = \"x\"\n[targets]\napp = \"sqlite://a.db\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"go\"\n  kind = \"checklist\"\n";
    for (extra, want) in [
        ("", "rb.toml:6:3: step \"go\" is missing `items`"),
        ("  items = []\n", "rb.toml:9:11: `items` is empty"),
        (
            "  items = [{ id = \"a\", text = \"x\" }, { id = \"a\", text = \"y\" }]\n",
            "rb.toml:9:40: item id \"a\" appears twice",
        ),
        ("  items = [{ id = \"a\" }]\n", "is missing `text`"),
    ] {
        std::fs::write(d.join("rb.toml"), format!("{base}{extra}")).unwrap();
        let out = cutover(d, &["validate", "rb.toml"]);
        assert_eq!(out.code, 2, "{extra}: {}", out.all());
        assert!(
            out.stderr.contains(want),
            "{extra}: want {want}: {}",
            out.stderr
        );
    }
}
