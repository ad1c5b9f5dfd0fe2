//! Every hazard code: one case that triggers it and one that does not, on each engine
//! that can express the case; and hazardous statements stay commented out unless allowed.

use crate::schema_support::*;
use cutover::db::{Db, Dialect};
use cutover::schema::PlanOptions;
use cutover::testkit;
use std::collections::BTreeSet;

async fn engines() -> Vec<(testkit::TestDb, testkit::TestDb)> {
    let mut v = vec![(testkit::sqlite().await, testkit::sqlite().await)];
    if let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) {
        v.push((a, b));
    }
    if let (Some(a), Some(b)) = (testkit::mysql().await, testkit::mysql().await) {
        v.push((a, b));
    }
    v
}

/// Build source and target from DDL and return the hazard codes of the migration.
async fn hazards_of(
    src: &Db,
    tgt: &Db,
    source: &str,
    target: &str,
    rows: usize,
    large: u64,
) -> BTreeSet<String> {
    if !source.is_empty() {
        run_sql(src, source).await;
    }
    if !target.is_empty() {
        run_sql(tgt, target).await;
    }
    for i in 0..rows {
        run_sql(tgt, &format!(r#"INSERT INTO t (id) VALUES ({})"#, i + 1)).await;
    }
    let cmp = compare_with(
        src,
        tgt,
        PlanOptions {
            large_table_rows: large,
        },
    )
    .await;
    assert!(!cmp.diff.is_equal());
    codes(&cmp)
}

struct Case {
    code: &'static str,
    source: &'static str,
    target: &'static str,
    rows: usize,
    large: u64,
    skip: &'static [Dialect],
}

const TRIGGERS: &[Case] = &[
    Case {
        code: "drop-table",
        source: "CREATE TABLE t (id INT PRIMARY KEY)",
        target: "CREATE TABLE t (id INT PRIMARY KEY); CREATE TABLE old (id INT)",
        rows: 0,
        large: 1000,
        skip: &[],
    },
    Case {
        code: "drop-column",
        source: "CREATE TABLE t (id INT PRIMARY KEY)",
        target: "CREATE TABLE t (id INT PRIMARY KEY, legacy INT)",
        rows: 0,
        large: 1000,
        skip: &[],
    },
    Case {
        code: "narrow-type",
        source: "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))",
        target: "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(100))",
        rows: 0,
        large: 1000,
        skip: &[],
    },
    Case {
        code: "not-null-without-default",
        source: "CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL)",
        target: "CREATE TABLE t (id INT PRIMARY KEY)",
        rows: 2,
        large: 1000,
        skip: &[],
    },
    Case {
        code: "drop-fk-index",
        source: "CREATE TABLE p (id INT PRIMARY KEY); CREATE TABLE t (id INT PRIMARY KEY, pid INT, CONSTRAINT t_pid_fkey FOREIGN KEY (pid) REFERENCES p (id))",
        target: "CREATE TABLE p (id INT PRIMARY KEY); CREATE TABLE t (id INT PRIMARY KEY, pid INT, CONSTRAINT t_pid_fkey FOREIGN KEY (pid) REFERENCES p (id)); CREATE INDEX t_pid ON t (pid)",
        rows: 0,
        large: 1000,
        skip: &[Dialect::Mysql],
    },
    Case {
        code: "table-rewrite",
        source: "CREATE TABLE t (id INT PRIMARY KEY, n BIGINT)",
        target: "CREATE TABLE t (id INT PRIMARY KEY, n INT)",
        rows: 5,
        large: 3,
        skip: &[],
    },
    Case {
        code: "generated-to-plain",
        source: "CREATE TABLE t (id INT PRIMARY KEY, n INT, g INT)",
        target: "CREATE TABLE t (id INT PRIMARY KEY, n INT, g INT GENERATED ALWAYS AS (n * 2) STORED)",
        rows: 1,
        large: 1000,
        skip: &[Dialect::Sqlite],
    },
    Case {
        code: "plain-to-generated",
        source: "CREATE TABLE t (id INT PRIMARY KEY, n INT, g INT GENERATED ALWAYS AS (n * 2) STORED)",
        target: "CREATE TABLE t (id INT PRIMARY KEY, n INT, g INT)",
        rows: 1,
        large: 1000,
        skip: &[Dialect::Sqlite],
    },
    Case {
        code: "enum-label-removed",
        source: "CREATE TYPE mood AS ENUM ('a', 'b'); CREATE TABLE t (id INT PRIMARY KEY, m mood)",
        target: "CREATE TYPE mood AS ENUM ('a', 'b', 'c'); CREATE TABLE t (id INT PRIMARY KEY, m mood)",
        rows: 1,
        large: 1000,
        skip: &[Dialect::Sqlite, Dialect::Mysql],
    },
];

const SAFE: &[Case] = &[
    Case {
        code: "drop-table",
        source: "CREATE TABLE t (id INT PRIMARY KEY); CREATE TABLE added (id INT)",
        target: "CREATE TABLE t (id INT PRIMARY KEY)",
        rows: 0,
        large: 1000,
        skip: &[],
    },
    Case {
        code: "drop-column",
        source: "CREATE TABLE t (id INT PRIMARY KEY, added INT)",
        target: "CREATE TABLE t (id INT PRIMARY KEY)",
        rows: 0,
        large: 1000,
        skip: &[],
    },
    Case {
        code: "narrow-type",
        source: "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(100), n BIGINT)",
        target: "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), n INT)",
        rows: 0,
        large: 1000,
        skip: &[],
    },
    // same column on a table with rows, but with a default
    Case {
        code: "not-null-without-default",
        source: "CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL DEFAULT 0)",
        target: "CREATE TABLE t (id INT PRIMARY KEY)",
        rows: 2,
        large: 1000,
        skip: &[],
    },
    // the FK keeps an index that covers it
    Case {
        code: "drop-fk-index",
        source: "CREATE TABLE p (id INT PRIMARY KEY); CREATE TABLE t (id INT PRIMARY KEY, pid INT, x INT, CONSTRAINT t_pid_fkey FOREIGN KEY (pid) REFERENCES p (id)); CREATE INDEX t_pid_x ON t (pid, x)",
        target: "CREATE TABLE p (id INT PRIMARY KEY); CREATE TABLE t (id INT PRIMARY KEY, pid INT, x INT, CONSTRAINT t_pid_fkey FOREIGN KEY (pid) REFERENCES p (id)); CREATE INDEX t_pid ON t (pid)",
        rows: 0,
        large: 1000,
        skip: &[Dialect::Mysql],
    },
    // the same change on a table below the size limit
    Case {
        code: "table-rewrite",
        source: "CREATE TABLE t (id INT PRIMARY KEY, n BIGINT)",
        target: "CREATE TABLE t (id INT PRIMARY KEY, n INT)",
        rows: 2,
        large: 3,
        skip: &[],
    },
    // a generation expression that changes: recomputed, neither plain nor newly generated
    Case {
        code: "generated-to-plain",
        source: "CREATE TABLE t (id INT PRIMARY KEY, n INT, g INT GENERATED ALWAYS AS (n * 3) STORED)",
        target: "CREATE TABLE t (id INT PRIMARY KEY, n INT, g INT GENERATED ALWAYS AS (n * 2) STORED)",
        rows: 1,
        large: 1000,
        skip: &[Dialect::Sqlite, Dialect::Mysql],
    },
    Case {
        code: "plain-to-generated",
        source: "CREATE TABLE t (id INT PRIMARY KEY, n INT, g INT GENERATED ALWAYS AS (n * 3) STORED)",
        target: "CREATE TABLE t (id INT PRIMARY KEY, n INT, g INT GENERATED ALWAYS AS (n * 2) STORED)",
        rows: 1,
        large: 1000,
        skip: &[Dialect::Sqlite, Dialect::Mysql],
    },
    // a label added in place
    Case {
        code: "enum-label-removed",
        source: "CREATE TYPE mood AS ENUM ('a', 'b', 'c'); CREATE TABLE t (id INT PRIMARY KEY, m mood)",
        target: "CREATE TYPE mood AS ENUM ('a', 'b'); CREATE TABLE t (id INT PRIMARY KEY, m mood)",
        rows: 1,
        large: 1000,
        skip: &[Dialect::Sqlite, Dialect::Mysql],
    },
];

#[tokio::test]
async fn each_hazard_code_triggers() {
    for case in TRIGGERS {
        for (a, b) in engines().await {
            if case.skip.contains(&a.dialect) {
                continue;
            }
            let (src, tgt) = (a.connect().await, b.connect().await);
            let got = hazards_of(&src, &tgt, case.source, case.target, case.rows, case.large).await;
            assert!(
                got.contains(case.code),
                "{:?}: expected {} in {got:?}",
                a.dialect,
                case.code
            );
        }
    }
}

#[tokio::test]
async fn each_hazard_code_stays_quiet_when_safe() {
    for case in SAFE {
        for (a, b) in engines().await {
            if case.skip.contains(&a.dialect) {
                continue;
            }
            let (src, tgt) = (a.connect().await, b.connect().await);
            let got = hazards_of(&src, &tgt, case.source, case.target, case.rows, case.large).await;
            assert!(
                !got.contains(case.code),
                "{:?}: {} must not fire: {got:?}",
                a.dialect,
                case.code
            );
        }
    }
    // every code has both cases
    for h in cutover::schema::migrate::HAZARD_CODES {
        assert!(
            TRIGGERS.iter().any(|c| c.code == h.code),
            "{} has no triggering case",
            h.code
        );
        assert!(
            SAFE.iter().any(|c| c.code == h.code),
            "{} has no safe case",
            h.code
        );
    }
}

/// MySQL refuses to drop the index a foreign key needs; on MariaDB the hazard fires
/// when the source keeps the FK but not the index it relies on.
#[tokio::test]
async fn drop_fk_index_on_mariadb() {
    let (Some(a), Some(b)) = (testkit::mysql().await, testkit::mysql().await) else {
        return;
    };
    let (src, tgt) = (a.connect().await, b.connect().await);
    run_sql(&src, "CREATE TABLE p (id INT PRIMARY KEY); CREATE TABLE t (id INT PRIMARY KEY, pid INT, CONSTRAINT t_pid_fkey FOREIGN KEY (pid) REFERENCES p (id))").await;
    run_sql(&tgt, "CREATE TABLE p (id INT PRIMARY KEY); CREATE TABLE t (id INT PRIMARY KEY, pid INT, CONSTRAINT t_pid_fkey FOREIGN KEY (pid) REFERENCES p (id)); CREATE INDEX t_pid ON t (pid)").await;
    // MariaDB's source has its own index named after the constraint; make it differ by name
    let cmp = compare(&src, &tgt).await;
    let dropped: Vec<_> = cmp
        .diff
        .changes
        .iter()
        .filter(|c| c.name == "t_pid")
        .collect();
    assert_eq!(dropped.len(), 1, "{:#?}", cmp.diff.changes);
    // the source has index t_pid_fkey covering pid, so dropping t_pid is safe...
    assert!(!codes(&cmp).contains("drop-fk-index"), "{:?}", codes(&cmp));
    // ...once that index exists: the migration creates it before dropping t_pid
    apply(&tgt, &cmp).await;
    assert!(compare(&src, &tgt).await.diff.is_equal());
}

#[tokio::test]
async fn hazardous_statements_are_commented_out_unless_allowed() {
    let (a, b) = (testkit::sqlite().await, testkit::sqlite().await);
    let (src, tgt) = (a.connect().await, b.connect().await);
    run_sql(
        &src,
        "CREATE TABLE t (id INT PRIMARY KEY); CREATE TABLE added (id INT)",
    )
    .await;
    run_sql(
        &tgt,
        "CREATE TABLE t (id INT PRIMARY KEY, legacy INT); CREATE TABLE old (id INT)",
    )
    .await;
    let cmp = compare(&src, &tgt).await;
    let none = BTreeSet::new();
    let sql = cmp.migration.render(&[], &none);
    assert!(
        sql.contains("-- HAZARD drop-table: dropping table old"),
        "{sql}"
    );
    assert!(sql.contains("-- DROP TABLE \"old\";"), "{sql}");
    assert!(
        sql.contains("-- ALTER TABLE \"t\" DROP COLUMN \"legacy\";"),
        "{sql}"
    );
    assert!(
        sql.contains("\nCREATE TABLE \"added\""),
        "safe statements stay live: {sql}"
    );
    assert!(
        sql.contains("--allow-hazards drop-column,drop-table"),
        "{sql}"
    );

    let only_table: BTreeSet<String> = ["drop-table".to_string()].into();
    let sql = cmp.migration.render(&[], &only_table);
    assert!(sql.contains("\nDROP TABLE \"old\";"), "{sql}");
    assert!(
        sql.contains("-- ALTER TABLE \"t\" DROP COLUMN \"legacy\";"),
        "{sql}"
    );
    assert!(
        !cmp.migration
            .statements(&only_table)
            .iter()
            .any(|s| s.contains("DROP COLUMN"))
    );
}
