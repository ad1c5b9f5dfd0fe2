//! `runbooks/data-move-postgres/` end to end on PostgreSQL: a local application
//! database copied table by table into a production database that already holds its
//! deploy-time admin account; production backed up first, every table diffed equal,
//! sequences past both sides' keys; then the full-restore rollback puts production
//! back exactly as it was before the move.

use super::examples_billing_mysql::{example_copy, run_script, scalar_at};
use super::support::*;
use cutover::testkit;
use std::path::Path;

const RB: &str = "data-move-postgres.toml";
/// (table, rows in local.sql)
const TABLES: [(&str, u64); 5] = [
    ("users", 5),
    ("customers", 4),
    ("inventory_items", 5),
    ("work_orders", 5),
    ("time_entries", 6),
];

fn diff_table(ws: &Path, source: &str, target: &str, table: &str) -> Out {
    cutover(
        ws,
        &[
            "diff", "data", "--source", source, "--target", target, "--table", table,
        ],
    )
}

fn step<'a>(status: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("step {id} in {status}"))
}

#[tokio::test]
async fn local_data_moves_into_production_keeping_its_admin_then_full_restore_puts_it_back() {
    let Some(local) = testkit::postgres().await else {
        return;
    };
    let Some(prod) = testkit::postgres().await else {
        return;
    };
    let Some(before) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = example_copy("data-move-postgres", tmp.path());
    run_script(&local.url, &dir.join("schema.sql")).await;
    run_script(&local.url, &dir.join("local.sql")).await;
    for db in [&prod, &before] {
        run_script(&db.url, &dir.join("schema.sql")).await;
        run_script(&db.url, &dir.join("production.sql")).await;
    }
    let t_local = format!("local={}", local.url);
    let t_prod = format!("production={}", prod.url);
    let with = |args: &[&str]| {
        let mut v: Vec<&str> = args.to_vec();
        v.extend_from_slice(&["--target", &t_local, "--target", &t_prod]);
        cutover(&dir, &v)
    };

    let v = with(&["validate", RB]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(v.stdout.contains("pg_dump -Fc"), "{}", v.stdout);

    let r = with(&["run", RB, "--headless", "--approve-as", "dana:dba"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("complete."), "{}", r.stdout);
    // The users copy skipped production's admin: its count says rows read, not inserted.
    assert!(
        r.stdout
            .contains("users → users: 5 row(s) read, those already in the destination skipped"),
        "{}",
        r.stdout
    );

    // The evidence: rows copied per table, sequences reset, every diff equal.
    // (`status` reads the ledger; it takes no --target, the runbook's env names do)
    let env = [
        ("LOCAL_DATABASE_URL", local.url.as_str()),
        ("PRODUCTION_DATABASE_URL", prod.url.as_str()),
    ];
    let st = cutover_env(&dir, &["status", RB, "--format", "json"], &env);
    let s: serde_json::Value =
        serde_json::from_str(&st.stdout).unwrap_or_else(|e| panic!("{e}: {}", st.all()));
    assert_eq!(s["status"], "completed", "{}", st.stdout);
    super::golden::assert_golden("data-move-postgres", &prod.url);
    for (step_id, (table, rows)) in [
        "copy-users",
        "copy-customers",
        "copy-inventory",
        "copy-work-orders",
        "copy-time-entries",
    ]
    .into_iter()
    .zip(TABLES)
    {
        let ev = &step(&s, step_id)["evidence"];
        let t = &ev["tables"][0];
        assert_eq!(t["table"], table, "{ev}");
        // (for users this counts the skipped id 1 too: the copy's evidence does not
        // yet say how many rows on_conflict = "skip" skipped; the count below does)
        assert_eq!(t["rows"], rows, "{step_id}: {ev}");
        assert!(
            !t["sequences_reset"].as_array().unwrap().is_empty(),
            "{step_id} reset its sequence: {ev}"
        );
    }
    for id in [
        "users-equal",
        "customers-equal",
        "inventory-equal",
        "work-orders-equal",
        "time-entries-equal",
    ] {
        let d = step(&s, id);
        assert_eq!(d["state"], "done", "{id}: {d}");
        assert_eq!(d["evidence"]["equal"], true, "{id}: {d}");
        assert_eq!(d["evidence"]["summary"]["changed"], 0, "{id}: {d}");
    }
    for id in ["admin-kept-production-password", "sequences-past-keys"] {
        let c = step(&s, id);
        assert_eq!(c["state"], "done", "{id}: {c}");
        assert_eq!(c["evidence"]["passed"], true, "{id}: {c}");
    }
    // The setup row is intact: production's admin with production's password.
    assert_eq!(
        scalar_at(
            &prod.url,
            "SELECT password_hash FROM users WHERE id = 1 AND email = 'admin@pem2services.example'"
        )
        .await,
        "$argon2id$v=19$prod-admin-set-at-deploy"
    );
    // local's id 1 was skipped (on_conflict = "skip"): 4 local users joined the admin
    assert_eq!(
        scalar_at(&prod.url, "SELECT count(*) FROM users").await,
        "5"
    );
    // Every table equal to local, as the CLI's own diff sees it (users: production's
    // admin keeps its own password and created_at, so that is the one difference).
    for (table, _) in TABLES {
        let d = diff_table(&dir, &local.url, &prod.url, table);
        if table == "users" {
            assert_eq!(d.code, 1, "{}", d.all());
            assert!(
                d.stdout.contains("changed 1, unchanged 4")
                    && d.stdout.contains("created_at 1, password_hash 1"),
                "{}",
                d.stdout
            );
        } else {
            assert_eq!(d.code, 0, "{table}:\n{}", d.all());
        }
    }
    // Sequences are past the copied keys: the app's next insert in every table works.
    let db = prod.connect().await;
    for sql in [
        "INSERT INTO users (email, full_name, role, password_hash) VALUES ('new@pem2services.example', 'New Hire', 'technician', 'x')",
        "INSERT INTO customers (name) VALUES ('First production customer')",
        "INSERT INTO inventory_items (sku, descr, unit_cost) VALUES ('NEW-1', 'new item', 1.00)",
        "INSERT INTO work_orders (customer_id) VALUES (1)",
        "INSERT INTO time_entries (work_order_id, user_id, started_at, hours) VALUES (1, 1, now(), 1)",
    ] {
        db.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    db.close().await;
    assert_eq!(
        scalar_at(&prod.url, "SELECT max(id) FROM time_entries").await,
        "7"
    );

    // The way back: the full restore, on demand; production equals its state before
    // the move, table by table (the setup row being the only user).
    let rb = with(&["rollback", RB, "--phase", "full-restore", "--yes"]);
    assert_eq!(rb.code, 0, "{}", rb.all());
    assert!(
        rb.stdout
            .contains("5 of 5 table(s) proven equal to the backup"),
        "{}",
        rb.stdout
    );
    for (table, _) in TABLES {
        let d = diff_table(&dir, &before.url, &prod.url, table);
        assert_eq!(d.code, 0, "{table} as before the move:\n{}", d.all());
    }
    assert_eq!(
        scalar_at(&prod.url, "SELECT count(*) FROM users").await,
        "1"
    );
    // ... and its sequences are back too: the next user is id 2 again.
    assert_eq!(
        scalar_at(&prod.url, "SELECT nextval('users_id_seq')").await,
        "2"
    );
    assert_eq!(cutover_env(&dir, &["audit", "verify", RB], &env).code, 0);
}
