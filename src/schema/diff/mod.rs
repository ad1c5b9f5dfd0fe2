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
}

impl SchemaDiff {
    pub fn is_equal(&self) -> bool {
        self.changes.is_empty()
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

    SchemaDiff {
        source_dialect: source.dialect,
        target_dialect: target.dialect,
        changes: c.changes,
        equivalences: c.rules,
    }
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
