//! The oracle: every fixture of tests/fixtures/schema/ (`pg_*` on PostgreSQL,
//! `mariadb_*` on MariaDB; each a start.sql and a want.sql written for this project)
//! is created in two fresh databases; cutover's plan (every hazard allowed) is applied
//! to the start with the engine's own client; the fixture passes only when the
//! engine's own dump tool (`pg_dump --schema-only`, `mariadb-dump --no-data`) gives the
//! same normalized text for both, and cutover's re-diff says equal (exit 0).

use crate::support::cutover;
use cutover::testkit::{self, TestDb};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures(prefix: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures/schema")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{:?} failed: {}{}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn psql(db: &TestDb) -> Command {
    let mut c = Command::new("psql");
    c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url]);
    c
}

fn mariadb(db: &TestDb) -> Command {
    let mut c = Command::new("mariadb");
    c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", &db.name]);
    c
}

fn pg_dump(db: &TestDb) -> Result<String, String> {
    let text = run(Command::new("pg_dump").args(["--schema-only", "--no-owner", "-d", &db.url]))?;
    Ok(text
        .lines()
        .filter(|l| {
            !l.starts_with("--")
                && !l.starts_with("SET ")
                && !l.starts_with("SELECT pg_catalog.set_config")
                && !l.starts_with("\\restrict")
                && !l.starts_with("\\unrestrict")
                && !l.trim().is_empty()
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

fn mariadb_dump(db: &TestDb) -> Result<String, String> {
    let text = run(Command::new("mariadb-dump").args([
        "-h",
        "127.0.0.1",
        "-u",
        "root",
        "--no-data",
        "--skip-comments",
        "--skip-dump-date",
        "--routines",
        "--events",
        "--triggers",
        &db.name,
    ]))?;
    let definer = regex_lite_definer;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with("/*!40") && !l.trim().is_empty())
        .map(|l| {
            let l = definer(l);
            // AUTO_INCREMENT=N is the counter (data), not the schema
            match l.find(" AUTO_INCREMENT=") {
                Some(i) => {
                    let rest = &l[i + 16..];
                    let end = rest
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(rest.len());
                    format!("{}{}", &l[..i], &rest[end..])
                }
                None => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Drop `DEFINER=`user`@`host`` (an account, not schema).
fn regex_lite_definer(l: &str) -> String {
    match l.find("DEFINER=`") {
        Some(i) => {
            let rest = &l[i..];
            let mut ticks = 0;
            for (j, ch) in rest.char_indices() {
                if ch == '`' {
                    ticks += 1;
                    if ticks == 4 {
                        return format!("{}{}", &l[..i], &rest[j + 1..]);
                    }
                }
            }
            l.to_string()
        }
        None => l.to_string(),
    }
}

async fn one(dir: &Path, engine: &str, fixture: &Path) -> Result<(), String> {
    let (want, start) = match engine {
        "pg" => (testkit::postgres().await, testkit::postgres().await),
        _ => (testkit::mysql().await, testkit::mysql().await),
    };
    let (Some(want), Some(start)) = (want, start) else {
        return Ok(());
    };
    let client = |db: &TestDb| {
        if engine == "pg" {
            psql(db)
        } else {
            mariadb(db)
        }
    };
    let load = |db: &TestDb, file: &str| -> Result<(), String> {
        let mut c = client(db);
        c.stdin(std::fs::File::open(fixture.join(file)).map_err(|e| e.to_string())?);
        run(&mut c).map(|_| ())
    };
    load(&want, "want.sql")?;
    load(&start, "start.sql")?;
    let all = "drop-table,drop-column,narrow-type,not-null-without-default,drop-fk-index,\
               generated-to-plain,plain-to-generated,enum-label-removed,table-rewrite";
    let plan = cutover(
        dir,
        &[
            "diff",
            "schema",
            "--source",
            &want.url,
            "--target",
            &start.url,
            "--format",
            "sql",
            "--allow-hazards",
            all,
        ],
    );
    // Writing a plan exits 0 even when the schemas differ (issue 11).
    if plan.code != 0 {
        return Err(format!("the plan: exit {}\n{}", plan.code, plan.all()));
    }
    let file = dir.join("plan.sql");
    std::fs::write(&file, &plan.stdout).map_err(|e| e.to_string())?;
    let mut c = client(&start);
    c.stdin(std::fs::File::open(&file).map_err(|e| e.to_string())?);
    run(&mut c).map_err(|e| format!("applying the plan: {e}\n{}", plan.stdout))?;
    let (a, b) = if engine == "pg" {
        (pg_dump(&want)?, pg_dump(&start)?)
    } else {
        (mariadb_dump(&want)?, mariadb_dump(&start)?)
    };
    if a != b {
        let d = similar::TextDiff::from_lines(&b, &a)
            .unified_diff()
            .header("start after plan", "want")
            .to_string();
        return Err(format!("dumps differ:\n{d}\nplan:\n{}", plan.stdout));
    }
    let again = cutover(
        dir,
        &[
            "diff", "schema", "--source", &want.url, "--target", &start.url,
        ],
    );
    if again.code != 0 {
        return Err(format!("re-diff not equal:\n{}", again.all()));
    }
    Ok(())
}

async fn corpus(engine: &str, prefix: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for f in fixtures(prefix) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        match one(dir.path(), engine, &f).await {
            Ok(()) => passed.push(name),
            Err(e) => failed.push(format!("{name}: {e}")),
        }
    }
    eprintln!(
        "schema oracle {engine}: {} of {} fixtures pass: {}",
        passed.len(),
        passed.len() + failed.len(),
        passed.join(", ")
    );
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[tokio::test]
async fn oracle_postgres_fixtures() {
    if testkit::postgres().await.is_none() {
        return;
    }
    corpus("pg", "pg_").await;
}

#[tokio::test]
async fn oracle_mariadb_fixtures() {
    if testkit::mysql().await.is_none() {
        return;
    }
    corpus("mariadb", "mariadb_").await;
}
