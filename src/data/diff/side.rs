//! One side of the diff: its database, quoted names and native column types, and the
//! buckets cutover computes itself.

use super::*;
use crate::data::sql::{self, NULL_BUCKET};

pub(super) struct Side {
    pub(super) db: Db,
    pub(super) dialect: Dialect,
    pub(super) table: String,
    /// The table name as given (catalog lookups).
    pub(super) table_name: String,
    /// Quoted column names in plan order.
    pub(super) cols: Vec<String>,
    pub(super) natives: Vec<sql::Native>,
    /// What is selected to read each column's values.
    pub(super) selects: Vec<String>,
    /// Does this database compute hashes itself?
    pub(super) server: bool,
    pub(super) is_source: bool,
    /// The SQLite file behind this side, read directly (see `sqlite_local`).
    pub(super) local: Option<std::path::PathBuf>,
    /// The row hash its database computes (set once both sides are known).
    pub(super) hash: sql::RowHash,
}

impl Side {
    pub(super) fn new(db: &Db, plan: &Plan, is_source: bool) -> Side {
        let d = db.dialect();
        let cols = plan
            .columns
            .iter()
            .map(|c| d.quote_ident(if is_source { &c.name } else { &c.target_name }))
            .collect::<Vec<String>>();
        let natives = plan
            .columns
            .iter()
            .map(|c| sql::Native::of(c, is_source))
            .collect::<Vec<_>>();
        let selects = plan
            .columns
            .iter()
            .zip(&cols)
            .zip(&natives)
            .map(|((p, c), n)| sql::select_term(d, c, p, *n))
            .collect();
        Side {
            db: db.clone(),
            dialect: d,
            table: d.quote_qualified(if is_source {
                &plan.source_table
            } else {
                &plan.target_table
            }),
            table_name: if is_source {
                plan.source_table.clone()
            } else {
                plan.target_table.clone()
            },
            cols,
            natives,
            selects,
            server: plan.pushdown && d.sql().hashes_in_sql(),
            is_source,
            local: None,
            hash: sql::RowHash::Md5,
        }
    }
    /// Statements run before an aggregate query, in its transaction.
    pub(super) fn aggregate_setup(&self) -> Vec<String> {
        // room for every bucket in memory: a spilling hash aggregate doubles the scan
        let mut setup = self.dialect.sql().aggregate_setup();
        if self.hash == sql::RowHash::Native {
            setup.extend(self.dialect.sql().native_setup());
        }
        setup
    }
    /// Statements run before a short query of scattered rows (a batch's row hashes).
    pub(super) fn scattered_setup(&self) -> Vec<String> {
        let mut setup = self.aggregate_setup();
        setup.extend(self.dialect.sql().scattered_setup());
        setup
    }
    pub(super) fn name(&self) -> &'static str {
        if self.is_source { "source" } else { "target" }
    }
    pub(super) fn triples<'p>(
        &self,
        plan: &'p Plan,
        range: std::ops::Range<usize>,
    ) -> Vec<sql::Col<'p>> {
        range
            .map(|i| (self.cols[i].clone(), &plan.columns[i], self.natives[i]))
            .collect()
    }
    pub(super) fn bucket_sql(&self, plan: &Plan, modulus: i64) -> String {
        sql::bucket(
            self.dialect,
            &self.triples(plan, bucket_range(plan)),
            modulus,
        )
    }
    pub(super) fn where_clause(&self, plan: &Plan, extra: Option<String>) -> String {
        let mut parts = Vec::new();
        if let Some(w) = &plan.where_sql {
            parts.push(format!("({w})"));
        }
        if let Some(e) = extra {
            parts.push(e);
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        }
    }
    pub(super) fn select_cols(&self) -> String {
        self.selects.join(", ")
    }
}

pub(super) fn bucket_range(plan: &Plan) -> std::ops::Range<usize> {
    if plan.multiset {
        0..plan.columns.len()
    } else {
        0..plan.key_len
    }
}

pub(super) fn norms(plan: &Plan, row: &[Value]) -> Vec<Norm> {
    plan.columns
        .iter()
        .zip(row)
        .map(|(p, v)| normalize(v, p))
        .collect()
}

/// The normalized columns a row is ordered, bucketed and paired by: the key, or every
/// column for a multiset ([`bucket_range`]). The other columns are compared from their
/// decoded values when a pair meets ([`equal_values`]).
pub(super) fn order_norms(plan: &Plan, row: &[Value]) -> OrderNorms {
    let range = bucket_range(plan);
    if range.len() == 1 {
        return OrderNorms::One([normalize(&row[0], &plan.columns[0])]);
    }
    OrderNorms::Many(
        plan.columns[range]
            .iter()
            .zip(row)
            .map(|(p, v)| normalize(v, p))
            .collect(),
    )
}

/// [`order_norms`]: a single column (the usual key) held inline, so a streamed row
/// costs no allocation for it; read as a slice.
#[derive(Debug, Clone)]
pub(super) enum OrderNorms {
    One([Norm; 1]),
    Many(Vec<Norm>),
}

impl OrderNorms {
    pub(super) fn into_vec(self) -> Vec<Norm> {
        match self {
            OrderNorms::One(a) => a.into(),
            OrderNorms::Many(v) => v,
        }
    }
}

impl std::ops::Deref for OrderNorms {
    type Target = [Norm];
    fn deref(&self) -> &[Norm] {
        match self {
            OrderNorms::One(a) => a,
            OrderNorms::Many(v) => v,
        }
    }
}

/// The bucket cutover computes for a normalized row (same as `sql::bucket`).
pub(super) fn bucket_of(plan: &Plan, n: &[Norm], modulus: i64) -> i64 {
    let r = bucket_range(plan);
    let keys: Vec<&ColumnPlan> = plan.columns[r.clone()].iter().collect();
    if sql::int_bucketing(&keys) {
        return match &n[0] {
            Norm::Int(i) => (*i % modulus as i128) as i64,
            Norm::Null => NULL_BUCKET,
            _ => NULL_BUCKET + 1,
        };
    }
    let d = md5_of(&n[r]);
    (u32::from_be_bytes(d[..4].try_into().expect("4 bytes")) as i64) % modulus
}

pub(super) fn as_bucket(v: &Value) -> i64 {
    match v {
        Value::Null => NULL_BUCKET,
        other => other.as_i64().unwrap_or(NULL_BUCKET + 1),
    }
}

pub(super) fn as_u64_mod(v: &Value) -> u64 {
    match v {
        Value::Int(i) => *i as u64,
        Value::UInt(u) => *u,
        Value::Decimal(d) => d.trunc().to_i128().map(|x| x as u64).unwrap_or(0),
        Value::Text(s) => s.parse::<i128>().map(|x| x as u64).unwrap_or(0),
        _ => 0,
    }
}
