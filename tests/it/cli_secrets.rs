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

/// Every way a password can be written into a target URL: (URL, secret as written).
/// Hosts are real (trust authentication: the password is ignored and the run goes on)
/// or refuse the connection (port 1).
const URL_FORMS: &[(&str, &str)] = &[
    (
        "postgres://postgres:Pw0rd-One@127.0.0.1:5432/postgres",
        "Pw0rd-One",
    ),
    (
        "postgresql://postgres:Pw0rd-Two@127.0.0.1:5432/postgres?sslmode=disable",
        "Pw0rd-Two",
    ),
    (
        "postgres://127.0.0.1:5432/postgres?user=postgres&password=Pw0rd-Three",
        "Pw0rd-Three",
    ),
    (
        "postgres://postgres@127.0.0.1:1/postgres?sslpassword=Pw0rd-Four",
        "Pw0rd-Four",
    ),
    (
        "postgres://postgres:Pw%23rd-Five@127.0.0.1:5432/postgres",
        "Pw%23rd-Five",
    ),
    (
        "postgres://postgres:Pw#rd-Six@127.0.0.1:5432/postgres",
        "Pw#rd-Six",
    ),
    (
        "postgres://postgres:Pw/rd-Seven@127.0.0.1:5432/postgres",
        "Pw/rd-Seven",
    ),
    (
        "postgres://postgres:Pw?rd-Eight@127.0.0.1:5432/postgres",
        "Pw?rd-Eight",
    ),
    (
        "postgres://postgres:Pw rd-Nine@127.0.0.1:5432/postgres",
        "Pw rd-Nine",
    ),
    (
        "postgres://postgres:Pw@rd-Ten@127.0.0.1:1/postgres",
        "Pw@rd-Ten",
    ),
    (
        "mysql://root:Pw:rd-Eleven@127.0.0.1:3306/mysql",
        "Pw:rd-Eleven",
    ),
    (
        "mariadb://root:Pw0rd-Twelve@127.0.0.1:1/mysql",
        "Pw0rd-Twelve",
    ),
    (
        "mysql://root@127.0.0.1:1/mysql?password=Pw0rd-Thirteen",
        "Pw0rd-Thirteen",
    ),
    (
        "postgres://127.0.0.1:5432/postgres?user=postgres&PASSWORD=Pw0rd-Fourteen",
        "Pw0rd-Fourteen",
    ),
];

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn fourteen_url_forms_leave_no_password_anywhere() {
    let mut checked = 0;
    for (url, secret) in URL_FORMS {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        // The check's query returns the password itself: its result is shown, scrubbed.
        let decoded = secret.replace("%23", "#");
        std::fs::write(
            d.join("rb.toml"),
            format!(
                "name = \"sec\"\n[targets]\nprod = \"${{env:PROD_URL}}\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"c\"\n  kind = \"check\"\n  target = \"prod\"\n  query = \"SELECT '{decoded}'\"\n  expect = \"something else\"\n"
            ),
        )
        .unwrap();
        let env = [("PROD_URL", *url)];
        let mut seen = String::new();
        for args in [
            &["validate", "rb.toml"][..],
            &["run", "rb.toml", "--headless"][..],
            &["status", "rb.toml"][..],
            &["status", "rb.toml", "--format", "json"][..],
            &["audit", "export", "rb.toml"][..],
            &["audit", "verify", "rb.toml"][..],
        ] {
            let out = cutover_env(d, args, &env);
            seen.push_str(&out.all());
        }
        for s in [*secret, decoded.as_str()] {
            assert!(!seen.contains(s), "{url}: the output shows {s}:\n{seen}");
        }
        let mut files = Vec::new();
        files_under(d, &mut files);
        // The runbook itself is the user's file (its query names the secret on purpose).
        for f in files.iter().filter(|f| !f.ends_with("rb.toml")) {
            let bytes = std::fs::read(f).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for s in [*secret, decoded.as_str()] {
                assert!(!text.contains(s), "{url}: {} holds {s}", f.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 14, "files were written and searched");
}
