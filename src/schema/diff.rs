//! Object-by-object comparison of two normalized schemas.
//!
//! The source is the schema wanted (staging), the target the schema that is
//! (production): `missing` means the target lacks something the source has, `extra`
//! means the target has something the source lacks, `changed` names the field.

use super::model::*;
use super::types::{self, TypeMatch, compare_types, normalize_default, normalize_expr};
use crate::db::Dialect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

pub fn column_summary(c: &Column) -> String {
    let mut s = c.engine_type.clone();
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(
            " GENERATED AS ({}){}",
            g.expression,
            if g.stored { " STORED" } else { "" }
        ));
    }
    if let Some(i) = &c.identity {
        s.push_str(&format!(" IDENTITY {i}"));
    }
    s
}

pub fn index_summary(i: &Index) -> String {
    let cols = i
        .columns
        .iter()
        .map(|c| {
            let mut s = c
                .column
                .clone()
                .or_else(|| c.expression.clone())
                .unwrap_or_default();
            if let Some(p) = c.prefix {
                s.push_str(&format!("({p})"));
            }
            if c.descending {
                s.push_str(" DESC");
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = format!(
        "{}{}({cols})",
        if i.unique { "UNIQUE " } else { "" },
        i.method
            .as_ref()
            .map(|m| format!("USING {m} "))
            .unwrap_or_default()
    );
    if let Some(p) = &i.predicate {
        s.push_str(&format!(" WHERE {p}"));
    }
    s
}

pub fn fk_summary(f: &ForeignKey) -> String {
    format!(
        "({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
        f.columns.join(", "),
        f.ref_qname(),
        f.ref_columns.join(", "),
        f.on_delete,
        f.on_update
    )
}

fn columns_text(t: &Table) -> String {
    match t.columns.len() {
        1 => "1 column".to_string(),
        n => format!("{n} columns"),
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

fn table(c: &mut Cmp, s: &Table, t: &Table) {
    let tq = s.qname();
    let tn = Some(tq.as_str());
    // columns
    for sc in &s.columns {
        let Some(tc) = t.column(&sc.name) else {
            c.push(
                ObjectKind::Column,
                tn,
                &sc.name,
                ChangeKind::Missing,
                None,
                Some(column_summary(sc)),
                None,
            );
            continue;
        };
        column(c, &tq, sc, tc);
    }
    for tc in &t.columns {
        if s.column(&tc.name).is_none() {
            c.push(
                ObjectKind::Column,
                tn,
                &tc.name,
                ChangeKind::Extra,
                None,
                None,
                Some(column_summary(tc)),
            );
        }
    }

    // primary key: by columns
    let spk = s.primary_key.as_ref().map(|p| p.columns.join(", "));
    let tpk = t.primary_key.as_ref().map(|p| p.columns.join(", "));
    match (&spk, &tpk) {
        (Some(a), Some(b)) if a != b => c.push(
            ObjectKind::PrimaryKey,
            tn,
            "PRIMARY KEY",
            ChangeKind::Changed,
            Some("columns"),
            Some(format!("({a})")),
            Some(format!("({b})")),
        ),
        (Some(a), None) => c.push(
            ObjectKind::PrimaryKey,
            tn,
            "PRIMARY KEY",
            ChangeKind::Missing,
            None,
            Some(format!("({a})")),
            None,
        ),
        (None, Some(b)) => c.push(
            ObjectKind::PrimaryKey,
            tn,
            "PRIMARY KEY",
            ChangeKind::Extra,
            None,
            None,
            Some(format!("({b})")),
        ),
        _ => {}
    }

    // unique constraints (and, across engines, plain unique indexes)
    let plain_unique = |i: &Index| {
        i.unique
            && i.predicate.is_none()
            && i.method.is_none()
            && i.columns
                .iter()
                .all(|c| c.column.is_some() && !c.descending && c.prefix.is_none())
    };
    let cross = c.cross;
    let uniq_list = |tb: &Table| -> Vec<(ObjectKind, String, String, String)> {
        let mut v: Vec<_> = tb
            .uniques
            .iter()
            .map(|u| {
                let def = format!("({})", u.columns.join(", "));
                (ObjectKind::Unique, u.name.clone(), def.clone(), def)
            })
            .collect();
        if cross {
            for i in tb.indexes.iter().filter(|i| plain_unique(i)) {
                let cols: Vec<String> = i.columns.iter().filter_map(|c| c.column.clone()).collect();
                let def = format!("({})", cols.join(", "));
                v.push((ObjectKind::Index, i.name.clone(), def, index_summary(i)));
            }
        }
        v
    };
    let su = uniq_list(s);
    let tu = uniq_list(t);
    let moved = su.iter().chain(tu.iter()).any(|x| x.0 == ObjectKind::Index);
    let matched_before = c.changes.len();
    sub_objects(c, &tq, ObjectKind::Unique, su, tu);
    if moved && c.changes.len() == matched_before {
        c.rule("unique-index-as-constraint");
    }

    // indexes
    let idx_key = |i: &Index| -> String {
        let cols = i
            .columns
            .iter()
            .map(|c| {
                let base = match (&c.column, &c.expression) {
                    (Some(n), _) => n.clone(),
                    (None, Some(e)) => normalize_expr(e),
                    _ => String::new(),
                };
                format!(
                    "{base}{}{}",
                    c.prefix.map(|p| format!("({p})")).unwrap_or_default(),
                    if c.descending { " DESC" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{}({cols}){}{}",
            if i.unique { "UNIQUE " } else { "" },
            i.predicate
                .as_ref()
                .map(|p| format!(" WHERE {}", normalize_expr(p)))
                .unwrap_or_default(),
            i.method
                .as_ref()
                .map(|m| format!(" USING {}", m.to_lowercase()))
                .unwrap_or_default()
        )
    };
    let idx_list = |tb: &Table, other: &Table, is_mysql: bool, rules: &mut usize| {
        tb.indexes
            .iter()
            .filter(|i| !(cross && plain_unique(i)))
            .filter(|i| {
                // the index MySQL made for a foreign key, absent on the other engine
                let plain_columns = |x: &Index| -> Vec<String> {
                    x.columns.iter().filter_map(|c| c.column.clone()).collect()
                };
                let cols = plain_columns(i);
                let fk_index = cross
                    && is_mysql
                    && !i.unique
                    && tb.foreign_keys.iter().any(|f| f.columns == cols)
                    && !other.indexes.iter().any(|o| plain_columns(o) == cols);
                if fk_index {
                    *rules += 1;
                }
                !fk_index
            })
            .map(|i| {
                (
                    ObjectKind::Index,
                    i.name.clone(),
                    idx_key(i),
                    index_summary(i),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut fk_idx_rules = 0;
    let si = idx_list(s, t, c.sd.sql().indexes_foreign_keys(), &mut fk_idx_rules);
    let ti = idx_list(t, s, c.td.sql().indexes_foreign_keys(), &mut fk_idx_rules);
    for _ in 0..fk_idx_rules {
        c.rule("mysql-fk-index");
    }
    sub_objects(c, &tq, ObjectKind::Index, si, ti);

    // foreign keys
    let restrict_seen = std::cell::Cell::new(false);
    let fk_key = |f: &ForeignKey| {
        let act = |a: &str| {
            if cross && a == "RESTRICT" {
                restrict_seen.set(true);
                "NO ACTION".to_string()
            } else {
                a.to_string()
            }
        };
        format!(
            "({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
            f.columns.join(", "),
            f.ref_qname(),
            f.ref_columns.join(", "),
            act(&f.on_delete),
            act(&f.on_update)
        )
    };
    let fk_list = |tb: &Table| -> Vec<_> {
        tb.foreign_keys
            .iter()
            .map(|f| {
                (
                    ObjectKind::ForeignKey,
                    f.name.clone(),
                    fk_key(f),
                    fk_summary(f),
                )
            })
            .collect()
    };
    let (sf, tf) = (fk_list(s), fk_list(t));
    if restrict_seen.get() {
        c.rule("fk-restrict");
    }
    sub_objects(c, &tq, ObjectKind::ForeignKey, sf, tf);

    // checks
    let ck = |k: &Check| {
        if cross {
            normalize_expr(&k.expression)
        } else {
            k.expression.clone()
        }
    };
    let check_list = |tb: &Table| -> Vec<_> {
        tb.checks
            .iter()
            .map(|k| {
                (
                    ObjectKind::Check,
                    k.name.clone(),
                    ck(k),
                    k.expression.clone(),
                )
            })
            .collect()
    };
    let (sc, tc) = (check_list(s), check_list(t));
    if cross && !sc.is_empty() {
        c.rule("expressions");
    }
    sub_objects(c, &tq, ObjectKind::Check, sc, tc);
}

/// Compare sub-objects given as (origin kind, name, comparison key, display).
fn sub_objects(
    c: &mut Cmp,
    table: &str,
    kind: ObjectKind,
    src: Vec<(ObjectKind, String, String, String)>,
    tgt: Vec<(ObjectKind, String, String, String)>,
) {
    let tn = Some(table);
    if c.by_definition(kind) {
        let mut remaining: Vec<Option<&(ObjectKind, String, String, String)>> =
            tgt.iter().map(Some).collect();
        for s in &src {
            let hit = remaining.iter_mut().find(|t| t.is_some_and(|t| t.2 == s.2));
            match hit {
                Some(slot) => {
                    if c.cross && slot.is_some_and(|t| t.1 != s.1) {
                        c.rule("names-by-definition");
                    }
                    *slot = None;
                }
                None => c.push(
                    s.0,
                    tn,
                    &s.1,
                    ChangeKind::Missing,
                    None,
                    Some(s.3.clone()),
                    None,
                ),
            }
        }
        for t in remaining.into_iter().flatten() {
            c.push(
                t.0,
                tn,
                &t.1,
                ChangeKind::Extra,
                None,
                None,
                Some(t.3.clone()),
            );
        }
    } else {
        for s in &src {
            match tgt.iter().find(|t| t.1 == s.1) {
                None => c.push(
                    s.0,
                    tn,
                    &s.1,
                    ChangeKind::Missing,
                    None,
                    Some(s.3.clone()),
                    None,
                ),
                Some(t) if t.2 != s.2 => c.push(
                    s.0,
                    tn,
                    &s.1,
                    ChangeKind::Changed,
                    Some("definition"),
                    Some(s.3.clone()),
                    Some(t.3.clone()),
                ),
                Some(_) => {}
            }
        }
        for t in &tgt {
            if !src.iter().any(|s| s.1 == t.1) {
                c.push(
                    t.0,
                    tn,
                    &t.1,
                    ChangeKind::Extra,
                    None,
                    None,
                    Some(t.3.clone()),
                );
            }
        }
    }
}

fn column(c: &mut Cmp, table: &str, s: &Column, t: &Column) {
    let tn = Some(table);
    match compare_types(
        &s.engine_type,
        &s.normalized_type,
        c.sd,
        &t.engine_type,
        &t.normalized_type,
        c.td,
    ) {
        TypeMatch::ByRule(rule) => {
            if !s.engine_type.eq_ignore_ascii_case(&t.engine_type) {
                c.rule(rule)
            }
        }
        TypeMatch::Same => {}
        TypeMatch::Different => {
            let show = |col: &Column| {
                if c.cross && !col.engine_type.eq_ignore_ascii_case(&col.normalized_type) {
                    format!("{} ({})", col.engine_type, col.normalized_type)
                } else {
                    col.engine_type.clone()
                }
            };
            c.push(
                ObjectKind::Column,
                tn,
                &s.name,
                ChangeKind::Changed,
                Some("type"),
                Some(show(s)),
                Some(show(t)),
            )
        }
    }
    // SQLite rowid aliases are NOT NULL whatever they declare
    if s.nullable != t.nullable {
        let yn = |b: bool| if b { "NULL" } else { "NOT NULL" }.to_string();
        c.push(
            ObjectKind::Column,
            tn,
            &s.name,
            ChangeKind::Changed,
            Some("nullable"),
            Some(yn(s.nullable)),
            Some(yn(t.nullable)),
        );
    }
    let dflt_equal = match (&s.default, &t.default) {
        (None, None) => true,
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) if c.cross && normalize_default(a) == normalize_default(b) => {
            c.rule("defaults");
            true
        }
        _ => false,
    };
    if !dflt_equal {
        c.push(
            ObjectKind::Column,
            tn,
            &s.name,
            ChangeKind::Changed,
            Some("default"),
            s.default.clone(),
            t.default.clone(),
        );
    }
    let gen_equal = match (&s.generated, &t.generated) {
        (None, None) => true,
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b))
            if c.cross
                && a.stored == b.stored
                && normalize_expr(&a.expression) == normalize_expr(&b.expression) =>
        {
            c.rule("expressions");
            true
        }
        _ => false,
    };
    if !gen_equal {
        let g = |x: &Option<Generated>| {
            x.as_ref().map(|g| {
                format!(
                    "AS ({}){}",
                    g.expression,
                    if g.stored { " STORED" } else { " VIRTUAL" }
                )
            })
        };
        c.push(
            ObjectKind::Column,
            tn,
            &s.name,
            ChangeKind::Changed,
            Some("generated"),
            g(&s.generated),
            g(&t.generated),
        );
    }
    let ident_equal = match (&s.identity, &t.identity) {
        (a, b) if a == b => true,
        (Some(_), Some(_)) if c.cross => {
            c.rule("identity");
            true
        }
        (Some(x), None) | (None, Some(x)) if c.cross && x == "rowid" => {
            c.rule("identity");
            true
        }
        _ => false,
    };
    if !ident_equal {
        c.push(
            ObjectKind::Column,
            tn,
            &s.name,
            ChangeKind::Changed,
            Some("identity"),
            s.identity.clone(),
            t.identity.clone(),
        );
    }
}
