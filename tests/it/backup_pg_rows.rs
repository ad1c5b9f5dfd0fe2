//! A whole PostgreSQL backup holds its plain tables' rows by binary `COPY`, one file a
//! table listed in `rows.json`, and pg_dump's archive everything else; the restore
//! runs pg_restore's script and loads those files in one transaction.

use crate::backup_md5_manifest::{reseal, reseal_file};
use crate::backup_roundtrip::{exec, restore_yes, run, scalar};
use cutover::testkit;

/// Tables of every shape the rows list must get right, with a trigger that must not
/// fire on restored rows and a large object that stays in the archive.
const FIXTURE: &str = "
CREATE TYPE pair AS (a int, b text);
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE parent (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE child (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, parent_id int NOT NULL REFERENCES parent(id),
    qty int NOT NULL, doubled int GENERATED ALWAYS AS (qty * 2) STORED, tags text[], m mood, at timestamptz, amount numeric(12,3), blob bytea);
CREATE TABLE composite (id int PRIMARY KEY, p pair);
CREATE TABLE grants (id int PRIMARY KEY, acl aclitem[]);
CREATE TABLE measure (id int, at date NOT NULL, v float8) PARTITION BY RANGE (at);
CREATE TABLE measure_2024 PARTITION OF measure FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measure_2025 PARTITION OF measure FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE base (id int, note text);
CREATE TABLE derived (extra int) INHERITS (base);
CREATE TABLE audit (n int);
CREATE FUNCTION count_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES (1); RETURN NEW; END $$;
CREATE TRIGGER on_child BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION count_insert();
INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 50) g;
INSERT INTO child (parent_id, qty, tags, m, at, amount, blob)
    SELECT 1 + g % 50, g, ARRAY['a' || g, NULL, 'ü'], (ARRAY['sad','ok','happy']::mood[])[1 + g % 3],
           '2024-05-01 10:00:00+02'::timestamptz + g * interval '1 minute', g / 7.0, decode(md5(g::text), 'hex')
    FROM generate_series(1, 2000) g;
INSERT INTO composite VALUES (1, ROW(1, 'x;y')), (2, NULL);
INSERT INTO grants VALUES (1, '{postgres=arwdDxt/postgres}'), (2, NULL);
INSERT INTO measure SELECT g, date '2024-06-01' + g * 2, g * 0.5 FROM generate_series(1, 200) g;
INSERT INTO base VALUES (1, 'base only');
INSERT INTO derived VALUES (2, 'derived', 7);
SELECT lo_from_bytea(4242, 'large object bytes');
CREATE MATERIALIZED VIEW child_count AS SELECT count(*) AS n FROM child;
";

/// Every table's rows as one text, in a fixed order (generated and identity values
/// included).
const STATE: &str = "SELECT md5(concat_ws('|',
    (SELECT string_agg(t::text, ',' ORDER BY id) FROM parent t),
    (SELECT string_agg(t::text, ',' ORDER BY id) FROM child t),
    (SELECT string_agg(t::text, ',' ORDER BY id) FROM composite t),
    (SELECT string_agg(t::text, ',' ORDER BY id) FROM grants t),
    (SELECT string_agg(t::text, ',' ORDER BY id) FROM measure t),
    (SELECT string_agg(t::text, ',' ORDER BY id) FROM ONLY base t),
    (SELECT string_agg(t::text, ',' ORDER BY id) FROM derived t),
    (SELECT count(*)::text FROM audit),
    (SELECT n::text FROM child_count),
    (SELECT last_value::text FROM child_id_seq),
    (SELECT encode(lo_get(4242), 'escape'))))";

/// A PostgreSQL test database set up with `sql` and backed up into `bk` of a new
/// temporary directory: the database, the directory and a connection.
async fn backed_up(sql: &str) -> Option<(testkit::TestDb, tempfile::TempDir, cutover::db::Db)> {
    let pg = testkit::postgres().await?;
    let tmp = tempfile::tempdir().unwrap();
    let d = pg.connect().await;
    exec(&d, sql).await;
    let o = run(tmp.path(), &["backup", "--target", &pg.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "{}", o.all());
    Some((pg, tmp, d))
}

fn rows_list(dir: &std::path::Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("bk/rows.json")).unwrap()).unwrap();
    v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t["schema"].as_str().unwrap(),
                t["table"].as_str().unwrap()
            )
        })
        .collect()
}

/// The rows list holds the plain tables (partitions, an inheritance parent and its
/// child, generated and identity columns, enums and arrays), not those of a composite
/// type or of `aclitem` (which has no binary form); after the database is damaged, the restore brings back every row,
/// the large object and the sequence, and the trigger did not fire on restored rows.
#[tokio::test]
async fn plain_tables_rows_go_by_binary_copy_and_everything_comes_back() {
    let Some((pg, tmp, d)) = backed_up(FIXTURE).await else {
        return;
    };
    let dir = tmp.path();
    let before = scalar(&d, STATE).await;
    assert_eq!(scalar(&d, "SELECT count(*) FROM audit").await, "2000");
    assert_eq!(
        rows_list(dir),
        [
            "public.audit",
            "public.base",
            "public.child",
            "public.derived",
            "public.measure_2024",
            "public.measure_2025",
            "public.parent"
        ]
    );
    let child: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("bk/rows.json")).unwrap()).unwrap();
    let cols = &child["tables"].as_array().unwrap()[2]["columns"];
    assert!(
        !cols.as_array().unwrap().iter().any(|c| c == "doubled"),
        "a generated column is not in the file: {cols}"
    );

    exec(
        &d,
        "UPDATE child SET qty = qty + 1 WHERE id % 3 = 0; DELETE FROM parent WHERE id > 40 AND id NOT IN (SELECT parent_id FROM child);
         DROP TABLE composite; DELETE FROM grants; DELETE FROM measure WHERE id < 100; DELETE FROM ONLY base; UPDATE derived SET note = 'changed';
         SELECT lo_unlink(4242); SELECT setval('child_id_seq', 99999); INSERT INTO audit VALUES (9);
         DELETE FROM child WHERE id > 1500; REFRESH MATERIALIZED VIEW child_count;",
    )
    .await;
    let o = restore_yes(dir, "bk", &pg.url, &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("COPY public.child FROM rows-2.copy.zst (FORMAT binary)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("8 of 8 table(s) proven equal to the backup"),
        "{}",
        o.stdout
    );
    assert_eq!(scalar(&d, STATE).await, before);
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM audit").await,
        "2000",
        "the trigger fired on restored rows"
    );
    assert_eq!(
        scalar(&d, "SELECT n FROM child_count").await,
        "2000",
        "the materialized view is refreshed from the restored rows"
    );
    d.close().await;
}

/// A backup from before the rows files (every row in `database.dump.zst`, no
/// `rows.json`) still restores, through pg_restore as it always was.
#[tokio::test]
async fn a_backup_without_rows_files_restores_through_pg_restore() {
    let Some((pg, tmp, d)) = backed_up("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g;").await else {
        return;
    };
    let dir = tmp.path();
    // as the previous release wrote it: pg_dump's whole archive, zstd-compressed
    let bk = dir.join("bk");
    let dump = std::process::Command::new("pg_dump")
        .arg(format!("--dbname={}", pg.url))
        .args(["-Fc", "-Z0"])
        .output()
        .unwrap();
    assert!(dump.status.success());
    std::fs::write(
        bk.join("database.dump.zst"),
        zstd::encode_all(&dump.stdout[..], 1).unwrap(),
    )
    .unwrap();
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bk.join("manifest.json")).unwrap()).unwrap();
    let files = m["files"].as_object_mut().unwrap();
    files.retain(|f, _| !f.starts_with("rows"));
    reseal(&bk, &m);
    for f in ["rows.json", "rows-0.copy.zst"] {
        std::fs::remove_file(bk.join(f)).unwrap();
    }
    reseal_file(&bk, "database.dump.zst");
    exec(&d, "DELETE FROM t WHERE id > 100; UPDATE t SET v = 'x';").await;
    let o = restore_yes(dir, "bk", &pg.url, &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout.contains(
            "zstd -d database.dump.zst | pg_restore --clean --if-exists --single-transaction"
        ) && !o.stdout.contains("FORMAT binary"),
        "{}",
        o.stdout
    );
    assert_eq!(
        scalar(&d, "SELECT count(*) || '/' || min(v) FROM t").await,
        "500/v1"
    );
    d.close().await;
}

/// A rows file whose content is wrong but whose checksum was (wrongly) re-recorded:
/// its COPY fails inside the restore's one transaction, the error names the file and
/// the table, and the database is exactly as it was before the restore.
#[tokio::test]
async fn a_rows_file_that_fails_to_load_leaves_the_database_untouched() {
    let Some((pg, tmp, d)) = backed_up(FIXTURE).await else {
        return;
    };
    let dir = tmp.path();
    // parent's file given child's rows (other columns): COPY refuses them
    let bk = dir.join("bk");
    let list = rows_list(dir);
    let (parent, child) = (
        list.iter().position(|t| t == "public.parent").unwrap(),
        list.iter().position(|t| t == "public.child").unwrap(),
    );
    let (pf, cf) = (
        format!("rows-{parent}.copy.zst"),
        format!("rows-{child}.copy.zst"),
    );
    std::fs::copy(bk.join(&cf), bk.join(&pf)).unwrap();
    reseal_file(&bk, &pf);

    exec(
        &d,
        "UPDATE parent SET name = 'changed' WHERE id = 1; DROP TABLE composite;",
    )
    .await;
    let state = scalar(
        &d,
        "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM parent t",
    )
    .await;
    let o = restore_yes(dir, "bk", &pg.url, &[]);
    assert_ne!(o.code, 0, "{}", o.all());
    assert!(
        o.stderr
            .contains(&format!("{pf}: the rows of public.parent")),
        "{}",
        o.stderr
    );
    assert_eq!(
        scalar(
            &d,
            "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM parent t"
        )
        .await,
        state
    );
    assert_eq!(
        scalar(
            &d,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'composite'"
        )
        .await,
        "0",
        "the restore's creations were rolled back"
    );
    d.close().await;
}

/// A rows list re-sealed to name a file outside the backup (a forged backup reading
/// another file into a table): refused by name, nothing touched.
#[tokio::test]
async fn a_rows_list_naming_a_file_the_manifest_lacks_is_refused() {
    let Some((pg, tmp, d)) =
        backed_up("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);").await
    else {
        return;
    };
    let dir = tmp.path();
    let bk = dir.join("bk");
    let text = std::fs::read_to_string(bk.join("rows.json"))
        .unwrap()
        .replace("rows-0.copy.zst", "../outside.copy.zst");
    std::fs::write(bk.join("rows.json"), &text).unwrap();
    std::fs::copy(bk.join("rows-0.copy.zst"), dir.join("outside.copy.zst")).unwrap();
    reseal_file(&bk, "rows.json");
    exec(&d, "DELETE FROM t WHERE id = 1").await;
    let o = restore_yes(dir, "bk", &pg.url, &[]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr.contains(
            "names ../outside.copy.zst for the rows of public.t, a file the manifest does not list"
        ),
        "{}",
        o.stderr
    );
    assert_eq!(scalar(&d, "SELECT count(*) FROM t").await, "1");
    d.close().await;
}

/// Names that need quoting (a schema with a space, a table with a dot and a double
/// quote, a column with a capital): the archive leaves exactly that table's rows out
/// and the rows file brings them back once (a table without a key: rows left in the
/// archive too would come back twice and fail the proof).
#[tokio::test]
async fn quoted_names_round_trip_with_their_rows_once() {
    let Some((pg, tmp, d)) = backed_up(
        r#"CREATE SCHEMA "Sch ema";
        CREATE TABLE "Sch ema"."odd ""t"".x" ("Val" int, note text);
        INSERT INTO "Sch ema"."odd ""t"".x" SELECT g, 'n' || g FROM generate_series(1, 300) g;"#,
    )
    .await
    else {
        return;
    };
    let dir = tmp.path();
    assert_eq!(rows_list(dir), ["Sch ema.odd \"t\".x"]);
    exec(
        &d,
        r#"DELETE FROM "Sch ema"."odd ""t"".x" WHERE "Val" > 100"#,
    )
    .await;
    let o = restore_yes(dir, "bk", &pg.url, &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(
        scalar(
            &d,
            r#"SELECT count(*) || '/' || sum("Val") FROM "Sch ema"."odd ""t"".x""#
        )
        .await,
        "300/45150"
    );
    d.close().await;
}

/// An archive cut short (its checksum wrongly re-recorded) while a table's rows are in
/// it (a composite column keeps them there): pg_restore's script stops inside them,
/// the restore gives pg_restore's own error, and the database is as it was.
#[tokio::test]
async fn an_archive_cut_inside_its_rows_fails_with_pg_restores_error_and_touches_nothing() {
    let Some((pg, tmp, d)) = backed_up(
        "CREATE TYPE pair AS (a int, b text);
         CREATE TABLE c (id int PRIMARY KEY, p pair);
         INSERT INTO c SELECT g, ROW(g, md5(g::text))::pair FROM generate_series(1, 50000) g;
         CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');",
    )
    .await
    else {
        return;
    };
    let dir = tmp.path();
    assert_eq!(rows_list(dir), ["public.t"]);
    let bk = dir.join("bk");
    let f = bk.join("database.dump.zst");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() * 2 / 3]).unwrap();
    reseal_file(&bk, "database.dump.zst");
    exec(
        &d,
        "UPDATE t SET v = 'changed'; DELETE FROM c WHERE id > 10;",
    )
    .await;
    let o = restore_yes(dir, "bk", &pg.url, &[]);
    assert_ne!(o.code, 0, "{}", o.all());
    assert!(
        o.stderr.contains("pg_restore failed") && o.stderr.contains("nothing was restored"),
        "{}",
        o.stderr
    );
    assert_eq!(scalar(&d, "SELECT v FROM t").await, "changed");
    assert_eq!(scalar(&d, "SELECT count(*) FROM c").await, "10");
    d.close().await;
}
