//! `cutover backup` / `cutover restore` round trips on real servers: back up, damage
//! the database (drop a table, change rows, move a sequence), restore, and show with
//! the data diff and the catalog that everything came back.

use crate::support;
use cutover::db::Db;
use cutover::testkit::{self, TestDb};
use std::path::Path;

pub(crate) async fn exec(db: &Db, sql: &str) {
    for s in cutover::db::split_statements(sql) {
        db.execute(&s.sql)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", s.sql));
    }
}

pub(crate) async fn scalar(db: &Db, sql: &str) -> String {
    db.query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .scalar()
        .map(|v| v.to_string())
        .unwrap_or_default()
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> support::Out {
    support::cutover(dir, args)
}

/// `cutover restore --from FROM --target URL --yes` and `extra` arguments, in `dir`.
/// The restore in `o` succeeded and proved all `n` of its tables equal to the backup.
pub(crate) fn assert_proven(o: &support::Out, n: usize) {
    assert_eq!(o.code, 0, "{}", o.all());
    let proven = format!("{n} of {n} table(s) proven equal to the backup");
    assert!(o.stdout.contains(&proven), "{}", o.stdout);
}

pub(crate) fn restore_yes(dir: &Path, from: &str, url: &str, extra: &[&str]) -> support::Out {
    let mut args = vec!["restore", "--from", from, "--target", url, "--yes"];
    args.extend_from_slice(extra);
    support::cutover(dir, &args)
}

/// The data diff of one table between the untouched twin and the restored database.
fn assert_diff_equal(dir: &Path, twin: &TestDb, restored: &TestDb, table: &str) {
    let o = run(
        dir,
        &[
            "diff",
            "data",
            "--source",
            &twin.url,
            "--target",
            &restored.url,
            "--table",
            table,
        ],
    );
    assert_eq!(
        o.code,
        0,
        "data diff of {table} after restore is not equal:\n{}",
        o.all()
    );
}

const PG_FIXTURE: &str = r#"
CREATE TABLE items (id serial PRIMARY KEY, price numeric(12,4), qty int, at_local timestamp(6),
  at_zone timestamptz, note text, blob bytea, doc jsonb, tags text[], owner text DEFAULT 'app');
CREATE TABLE audit (id bigserial PRIMARY KEY, item int, what text);
CREATE FUNCTION log_item() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO audit (item, what) VALUES (NEW.id, 'insert'); RETURN NEW; END $$;
CREATE TRIGGER items_log AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION log_item();
CREATE VIEW expensive AS SELECT id, price FROM items WHERE price > 10;
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON items USING (owner = current_user);
INSERT INTO items (price, qty, at_local, at_zone, note, blob, doc, tags) VALUES
  (12.5000, 3, '2024-02-29 23:59:59.123456', '2024-02-29 23:59:59.654321+05:30', 'ñandú 漢字 🚀', '\x00ff10', '{"a": [1, 2.50, null]}', ARRAY['x', 'ü', NULL]),
  (0.0001, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (99999999.9999, -7, '1970-01-01 00:00:00', '1999-12-31 23:00:00-08', '', '\x', '[]', '{}');
"#;

const MYSQL_FIXTURE: &str = r#"
CREATE TABLE items (id int AUTO_INCREMENT PRIMARY KEY, price decimal(12,4), qty int,
  at_local datetime(6), at_zone timestamp(6) NULL, note varchar(100) CHARACTER SET utf8mb4,
  blob_col varbinary(100), doc json, ratio double);
CREATE TABLE audit (id bigint AUTO_INCREMENT PRIMARY KEY, item int, what varchar(20));
CREATE TRIGGER items_log AFTER INSERT ON items FOR EACH ROW INSERT INTO audit (item, what) VALUES (NEW.id, 'insert');
CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2;
CREATE VIEW expensive AS SELECT id, price FROM items WHERE price > 10;
INSERT INTO items (price, qty, at_local, at_zone, note, blob_col, doc, ratio) VALUES
  (12.5000, 3, '2024-02-29 23:59:59.123456', '2024-02-29 18:29:59.654321', 'ñandú 漢字 🚀', 0x00ff10, '{"a": [1, 2.50, null]}', 0.1),
  (0.0001, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (99999999.9999, -7, '1970-01-01 00:00:00', '1999-12-31 23:00:00', '', '', '[]', -1.5e300);
"#;

const SQLITE_FIXTURE: &str = r#"
CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, price NUMERIC, qty INTEGER,
  at_local TEXT, note TEXT, blob BLOB, doc TEXT, ratio REAL);
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, item INTEGER, what TEXT);
CREATE TRIGGER items_log AFTER INSERT ON items BEGIN INSERT INTO audit (item, what) VALUES (NEW.id, 'insert'); END;
CREATE VIEW expensive AS SELECT id, price FROM items WHERE price > 10;
INSERT INTO items (price, qty, at_local, note, blob, doc, ratio) VALUES
  (12.5, 3, '2024-02-29 23:59:59.123456', 'ñandú 漢字 🚀', X'00ff10', '{"a": [1, 2.50, null]}', 0.1),
  (0.0001, NULL, NULL, NULL, NULL, NULL, NULL),
  (99999999.9999, -7, '1970-01-01 00:00:00', '', X'', '[]', -1.5e300);
"#;

/// Backup → drop `audit`, change rows of `items`, move its sequence → restore → equal.
async fn round_trip(work: &TestDb, twin: &TestDb, fixture: &str, damage: &str, sequence_sql: &str) {
    let (w, t) = (work.connect().await, twin.connect().await);
    exec(&w, fixture).await;
    exec(&t, fixture).await;
    let seq_before = scalar(&w, sequence_sql).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let o = run(dir, &["backup", "--target", &work.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "backup failed:\n{}", o.all());
    assert!(dir.join("bk/COMPLETE").exists() && dir.join("bk/manifest.json").exists());

    exec(&w, damage).await;
    w.close().await;
    assert_ne!(
        scalar(&work.connect().await, sequence_sql).await,
        seq_before
    );

    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &work.url, &[]);
    assert_eq!(o.code, 0, "restore failed:\n{}", o.all());
    assert!(
        o.stdout
            .contains("2 of 2 table(s) proven equal to the backup"),
        "the restore must prove each table:\n{}",
        o.stdout
    );
    for table in ["items", "audit"] {
        assert_diff_equal(dir, twin, work, table);
    }
    let w = work.connect().await;
    assert_eq!(
        scalar(&w, sequence_sql).await,
        seq_before,
        "sequence not restored"
    );
    assert_eq!(
        scalar(&w, "SELECT count(*) FROM expensive").await,
        "2",
        "view"
    );
    w.close().await;
    t.close().await;
}

#[tokio::test]
async fn postgres_round_trip_restores_rows_sequences_view_function_trigger_policy_grants_and_extension()
 {
    let (Some(work), Some(twin)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let url = work.url.clone();
    // a role of this test's own (roles are the server's, not the database's), granted
    // SELECT on items, and an extension: both are in the backup and must come back
    let role = format!("{}_reader", work.name);
    let admin = work.connect().await;
    exec(&admin, &format!("CREATE ROLE \"{role}\" NOLOGIN")).await;
    admin.close().await;
    let fixture =
        format!("{PG_FIXTURE}\nGRANT SELECT ON items TO \"{role}\";\nCREATE EXTENSION pg_trgm;");
    round_trip(
        &work,
        &twin,
        &fixture,
        &format!("DROP TABLE audit CASCADE; UPDATE items SET price = price + 1, note = 'changed' WHERE id <= 2;
         SELECT setval('items_id_seq', 9999); DROP POLICY own_rows ON items; DROP VIEW expensive;
         REVOKE SELECT ON items FROM \"{role}\"; DROP EXTENSION pg_trgm;"),
        "SELECT last_value FROM items_id_seq",
    )
    .await;
    let w = cutover::db::connect(&url).await.unwrap();
    assert_eq!(
        scalar(
            &w,
            &format!("SELECT has_table_privilege('{role}', 'items', 'SELECT')::text")
        )
        .await,
        "true",
        "the grant came back"
    );
    assert_eq!(
        scalar(&w, "SELECT (similarity('cutover', 'cutovers') > 0.5)::text").await,
        "true",
        "the extension came back and works"
    );
    // the role goes once nothing in either database refers to it
    exec(&w, &format!("DROP OWNED BY \"{role}\"")).await;
    let t = twin.connect().await;
    exec(&t, &format!("DROP OWNED BY \"{role}\"")).await;
    t.close().await;
    exec(&w, &format!("DROP ROLE \"{role}\"")).await;
    assert_eq!(
        scalar(
            &w,
            "SELECT count(*) FROM pg_policies WHERE policyname = 'own_rows'"
        )
        .await,
        "1"
    );
    assert_eq!(
        scalar(
            &w,
            "SELECT relrowsecurity::text FROM pg_class WHERE relname = 'items'"
        )
        .await,
        "true"
    );
    // the function and trigger came back and work: an insert is audited
    exec(&w, "INSERT INTO items (price) VALUES (1)").await;
    assert_eq!(scalar(&w, "SELECT count(*) FROM audit").await, "4");
    assert_eq!(
        scalar(&w, "SELECT max(id) FROM items").await,
        "4",
        "the sequence continues after the backup's value"
    );
    w.close().await;
}

#[tokio::test]
async fn mariadb_round_trip_restores_rows_auto_increment_view_function_and_trigger() {
    let (Some(work), Some(twin)) = (testkit::mysql().await, testkit::mysql().await) else {
        return;
    };
    let url = work.url.clone();
    let name = work.name.clone();
    round_trip(
        &work,
        &twin,
        MYSQL_FIXTURE,
        "DROP TABLE audit; UPDATE items SET price = price + 1, note = 'changed' WHERE id <= 2;
         ALTER TABLE items AUTO_INCREMENT = 9999; DROP VIEW expensive; DROP FUNCTION twice;",
        &format!(
            "SELECT CAST(auto_increment AS CHAR) FROM information_schema.tables WHERE table_schema = '{name}' AND table_name = 'items'"
        ),
    )
    .await;
    let w = cutover::db::connect(&url).await.unwrap();
    assert_eq!(scalar(&w, "SELECT twice(21)").await, "42", "function");
    exec(&w, "INSERT INTO items (price) VALUES (1)").await;
    assert_eq!(
        scalar(&w, "SELECT count(*) FROM audit").await,
        "4",
        "trigger"
    );
    assert_eq!(
        scalar(&w, "SELECT max(id) FROM items").await,
        "4",
        "AUTO_INCREMENT continues after the backup's value"
    );
    w.close().await;
}

#[tokio::test]
async fn sqlite_round_trip_restores_rows_autoincrement_view_and_trigger() {
    let (work, twin) = (testkit::sqlite().await, testkit::sqlite().await);
    let url = work.url.clone();
    round_trip(
        &work,
        &twin,
        SQLITE_FIXTURE,
        "DROP TABLE audit; UPDATE items SET price = price + 1, note = 'changed' WHERE id <= 2;
         UPDATE sqlite_sequence SET seq = 9999 WHERE name = 'items'; DROP VIEW expensive;",
        "SELECT seq FROM sqlite_sequence WHERE name = 'items'",
    )
    .await;
    let w = cutover::db::connect(&url).await.unwrap();
    exec(&w, "INSERT INTO items (price) VALUES (1)").await;
    assert_eq!(
        scalar(&w, "SELECT count(*) FROM audit").await,
        "4",
        "trigger"
    );
    assert_eq!(scalar(&w, "SELECT max(id) FROM items").await, "4");
    w.close().await;
}

#[tokio::test]
async fn postgres_table_backup_uses_binary_copy_and_restores_a_dropped_table_with_its_sequence() {
    let Some(work) = testkit::postgres().await else {
        return;
    };
    let w = work.connect().await;
    exec(&w, PG_FIXTURE).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = run(
        dir,
        &[
            "backup", "--target", &work.url, "--out", "bk", "--tables", "items",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.all());
    let manifest = std::fs::read_to_string(dir.join("bk/manifest.json")).unwrap();
    assert!(manifest.contains("COPY (FORMAT binary)"), "{manifest}");
    assert!(
        !manifest.contains("public.audit"),
        "only the table asked for: {manifest}"
    );
    exec(&w, "DROP TABLE items CASCADE; CREATE TABLE keep_me (x int)").await;
    w.close().await;
    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &work.url, &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout.contains("✓ public.items: 3 rows (backup 3)"),
        "{}",
        o.stdout
    );
    let w = work.connect().await;
    assert_eq!(scalar(&w, "SELECT last_value FROM items_id_seq").await, "3");
    assert_eq!(
        scalar(&w, "SELECT count(*) FROM keep_me").await,
        "0",
        "other tables untouched"
    );
    w.close().await;
}

/// A runbook's backup and restore steps on a server target (the way a billing
/// deployment on MariaDB starts): the plan names the tool, the backup lives under the
/// run and step, and the rollback's restore proves each table.
async fn runbook_backup_then_rollback(db: &TestDb, tool: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = db.connect().await;
    exec(&d, "CREATE TABLE invoices (id INT PRIMARY KEY, amount DECIMAL(10,2)); INSERT INTO invoices VALUES (1, 10.00), (2, 1.50);").await;
    let rb = format!(
        "name = \"billing\"\n[targets]\napp = \"{}\"\n\n[[phases]]\nid = \"p\"\n\
  [[phases.steps]]\n  id = \"backup-app\"\n  kind = \"backup\"\n  target = \"app\"\n\n\
  [[phases.steps]]\n  id = \"change\"\n  kind = \"sql\"\n  target = \"app\"\n  sql = \"UPDATE invoices SET amount = 0\"\n\n\
[[rollback]]\nid = \"full-restore\"\n  [[rollback.steps]]\n  id = \"restore-app\"\n  kind = \"restore\"\n  target = \"app\"\n  from = \"backup-app\"\n",
        db.url
    );
    std::fs::write(dir.join("rb.toml"), rb).unwrap();
    let v = run(dir, &["validate", "rb.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stdout.contains(tool),
        "the plan names the dump tool: {}",
        v.stdout
    );
    let o = run(dir, &["run", "rb.toml", "--headless"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("→ .cutover/backups/"), "{}", o.stdout);
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM invoices WHERE amount = 0").await,
        "2"
    );
    let o = run(
        dir,
        &["rollback", "rb.toml", "--phase", "full-restore", "--yes"],
    );
    crate::backup_roundtrip::assert_proven(&o, 1);
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM invoices WHERE amount = 0").await,
        "0"
    );
    d.close().await;
}

#[tokio::test]
async fn mariadb_runbook_backup_step_and_restore_rollback() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    runbook_backup_then_rollback(&db, "mariadb-dump").await;
}

#[tokio::test]
async fn postgres_runbook_backup_step_and_restore_rollback() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    runbook_backup_then_rollback(&db, "pg_dump -Fc").await;
}
