//! A backup's content hash is a promise that a restore proves the same rows: it must
//! change whenever a value changes, even where the server's own text of the value
//! does not (a FLOAT's 6 digits), where fields could slide into each other ('a|b', 'c'
//! against 'a', 'b|c'), or where NULL meets an empty or look-alike string. Each case
//! backs up one state and its twin and compares the manifests' hashes.

use crate::backup_roundtrip::{exec, run};
use cutover::testkit::{self, TestDb};
use std::path::Path;

async fn table_hash(db: &TestDb, dir: &Path, name: &str) -> String {
    let o = run(dir, &["backup", "--target", &db.url, "--out", name]);
    assert_eq!(o.code, 0, "{}", o.all());
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(name).join("manifest.json")).unwrap())
            .unwrap();
    let tables = m["tables"].as_object().unwrap();
    let (_, t) = tables
        .iter()
        .find(|(k, _)| *k == "t" || k.ends_with(".t"))
        .unwrap_or_else(|| panic!("no table t in {m}"));
    t["hash"].as_str().unwrap().to_string()
}

/// For each (state, twin) pair of INSERTs into `t`: the two backups' hashes differ.
async fn every_twin_differs(db: &TestDb, ddl: &str, twins: &[(&str, &str)]) {
    let tmp = tempfile::tempdir().unwrap();
    let d = db.connect().await;
    for (i, (a, b)) in twins.iter().enumerate() {
        exec(&d, &format!("DROP TABLE IF EXISTS t; {ddl}; {a}")).await;
        let ha = table_hash(db, tmp.path(), &format!("a{i}")).await;
        exec(&d, &format!("DELETE FROM t; {b}")).await;
        let hb = table_hash(db, tmp.path(), &format!("b{i}")).await;
        assert_ne!(
            ha, hb,
            "the hash did not see the change from {a:?} to {b:?}"
        );
        // and the same rows hash the same
        exec(&d, &format!("DELETE FROM t; {a}")).await;
        let again = table_hash(db, tmp.path(), &format!("c{i}")).await;
        assert_eq!(ha, again, "{a:?} hashed twice differently");
    }
    d.close().await;
}

#[tokio::test]
async fn mariadb_backup_hashes_see_every_change() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    every_twin_differs(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY, f FLOAT, s VARCHAR(10), s2 VARCHAR(10), b VARBINARY(4), tm TIME, n VARCHAR(5) NULL) CHARACTER SET latin1",
        &[
            // 16777216 and 16777218 are both '1.67772e7' as a FLOAT's text
            (
                "INSERT INTO t (id, f) VALUES (1, 16777216)",
                "INSERT INTO t (id, f) VALUES (1, 16777218)",
            ),
            (
                "INSERT INTO t (id, s, s2) VALUES (1, 'a|b', 'c')",
                "INSERT INTO t (id, s, s2) VALUES (1, 'a', 'b|c')",
            ),
            (
                "INSERT INTO t (id, s) VALUES (1, '')",
                "INSERT INTO t (id, s) VALUES (1, NULL)",
            ),
            (
                "INSERT INTO t (id, n) VALUES (1, 'N')",
                "INSERT INTO t (id, n) VALUES (1, NULL)",
            ),
            (
                "INSERT INTO t (id, b) VALUES (1, X'61FF')",
                "INSERT INTO t (id, b) VALUES (1, X'61FE')",
            ),
            (
                "INSERT INTO t (id, tm) VALUES (1, '-01:00:00')",
                "INSERT INTO t (id, tm) VALUES (1, '01:00:00')",
            ),
            (
                "INSERT INTO t (id, s) VALUES (1, 'é')",
                "INSERT INTO t (id, s) VALUES (1, 'e')",
            ),
            // a row moved to another key
            (
                "INSERT INTO t (id, s) VALUES (1, 'x'), (2, 'y')",
                "INSERT INTO t (id, s) VALUES (1, 'y'), (2, 'x')",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn postgres_backup_hashes_see_every_change() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    every_twin_differs(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY, f real, s text, s2 text, b bytea, n numeric)",
        &[
            (
                "INSERT INTO t (id, f) VALUES (1, 16777216)",
                "INSERT INTO t (id, f) VALUES (1, 16777218)",
            ),
            (
                "INSERT INTO t (id, s, s2) VALUES (1, 'a,b', 'c')",
                "INSERT INTO t (id, s, s2) VALUES (1, 'a', 'b,c')",
            ),
            (
                "INSERT INTO t (id, s) VALUES (1, '')",
                "INSERT INTO t (id, s) VALUES (1, NULL)",
            ),
            (
                "INSERT INTO t (id, b) VALUES (1, '\\x61ff')",
                "INSERT INTO t (id, b) VALUES (1, '\\x61fe')",
            ),
            (
                "INSERT INTO t (id, n) VALUES (1, 1.50)",
                "INSERT INTO t (id, n) VALUES (1, 1.5)",
            ),
            (
                "INSERT INTO t (id, n) VALUES (1, 'NaN')",
                "INSERT INTO t (id, n) VALUES (1, NULL)",
            ),
            // -0 and 0 are equal reals, but not the same value restored
            (
                "INSERT INTO t (id, f) VALUES (1, '-0')",
                "INSERT INTO t (id, f) VALUES (1, '0')",
            ),
            // two rows trading a value: a sum of per-column hashes would miss it
            (
                "INSERT INTO t (id, s) VALUES (1, 'x'), (2, 'y')",
                "INSERT INTO t (id, s) VALUES (1, 'y'), (2, 'x')",
            ),
            (
                "INSERT INTO t (id, s, s2) VALUES (1, NULL, 'a')",
                "INSERT INTO t (id, s, s2) VALUES (1, 'a', NULL)",
            ),
        ],
    )
    .await;
    // text under a case-insensitive collation is hashed by its bytes
    let d = db.connect().await;
    exec(
        &d,
        "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
    )
    .await;
    d.close().await;
    every_twin_differs(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY, s text COLLATE ci)",
        &[(
            "INSERT INTO t (id, s) VALUES (1, 'Hello')",
            "INSERT INTO t (id, s) VALUES (1, 'HELLO')",
        )],
    )
    .await;
}
