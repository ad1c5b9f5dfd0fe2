//! DDL for one dialect, from objects introspected on any engine.

use super::model::*;
use super::types::{normalize_default, render_type};
use crate::db::Dialect;

/// Renders objects that came from `from` as DDL for `to`.
#[derive(Debug, Clone, Copy)]
pub struct Ddl {
    pub to: Dialect,
    pub from: Dialect,
}

impl Ddl {
    pub fn new(to: Dialect, from: Dialect) -> Self {
        Ddl { to, from }
    }
    fn cross(&self) -> bool {
        self.to != self.from
    }
    pub fn q(&self, ident: &str) -> String {
        self.to.quote_ident(ident)
    }
    pub fn qn(&self, schema: &Option<String>, name: &str) -> String {
        match schema {
            Some(s) if self.to.sql().qualifies_schemas() => {
                format!("{}.{}", self.q(s), self.q(name))
            }
            _ => self.q(name),
        }
    }
    pub fn qt(&self, t: &Table) -> String {
        self.qn(&t.schema, &t.name)
    }
    fn cols(&self, cols: &[String]) -> String {
        cols.iter()
            .map(|c| self.q(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Convert identifier quotes of expressions written for another engine.
    pub fn expr(&self, e: &str) -> String {
        if !self.cross() {
            return e.to_string();
        }
        let (from, to) = (self.from.sql().ident_quote(), self.to.sql().ident_quote());
        if from == to {
            e.to_string()
        } else {
            e.replace(from, &to.to_string())
        }
    }

    /// The column's type in the target dialect.
    pub fn column_type(&self, c: &Column) -> String {
        if !self.cross() {
            if let Some(t) = c
                .identity
                .as_deref()
                .and_then(|i| self.to.sql().identity_type(i, &c.normalized_type))
            {
                return t;
            }
            return c.engine_type.clone();
        }
        if let Some(t) = self.to.sql().foreign_identity_type()
            && c.identity.is_some()
        {
            return t.into();
        }
        render_type(&c.normalized_type, self.to)
    }

    pub fn default_expr(&self, c: &Column) -> Option<String> {
        let d = c.default.as_ref()?;
        if !self.cross() {
            return Some(d.clone());
        }
        let n = normalize_default(d);
        let is_bool = c.normalized_type == "bool";
        let sql = self.to.sql();
        if let Some(b) = sql.bool_default(&n).filter(|_| is_bool) {
            return Some(b.into());
        }
        Some(match n.as_str() {
            "CURRENT_TIMESTAMP" | "CURRENT_DATE" => n,
            lit if lit.starts_with('\'')
                || lit.parse::<f64>().is_ok()
                || lit.eq_ignore_ascii_case("null") =>
            {
                n
            }
            expr if sql.bare_default_exprs() => self.expr(expr),
            expr => format!("({})", self.expr(expr)),
        })
    }

    /// `name type [NOT NULL] [DEFAULT ..] [GENERATED ..]` for CREATE TABLE / ADD COLUMN.
    /// `inline_pk`: SQLite AUTOINCREMENT needs the key on the column itself.
    pub fn column_def(&self, c: &Column, inline_pk: bool) -> String {
        let mut s = format!("{} {}", self.q(&c.name), self.column_type(c));
        if let Some(g) = &c.generated {
            let e = self.expr(&g.expression);
            s.push_str(&self.to.sql().generated_column(&e, g.stored));
            if !c.nullable && self.to.sql().generated_not_null() {
                s.push_str(" NOT NULL");
            }
            return s;
        }
        if inline_pk {
            s.push_str(" PRIMARY KEY AUTOINCREMENT");
        }
        if !c.nullable && !inline_pk {
            s.push_str(" NOT NULL");
        }
        if let Some(i) = c.identity.as_deref() {
            s.push_str(self.to.sql().identity_clause(i, self.cross()));
        }
        if c.identity.is_none()
            && let Some(d) = self.default_expr(c)
        {
            s.push_str(&format!(" DEFAULT {d}"));
        }
        s
    }

    fn sqlite_autoincrement(&self, t: &Table) -> Option<String> {
        if !self.to.sql().inline_autoincrement() {
            return None;
        }
        let pk = t.primary_key.as_ref()?;
        if pk.columns.len() != 1 {
            return None;
        }
        let c = t.column(&pk.columns[0])?;
        (c.identity.as_deref() == Some("autoincrement")).then(|| c.name.clone())
    }

    fn named(&self, name: &str) -> String {
        // SQLite's constraint names are synthesized by introspection; cross-engine names
        // are left to the target engine.
        if !self.to.sql().names_constraints() || self.cross() {
            String::new()
        } else {
            format!("CONSTRAINT {} ", self.q(name))
        }
    }

    pub fn pk_clause(&self, pk: &PrimaryKey) -> String {
        let name = match &pk.name {
            Some(n) if self.to.sql().names_primary_key() && !self.cross() => {
                format!("CONSTRAINT {} ", self.q(n))
            }
            _ => String::new(),
        };
        format!("{name}PRIMARY KEY ({})", self.cols(&pk.columns))
    }
    pub fn unique_clause(&self, u: &Unique) -> String {
        format!("{}UNIQUE ({})", self.named(&u.name), self.cols(&u.columns))
    }
    pub fn check_clause(&self, k: &Check) -> String {
        format!(
            "{}CHECK ({})",
            self.named(&k.name),
            self.expr(&k.expression)
        )
    }
    pub fn fk_clause(&self, f: &ForeignKey) -> String {
        let mut s = format!(
            "{}FOREIGN KEY ({}) REFERENCES {} ({})",
            self.named(&f.name),
            self.cols(&f.columns),
            self.qn(&f.ref_schema, &f.ref_table),
            self.cols(&f.ref_columns)
        );
        if f.on_delete != "NO ACTION" {
            s.push_str(&format!(" ON DELETE {}", f.on_delete));
        }
        if f.on_update != "NO ACTION" {
            s.push_str(&format!(" ON UPDATE {}", f.on_update));
        }
        s
    }

    /// CREATE TABLE with columns, keys and checks; foreign keys inline when `with_fks`.
    pub fn create_table(&self, t: &Table, name: Option<&str>, with_fks: bool) -> String {
        let auto = self.sqlite_autoincrement(t);
        let mut items: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("  {}", self.column_def(c, auto.as_deref() == Some(&c.name))))
            .collect();
        if let Some(pk) = &t.primary_key
            && auto.is_none()
        {
            items.push(format!("  {}", self.pk_clause(pk)));
        }
        for u in &t.uniques {
            items.push(format!("  {}", self.unique_clause(u)));
        }
        for k in &t.checks {
            items.push(format!("  {}", self.check_clause(k)));
        }
        if with_fks {
            for f in &t.foreign_keys {
                items.push(format!("  {}", self.fk_clause(f)));
            }
        }
        let tname = match name {
            Some(n) => self.q(n),
            None => self.qt(t),
        };
        format!("CREATE TABLE {tname} (\n{}\n)", items.join(",\n"))
    }

    pub fn create_index(&self, t: &Table, i: &Index) -> String {
        let cols = i
            .columns
            .iter()
            .map(|c| {
                let mut s = match (&c.column, &c.expression) {
                    (Some(n), _) => self.q(n),
                    (None, Some(e)) => format!("({})", self.expr(e)),
                    _ => String::new(),
                };
                if let Some(p) = c.prefix
                    && self.to.sql().index_prefixes()
                {
                    s.push_str(&format!("({p})"));
                }
                if c.descending {
                    s.push_str(" DESC");
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ");
        let method = i.method.as_deref().unwrap_or("");
        let (kind, using) = self.to.sql().index_method(method, self.cross());
        let mut s = format!(
            "CREATE {}{kind}INDEX {} ON {}{using} ({cols})",
            if i.unique { "UNIQUE " } else { "" },
            self.q(&i.name),
            self.qt(t)
        );
        if let Some(p) = &i.predicate
            && self.to.sql().partial_indexes()
        {
            s.push_str(&format!(" WHERE {}", self.expr(p)));
        }
        s
    }

    pub fn drop_index(&self, t: &Table, name: &str) -> String {
        self.to
            .sql()
            .drop_index(&self.q(name), &self.qn(&t.schema, name), &self.qt(t))
    }

    pub fn create_view(&self, v: &View) -> String {
        let def = self.expr(v.definition.trim().trim_end_matches(';'));
        let mat = if v.materialized && self.to.sql().materialized_views() {
            "MATERIALIZED "
        } else {
            ""
        };
        format!("CREATE {mat}VIEW {} AS {def}", self.qn(&v.schema, &v.name))
    }

    pub fn drop_view(&self, v: &View) -> String {
        let mat = if v.materialized && self.to.sql().materialized_views() {
            "MATERIALIZED "
        } else {
            ""
        };
        format!("DROP {mat}VIEW {}", self.qn(&v.schema, &v.name))
    }
}

/// The whole schema as normalized DDL text, for the reviewer's unified diff. With
/// `neutral`, types are the normalized ones and constraint names are left out, so that
/// equivalent schemas of different engines render the same.
pub fn render_schema(s: &Schema, dialect: Dialect, neutral: bool) -> String {
    let ddl = if neutral {
        // render "from" a different dialect so names are dropped; types replaced below
        Ddl::new(Dialect::Postgres, Dialect::Sqlite)
    } else {
        Ddl::new(dialect, dialect)
    };
    let mut out = String::new();
    for n in &s.schemas {
        out.push_str(&format!("CREATE SCHEMA {};\n\n", ddl.q(n)));
    }
    for e in &s.enums {
        out.push_str(&format!(
            "CREATE TYPE {} AS ENUM ({});\n\n",
            ddl.qn(&e.schema, &e.name),
            e.labels
                .iter()
                .map(|l| dialect.quote_literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for q in &s.sequences {
        out.push_str(&format!(
            "CREATE SEQUENCE {} AS {} START {} INCREMENT {} MINVALUE {} MAXVALUE {}{};\n\n",
            ddl.qn(&q.schema, &q.name),
            q.data_type,
            q.start,
            q.increment,
            q.min,
            q.max,
            if q.cycle { " CYCLE" } else { "" }
        ));
    }
    for f in &s.functions {
        out.push_str(&f.definition);
        out.push_str(";\n\n");
    }
    for t in &s.tables {
        let t = if neutral {
            let mut t = t.clone();
            for c in &mut t.columns {
                c.engine_type = c.normalized_type.clone();
                if c.identity.is_some() {
                    c.identity = Some("identity".into());
                }
                c.default = c.default.as_deref().map(normalize_default);
            }
            t
        } else {
            t.clone()
        };
        let plain = Ddl::new(Dialect::Postgres, Dialect::Postgres);
        let mut text = if neutral {
            // neutral: engine types already replaced with normalized ones
            let cols: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("  {}", plain.column_def(c, false)))
                .collect();
            let mut items = cols;
            if let Some(pk) = &t.primary_key {
                items.push(format!("  PRIMARY KEY ({})", pk.columns.join(", ")));
            }
            let mut u: Vec<String> = t
                .uniques
                .iter()
                .map(|u| format!("  UNIQUE ({})", u.columns.join(", ")))
                .collect();
            u.sort();
            items.extend(u);
            let mut k: Vec<String> = t
                .checks
                .iter()
                .map(|k| format!("  CHECK ({})", super::types::normalize_expr(&k.expression)))
                .collect();
            k.sort();
            items.extend(k);
            let mut f: Vec<String> = t
                .foreign_keys
                .iter()
                .map(|f| format!("  FOREIGN KEY {}", super::diff::fk_summary(f)))
                .collect();
            f.sort();
            items.extend(f);
            format!("CREATE TABLE {} (\n{}\n);\n", t.qname(), items.join(",\n"))
        } else {
            format!("{};\n", ddl.create_table(&t, None, true))
        };
        let mut idx: Vec<String> = t
            .indexes
            .iter()
            .map(|i| {
                if neutral {
                    format!(
                        "CREATE INDEX ON {} {};\n",
                        t.qname(),
                        super::diff::index_summary(i)
                    )
                } else {
                    format!("{};\n", ddl.create_index(&t, i))
                }
            })
            .collect();
        idx.sort();
        for i in idx {
            text.push_str(&i);
        }
        out.push_str(&text);
        out.push('\n');
    }
    for v in &s.views {
        if neutral {
            out.push_str(&format!(
                "CREATE VIEW {} ({});\n\n",
                v.qname(),
                v.columns.join(", ")
            ));
        } else {
            out.push_str(&format!("{};\n\n", ddl.create_view(v)));
        }
    }
    for t in &s.triggers {
        if neutral {
            out.push_str(&format!(
                "CREATE TRIGGER {} ON {};\n\n",
                t.name,
                t.table_qname()
            ));
        } else {
            out.push_str(&format!("{};\n\n", t.definition.trim_end_matches(';')));
        }
    }
    out
}
