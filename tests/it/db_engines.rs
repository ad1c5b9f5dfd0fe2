//! The database layer against real engines: values decode the same everywhere,
//! a failing statement rolls back the whole transaction and names its line.

use cutover::db::{Value, split_statements};
use cutover::testkit;

#[tokio::test]
async fn values_round_trip_and_failed_transactions_leave_nothing() {
    for t in testkit::all_engines().await {
        let db = t.connect().await;
        let d = db.dialect();
        let tbl = d.quote_ident("Mixed Case");
        db.execute(&format!(
            "CREATE TABLE {tbl} (id INT PRIMARY KEY, amount DECIMAL(12,2), note VARCHAR(20))"
        ))
        .await
        .unwrap();
        db.execute(&format!(
            "INSERT INTO {tbl} VALUES (1, 1.50, 'a'), (2, NULL, '')"
        ))
        .await
        .unwrap();
        let rows = db
            .query(
                &format!("SELECT id, amount, note FROM {tbl} ORDER BY id"),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.rows.len(), 2, "{:?}", d);
        assert!(
            rows.rows[0][1].loosely_equals(&Value::Text("1.5".into())),
            "{d:?}: {:?}",
            rows.rows[0][1]
        );
        assert_eq!(rows.rows[1][1], Value::Null);
        assert_eq!(
            rows.rows[1][2],
            Value::Text(String::new()),
            "NULL is not ''"
        );

        let script = format!(
            "INSERT INTO {tbl} VALUES (3, 3, 'c');\n\nINSERT INTO no_such_table VALUES (1);"
        );
        let err = db
            .execute_in_transaction(&split_statements(&script))
            .await
            .unwrap_err();
        assert_eq!(err.index, 1);
        assert_eq!(err.line, 3);
        assert!(
            err.message.to_lowercase().contains("no_such_table"),
            "{}",
            err.message
        );
        let n = db
            .query(&format!("SELECT count(*) FROM {tbl}"), &[])
            .await
            .unwrap();
        assert_eq!(
            n.scalar().and_then(Value::as_i64),
            Some(2),
            "{d:?}: the first insert must be rolled back"
        );

        let p = db
            .query(
                &format!("SELECT note FROM {tbl} WHERE id = {}", d.placeholder(1)),
                &[Value::Int(1)],
            )
            .await
            .unwrap();
        assert_eq!(p.scalar(), Some(&Value::Text("a".into())));
    }
}
