//! `sync` over tables joined by a foreign key, on SQLite, PostgreSQL and MariaDB: a
//! parent deleted while its children move to another parent (one of them new), in
//! either order the tables are listed. Inserts and updates go parents first, deletes
//! children first, so no foreign key objects at any point.

use crate::support;
use cutover::db::{Db, Dialect};
use cutover::testkit::{self, TestDb};

const SCHEMA: &str = "CREATE TABLE parents (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL);
CREATE TABLE children (id INT PRIMARY KEY, parent_id INT NOT NULL, name VARCHAR(40) NOT NULL,
  CONSTRAINT fk_children_parent FOREIGN KEY (parent_id) REFERENCES parents (id))";

/// The truth: parent 1 is gone, parent 3 is new; children 10 and 13 belong to 3,
/// child 11 moved to 2, child 14 is gone.
const SOURCE_ROWS: &str = "INSERT INTO parents VALUES (2, 'keep'), (3, 'new');
INSERT INTO children VALUES (10, 3, 'moves to new'), (11, 2, 'moves to kept'), (12, 2, 'stays'), (13, 3, 'new child')";

/// The copy to bring in line: parent 1 still holds children 10, 11 and 14.
const TARGET_ROWS: &str = "INSERT INTO parents VALUES (1, 'old'), (2, 'keep');
INSERT INTO children VALUES (10, 1, 'moves to new'), (11, 1, 'moves to kept'), (12, 2, 'stays'), (14, 1, 'goes with old')";

async fn fresh(d: Dialect) -> Option<TestDb> {
    match d {
        Dialect::Sqlite => Some(testkit::sqlite().await),
        Dialect::Postgres => testkit::postgres().await,
        _ => testkit::mysql().await,
    }
}

async fn exec(db: &Db, sql: &str) {
    for s in cutover::db::split_statements(sql) {
        db.execute(&s.sql).await.unwrap();
    }
}

async fn rows(db: &Db, sql: &str) -> Vec<String> {
    db.query(sql, &[])
        .await
        .unwrap()
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[tokio::test]
async fn sync_moves_children_off_a_deleted_parent_in_either_table_order() {
    for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
        // one transaction in either listing order, and committed statement by statement
        // (every commit on its own must satisfy the foreign key)
        for (order, batch) in [
            (["children", "parents"], ""),
            (["parents", "children"], ""),
            (
                ["children", "parents"],
                "\n  batch_commit = true\n  batch_size = 1",
            ),
        ] {
            let (Some(src), Some(dst)) = (fresh(d).await, fresh(d).await) else {
                continue;
            };
            let (s, t) = (src.connect().await, dst.connect().await);
            exec(&s, SCHEMA).await;
            exec(&t, SCHEMA).await;
            exec(&s, SOURCE_ROWS).await;
            exec(&t, TARGET_ROWS).await;

            // the naive order fails on this engine: deleting parent 1 first is refused
            let refused = t.execute("DELETE FROM parents WHERE id = 1").await;
            assert!(
                refused.is_err(),
                "{}: the foreign key is not enforced, the test proves nothing",
                d.name()
            );

            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join("fk.toml"),
                format!(
                    "name = \"fk-sync\"\n[targets]\nmain = \"${{env:FK_SOURCE}}\"\nlocal = \"${{env:FK_TARGET}}\"\n\n\
                     [[phases]]\nid = \"sync\"\n  [[phases.steps]]\n  id = \"sync-all\"\n  kind = \"sync\"\n  \
                     source = \"main\"\n  target = \"local\"\n  tables = [\"{}\", \"{}\"]{batch}\n",
                    order[0], order[1]
                ),
            )
            .unwrap();
            let env = [
                ("FK_SOURCE", src.url.as_str()),
                ("FK_TARGET", dst.url.as_str()),
            ];
            let out = support::cutover_env(dir.path(), &["run", "fk.toml", "--headless"], &env);
            let all = out.all();
            assert_eq!(out.code, 0, "{} {order:?}{batch}: {all}", d.name());
            assert!(
                all.contains("2 table(s) synced to local: 2 inserted, 2 updated, 2 deleted"),
                "{} {order:?}{batch}: {all}",
                d.name()
            );
            assert_eq!(
                rows(&t, "SELECT id, name FROM parents ORDER BY id").await,
                ["2|keep", "3|new"],
                "{} {order:?}{batch}",
                d.name()
            );
            assert_eq!(
                rows(&t, "SELECT id, parent_id FROM children ORDER BY id").await,
                ["10|3", "11|2", "12|2", "13|3"],
                "{} {order:?}{batch}",
                d.name()
            );

            // the log names the order written, parents first, whatever was listed
            let log = std::fs::read_to_string(dir.path().join(".cutover/cutover.log"))
                .unwrap_or_default();
            assert!(
                log.contains(
                    "written in foreign-key order: parents, children (deletes in reverse)"
                ),
                "{} {order:?}{batch}: {log}",
                d.name()
            );
        }
    }
}
