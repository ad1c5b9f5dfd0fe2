//! MySQL/MariaDB's SQL.

use crate::db::Class;
use crate::db::SqlDialect;
use crate::db::dialect::HashColumn;

pub struct Mysql;
pub(crate) static SQL: Mysql = Mysql;

impl SqlDialect for Mysql {
    fn name(&self) -> &'static str {
        "MySQL/MariaDB"
    }
    fn quote_ident(&self, ident: &str) -> String {
        format!("`{}`", ident.replace('`', "``"))
    }
    fn quote_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    }
    fn transactional_ddl(&self) -> bool {
        false
    }

    fn canonical_text(&self, c: &str, col: &HashColumn) -> String {
        super::hash::canonical_text(c, col)
    }
    fn hash_field(&self, t: &str, textual: bool, nullable: bool) -> String {
        super::hash::hash_field(t, textual, nullable)
    }
    fn concat(&self, parts: &[String]) -> String {
        format!("CONCAT({})", parts.join(", "))
    }
    fn int_mod(&self, c: &str, modulus: i64) -> String {
        format!("MOD({c}, {modulus})")
    }
    fn md5_64(&self, input: &str) -> String {
        super::hash::md5_64(input)
    }
    fn md5_bucket(&self, input: &str, modulus: i64) -> String {
        super::hash::md5_bucket(input, modulus)
    }
    fn order_term(&self, c: &str, col: &HashColumn, textual: bool) -> String {
        if col.class == Class::Uuid {
            format!("CAST(LOWER({c}) AS BINARY)")
        } else if textual {
            format!("CAST({c} AS BINARY)")
        } else {
            c.to_string()
        }
    }
    fn exact_term(&self, c: &str, textual: bool) -> String {
        if textual {
            format!("CAST({c} AS BINARY)")
        } else {
            c.to_string()
        }
    }
    fn row_estimate(&self, _quoted: &str, bare: &str) -> Option<(&'static str, String)> {
        Some((
            "SELECT CAST(table_rows AS SIGNED) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
            bare.to_string(),
        ))
    }
}
