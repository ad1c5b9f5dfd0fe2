//! Introspection of every object kind on real SQLite, PostgreSQL and MariaDB, and a
//! cross-engine comparison of an equivalent schema that reports equal.

use crate::schema_support::*;
use cutover::schema::{ChangeKind, ObjectKind};
use cutover::testkit;

#[tokio::test]
async fn sqlite_every_object_kind() {
    let t = testkit::sqlite().await;
    let db = t.connect().await;
    run_sql(
        &db,
        r#"
        CREATE TABLE "Accounts" ("Id" INTEGER PRIMARY KEY AUTOINCREMENT, "Email" VARCHAR(200) NOT NULL UNIQUE,
            name TEXT DEFAULT 'anon', balance NUMERIC(12,2) CHECK (balance >= 0),
            CONSTRAINT name_len CHECK (length(name) > 1));
        CREATE TABLE orders (shop INT NOT NULL, no INT NOT NULL, "accountId" INTEGER REFERENCES "Accounts"("Id") ON DELETE CASCADE ON UPDATE SET NULL,
            total NUMERIC(12,2), doubled NUMERIC GENERATED ALWAYS AS (total * 2) STORED, deleted INT NOT NULL DEFAULT 0,
            PRIMARY KEY (shop, no));
        CREATE INDEX orders_live ON orders ("accountId", total DESC) WHERE deleted = 0;
        CREATE INDEX accounts_lower ON "Accounts" (lower("Email"));
        CREATE VIEW "Live Orders" AS SELECT shop, no FROM orders WHERE deleted = 0;
        CREATE TRIGGER orders_touch AFTER INSERT ON orders BEGIN UPDATE orders SET deleted = 0 WHERE shop = NEW.shop; END;
        CREATE TABLE cutover_marks (id INT);
        "#,
    )
    .await;
    let s = introspect(&db).await;
    assert!(s.table("cutover_marks").is_none(), "bookkeeping excluded");
    let acc = s.table("Accounts").expect("mixed-case table");
    let id = acc.column("Id").unwrap();
    assert_eq!(id.identity.as_deref(), Some("autoincrement"));
    let email = acc.column("Email").unwrap();
    assert_eq!(
        (email.nullable, email.normalized_type.as_str()),
        (false, "varchar(200)")
    );
    assert_eq!(
        acc.column("name").unwrap().default.as_deref(),
        Some("'anon'")
    );
    assert_eq!(acc.uniques.len(), 1);
    assert_eq!(acc.uniques[0].columns, vec!["Email"]);
    let checks: Vec<&str> = acc.checks.iter().map(|c| c.expression.as_str()).collect();
    assert!(
        checks.contains(&"balance >= 0") && checks.contains(&"length(name) > 1"),
        "{checks:?}"
    );
    assert!(acc.checks.iter().any(|c| c.name == "name_len"));
    let lower = acc
        .indexes
        .iter()
        .find(|i| i.name == "accounts_lower")
        .unwrap();
    assert_eq!(
        lower.columns[0].expression.as_deref(),
        Some(r#"lower("Email")"#)
    );

    let o = s.table("orders").unwrap();
    assert_eq!(o.primary_key.as_ref().unwrap().columns, vec!["shop", "no"]);
    let fk = &o.foreign_keys[0];
    assert_eq!(
        (
            fk.columns.clone(),
            fk.ref_table.as_str(),
            fk.ref_columns.clone(),
            fk.on_delete.as_str(),
            fk.on_update.as_str()
        ),
        (
            vec!["accountId".to_string()],
            "Accounts",
            vec!["Id".to_string()],
            "CASCADE",
            "SET NULL"
        )
    );
    let g = o.column("doubled").unwrap().generated.as_ref().unwrap();
    assert_eq!((g.expression.as_str(), g.stored), ("total * 2", true));
    let live = o.indexes.iter().find(|i| i.name == "orders_live").unwrap();
    assert_eq!(live.columns.len(), 2);
    assert_eq!(live.columns[0].column.as_deref(), Some("accountId"));
    assert!(live.columns[1].descending);
    assert_eq!(live.predicate.as_deref(), Some("deleted = 0"));
    let v = s.view("Live Orders").unwrap();
    assert_eq!(v.columns, vec!["shop", "no"]);
    assert_eq!(s.triggers[0].name, "orders_touch");
}

#[tokio::test]
async fn postgres_every_object_kind() {
    let Some(t) = testkit::postgres().await else {
        return;
    };
    let db = t.connect().await;
    run_sql(
        &db,
        r#"
        CREATE SCHEMA "Billing";
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE SEQUENCE invoice_no AS integer START 100 INCREMENT 5;
        CREATE TABLE "Accounts" ("Id" serial PRIMARY KEY, "Email" varchar(200) NOT NULL UNIQUE,
            name text DEFAULT 'anon', m mood, balance numeric(12,2) CHECK (balance >= 0),
            big bigint GENERATED ALWAYS AS IDENTITY, created timestamptz DEFAULT now());
        CREATE TABLE "Billing".invoices (shop int, no int, "accountId" int REFERENCES "Accounts"("Id") ON DELETE SET NULL,
            total numeric(12,2), doubled numeric GENERATED ALWAYS AS (total * 2) STORED, deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (shop, no), CONSTRAINT inv_shop_acc UNIQUE (shop, "accountId"));
        CREATE INDEX inv_live ON "Billing".invoices ("accountId", total DESC) WHERE NOT deleted;
        CREATE INDEX acc_lower ON "Accounts" (lower("Email"));
        CREATE VIEW rich AS SELECT "Id" FROM "Accounts" WHERE balance > 100;
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER acc_touch BEFORE UPDATE ON "Accounts" FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE TABLE refinery_schema_history (version int);
        "#,
    )
    .await;
    let s = introspect(&db).await;
    assert_eq!(s.schemas, vec!["Billing"]);
    assert!(s.table("refinery_schema_history").is_none());
    assert_eq!(s.enums[0].labels, vec!["sad", "ok", "happy"]);
    let seq = &s.sequences[0];
    assert_eq!(
        (seq.name.as_str(), seq.start, seq.increment),
        ("invoice_no", 100, 5)
    );
    assert_eq!(
        s.sequences.len(),
        1,
        "serial and identity sequences belong to their columns"
    );
    let acc = s.table("Accounts").unwrap();
    assert_eq!(
        acc.column("Id").unwrap().identity.as_deref(),
        Some("serial")
    );
    assert_eq!(
        acc.column("big").unwrap().identity.as_deref(),
        Some("always")
    );
    assert_eq!(
        acc.column("m").unwrap().normalized_type,
        "enum('sad','ok','happy')"
    );
    assert_eq!(
        acc.column("Email").unwrap().engine_type,
        "character varying(200)"
    );
    assert_eq!(acc.checks[0].expression, "balance >= (0)::numeric");
    let lower = acc.indexes.iter().find(|i| i.name == "acc_lower").unwrap();
    assert!(
        lower.columns[0]
            .expression
            .as_deref()
            .unwrap()
            .contains("lower")
    );
    let inv = s
        .table("Billing.invoices")
        .expect("table in another schema");
    assert_eq!(
        inv.primary_key.as_ref().unwrap().columns,
        vec!["shop", "no"]
    );
    assert_eq!(inv.uniques[0].columns, vec!["shop", "accountId"]);
    let fk = &inv.foreign_keys[0];
    assert_eq!(
        (
            fk.ref_table.as_str(),
            fk.on_delete.as_str(),
            fk.on_update.as_str()
        ),
        ("Accounts", "SET NULL", "NO ACTION")
    );
    let live = &inv.indexes[0];
    assert_eq!(live.columns[0].column.as_deref(), Some("accountId"));
    assert!(live.columns[1].descending);
    assert_eq!(live.predicate.as_deref(), Some("(NOT deleted)"));
    assert!(
        inv.column("doubled")
            .unwrap()
            .generated
            .as_ref()
            .unwrap()
            .stored
    );
    assert_eq!(s.view("rich").unwrap().columns, vec!["Id"]);
    assert_eq!(s.functions[0].name, "touch");
    assert!(s.functions[0].definition.contains("RETURN NEW"));
    assert_eq!(s.triggers[0].name, "acc_touch");
}

#[tokio::test]
async fn mariadb_every_object_kind() {
    let Some(t) = testkit::mysql().await else {
        return;
    };
    let db = t.connect().await;
    run_sql(
        &db,
        r#"
        CREATE TABLE "Accounts" ("Id" int AUTO_INCREMENT PRIMARY KEY, "Email" varchar(200) NOT NULL UNIQUE,
            name varchar(50) DEFAULT 'anon', balance decimal(12,2) CHECK (balance >= 0), doc json, flag boolean DEFAULT true);
        CREATE TABLE orders (shop int NOT NULL, no int NOT NULL, "accountId" int,
            total decimal(12,2), doubled decimal(14,2) AS (total * 2) STORED,
            PRIMARY KEY (shop, no), CONSTRAINT fk_acc FOREIGN KEY ("accountId") REFERENCES "Accounts"("Id") ON DELETE CASCADE);
        CREATE INDEX orders_acc_total ON orders ("accountId", total DESC);
        CREATE VIEW "Big Orders" AS SELECT shop, no FROM orders WHERE total > 100;
        CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = coalesce(NEW.total, 0);
        "#,
    )
    .await;
    let s = introspect(&db).await;
    let acc = s.table("Accounts").unwrap();
    assert_eq!(
        acc.column("Id").unwrap().identity.as_deref(),
        Some("auto_increment")
    );
    assert_eq!(
        acc.column("doc").unwrap().normalized_type,
        "json",
        "MariaDB json is longtext + check"
    );
    assert!(
        acc.checks
            .iter()
            .all(|c| !c.expression.contains("json_valid"))
    );
    assert_eq!(acc.column("flag").unwrap().normalized_type, "bool");
    assert_eq!(
        acc.column("name").unwrap().default.as_deref(),
        Some("'anon'")
    );
    assert_eq!(acc.uniques[0].columns, vec!["Email"]);
    assert_eq!(acc.checks.len(), 1);
    let o = s.table("orders").unwrap();
    assert_eq!(o.primary_key.as_ref().unwrap().columns, vec!["shop", "no"]);
    assert_eq!(o.foreign_keys[0].name, "fk_acc");
    assert_eq!(o.foreign_keys[0].on_delete, "CASCADE");
    let idx = o
        .indexes
        .iter()
        .find(|i| i.name == "orders_acc_total")
        .unwrap();
    assert_eq!(idx.columns.len(), 2);
    assert!(idx.columns[1].descending);
    assert!(
        o.column("doubled")
            .unwrap()
            .generated
            .as_ref()
            .unwrap()
            .stored
    );
    assert_eq!(s.view("Big Orders").unwrap().columns, vec!["shop", "no"]);
    assert_eq!(s.triggers[0].name, "orders_bi");
}

/// The same schema written for PostgreSQL and for MariaDB compares equal, and the
/// diff names the equivalence rules it used.
#[tokio::test]
async fn postgres_and_mariadb_equivalent_schemas_are_equal() {
    let (Some(p), Some(m)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (pg, my) = (p.connect().await, m.connect().await);
    run_sql(
        &pg,
        r#"
        CREATE TYPE tier AS ENUM ('free', 'pro');
        CREATE TABLE "Users" (id serial PRIMARY KEY, "Email" varchar(255) NOT NULL UNIQUE, bio text,
            created timestamptz DEFAULT now(), score numeric(10,2) DEFAULT 0 CHECK (score >= 0),
            active boolean DEFAULT true, data jsonb, born date, t tier, ratio double precision, small smallint);
        CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            user_id int REFERENCES "Users"(id) ON DELETE CASCADE, total numeric(12,2) NOT NULL,
            note varchar(50) DEFAULT 'none', placed timestamp);
        CREATE INDEX orders_user_total ON orders (user_id, total);
        CREATE TABLE tags (order_id bigint NOT NULL REFERENCES orders(id), tag varchar(30) NOT NULL, PRIMARY KEY (order_id, tag));
        CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
        "#,
    )
    .await;
    run_sql(
        &my,
        r#"
        CREATE TABLE "Users" (id int AUTO_INCREMENT PRIMARY KEY, "Email" varchar(255) NOT NULL UNIQUE, bio text,
            created timestamp NULL DEFAULT current_timestamp(), score decimal(10,2) DEFAULT 0.00 CHECK (score >= 0),
            active boolean DEFAULT true, data json, born date, t enum('free','pro'), ratio double, small smallint);
        CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, user_id int, total decimal(12,2) NOT NULL,
            note varchar(50) DEFAULT 'none', placed datetime,
            FOREIGN KEY (user_id) REFERENCES "Users"(id) ON DELETE CASCADE);
        CREATE INDEX orders_user_total ON orders (user_id, total);
        CREATE TABLE tags (order_id bigint NOT NULL, tag varchar(30) NOT NULL, PRIMARY KEY (order_id, tag),
            FOREIGN KEY (order_id) REFERENCES orders(id));
        CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
        "#,
    )
    .await;
    for (a, b) in [(&pg, &my), (&my, &pg)] {
        let cmp = compare(a, b).await;
        assert!(
            cmp.diff.is_equal(),
            "{:?} vs {:?}: {:#?}",
            a.dialect(),
            b.dialect(),
            cmp.diff.changes
        );
        for rule in [
            "integer-types",
            "identity",
            "json-types",
            "mysql-bool",
            "enum-types",
            "timestamp-types",
            "defaults",
            "fk-restrict",
            "names-by-definition",
        ] {
            assert!(
                cmp.diff.equivalences.contains_key(rule),
                "rule {rule} not named: {:?}",
                cmp.diff.equivalences
            );
        }
    }

    // a real difference across engines is still found
    run_sql(
        &my,
        r#"ALTER TABLE orders MODIFY note varchar(20) DEFAULT 'none'"#,
    )
    .await;
    let cmp = compare(&pg, &my).await;
    assert_eq!(cmp.diff.changes.len(), 1, "{:#?}", cmp.diff.changes);
    let c = &cmp.diff.changes[0];
    assert_eq!(
        (c.object, c.change, c.field.as_deref(), c.name.as_str()),
        (
            ObjectKind::Column,
            ChangeKind::Changed,
            Some("type"),
            "note"
        )
    );
}

/// SQLite's affinity rule: a PostgreSQL schema and its SQLite spelling compare equal.
#[tokio::test]
async fn postgres_and_sqlite_by_affinity() {
    let Some(p) = testkit::postgres().await else {
        return;
    };
    let l = testkit::sqlite().await;
    let (pg, lite) = (p.connect().await, l.connect().await);
    run_sql(&pg, r#"CREATE TABLE t (id bigint PRIMARY KEY, name varchar(40) NOT NULL, price numeric(8,2), seen boolean, at timestamp, raw bytea)"#).await;
    run_sql(&lite, r#"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(8,2), seen BOOLEAN, at TIMESTAMP, raw BLOB)"#).await;
    let cmp = compare(&pg, &lite).await;
    assert!(cmp.diff.is_equal(), "{:#?}", cmp.diff.changes);
    assert!(cmp.diff.equivalences.contains_key("sqlite-affinity"));
}
