//! SQLite's SQL.

use crate::db::Class;
use crate::db::SqlDialect;
use crate::db::dialect::HashColumn;

pub struct Sqlite;
pub(crate) static SQL: Sqlite = Sqlite;

impl SqlDialect for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn hashes_in_sql(&self) -> bool {
        false
    }
    fn order_term(&self, c: &str, col: &HashColumn, textual: bool) -> String {
        if col.class == Class::Uuid {
            format!("lower({c})")
        } else if textual {
            format!("{c} COLLATE BINARY")
        } else {
            c.to_string()
        }
    }
    fn exact_term(&self, c: &str, textual: bool) -> String {
        if textual {
            format!("{c} COLLATE BINARY")
        } else {
            c.to_string()
        }
    }
}
