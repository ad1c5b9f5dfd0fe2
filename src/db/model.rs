//! The normalized schema model every engine is introspected into.
//!
//! Everything is kept in a stable order (tables, views and other objects sorted by
//! schema and name; columns in table order; sub-objects sorted by name) so that the
//! same database always serializes to the same bytes.

use crate::db::Dialect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole database schema, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub dialect: Dialect,
    /// PostgreSQL schemas other than `public` (namespaces), empty elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    #[serde(default)]
    pub tables: Vec<Table>,
    #[serde(default)]
    pub views: Vec<View>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<Sequence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<EnumType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Function>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Engine-specific objects kept as their catalog definition (extensions,
    /// collations, domains, policies, grants, comments, partitions, routines, ...):
    /// compared by kind, name and definition between two databases of one engine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<CatalogObject>,
    /// Object kinds the model does not cover, with how many the database has: a
    /// comparison never calls two schemas equal while either has some.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unmodelled: BTreeMap<String, u64>,
}

/// An engine-specific object, as its catalog defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogObject {
    /// What it is, singular: `extension`, `collation`, `domain`, `policy`, `grant`, ...
    pub kind: String,
    /// The table (qualified) it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    pub name: String,
    /// What is compared: the engine's own text, normalized.
    pub definition: String,
    /// The engine's statements that create it (empty: cutover cannot create it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create: Vec<String>,
    /// The statements that remove it (empty: cannot remove it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop: Vec<String>,
    /// Created before tables (types, extensions, collations) rather than after.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub early: bool,
}

impl CatalogObject {
    pub fn new(
        kind: &str,
        table: Option<String>,
        name: impl Into<String>,
        definition: impl Into<String>,
    ) -> Self {
        CatalogObject {
            kind: kind.to_string(),
            table,
            name: name.into(),
            definition: definition.into(),
            create: Vec::new(),
            drop: Vec::new(),
            early: false,
        }
    }
    /// `kind table.name`, unique within a schema.
    pub fn key(&self) -> (String, Option<String>, String) {
        (self.kind.clone(), self.table.clone(), self.name.clone())
    }
}

/// `schema.name`, or just `name` in the default schema (PostgreSQL `public`, the
/// MySQL database of the URL, SQLite `main`).
pub fn qualified(schema: &Option<String>, name: &str) -> String {
    match schema {
        Some(s) => format!("{s}.{name}"),
        None => name.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Unique>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

impl Table {
    pub fn qname(&self) -> String {
        qualified(&self.schema, &self.name)
    }
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
    pub fn new(schema: Option<String>, name: impl Into<String>) -> Table {
        Table {
            schema,
            name: name.into(),
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
        }
    }
    /// Sort sub-objects by name so the serialization is stable.
    pub fn sort(&mut self) {
        self.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        self.checks.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// The type as the engine reports it (`character varying(20)`, `int(11)`, `VARCHAR(20)`).
    pub engine_type: String,
    /// The engine-neutral type (`varchar(20)`, `int32`, ...), see [`super::types`].
    pub normalized_type: String,
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// How the engine assigns values: `always` / `by default` (PostgreSQL identity),
    /// `serial`, `auto_increment` (MySQL), `autoincrement` or `rowid` (SQLite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generated {
    pub expression: String,
    pub stored: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrimaryKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<IndexColumn>,
    pub unique: bool,
    /// The WHERE clause of a partial index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// Access method when not the engine's default (`gin`, `hash`, `FULLTEXT`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndexColumn {
    /// A plain column, or...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// ...an expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub descending: bool,
    /// MySQL prefix length (`name(10)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<u32>,
}

impl IndexColumn {
    pub fn column(name: impl Into<String>) -> Self {
        IndexColumn {
            column: Some(name.into()),
            expression: None,
            descending: false,
            prefix: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_schema: Option<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    /// `NO ACTION`, `RESTRICT`, `CASCADE`, `SET NULL`, `SET DEFAULT`.
    pub on_delete: String,
    pub on_update: String,
}

impl ForeignKey {
    pub fn ref_qname(&self) -> String {
        qualified(&self.ref_schema, &self.ref_table)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub expression: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    /// The engine's own text of the query (whitespace normalized).
    pub definition: String,
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub materialized: bool,
}

impl View {
    pub fn qname(&self) -> String {
        qualified(&self.schema, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cycle: bool,
}

impl Sequence {
    pub fn qname(&self) -> String {
        qualified(&self.schema, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnumType {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    pub labels: Vec<String>,
}

impl EnumType {
    pub fn qname(&self) -> String {
        qualified(&self.schema, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Function {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    /// Identity arguments (`a integer, b text`): overloads are different functions.
    pub arguments: String,
    pub definition: String,
}

impl Function {
    pub fn qname(&self) -> String {
        format!(
            "{}({})",
            qualified(&self.schema, &self.name),
            self.arguments
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub table: String,
    pub name: String,
    /// The full CREATE TRIGGER statement as the engine reports it.
    pub definition: String,
}

impl Trigger {
    pub fn table_qname(&self) -> String {
        qualified(&self.schema, &self.table)
    }
    pub fn qname(&self) -> String {
        format!("{}.{}", self.table_qname(), self.name)
    }
}

impl Schema {
    pub fn empty(dialect: Dialect) -> Schema {
        Schema {
            dialect,
            schemas: Vec::new(),
            tables: Vec::new(),
            views: Vec::new(),
            sequences: Vec::new(),
            enums: Vec::new(),
            functions: Vec::new(),
            triggers: Vec::new(),
            objects: Vec::new(),
            unmodelled: BTreeMap::new(),
        }
    }

    pub fn table(&self, qname: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.qname() == qname)
    }
    pub fn view(&self, qname: &str) -> Option<&View> {
        self.views.iter().find(|t| t.qname() == qname)
    }

    /// Put everything in its canonical order.
    pub fn sort(&mut self) {
        self.schemas.sort();
        self.tables
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for t in &mut self.tables {
            t.sort();
        }
        self.views
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.sequences
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.enums
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.functions.sort_by(|a, b| {
            (&a.schema, &a.name, &a.arguments).cmp(&(&b.schema, &b.name, &b.arguments))
        });
        self.triggers
            .sort_by(|a, b| (&a.schema, &a.table, &a.name).cmp(&(&b.schema, &b.table, &b.name)));
        self.objects.sort_by_key(|o| o.key());
        self.objects.dedup_by(|a, b| a.key() == b.key());
        self.unmodelled.retain(|_, n| *n > 0);
    }
}
