//! What differs between engines, behind one trait: quoting, type spelling, DDL and DML
//! forms, the data diff's hashing expressions, and transaction semantics. Each engine
//! implements it in its own folder; [`Dialect::sql`](super::Dialect::sql) is the
//! registry. Callers outside `src/db/` ask the trait instead of matching on `Dialect`.

use super::Class;

/// One column as the data diff's SQL sees it on one side.
#[derive(Debug, Clone, Copy)]
pub struct HashColumn {
    /// The class both sides are compared as.
    pub class: Class,
    /// Decimal scale compared at; None = exact.
    pub scale: Option<u32>,
    /// Fractional-second digits compared.
    pub precision: u32,
    /// The engine-native class on this side.
    pub native: Class,
    /// A decimal whose declared scale is the compared scale: its text needs no rounding.
    pub exact_scale: bool,
}

/// Is this class's canonical text free text (length-prefixed when serialized)?
pub fn textual(class: Class) -> bool {
    matches!(class, Class::Text | Class::Any | Class::Json)
}

pub(crate) fn pow10(p: u32) -> i128 {
    10i128.pow(p)
}

/// One engine's SQL.
pub trait SqlDialect: Send + Sync {
    /// Human name ("PostgreSQL").
    fn name(&self) -> &'static str;

    /// Quote an identifier (table, column). Never paste identifiers raw.
    fn quote_ident(&self, ident: &str) -> String {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }

    /// Quote a string literal.
    fn quote_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\'', "''"))
    }

    /// Positional bind placeholder number `n` (1-based).
    fn placeholder(&self, _n: usize) -> String {
        "?".to_string()
    }

    /// Whether DDL takes part in transactions (it commits implicitly on MySQL/MariaDB).
    fn transactional_ddl(&self) -> bool {
        true
    }

    // ---- the data diff: hashing where the data is ----

    /// Can this engine compute row hashes in SQL? (SQLite cannot: cutover hashes its
    /// streamed rows.)
    fn hashes_in_sql(&self) -> bool {
        true
    }

    /// The canonical text (`Norm::canonical_text`) of quoted column `c`.
    fn canonical_text(&self, c: &str, _col: &HashColumn) -> String {
        c.to_string()
    }

    /// One serialized field of the hash input: `N` for NULL; `V<text>;` or
    /// `V<byte length>:<text>` for free text. `t` is evaluated once unless textual.
    fn hash_field(&self, t: &str, textual: bool, nullable: bool) -> String {
        match (nullable, textual) {
            (false, true) => format!("'V' || octet_length({t})::text || ':' || {t}"),
            (false, false) => format!("'V' || {t} || ';'"),
            (true, true) => format!("coalesce('V' || octet_length({t})::text || ':' || {t}, 'N')"),
            (true, false) => format!("coalesce('V' || {t} || ';', 'N')"),
        }
    }

    /// String concatenation of `parts`.
    fn concat(&self, parts: &[String]) -> String {
        parts.join(" || ")
    }

    /// An integer key modulo `modulus`.
    fn int_mod(&self, c: &str, modulus: i64) -> String {
        format!("({c} % {modulus})")
    }

    /// The first 64 bits of the MD5 of `input` as an integer.
    fn md5_64(&self, input: &str) -> String {
        format!("('x' || substr(md5({input}), 1, 16))::bit(64)::bigint")
    }

    /// A bucket from the first 32 bits of the MD5 of `input`.
    fn md5_bucket(&self, input: &str, modulus: i64) -> String {
        format!("(('x' || substr(md5({input}), 1, 8))::bit(32)::bigint % {modulus})")
    }

    /// An ORDER BY term sorting bytewise for text (never by collation), NULLs first.
    /// `textual`: the compared class is free text, or a UUID stored as text.
    fn order_term(&self, c: &str, col: &HashColumn, textual: bool) -> String;

    /// A group-by/compare term that never merges values a collation deems equal.
    fn exact_term(&self, c: &str, textual: bool) -> String;

    /// Statements that make one big aggregate query faster (run in its transaction).
    fn aggregate_setup(&self) -> Vec<String> {
        Vec::new()
    }

    /// `term` sorted with NULLs first (the engine's default where it already is).
    fn nulls_first(&self, term: &str) -> String {
        term.to_string()
    }

    /// The catalog's row-estimate query for a table and its one parameter, given the
    /// table's quoted (possibly qualified) name and its bare name; None when the
    /// engine keeps no estimate.
    fn row_estimate(&self, _quoted: &str, _bare: &str) -> Option<(&'static str, String)> {
        None
    }
}
