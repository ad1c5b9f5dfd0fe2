//! A password in a target URL appears nowhere: not in output, errors, logs, the ledger or status.

use super::support::*;

#[test]
fn a_target_password_is_never_printed_logged_or_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let secret = "Sup3r-Secret-Pw";
    std::fs::write(
        d.join("rb.toml"),
        "name = \"sec\"\n[targets]\nprod = \"${env:PROD_URL}\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"c\"\n  kind = \"check\"\n  target = \"prod\"\n  query = \"SELECT 1\"\n  expect = 1\n",
    )
    .unwrap();
    // Wrong password against the real server (authentication fails), and an unreachable port.
    for url in [
        format!("postgres://postgres:{secret}@127.0.0.1:5432/postgres"),
        format!("mysql://nobody:{secret}@127.0.0.1:3306/mysql"),
        format!("postgres://postgres:{secret}@127.0.0.1:1/postgres"),
    ] {
        let env = [("PROD_URL", url.as_str())];
        let mut seen = String::new();
        for args in [
            &["validate", "rb.toml"][..],
            &["run", "rb.toml", "--headless"][..],
            &["status", "rb.toml"][..],
            &["status", "rb.toml", "--format", "json"][..],
            &["audit", "export", "rb.toml"][..],
        ] {
            let out = cutover_env(d, args, &env);
            seen.push_str(&out.all());
            assert!(
                !out.all().contains(secret),
                "{args:?} printed the password:\n{}",
                out.all()
            );
        }
        assert!(
            seen.contains("***"),
            "the redacted URL is shown instead: {seen}"
        );
        let log = std::fs::read(d.join(".cutover/cutover.log")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&log).contains(secret),
            "log holds the password"
        );
        let ledger = std::fs::read(d.join(".cutover/ledger.db")).unwrap();
        assert!(
            !String::from_utf8_lossy(&ledger).contains(secret),
            "ledger holds the password"
        );
        {
            let side = "ledger.db-wal";
            let b = std::fs::read(d.join(".cutover").join(side)).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&b).contains(secret),
                "{side} holds the password"
            );
        }
    }
}
