//! PostgreSQL's SQL.

use crate::db::SqlDialect;
use crate::db::dialect::HashColumn;

pub struct Postgres;
pub(crate) static SQL: Postgres = Postgres;

impl SqlDialect for Postgres {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn canonical_text(&self, c: &str, col: &HashColumn) -> String {
        super::hash::canonical_text(c, col)
    }
    fn order_term(&self, c: &str, col: &HashColumn, textual: bool) -> String {
        super::hash::order_term(c, col, textual)
    }
    fn exact_term(&self, c: &str, textual: bool) -> String {
        if textual {
            format!("({c})::text COLLATE \"C\"")
        } else {
            c.to_string()
        }
    }
    fn aggregate_setup(&self) -> Vec<String> {
        // room for every bucket in memory: a spilling hash aggregate doubles the scan
        vec!["SET LOCAL work_mem = '128MB'".to_string()]
    }
    fn nulls_first(&self, term: &str) -> String {
        format!("{term} NULLS FIRST")
    }
    fn row_estimate(&self, quoted: &str, _bare: &str) -> Option<(&'static str, String)> {
        Some((
            "SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
            quoted.to_string(),
        ))
    }
}
