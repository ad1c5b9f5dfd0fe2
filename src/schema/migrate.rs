//! Generated migrations: the DDL, in the target's dialect, that brings the target's
//! schema to the source's, ordered by dependencies, with hazards marked.

use super::ddl::Ddl;
use super::diff::{ChangeKind, ObjectKind, SchemaDiff};
use super::model::*;
use crate::db::Dialect;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A hazard code with its one-line explanation. Codes are stable: runbooks and CI
/// name them in `--allow-hazards` and policies.
pub struct HazardCode {
    pub code: &'static str,
    pub explanation: &'static str,
}

pub const HAZARD_CODES: &[HazardCode] = &[
    HazardCode {
        code: "drop-table",
        explanation: "drops a table and every row in it",
    },
    HazardCode {
        code: "drop-column",
        explanation: "drops a column and the data in it",
    },
    HazardCode {
        code: "narrow-type",
        explanation: "changes a column to a type that cannot hold every value of the old one: values may be cut or the change may fail",
    },
    HazardCode {
        code: "not-null-without-default",
        explanation: "makes a column NOT NULL (or adds one) without a default on a table that has rows: existing rows have no value, so the change fails or needs a backfill",
    },
    HazardCode {
        code: "drop-fk-index",
        explanation: "drops the only index a foreign key relies on: MySQL refuses, other engines check the key by scanning the table",
    },
    HazardCode {
        code: "table-rewrite",
        explanation: "rewrites a large table while holding a lock that blocks writes (and on MySQL/PostgreSQL type changes, reads)",
    },
];

/// Tables with at least this many rows make a rewrite a hazard (`table-rewrite`).
pub const DEFAULT_LARGE_TABLE_ROWS: u64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaHazard {
    pub code: String,
    /// The object it concerns (`users.legacy_id`).
    pub object: String,
    pub message: String,
}

/// One logical change: one or more statements applied together (a SQLite table rebuild
/// is four or more), with the hazards that apply to all of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MigrationStep {
    pub statements: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<SchemaHazard>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Migration {
    pub dialect: Dialect,
    pub steps: Vec<MigrationStep>,
}

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub large_table_rows: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            large_table_rows: DEFAULT_LARGE_TABLE_ROWS,
        }
    }
}

/// Row counts per target table (qualified name); a missing entry means unknown,
/// which counts as "has rows".
pub type RowCounts = BTreeMap<String, u64>;

impl Migration {
    pub fn hazards(&self) -> Vec<&SchemaHazard> {
        self.steps.iter().flat_map(|s| s.hazards.iter()).collect()
    }

    fn allowed(step: &MigrationStep, allow: &BTreeSet<String>) -> bool {
        step.hazards.iter().all(|h| allow.contains(&h.code))
    }

    /// The statements that would run (hazards not allowed are left out).
    pub fn statements(&self, allow: &BTreeSet<String>) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| Self::allowed(s, allow))
            .flat_map(|s| s.statements.iter().cloned())
            .collect()
    }

    /// The migration as a SQL file: hazardous statements are commented out unless
    /// their codes are allowed; each hazard is explained on the line above.
    pub fn render(&self, header: &[String], allow: &BTreeSet<String>) -> String {
        let mut out = String::new();
        for h in header {
            out.push_str(&format!("-- {h}\n"));
        }
        let blocked: BTreeSet<&str> = self
            .steps
            .iter()
            .filter(|s| !Self::allowed(s, allow))
            .flat_map(|s| s.hazards.iter().map(|h| h.code.as_str()))
            .collect();
        if !self.dialect.transactional_ddl() {
            out.push_str(&format!(
                "-- {} commits each DDL statement implicitly: this script is not atomic.\n",
                self.dialect.name()
            ));
        }
        if !blocked.is_empty() {
            out.push_str(&format!(
                "-- Hazardous statements are commented out; to include them: --allow-hazards {}\n",
                blocked.iter().cloned().collect::<Vec<_>>().join(",")
            ));
        }
        if self.steps.is_empty() {
            out.push_str("-- nothing to do: the schemas are equal\n");
        }
        for step in &self.steps {
            out.push('\n');
            let ok = Self::allowed(step, allow);
            for h in &step.hazards {
                out.push_str(&format!(
                    "-- HAZARD {}{}: {}\n",
                    h.code,
                    if allow.contains(&h.code) {
                        " (allowed)"
                    } else {
                        ""
                    },
                    h.message
                ));
            }
            for st in &step.statements {
                let text = format!("{st};");
                if ok {
                    out.push_str(&text);
                    out.push('\n');
                } else {
                    for line in text.lines() {
                        out.push_str(&format!("-- {line}\n"));
                    }
                }
            }
        }
        out
    }
}

struct Planner<'a> {
    src: &'a Schema,
    tgt: &'a Schema,
    ddl: Ddl,
    rows: &'a RowCounts,
    opts: &'a PlanOptions,
    steps: Vec<MigrationStep>,
}

fn hz(code: &str, object: impl Into<String>, message: impl Into<String>) -> SchemaHazard {
    SchemaHazard {
        code: code.to_string(),
        object: object.into(),
        message: message.into(),
    }
}

impl Planner<'_> {
    fn step(&mut self, statements: Vec<String>, hazards: Vec<SchemaHazard>) {
        if !statements.is_empty() {
            self.steps.push(MigrationStep {
                statements,
                hazards,
            });
        }
    }
    fn one(&mut self, sql: String) {
        self.step(vec![sql], vec![]);
    }
    fn d(&self) -> Dialect {
        self.tgt.dialect
    }
    fn rows_of(&self, table: &str) -> Option<u64> {
        self.rows.get(table).copied()
    }
    fn has_rows(&self, table: &str) -> bool {
        self.rows_of(table).is_none_or(|n| n > 0)
    }
    fn rows_text(&self, table: &str) -> String {
        match self.rows_of(table) {
            Some(1) => "1 row".into(),
            Some(n) => format!("{n} rows"),
            None => "row count unknown".into(),
        }
    }
    fn large(&self, table: &str) -> bool {
        self.rows_of(table)
            .is_none_or(|n| n >= self.opts.large_table_rows)
    }
    fn rewrite_hazard(&self, table: &str, why: &str) -> Option<SchemaHazard> {
        self.large(table).then(|| {
            hz(
                "table-rewrite",
                table,
                format!(
                    "{why} rewrites table {table} ({}) under a lock",
                    self.rows_text(table)
                ),
            )
        })
    }
}

/// Whether `to` holds every value of `from` (normalized types).
pub fn is_widening(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    fn parts(t: &str) -> (String, Vec<i64>) {
        match t.find('(') {
            Some(i) => (
                t[..i].to_string(),
                t[i + 1..t.len().saturating_sub(1)]
                    .split(',')
                    .filter_map(|x| x.trim().parse().ok())
                    .collect(),
            ),
            None => (t.to_string(), vec![]),
        }
    }
    let (ff, fp) = parts(from);
    let (tf, tp) = parts(to);
    let int_rank = |f: &str| match f {
        "bool" => Some(0),
        "int8" | "uint8" => Some(1),
        "int16" | "uint16" => Some(2),
        "int24" | "uint24" => Some(3),
        "int32" | "uint32" => Some(4),
        "int64" | "uint64" => Some(5),
        _ => None,
    };
    if let (Some(a), Some(b)) = (int_rank(&ff), int_rank(&tf)) {
        return b > a || (a == b && ff.starts_with('u') == tf.starts_with('u'));
    }
    if int_rank(&ff).is_some() && tf == "decimal" {
        let digits = match int_rank(&ff) {
            Some(0..=2) => 5,
            Some(3..=4) => 10,
            _ => 20,
        };
        return tp.is_empty() || tp[0] - tp.get(1).copied().unwrap_or(0) >= digits;
    }
    if int_rank(&ff).is_some() && (tf == "float64" || tf == "text") {
        return true;
    }
    match (ff.as_str(), tf.as_str()) {
        ("varchar" | "char" | "text" | "enum", "text") => true,
        ("varchar" | "char", "varchar") => tp.is_empty() || fp.first() <= tp.first(),
        ("char", "char") => fp.first() <= tp.first(),
        ("decimal", "decimal") => {
            if tp.is_empty() {
                return true;
            }
            let (p1, s1) = (
                fp.first().copied().unwrap_or(1000),
                fp.get(1).copied().unwrap_or(0),
            );
            let (p2, s2) = (tp[0], tp.get(1).copied().unwrap_or(0));
            s2 >= s1 && p2 - s2 >= p1 - s1
        }
        ("float32", "float64") => true,
        ("timestamp", "timestamptz") | ("date", "timestamp" | "timestamptz") => true,
        ("varchar" | "char" | "text", "json") => false,
        ("bytes" | "binary" | "varbinary", "bytes") => true,
        _ => false,
    }
}

/// Plan the migration of `target` to `source`.
pub fn plan(
    source: &Schema,
    target: &Schema,
    diff: &SchemaDiff,
    rows: &RowCounts,
    opts: &PlanOptions,
) -> Migration {
    let mut p = Planner {
        src: source,
        tgt: target,
        ddl: Ddl::new(target.dialect, source.dialect),
        rows,
        opts,
        steps: Vec::new(),
    };
    let d = p.d();
    let ddl = p.ddl;
    let by = |kind: ObjectKind, ch: ChangeKind| {
        diff.changes
            .iter()
            .filter(move |c| c.object == kind && c.change == ch)
    };

    // 1. namespaces, enum types, sequences, functions (tables and triggers use them)
    for c in by(ObjectKind::Schema, ChangeKind::Missing) {
        p.one(format!("CREATE SCHEMA {}", ddl.q(&c.name)));
    }
    for e in &source.enums {
        let labels = |l: &[String]| {
            l.iter()
                .map(|x| d.quote_literal(x))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let qn = ddl.qn(&e.schema, &e.name);
        match target.enums.iter().find(|t| t.qname() == e.qname()) {
            None if d.sql().enum_types() && source.dialect.sql().enum_types() => {
                p.one(format!("CREATE TYPE {qn} AS ENUM ({})", labels(&e.labels)))
            }
            Some(t) if t.labels != e.labels => {
                // labels can be added in place; removing or reordering cannot
                let mut prev: Option<&String> = None;
                for l in &e.labels {
                    if !t.labels.contains(l) {
                        let pos = match prev {
                            Some(x) => format!(" AFTER {}", d.quote_literal(x)),
                            None => match t.labels.first() {
                                Some(f) => format!(" BEFORE {}", d.quote_literal(f)),
                                None => String::new(),
                            },
                        };
                        p.one(format!(
                            "ALTER TYPE {qn} ADD VALUE IF NOT EXISTS {}{pos}",
                            d.quote_literal(l)
                        ));
                    }
                    prev = Some(l);
                }
            }
            _ => {}
        }
    }
    for c in diff
        .changes
        .iter()
        .filter(|c| c.object == ObjectKind::Sequence && c.change != ChangeKind::Extra)
    {
        if let Some(s) = source.sequences.iter().find(|s| s.qname() == c.name) {
            let body = format!(
                "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} {}",
                s.data_type,
                s.increment,
                s.min,
                s.max,
                s.start,
                if s.cycle { "CYCLE" } else { "NO CYCLE" }
            );
            let verb = if c.change == ChangeKind::Missing {
                "CREATE"
            } else {
                "ALTER"
            };
            p.one(format!(
                "{verb} SEQUENCE {} {body}",
                ddl.qn(&s.schema, &s.name)
            ));
        }
    }
    for c in diff
        .changes
        .iter()
        .filter(|c| c.object == ObjectKind::Function && c.change != ChangeKind::Extra)
    {
        if let Some(f) = source.functions.iter().find(|f| f.qname() == c.name) {
            p.one(f.definition.trim().trim_end_matches(';').to_string());
        }
    }

    // tables touched by changes
    let mut touched: BTreeSet<String> = BTreeSet::new();
    for c in &diff.changes {
        if let Some(t) = &c.table {
            touched.insert(t.clone());
        }
    }
    let rebuilds = d.sql().alters_by_rebuild();
    let sqlite_rebuild: BTreeSet<String> = if rebuilds {
        touched
            .iter()
            .filter(|t| sqlite_needs_rebuild(diff, source, target, t))
            .cloned()
            .collect()
    } else {
        BTreeSet::new()
    };

    // 2. views and triggers that depend on what changes are dropped first
    let missing_tables: Vec<&Table> = by(ObjectKind::Table, ChangeKind::Missing)
        .filter_map(|c| source.table(&c.name))
        .collect();
    let extra_tables: Vec<&Table> = by(ObjectKind::Table, ChangeKind::Extra)
        .filter_map(|c| target.table(&c.name))
        .collect();
    let view_changed: BTreeSet<String> = diff
        .changes
        .iter()
        .filter(|c| c.object == ObjectKind::View)
        .map(|c| c.name.clone())
        .collect();
    let altered_tables: BTreeSet<String> = touched
        .iter()
        .cloned()
        .chain(extra_tables.iter().map(|t| t.qname()))
        .collect();
    let recreate_all_views = rebuilds && !sqlite_rebuild.is_empty();
    let mentions = |def: &str, table: &str| {
        let bare = table.rsplit('.').next().unwrap_or(table);
        def.contains(bare)
    };
    let views_to_drop: Vec<&View> = target
        .views
        .iter()
        .filter(|v| {
            recreate_all_views
                || view_changed.contains(&v.qname())
                || altered_tables.iter().any(|t| mentions(&v.definition, t))
        })
        .collect();
    for v in views_to_drop.iter().rev() {
        p.one(ddl.drop_view(v));
    }
    let views_to_create: Vec<&View> = source
        .views
        .iter()
        .filter(|v| {
            views_to_drop.iter().any(|t| t.qname() == v.qname())
                || by(ObjectKind::View, ChangeKind::Missing).any(|c| c.name == v.qname())
        })
        .collect();
    let trig_changed: BTreeSet<String> = diff
        .changes
        .iter()
        .filter(|c| c.object == ObjectKind::Trigger && c.change != ChangeKind::Missing)
        .map(|c| c.name.clone())
        .collect();
    for t in &target.triggers {
        if trig_changed.contains(&t.qname()) && !sqlite_rebuild.contains(&t.table_qname()) {
            let sql = d
                .sql()
                .drop_trigger(&ddl.q(&t.name), &ddl.qn(&t.schema, &t.table));
            p.one(sql);
        }
    }

    // 3. foreign keys that go away or change are dropped before what they reference
    if !rebuilds {
        for c in diff
            .changes
            .iter()
            .filter(|c| c.object == ObjectKind::ForeignKey && c.change != ChangeKind::Missing)
        {
            let Some(t) = c.table.as_deref().and_then(|t| target.table(t)) else {
                continue;
            };
            p.one(drop_fk(&ddl, t, &c.name));
        }
    }

    // 4. missing tables, parents first
    for t in topo(&missing_tables) {
        let sql = ddl.create_table(t, None, rebuilds);
        p.one(sql);
        for i in &t.indexes {
            if !d.sql().partial_indexes() && i.predicate.is_some() {
                continue;
            }
            p.one(ddl.create_index(t, i));
        }
    }

    // 5. tables in both
    for tq in &touched {
        let (Some(s), Some(t)) = (source.table(tq), target.table(tq)) else {
            continue;
        };
        if sqlite_rebuild.contains(tq) {
            sqlite_rebuild_table(&mut p, diff, s, t);
        } else {
            alter_table(&mut p, diff, s, t);
        }
    }

    // 6. foreign keys: of new tables (not SQLite: inline) and added/changed ones
    if !rebuilds {
        for t in topo(&missing_tables) {
            for f in &t.foreign_keys {
                p.one(format!(
                    "ALTER TABLE {} ADD {}",
                    ddl.qt(t),
                    ddl.fk_clause(f)
                ));
            }
        }
        for c in diff
            .changes
            .iter()
            .filter(|c| c.object == ObjectKind::ForeignKey && c.change != ChangeKind::Extra)
        {
            let Some(s) = c.table.as_deref().and_then(|t| source.table(t)) else {
                continue;
            };
            if let Some(f) = s.foreign_keys.iter().find(|f| f.name == c.name) {
                p.one(format!(
                    "ALTER TABLE {} ADD {}",
                    ddl.qt(s),
                    ddl.fk_clause(f)
                ));
            }
        }
    }

    // 7. extra tables, children first
    let mut drops = topo(&extra_tables);
    drops.reverse();
    for t in drops {
        let q = t.qname();
        let h = hz(
            "drop-table",
            &q,
            format!("dropping table {q} discards it and its {}", p.rows_text(&q)),
        );
        p.step(vec![format!("DROP TABLE {}", ddl.qt(t))], vec![h]);
    }

    // 8. views, in dependency order
    let mut pending: Vec<&View> = views_to_create;
    while !pending.is_empty() {
        let pos = pending
            .iter()
            .position(|v| {
                !pending
                    .iter()
                    .any(|o| o.qname() != v.qname() && v.definition.contains(&o.name))
            })
            .unwrap_or(0);
        let v = pending.remove(pos);
        p.one(ddl.create_view(v));
    }

    // 9. triggers
    for t in &source.triggers {
        let changed = diff.changes.iter().any(|c| {
            c.object == ObjectKind::Trigger && c.change != ChangeKind::Extra && c.name == t.qname()
        });
        let rebuilt = sqlite_rebuild.contains(&t.table_qname());
        if (changed || rebuilt) && source.dialect == d {
            p.one(t.definition.trim().trim_end_matches(';').to_string());
        }
    }

    // 10. what the source no longer has
    for c in by(ObjectKind::Function, ChangeKind::Extra) {
        if let Some(f) = target.functions.iter().find(|f| f.qname() == c.name) {
            p.one(format!(
                "DROP FUNCTION {}({})",
                ddl.qn(&f.schema, &f.name),
                f.arguments
            ));
        }
    }
    for c in by(ObjectKind::Sequence, ChangeKind::Extra) {
        if let Some(s) = target.sequences.iter().find(|s| s.qname() == c.name) {
            p.one(format!("DROP SEQUENCE {}", ddl.qn(&s.schema, &s.name)));
        }
    }
    for c in by(ObjectKind::Enum, ChangeKind::Extra) {
        if let Some(e) = target.enums.iter().find(|e| e.qname() == c.name) {
            p.one(format!("DROP TYPE {}", ddl.qn(&e.schema, &e.name)));
        }
    }
    for c in by(ObjectKind::Schema, ChangeKind::Extra) {
        p.one(format!("DROP SCHEMA {}", ddl.q(&c.name)));
    }

    let _ = p.src;
    Migration {
        dialect: d,
        steps: p.steps,
    }
}

fn drop_fk(ddl: &Ddl, t: &Table, name: &str) -> String {
    ddl.to.sql().drop_foreign_key(&ddl.qt(t), &ddl.q(name))
}

/// Tables ordered so that a table comes after the tables it references.
fn topo<'a>(tables: &[&'a Table]) -> Vec<&'a Table> {
    let mut out: Vec<&Table> = Vec::new();
    let mut left: Vec<&Table> = tables.to_vec();
    while !left.is_empty() {
        let names: BTreeSet<String> = left.iter().map(|t| t.qname()).collect();
        let pos = left
            .iter()
            .position(|t| {
                t.foreign_keys
                    .iter()
                    .all(|f| f.ref_qname() == t.qname() || !names.contains(&f.ref_qname()))
            })
            .unwrap_or(0); // a cycle: break it anywhere
        out.push(left.remove(pos));
    }
    out
}

fn changes_of<'a>(
    diff: &'a SchemaDiff,
    table: &'a str,
) -> impl Iterator<Item = &'a super::diff::Change> + 'a {
    diff.changes
        .iter()
        .filter(move |c| c.table.as_deref() == Some(table))
}

/// SQLite's ALTER TABLE can add a plain column, drop an unconstrained one, and
/// create/drop indexes; everything else needs a table rebuild.
fn sqlite_needs_rebuild(diff: &SchemaDiff, source: &Schema, target: &Schema, tq: &str) -> bool {
    let (Some(s), Some(t)) = (source.table(tq), target.table(tq)) else {
        return false;
    };
    for c in changes_of(diff, tq) {
        match (c.object, c.change) {
            (ObjectKind::Index, _) => {}
            (ObjectKind::Column, ChangeKind::Missing) => {
                let Some(col) = s.column(&c.name) else {
                    return true;
                };
                let in_key = s
                    .primary_key
                    .as_ref()
                    .is_some_and(|p| p.columns.contains(&col.name))
                    || s.uniques.iter().any(|u| u.columns.contains(&col.name))
                    || s.foreign_keys.iter().any(|f| f.columns.contains(&col.name))
                    || s.checks.iter().any(|k| k.expression.contains(&col.name));
                let dflt_ok = match &col.default {
                    None => col.nullable,
                    Some(d) => {
                        let u = d.to_uppercase();
                        !u.starts_with('(') && !u.starts_with("CURRENT_") && u != "NULL"
                    }
                };
                let gen_ok = col.generated.as_ref().is_none_or(|g| !g.stored);
                if in_key || !dflt_ok || !gen_ok || col.identity.is_some() {
                    return true;
                }
            }
            (ObjectKind::Column, ChangeKind::Extra) => {
                let name = &c.name;
                let constrained = t
                    .primary_key
                    .as_ref()
                    .is_some_and(|p| p.columns.contains(name))
                    || t.uniques.iter().any(|u| u.columns.contains(name))
                    || t.foreign_keys.iter().any(|f| f.columns.contains(name))
                    || t.checks
                        .iter()
                        .any(|k| k.expression.contains(name.as_str()))
                    || t.columns.iter().any(|x| {
                        x.generated
                            .as_ref()
                            .is_some_and(|g| g.expression.contains(name.as_str()))
                    })
                    || t.column(name).is_some_and(|x| x.generated.is_some());
                if constrained {
                    return true;
                }
            }
            _ => return true,
        }
    }
    false
}

fn column_hazards(
    p: &Planner,
    tq: &str,
    diff: &SchemaDiff,
    s: &Table,
    t: &Table,
) -> Vec<SchemaHazard> {
    let mut out = Vec::new();
    for c in changes_of(diff, tq).filter(|c| c.object == ObjectKind::Column) {
        let obj = format!("{tq}.{}", c.name);
        match (c.change, c.field.as_deref()) {
            (ChangeKind::Extra, _) => out.push(hz(
                "drop-column",
                &obj,
                format!(
                    "dropping column {obj} discards its data ({})",
                    p.rows_text(tq)
                ),
            )),
            (ChangeKind::Missing, _) => {
                if let Some(col) = s.column(&c.name)
                    && !col.nullable
                    && col.default.is_none()
                    && col.generated.is_none()
                    && col.identity.is_none()
                    && p.has_rows(tq)
                {
                    out.push(hz(
                        "not-null-without-default",
                        &obj,
                        format!(
                            "adding NOT NULL column {obj} without a default to a table with rows ({})",
                            p.rows_text(tq)
                        ),
                    ));
                }
            }
            (ChangeKind::Changed, Some("type")) => {
                if let (Some(sc), Some(tc)) = (s.column(&c.name), t.column(&c.name))
                    && !is_widening(&tc.normalized_type, &sc.normalized_type)
                {
                    out.push(hz(
                        "narrow-type",
                        &obj,
                        format!(
                            "changing {obj} from {} to {} can lose or reject values",
                            tc.engine_type, sc.engine_type
                        ),
                    ));
                }
            }
            (ChangeKind::Changed, Some("nullable")) => {
                if let Some(sc) = s.column(&c.name)
                    && !sc.nullable
                    && p.has_rows(tq)
                {
                    out.push(hz(
                        "not-null-without-default",
                        &obj,
                        format!(
                            "making {obj} NOT NULL on a table with rows ({}) fails if any row holds NULL",
                            p.rows_text(tq)
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether dropping an index/unique with `cols` leaves a foreign key of the table
/// without an index (its columns a prefix of no remaining index in the source table).
fn fk_index_hazard(
    p: &Planner,
    tq: &str,
    s: &Table,
    t: &Table,
    name: &str,
    cols: &[String],
) -> Option<SchemaHazard> {
    let covers = |idx: &[String], fk: &[String]| idx.len() >= fk.len() && idx[..fk.len()] == *fk;
    let fk = t.foreign_keys.iter().find(|f| {
        covers(cols, &f.columns) && s.foreign_keys.iter().any(|sf| sf.columns == f.columns)
    })?;
    let remaining = s
        .indexes
        .iter()
        .filter(|i| i.predicate.is_none())
        .map(|i| {
            i.columns
                .iter()
                .filter_map(|c| c.column.clone())
                .collect::<Vec<_>>()
        })
        .chain(s.uniques.iter().map(|u| u.columns.clone()))
        .chain(s.primary_key.iter().map(|k| k.columns.clone()))
        .any(|idx| covers(&idx, &fk.columns));
    let _ = p;
    (!remaining).then(|| {
        hz(
            "drop-fk-index",
            format!("{tq}.{name}"),
            format!(
                "dropping index {name} on {tq} leaves foreign key {} ({}) without an index",
                fk.name,
                fk.columns.join(", ")
            ),
        )
    })
}

fn alter_table(p: &mut Planner, diff: &SchemaDiff, s: &Table, t: &Table) {
    let tq = s.qname();
    let ddl = p.ddl;
    let d = p.d();
    let qt = ddl.qt(t);
    let changes: Vec<super::diff::Change> = changes_of(diff, &tq).cloned().collect();
    let gone = |kind: ObjectKind, c: &super::diff::Change| {
        c.object == kind && c.change != ChangeKind::Missing
    };
    let comes = |kind: ObjectKind, c: &super::diff::Change| {
        c.object == kind && c.change != ChangeKind::Extra
    };

    // drop indexes, uniques, checks, primary key that change (and checks and keys
    // that go away); indexes that go away are dropped after new ones exist, since
    // MySQL refuses to drop the index a foreign key uses until another covers it
    let drop_index_like = |p: &mut Planner, c: &super::diff::Change| {
        if c.object == ObjectKind::Index {
            let cols: Vec<String> = t
                .indexes
                .iter()
                .find(|i| i.name == c.name)
                .map(|i| i.columns.iter().filter_map(|x| x.column.clone()).collect())
                .unwrap_or_default();
            let h: Vec<_> = fk_index_hazard(p, &tq, s, t, &c.name, &cols)
                .into_iter()
                .collect();
            p.step(vec![ddl.drop_index(t, &c.name)], h);
        } else {
            let cols = t
                .uniques
                .iter()
                .find(|u| u.name == c.name)
                .map(|u| u.columns.clone())
                .unwrap_or_default();
            let h: Vec<_> = fk_index_hazard(p, &tq, s, t, &c.name, &cols)
                .into_iter()
                .collect();
            let sql = d.sql().drop_unique(&qt, &ddl.q(&c.name));
            p.step(vec![sql], h);
        }
    };
    for c in &changes {
        if (c.object == ObjectKind::Index || c.object == ObjectKind::Unique)
            && c.change == ChangeKind::Extra
        {
            continue;
        }
        if gone(ObjectKind::Index, c) || gone(ObjectKind::Unique, c) {
            drop_index_like(p, c);
        } else if gone(ObjectKind::Check, c) {
            p.one(format!(
                "ALTER TABLE {qt} DROP CONSTRAINT {}",
                ddl.q(&c.name)
            ));
        } else if gone(ObjectKind::PrimaryKey, c) {
            let name = t.primary_key.as_ref().and_then(|k| k.name.as_deref());
            let sql = d
                .sql()
                .drop_primary_key(&qt, name.map(|n| ddl.q(n)).as_deref());
            let h: Vec<_> = if d.sql().primary_key_change_rewrites() {
                p.rewrite_hazard(&tq, "dropping the primary key")
                    .into_iter()
                    .collect()
            } else {
                vec![]
            };
            p.step(vec![sql], h);
        }
    }

    // columns
    let hazards = column_hazards(p, &tq, diff, s, t);
    let hazards_for = |name: &str| -> Vec<SchemaHazard> {
        let obj = format!("{tq}.{name}");
        hazards
            .iter()
            .filter(|h| h.object == obj)
            .cloned()
            .collect()
    };
    for c in changes
        .iter()
        .filter(|c| c.object == ObjectKind::Column && c.change == ChangeKind::Missing)
    {
        let Some(col) = s.column(&c.name) else {
            continue;
        };
        let mut h = hazards_for(&c.name);
        let volatile = col
            .default
            .as_deref()
            .is_some_and(|x| x.contains('(') && !x.starts_with('\''))
            || col.generated.as_ref().is_some_and(|g| g.stored)
            || col.identity.is_some();
        if d.sql().computed_add_column_rewrites() && volatile {
            h.extend(p.rewrite_hazard(
                &tq,
                &format!("adding column {} with a computed value", c.name),
            ));
        }
        p.step(
            vec![format!(
                "ALTER TABLE {qt} ADD COLUMN {}",
                ddl.column_def(col, false)
            )],
            h,
        );
    }
    let changed_cols: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.object == ObjectKind::Column && c.change == ChangeKind::Changed)
        .map(|c| c.name.as_str())
        .collect();
    for name in changed_cols {
        let (Some(sc), Some(tc)) = (s.column(name), t.column(name)) else {
            continue;
        };
        let fields: BTreeSet<&str> = changes
            .iter()
            .filter(|c| {
                c.object == ObjectKind::Column && c.name == name && c.change == ChangeKind::Changed
            })
            .filter_map(|c| c.field.as_deref())
            .collect();
        let mut h = hazards_for(name);
        let qc = ddl.q(name);
        let mut sql = Vec::new();
        if d.sql().modify_column_restates() {
            if fields.iter().any(|f| *f != "default") {
                sql.push(format!(
                    "ALTER TABLE {qt} MODIFY COLUMN {}",
                    ddl.column_def(sc, false)
                ));
                h.extend(p.rewrite_hazard(&tq, &format!("changing column {name}")));
            } else {
                sql.push(match ddl.default_expr(sc) {
                    Some(x) => format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {x}"),
                    None => format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"),
                });
            }
        } else {
            if fields.contains("generated") {
                // PostgreSQL cannot change a generation expression in place
                sql.push(format!("ALTER TABLE {qt} DROP COLUMN {qc}"));
                sql.push(format!(
                    "ALTER TABLE {qt} ADD COLUMN {}",
                    ddl.column_def(sc, false)
                ));
                h.extend(p.rewrite_hazard(&tq, &format!("recomputing column {name}")));
                p.step(sql, h);
                continue;
            }
            if fields.contains("type") {
                let ty = ddl.column_type(sc);
                let cheap = is_widening(&tc.normalized_type, &sc.normalized_type)
                    && (sc.normalized_type.starts_with("varchar")
                        || sc.normalized_type == "text"
                        || sc.normalized_type.starts_with("decimal"));
                if tc.default.is_some() && !fields.contains("default") {
                    sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"));
                }
                sql.push(format!(
                    "ALTER TABLE {qt} ALTER COLUMN {qc} TYPE {ty} USING {qc}::{ty}"
                ));
                if tc.default.is_some()
                    && !fields.contains("default")
                    && let Some(x) = ddl.default_expr(sc)
                {
                    sql.push(format!(
                        "ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {x}"
                    ));
                }
                if !cheap {
                    h.extend(p.rewrite_hazard(&tq, &format!("changing the type of {name}")));
                }
            }
            if fields.contains("default") {
                sql.push(match ddl.default_expr(sc) {
                    Some(x) => format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {x}"),
                    None => format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"),
                });
            }
            if fields.contains("nullable") {
                sql.push(format!(
                    "ALTER TABLE {qt} ALTER COLUMN {qc} {} NOT NULL",
                    if sc.nullable { "DROP" } else { "SET" }
                ));
            }
            if fields.contains("identity") {
                match (tc.identity.as_deref(), sc.identity.as_deref()) {
                    (Some("serial"), _) | (None, Some("serial")) => {
                        if tc.identity.is_some() {
                            sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"));
                        }
                        if sc.identity.as_deref() == Some("serial") {
                            let seq = ddl.qn(&s.schema, &format!("{}_{}_seq", s.name, name));
                            sql.push(format!(
                                "CREATE SEQUENCE IF NOT EXISTS {seq} OWNED BY {qt}.{qc}"
                            ));
                            sql.push(format!(
                                "ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT nextval({})",
                                d.quote_literal(&seq)
                            ));
                        } else if let Some(k) = sc.identity.as_deref() {
                            sql.push(format!(
                                "ALTER TABLE {qt} ALTER COLUMN {qc} ADD GENERATED {} AS IDENTITY",
                                if k == "always" {
                                    "ALWAYS"
                                } else {
                                    "BY DEFAULT"
                                }
                            ));
                        }
                    }
                    (None, Some(k)) => sql.push(format!(
                        "ALTER TABLE {qt} ALTER COLUMN {qc} ADD GENERATED {} AS IDENTITY",
                        if k == "always" {
                            "ALWAYS"
                        } else {
                            "BY DEFAULT"
                        }
                    )),
                    (Some(_), None) => {
                        sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP IDENTITY"))
                    }
                    (Some(_), Some(k)) => sql.push(format!(
                        "ALTER TABLE {qt} ALTER COLUMN {qc} SET GENERATED {}",
                        if k == "always" {
                            "ALWAYS"
                        } else {
                            "BY DEFAULT"
                        }
                    )),
                    (None, None) => {}
                }
            }
        }
        p.step(sql, h);
    }
    for c in changes
        .iter()
        .filter(|c| c.object == ObjectKind::Column && c.change == ChangeKind::Extra)
    {
        let h = hazards_for(&c.name);
        p.step(
            vec![format!("ALTER TABLE {qt} DROP COLUMN {}", ddl.q(&c.name))],
            h,
        );
    }

    // add primary key, uniques, checks, indexes
    for c in &changes {
        if comes(ObjectKind::PrimaryKey, c) {
            if let Some(pk) = &s.primary_key {
                let h: Vec<_> = if d.sql().primary_key_change_rewrites() {
                    p.rewrite_hazard(&tq, "adding a primary key")
                        .into_iter()
                        .collect()
                } else {
                    vec![]
                };
                p.step(
                    vec![format!("ALTER TABLE {qt} ADD {}", ddl.pk_clause(pk))],
                    h,
                );
            }
        } else if comes(ObjectKind::Unique, c) {
            if let Some(u) = s.uniques.iter().find(|u| u.name == c.name) {
                p.one(format!("ALTER TABLE {qt} ADD {}", ddl.unique_clause(u)));
            }
        } else if comes(ObjectKind::Check, c) {
            if let Some(k) = s.checks.iter().find(|k| k.name == c.name) {
                p.one(format!("ALTER TABLE {qt} ADD {}", ddl.check_clause(k)));
            }
        } else if comes(ObjectKind::Index, c)
            && let Some(i) = s.indexes.iter().find(|i| i.name == c.name)
            && !(!d.sql().partial_indexes() && i.predicate.is_some())
        {
            p.one(ddl.create_index(t, i));
        }
    }
    for c in &changes {
        if (c.object == ObjectKind::Index || c.object == ObjectKind::Unique)
            && c.change == ChangeKind::Extra
        {
            drop_index_like(p, c);
        }
    }
}

/// SQLite: create the source's version of the table under a new name, copy the rows,
/// drop the old table, rename, then recreate its indexes (triggers come later).
fn sqlite_rebuild_table(p: &mut Planner, diff: &SchemaDiff, s: &Table, t: &Table) {
    let tq = s.qname();
    let ddl = p.ddl;
    let tmp = format!("_cutover_new_{}", s.name);
    let mut h = column_hazards(p, &tq, diff, s, t);
    h.extend(p.rewrite_hazard(&tq, "SQLite cannot alter this in place: rebuilding"));
    let cascades: Vec<String> = p
        .tgt
        .tables
        .iter()
        .filter(|o| {
            o.foreign_keys.iter().any(|f| {
                f.ref_qname() == tq && !matches!(f.on_delete.as_str(), "NO ACTION" | "RESTRICT")
            })
        })
        .map(|o| o.qname())
        .collect();
    if !cascades.is_empty() && !h.iter().any(|x| x.code == "table-rewrite") {
        h.push(hz(
            "table-rewrite",
            &tq,
            format!(
                "rebuilding {tq} deletes its rows once, which fires ON DELETE actions in {} unless PRAGMA foreign_keys is OFF outside a transaction",
                cascades.join(", ")
            ),
        ));
    }
    let common: Vec<&Column> = s
        .columns
        .iter()
        .filter(|c| {
            c.generated.is_none() && t.column(&c.name).is_some_and(|x| x.generated.is_none())
        })
        .collect();
    let cols = common
        .iter()
        .map(|c| ddl.q(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = vec![
        "PRAGMA defer_foreign_keys = ON".to_string(),
        ddl.create_table(s, Some(&tmp), true),
    ];
    if !common.is_empty() {
        sql.push(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            ddl.q(&tmp),
            ddl.qt(t)
        ));
    }
    sql.push(format!("DROP TABLE {}", ddl.qt(t)));
    sql.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        ddl.q(&tmp),
        ddl.q(&s.name)
    ));
    for i in &s.indexes {
        sql.push(ddl.create_index(s, i));
    }
    p.step(sql, h);
}
