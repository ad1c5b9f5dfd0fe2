//! A whole-database restore into a database that gained objects after the backup (a
//! view, a foreign key, a function, a trigger, a policy): without `--drop-extra` it
//! refuses, naming each, and touches nothing; with it those go first and the database
//! ends with the backup's schema and data (compared with a twin never changed).

use crate::backup_roundtrip::{exec, run, scalar};
use cutover::testkit::{self, TestDb};
use std::path::Path;

fn assert_same(dir: &Path, twin: &TestDb, restored: &TestDb, tables: &[&str]) {
    let o = run(
        dir,
        &[
            "diff",
            "schema",
            "--source",
            &twin.url,
            "--target",
            &restored.url,
        ],
    );
    assert_eq!(o.code, 0, "schema differs from the backup's:\n{}", o.all());
    for t in tables {
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
                t,
            ],
        );
        assert_eq!(o.code, 0, "data of {t} differs:\n{}", o.all());
    }
}

async fn refused_then_dropped(
    work: &TestDb,
    twin: &TestDb,
    fixture: &str,
    after: &str,
    named: &[&str],
    gone: &[&str],
) {
    let (w, t) = (work.connect().await, twin.connect().await);
    exec(&w, fixture).await;
    exec(&t, fixture).await;
    t.close().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = run(dir, &["backup", "--target", &work.url, "--out", "bk"]);
    assert_eq!(o.code, 0, "backup failed:\n{}", o.all());
    exec(&w, after).await;

    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &work.url, &[]);
    assert_eq!(o.code, 2, "{}", o.all());
    for n in named {
        assert!(o.stderr.contains(n), "{n} not named:\n{}", o.stderr);
    }
    assert!(
        o.stderr.contains("nothing was restored or dropped") && o.stderr.contains("--drop-extra"),
        "{}",
        o.stderr
    );
    assert_eq!(
        scalar(&w, "SELECT count(*) FROM orders WHERE amount = 0").await,
        "1",
        "the refused restore touched the target"
    );
    assert_eq!(scalar(&w, "SELECT count(*) FROM big_orders").await, "1");

    let o = crate::backup_roundtrip::restore_yes(dir, "bk", &work.url, &["--drop-extra"]);
    assert_eq!(o.code, 0, "restore with --drop-extra failed:\n{}", o.all());
    assert!(
        o.stdout
            .contains("object(s) not in the backup dropped before the load")
            && o.stdout.contains("2 of 2 table(s) proven equal"),
        "{}",
        o.stdout
    );
    for q in gone {
        assert_eq!(
            scalar(&w, q).await,
            "0",
            "still there after the restore: {q}"
        );
    }
    w.close().await;
    assert_same(dir, twin, work, &["customers", "orders"]);
}

#[tokio::test]
async fn postgres_restore_names_objects_created_after_the_backup_and_drops_them_when_asked() {
    let (Some(work), Some(twin)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    refused_then_dropped(
        &work,
        &twin,
        "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);
         CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2));
         INSERT INTO customers VALUES (1, 'a@example.com'), (2, 'b@example.com');
         INSERT INTO orders VALUES (1, 1, 12.50), (2, 2, 3.00), (3, NULL, 40.00);",
        // what a migration would add: each of these makes pg_restore --clean refuse
        // (the view and the policy need customers and orders) or survives it (the function)
        "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 10;
         ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
         CREATE FUNCTION lower_email() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
         CREATE TRIGGER customers_lower_email BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION lower_email();
         ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own_orders ON orders USING (customer_id IN (SELECT id FROM customers));
         UPDATE orders SET amount = 0 WHERE id = 1;",
        &[
            "view public.big_orders",
            "foreign key orders_customer_fk on public.orders (to public.customers)",
            "function public.lower_email()",
            "trigger customers_lower_email on public.customers",
            "policy own_orders on public.orders",
        ],
        &[
            "SELECT count(*) FROM pg_proc WHERE proname = 'lower_email'",
            "SELECT count(*) FROM pg_class WHERE relname = 'big_orders'",
            "SELECT count(*) FROM pg_policy",
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'",
        ],
    )
    .await;
}

#[tokio::test]
async fn mariadb_restore_names_objects_created_after_the_backup_and_drops_them_when_asked() {
    let (Some(work), Some(twin)) = (testkit::mysql().await, testkit::mysql().await) else {
        return;
    };
    refused_then_dropped(
        &work,
        &twin,
        "CREATE TABLE customers (id int PRIMARY KEY, email varchar(100) NOT NULL);
         CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount decimal(10,2));
         INSERT INTO customers VALUES (1, 'a@example.com'), (2, 'b@example.com');
         INSERT INTO orders VALUES (1, 1, 12.50), (2, 2, 3.00), (3, NULL, 40.00);",
        // the dump drops and recreates its own tables, views and routines only: these survive
        "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 10;
         ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
         CREATE FUNCTION lower_email(e varchar(100)) RETURNS varchar(100) DETERMINISTIC RETURN lower(e);
         CREATE TRIGGER customers_lower_email BEFORE INSERT ON customers FOR EACH ROW SET NEW.email = lower_email(NEW.email);
         CREATE PROCEDURE refund(o int) UPDATE orders SET amount = 0 WHERE id = o;
         UPDATE orders SET amount = 0 WHERE id = 1;",
        &[
            "view big_orders",
            "foreign key orders_customer_fk on orders (to customers)",
            "function lower_email",
            "trigger customers_lower_email on customers",
            "procedure refund",
        ],
        &[
            "SELECT count(*) FROM information_schema.routines WHERE routine_schema = DATABASE()",
            "SELECT count(*) FROM information_schema.views WHERE table_schema = DATABASE()",
            "SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()",
            "SELECT count(*) FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE()",
        ],
    )
    .await;
}
