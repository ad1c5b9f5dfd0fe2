//! Object-by-object comparison of two normalized schemas.
//!
//! The source is the schema wanted (staging), the target the schema that is
//! (production): `missing` means the target lacks something the source has, `extra`
//! means the target has something the source lacks, `changed` names the field.

mod summary;
mod table;

use super::model::*;
use super::types::{self, TypeMatch, compare_types, normalize_default, normalize_expr};
use crate::db::Dialect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use summary::columns_text;
pub use summary::{column_summary, fk_summary, index_summary};
use table::table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Schema,
    Enum,
    Sequence,
    Table,
    Column,
    PrimaryKey,
    Unique,
    Index,
    ForeignKey,
    Check,
    View,
    Function,
    Trigger,
    Extension,
    Collation,
    Domain,
    DomainConstraint,
    CompositeType,
    TableOption,
    RowLevelSecurity,
    PartitionKey,
    Partition,
    Inheritance,
    Policy,
    Grant,
    Comment,
    ExclusionConstraint,
    ConstraintOption,
    IdentityOption,
    SequenceOption,
    MaterializedViewIndex,
    ColumnCollation,
    Routine,
    Event,
    Partitioning,
    /// A catalog object of a kind this version does not know (from a newer snapshot).
    Other,
}

impl ObjectKind {
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Enum => "enum",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::PrimaryKey => "primary key",
            ObjectKind::Unique => "unique constraint",
            ObjectKind::Index => "index",
            ObjectKind::ForeignKey => "foreign key",
            ObjectKind::Check => "check constraint",
            ObjectKind::View => "view",
            ObjectKind::Function => "function",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Extension => "extension",
            ObjectKind::Collation => "collation",
            ObjectKind::Domain => "domain",
            ObjectKind::DomainConstraint => "domain constraint",
            ObjectKind::CompositeType => "composite type",
            ObjectKind::TableOption => "table option",
            ObjectKind::RowLevelSecurity => "row level security",
            ObjectKind::PartitionKey => "partition key",
            ObjectKind::Partition => "partition",
            ObjectKind::Inheritance => "inheritance",
            ObjectKind::Policy => "policy",
            ObjectKind::Grant => "grant",
            ObjectKind::Comment => "comment",
            ObjectKind::ExclusionConstraint => "exclusion constraint",
            ObjectKind::ConstraintOption => "constraint option",
            ObjectKind::IdentityOption => "identity option",
            ObjectKind::SequenceOption => "sequence option",
            ObjectKind::MaterializedViewIndex => "materialized view index",
            ObjectKind::ColumnCollation => "column collation",
            ObjectKind::Routine => "routine",
            ObjectKind::Event => "event",
            ObjectKind::Partitioning => "partitioning",
            ObjectKind::Other => "other object",
        }
    }

    /// The kind of a [`CatalogObject`].
    pub fn of_catalog(kind: &str) -> ObjectKind {
        match kind {
            "extension" => ObjectKind::Extension,
            "collation" => ObjectKind::Collation,
            "domain" => ObjectKind::Domain,
            "domain constraint" => ObjectKind::DomainConstraint,
            "composite type" => ObjectKind::CompositeType,
            "table option" => ObjectKind::TableOption,
            "row level security" => ObjectKind::RowLevelSecurity,
            "partition key" => ObjectKind::PartitionKey,
            "partition" => ObjectKind::Partition,
            "inheritance" => ObjectKind::Inheritance,
            "policy" => ObjectKind::Policy,
            "grant" => ObjectKind::Grant,
            "comment" => ObjectKind::Comment,
            "exclusion constraint" => ObjectKind::ExclusionConstraint,
            "constraint option" => ObjectKind::ConstraintOption,
            "identity option" => ObjectKind::IdentityOption,
            "sequence option" => ObjectKind::SequenceOption,
            "materialized view index" => ObjectKind::MaterializedViewIndex,
            "column collation" => ObjectKind::ColumnCollation,
            "routine" => ObjectKind::Routine,
            "event" => ObjectKind::Event,
            "partitioning" => ObjectKind::Partitioning,
            _ => ObjectKind::Other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// In the source, not in the target.
    Missing,
    /// In the target, not in the source.
    Extra,
    /// In both, with a different `field`.
    Changed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub object: ObjectKind,
    /// The table (qualified) a column, key, index or constraint belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The object's name (on the side that has it).
    pub name: String,
    pub change: ChangeKind,
    /// For `changed`: which property differs (`type`, `nullable`, `default`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The property (or definition) in the source / the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Change {
    /// `users.email`, `profiles`, `users.idx_name`
    pub fn path(&self) -> String {
        match &self.table {
            Some(t) => format!("{t}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchemaDiff {
    pub source_dialect: Dialect,
    pub target_dialect: Dialect,
    pub changes: Vec<Change>,
    /// Cross-engine equivalence rules that decided an equality, with how often.
    pub equivalences: BTreeMap<String, usize>,
    /// Objects present on either side that were not compared (kinds the model does
    /// not cover, or engine-specific kinds across engines), by kind, with how many
    /// (the larger side's count). The schemas are never called equal while any are.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_compared: BTreeMap<String, u64>,
}

impl SchemaDiff {
    /// No differences, and nothing left uncompared.
    pub fn is_equal(&self) -> bool {
        self.changes.is_empty() && self.not_compared.is_empty()
    }
    /// "2 extensions, 1 collation" (empty when everything was compared).
    pub fn not_compared_text(&self) -> String {
        self.not_compared
            .iter()
            .map(|(k, n)| super::report::plural(*n as usize, k))
            .collect::<Vec<_>>()
            .join(", ")
    }
    pub fn cross_engine(&self) -> bool {
        self.source_dialect != self.target_dialect
    }
}

struct Cmp {
    sd: Dialect,
    td: Dialect,
    cross: bool,
    changes: Vec<Change>,
    rules: BTreeMap<String, usize>,
}

impl Cmp {
    fn rule(&mut self, id: &'static str) {
        debug_assert!(types::rule(id).is_some(), "undocumented rule {id}");
        *self.rules.entry(id.to_string()).or_default() += 1;
    }
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        object: ObjectKind,
        table: Option<&str>,
        name: &str,
        change: ChangeKind,
        field: Option<&str>,
        source: Option<String>,
        target: Option<String>,
    ) {
        self.changes.push(Change {
            object,
            table: table.map(str::to_string),
            name: name.to_string(),
            change,
            field: field.map(str::to_string),
            source,
            target,
        });
    }
    /// Match sub-objects by definition rather than by name?
    fn by_definition(&self, kind: ObjectKind) -> bool {
        self.cross
            || (!self.sd.sql().names_constraints()
                && matches!(
                    kind,
                    ObjectKind::Unique | ObjectKind::ForeignKey | ObjectKind::Check
                ))
    }
}

/// Compare `source` (wanted) with `target` (actual).
pub fn diff(source: &Schema, target: &Schema) -> SchemaDiff {
    let mut c = Cmp {
        sd: source.dialect,
        td: target.dialect,
        cross: source.dialect != target.dialect,
        changes: Vec::new(),
        rules: BTreeMap::new(),
    };
    let both_pg = c.sd.sql().schema_objects() && c.td.sql().schema_objects();

    if both_pg {
        named_set(
            &mut c,
            ObjectKind::Schema,
            source
                .schemas
                .iter()
                .map(|s| (s.clone(), s.clone()))
                .collect(),
            target
                .schemas
                .iter()
                .map(|s| (s.clone(), s.clone()))
                .collect(),
            |_, _| None,
        );
        named_set(
            &mut c,
            ObjectKind::Enum,
            source
                .enums
                .iter()
                .map(|e| (e.qname(), e.labels.join(", ")))
                .collect(),
            target
                .enums
                .iter()
                .map(|e| (e.qname(), e.labels.join(", ")))
                .collect(),
            |a, b| (a != b).then_some("labels"),
        );
        let seq = |s: &Sequence| {
            format!(
                "AS {} START {} INCREMENT {} MIN {} MAX {}{}",
                s.data_type,
                s.start,
                s.increment,
                s.min,
                s.max,
                if s.cycle { " CYCLE" } else { "" }
            )
        };
        named_set(
            &mut c,
            ObjectKind::Sequence,
            source
                .sequences
                .iter()
                .map(|s| (s.qname(), seq(s)))
                .collect(),
            target
                .sequences
                .iter()
                .map(|s| (s.qname(), seq(s)))
                .collect(),
            |a, b| (a != b).then_some("definition"),
        );
        named_set(
            &mut c,
            ObjectKind::Function,
            source
                .functions
                .iter()
                .map(|f| (f.qname(), f.definition.clone()))
                .collect(),
            target
                .functions
                .iter()
                .map(|f| (f.qname(), f.definition.clone()))
                .collect(),
            |a, b| (a != b).then_some("definition"),
        );
    }

    for st in &source.tables {
        match target.table(&st.qname()) {
            None => c.push(
                ObjectKind::Table,
                None,
                &st.qname(),
                ChangeKind::Missing,
                None,
                Some(columns_text(st)),
                None,
            ),
            Some(tt) => table(&mut c, st, tt),
        }
    }
    for tt in &target.tables {
        if source.table(&tt.qname()).is_none() {
            c.push(
                ObjectKind::Table,
                None,
                &tt.qname(),
                ChangeKind::Extra,
                None,
                None,
                Some(columns_text(tt)),
            );
        }
    }

    let cross = c.cross;
    let view_def = |v: &View| {
        if cross {
            format!("columns ({})", v.columns.join(", "))
        } else {
            format!(
                "{}{}",
                if v.materialized { "MATERIALIZED " } else { "" },
                v.definition
            )
        }
    };
    if cross && (!source.views.is_empty() || !target.views.is_empty()) {
        c.rule("views-by-columns");
    }
    named_set(
        &mut c,
        ObjectKind::View,
        source
            .views
            .iter()
            .map(|v| (v.qname(), view_def(v)))
            .collect(),
        target
            .views
            .iter()
            .map(|v| (v.qname(), view_def(v)))
            .collect(),
        |a, b| (a != b).then_some("definition"),
    );

    let trig = |t: &Trigger| {
        if cross {
            t.table_qname()
        } else {
            t.definition.clone()
        }
    };
    let s_tr: Vec<(String, String)> = source
        .triggers
        .iter()
        .map(|t| (t.qname(), trig(t)))
        .collect();
    let t_tr: Vec<(String, String)> = target
        .triggers
        .iter()
        .map(|t| (t.qname(), trig(t)))
        .collect();
    named_set(&mut c, ObjectKind::Trigger, s_tr, t_tr, |a, b| {
        (a != b).then_some("definition")
    });

    let not_compared = catalog_objects(&mut c, source, target);

    SchemaDiff {
        source_dialect: source.dialect,
        target_dialect: target.dialect,
        changes: c.changes,
        equivalences: c.rules,
        not_compared,
    }
}

/// Catalog kinds that are settings of one engine's own machinery (storage engine and
/// default collation, a serial's or identity's sequence): across engines they have no
/// counterpart to compare, and the columns they belong to are compared.
const ENGINE_SETTINGS: &[&str] = &["table option", "sequence option", "identity option"];

/// Compare the engine-specific catalog objects (same engine only); return what was
/// not compared: every kind the model does not cover, and across engines every
/// engine-specific object.
fn catalog_objects(c: &mut Cmp, source: &Schema, target: &Schema) -> BTreeMap<String, u64> {
    let mut not_compared: BTreeMap<String, u64> = BTreeMap::new();
    let mut note = |kind: &str, s: u64, t: u64| {
        let n = s.max(t);
        if n > 0 {
            let e = not_compared.entry(kind.to_string()).or_default();
            *e = (*e).max(n);
        }
    };
    for kind in source.unmodelled.keys().chain(target.unmodelled.keys()) {
        note(
            kind,
            source.unmodelled.get(kind).copied().unwrap_or(0),
            target.unmodelled.get(kind).copied().unwrap_or(0),
        );
    }
    if c.cross {
        let count = |s: &Schema, k: &str| s.objects.iter().filter(|o| o.kind == k).count() as u64;
        let kinds: std::collections::BTreeSet<&str> = source
            .objects
            .iter()
            .chain(&target.objects)
            .map(|o| o.kind.as_str())
            .filter(|k| !ENGINE_SETTINGS.contains(k))
            .collect();
        for k in kinds {
            note(k, count(source, k), count(target, k));
        }
        return not_compared;
    }
    let key = |o: &CatalogObject| (o.kind.clone(), o.table.clone(), o.name.clone());
    // what belongs to a table or view only one side has is part of that difference
    let on_both = |o: &&CatalogObject| {
        o.table.as_deref().is_none_or(|t| {
            let here = |s: &Schema| s.table(t).is_some() || s.view(t).is_some();
            here(source) == here(target)
        })
    };
    let s: BTreeMap<_, _> = source
        .objects
        .iter()
        .filter(on_both)
        .map(|o| (key(o), o))
        .collect();
    let t: BTreeMap<_, _> = target
        .objects
        .iter()
        .filter(on_both)
        .map(|o| (key(o), o))
        .collect();
    for (k, so) in &s {
        let kind = ObjectKind::of_catalog(&so.kind);
        match t.get(k) {
            None => c.push(
                kind,
                so.table.as_deref(),
                &so.name,
                ChangeKind::Missing,
                None,
                Some(so.definition.clone()),
                None,
            ),
            Some(to) if to.definition != so.definition => c.push(
                kind,
                so.table.as_deref(),
                &so.name,
                ChangeKind::Changed,
                Some("definition"),
                Some(so.definition.clone()),
                Some(to.definition.clone()),
            ),
            Some(_) => {}
        }
    }
    for (k, to) in &t {
        if !s.contains_key(k) {
            c.push(
                ObjectKind::of_catalog(&to.kind),
                to.table.as_deref(),
                &to.name,
                ChangeKind::Extra,
                None,
                None,
                Some(to.definition.clone()),
            );
        }
    }
    not_compared
}

/// Compare two lists of (name, definition) by name.
fn named_set(
    c: &mut Cmp,
    kind: ObjectKind,
    src: Vec<(String, String)>,
    tgt: Vec<(String, String)>,
    changed: impl Fn(&str, &str) -> Option<&'static str>,
) {
    let t: BTreeMap<_, _> = tgt.iter().cloned().collect();
    let s: BTreeMap<_, _> = src.iter().cloned().collect();
    for (name, def) in &src {
        match t.get(name) {
            None => c.push(
                kind,
                None,
                name,
                ChangeKind::Missing,
                None,
                Some(def.clone()),
                None,
            ),
            Some(td) => {
                if let Some(field) = changed(def, td) {
                    c.push(
                        kind,
                        None,
                        name,
                        ChangeKind::Changed,
                        Some(field),
                        Some(def.clone()),
                        Some(td.clone()),
                    );
                }
            }
        }
    }
    for (name, def) in &tgt {
        if !s.contains_key(name) {
            c.push(
                kind,
                None,
                name,
                ChangeKind::Extra,
                None,
                None,
                Some(def.clone()),
            );
        }
    }
}
