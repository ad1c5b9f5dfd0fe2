//! Round trip: for each pair of schemas, applying the generated migration (all hazards
//! allowed) to the target makes the diff report equal — on every engine that can
//! express the pair.

use crate::schema_support::*;
use cutover::db::Dialect;
use cutover::testkit;

struct Pair {
    name: &'static str,
    /// DDL for both sides first (written with "double quotes").
    common: &'static str,
    source: &'static str,
    target: &'static str,
    /// Engines that cannot express the pair.
    skip: &'static [Dialect],
}

const NONE: &[Dialect] = &[];
const NO_MYSQL: &[Dialect] = &[Dialect::Mysql];

const CORPUS: &[Pair] = &[
    Pair {
        name: "create a table in an empty database",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)"#,
        target: "",
        skip: NONE,
    },
    Pair {
        name: "add a nullable column",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20), b INT)"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20))"#,
        skip: NONE,
    },
    Pair {
        name: "add a NOT NULL column with a default",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, status VARCHAR(10) NOT NULL DEFAULT 'new')"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY)"#,
        skip: NONE,
    },
    Pair {
        name: "drop a column",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY)"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, legacy VARCHAR(20))"#,
        skip: NONE,
    },
    Pair {
        name: "drop a table",
        common: r#"CREATE TABLE keep (id INT PRIMARY KEY)"#,
        source: "",
        target: r#"CREATE TABLE old (id INT PRIMARY KEY)"#,
        skip: NONE,
    },
    Pair {
        name: "widen a varchar",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(100))"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))"#,
        skip: NONE,
    },
    Pair {
        name: "narrow a varchar",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(100))"#,
        skip: NONE,
    },
    Pair {
        name: "int to bigint",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, n BIGINT)"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, n INT)"#,
        skip: NONE,
    },
    Pair {
        name: "nullable to NOT NULL",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10) NOT NULL)"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))"#,
        skip: NONE,
    },
    Pair {
        name: "NOT NULL to nullable",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10) NOT NULL)"#,
        skip: NONE,
    },
    Pair {
        name: "add, change and drop defaults",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT 5, b VARCHAR(5) DEFAULT 'x', c INT)"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(5) DEFAULT 'y', c INT DEFAULT 1)"#,
        skip: NONE,
    },
    Pair {
        name: "add a composite index",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(20)); CREATE INDEX t_ab ON t (a, b DESC)"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(20))"#,
        skip: NONE,
    },
    Pair {
        name: "drop an index",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a INT)"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a INT); CREATE INDEX t_a ON t (a)"#,
        skip: NONE,
    },
    Pair {
        name: "change an index's columns",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT); CREATE INDEX t_i ON t (a, b)"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT); CREATE INDEX t_i ON t (b)"#,
        skip: NONE,
    },
    Pair {
        name: "add a unique constraint",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(100), CONSTRAINT t_email_key UNIQUE (email))"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(100))"#,
        skip: NONE,
    },
    Pair {
        name: "drop a unique constraint",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(100))"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(100), CONSTRAINT t_email_key UNIQUE (email))"#,
        skip: NONE,
    },
    Pair {
        name: "add a foreign key between existing tables",
        common: r#"CREATE TABLE parent (id INT PRIMARY KEY)"#,
        source: r#"CREATE TABLE child (id INT PRIMARY KEY, pid INT, CONSTRAINT child_pid_fkey FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE)"#,
        target: r#"CREATE TABLE child (id INT PRIMARY KEY, pid INT)"#,
        skip: NONE,
    },
    Pair {
        name: "drop a foreign key",
        common: r#"CREATE TABLE parent (id INT PRIMARY KEY)"#,
        source: r#"CREATE TABLE child (id INT PRIMARY KEY, pid INT)"#,
        target: r#"CREATE TABLE child (id INT PRIMARY KEY, pid INT, CONSTRAINT child_pid_fkey FOREIGN KEY (pid) REFERENCES parent (id))"#,
        skip: NONE,
    },
    Pair {
        name: "add and drop check constraints",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, qty INT, CONSTRAINT qty_pos CHECK (qty > 0))"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, qty INT, CONSTRAINT qty_small CHECK (qty < 100))"#,
        skip: NONE,
    },
    Pair {
        name: "add a primary key",
        common: "",
        source: r#"CREATE TABLE t (id INT NOT NULL, a INT, PRIMARY KEY (id))"#,
        target: r#"CREATE TABLE t (id INT NOT NULL, a INT)"#,
        skip: NONE,
    },
    Pair {
        name: "change primary key columns",
        common: "",
        source: r#"CREATE TABLE t (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a, b))"#,
        target: r#"CREATE TABLE t (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a))"#,
        skip: NONE,
    },
    Pair {
        name: "add a view",
        common: r#"CREATE TABLE t (id INT PRIMARY KEY, total INT)"#,
        source: r#"CREATE VIEW big AS SELECT id, total FROM t WHERE total > 10"#,
        target: "",
        skip: NONE,
    },
    Pair {
        name: "change a view",
        common: r#"CREATE TABLE t (id INT PRIMARY KEY, total INT)"#,
        source: r#"CREATE VIEW big AS SELECT id, total FROM t WHERE total > 10"#,
        target: r#"CREATE VIEW big AS SELECT id FROM t"#,
        skip: NONE,
    },
    Pair {
        name: "quoted mixed-case identifiers",
        common: "",
        source: r#"CREATE TABLE "Order Lines" ("LineId" INT PRIMARY KEY, "Qty" INT, "Unit Price" DECIMAL(10,2)); CREATE INDEX "Ix Qty" ON "Order Lines" ("Qty")"#,
        target: r#"CREATE TABLE "Order Lines" ("LineId" INT PRIMARY KEY, "Qty" INT)"#,
        skip: NONE,
    },
    Pair {
        name: "new parent and child tables (dependency order)",
        common: "",
        source: r#"CREATE TABLE a_child (id INT PRIMARY KEY, pid INT, CONSTRAINT a_child_pid_fkey FOREIGN KEY (pid) REFERENCES z_parent (id));
                   CREATE TABLE z_parent (id INT PRIMARY KEY)"#,
        target: "",
        skip: &[Dialect::Mysql, Dialect::Postgres],
    },
    Pair {
        name: "new parent and child tables, parent first in source",
        common: "",
        source: r#"CREATE TABLE z_parent (id INT PRIMARY KEY);
                   CREATE TABLE a_child (id INT PRIMARY KEY, pid INT, CONSTRAINT a_child_pid_fkey FOREIGN KEY (pid) REFERENCES z_parent (id))"#,
        target: "",
        skip: NONE,
    },
    Pair {
        name: "drop parent and child tables",
        common: r#"CREATE TABLE keep (id INT PRIMARY KEY)"#,
        source: "",
        target: r#"CREATE TABLE z_parent (id INT PRIMARY KEY);
                   CREATE TABLE a_child (id INT PRIMARY KEY, pid INT, CONSTRAINT a_child_pid_fkey FOREIGN KEY (pid) REFERENCES z_parent (id))"#,
        skip: NONE,
    },
    Pair {
        name: "partial index",
        common: r#"CREATE TABLE t (id INT PRIMARY KEY, deleted INT NOT NULL DEFAULT 0)"#,
        source: r#"CREATE INDEX t_live ON t (id) WHERE deleted = 0"#,
        target: "",
        skip: NO_MYSQL,
    },
    Pair {
        name: "decimal precision and a column type family change",
        common: "",
        source: r#"CREATE TABLE t (id INT PRIMARY KEY, amount DECIMAL(14,4), code VARCHAR(10))"#,
        target: r#"CREATE TABLE t (id INT PRIMARY KEY, amount DECIMAL(10,2), code INT)"#,
        skip: NONE,
    },
    Pair {
        name: "several changes at once across tables",
        common: r#"CREATE TABLE users (id INT PRIMARY KEY)"#,
        source: r#"CREATE TABLE profiles (id INT PRIMARY KEY, user_id INT, bio TEXT, city VARCHAR(50), CONSTRAINT profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id));
                   CREATE INDEX profiles_city ON profiles (city); CREATE TABLE audit (id INT PRIMARY KEY, at DATE)"#,
        target: r#"CREATE TABLE profiles (id INT PRIMARY KEY, legacy INT); CREATE TABLE tmp_import (id INT)"#,
        skip: NONE,
    },
];

async fn round_trip(pair: &Pair, src: &cutover::db::Db, tgt: &cutover::db::Db) {
    let d = src.dialect();
    for (db, sql) in [(src, pair.source), (tgt, pair.target)] {
        if !pair.common.is_empty() {
            run_sql(db, pair.common).await;
        }
        if !sql.is_empty() {
            run_sql(db, sql).await;
        }
    }
    let before = compare(src, tgt).await;
    assert!(
        !before.diff.is_equal(),
        "{d:?} '{}': the pair must differ",
        pair.name
    );
    apply(tgt, &before).await;
    let after = compare(src, tgt).await;
    assert!(
        after.diff.is_equal(),
        "{d:?} '{}': still different after the migration:\n{:#?}\nmigration:\n{}",
        pair.name,
        after.diff.changes,
        before.migration.statements(&all_hazards()).join(";\n")
    );
}

async fn corpus_on(make: impl AsyncFn() -> Option<testkit::TestDb>, dialect: Dialect) {
    assert!(CORPUS.len() >= 20);
    let mut ran = 0;
    for pair in CORPUS.iter().filter(|p| !p.skip.contains(&dialect)) {
        let (Some(a), Some(b)) = (make().await, make().await) else {
            return;
        };
        let (src, tgt) = (a.connect().await, b.connect().await);
        round_trip(pair, &src, &tgt).await;
        src.close().await;
        tgt.close().await;
        ran += 1;
    }
    assert!(ran >= 20, "{dialect:?}: only {ran} pairs ran");
}

#[tokio::test]
async fn round_trip_corpus_sqlite() {
    corpus_on(async || Some(testkit::sqlite().await), Dialect::Sqlite).await;
}

#[tokio::test]
async fn round_trip_corpus_postgres() {
    corpus_on(testkit::postgres, Dialect::Postgres).await;
}

#[tokio::test]
async fn round_trip_corpus_mariadb() {
    corpus_on(testkit::mysql, Dialect::Mysql).await;
}

/// Cross-engine: a PostgreSQL source, an empty SQLite and MariaDB target.
#[tokio::test]
async fn round_trip_postgres_to_other_engines() {
    let Some(p) = testkit::postgres().await else {
        return;
    };
    let pg = p.connect().await;
    run_sql(
        &pg,
        r#"CREATE TABLE users (id serial PRIMARY KEY, email varchar(120) NOT NULL UNIQUE, active boolean DEFAULT true, score numeric(8,2));
           CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, user_id int REFERENCES users(id), total numeric(12,2) NOT NULL, placed timestamp);
           CREATE INDEX orders_user ON orders (user_id, total)"#,
    )
    .await;
    let l = testkit::sqlite().await;
    let lite = l.connect().await;
    let mut targets = vec![lite];
    let m = testkit::mysql().await;
    if let Some(m) = &m {
        targets.push(m.connect().await);
    }
    for tgt in targets {
        let before = compare(&pg, &tgt).await;
        apply(&tgt, &before).await;
        let after = compare(&pg, &tgt).await;
        assert!(
            after.diff.is_equal(),
            "{:?}: {:#?}\n{}",
            tgt.dialect(),
            after.diff.changes,
            before.migration.statements(&all_hazards()).join(";\n")
        );
    }
}
