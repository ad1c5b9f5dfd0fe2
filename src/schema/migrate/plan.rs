//! The migration plan: every change of the diff, in dependency order.

use super::alter::alter_table;
use super::rebuild::sqlite_rebuild_table;
use super::*;

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
        not_migrated: Vec::new(),
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
    let objs = CatalogChanges::new(source, target, diff);
    objs.early(&mut p, &["extension", "collation"]);
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
            Some(t) if !is_subsequence(&t.labels, &e.labels) => {
                // a label goes or moves: a new type, every column cast through text
                enum_rebuild(&mut p, target, e, t);
            }
            Some(t) if t.labels != e.labels => {
                // labels can be added in place
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
                        if let Some(s) = p.steps.last_mut() {
                            s.outside_transaction = true;
                        }
                    }
                    prev = Some(l);
                }
            }
            _ => {}
        }
    }
    objs.early(
        &mut p,
        &["domain", "domain constraint", "composite type", "routine"],
    );
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
    let mut views_to_drop: Vec<&View> = target
        .views
        .iter()
        .filter(|v| {
            recreate_all_views
                || view_changed.contains(&v.qname())
                || altered_tables.iter().any(|t| mentions(&v.definition, t))
        })
        .collect();
    // views on those views go (and come back) with them
    loop {
        let more: Vec<&View> = target
            .views
            .iter()
            .filter(|v| !views_to_drop.iter().any(|d| d.qname() == v.qname()))
            .filter(|v| {
                views_to_drop
                    .iter()
                    .any(|d| mentions(&v.definition, &d.qname()))
            })
            .collect();
        if more.is_empty() {
            break;
        }
        views_to_drop.extend(more);
    }
    // dependents first
    let mut left: Vec<&View> = views_to_drop.clone();
    while !left.is_empty() {
        let pos = left
            .iter()
            .position(|v| {
                !left
                    .iter()
                    .any(|o| o.qname() != v.qname() && mentions(&o.definition, &v.qname()))
            })
            .unwrap_or(0);
        let v = left.remove(pos);
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

    objs.drop_late(&mut p);

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
    let same_engine = source.dialect == target.dialect;
    let inherited = |t: &Table| {
        source
            .objects
            .iter()
            .filter(|_| same_engine)
            .find(|o| o.kind == "inheritance" && o.table.as_deref() == Some(t.qname().as_str()))
    };
    for t in topo(&missing_tables) {
        let mut sql = match inherited(t) {
            // a child is created with its own columns and INHERITS, as its parents give the rest
            Some(inh) => {
                let parents: Vec<&Table> = inh
                    .definition
                    .split(", ")
                    .filter_map(|n| source.table(n))
                    .collect();
                let mut own = t.clone();
                own.columns
                    .retain(|c| !parents.iter().any(|p| p.column(&c.name).is_some()));
                let mut sql = ddl.create_table(&own, None, rebuilds);
                sql.push_str(&format!(
                    " INHERITS ({})",
                    parents
                        .iter()
                        .map(|p| ddl.qt(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                sql
            }
            None => ddl.create_table(t, None, rebuilds),
        };
        if let Some(key) =
            source.objects.iter().filter(|_| same_engine).find(|o| {
                o.kind == "partition key" && o.table.as_deref() == Some(t.qname().as_str())
            })
        {
            sql.push_str(&format!(" PARTITION BY {}", key.definition));
        }
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
                    "ALTER TABLE {} ADD {}{}",
                    ddl.qt(s),
                    ddl.fk_clause(f),
                    not_valid(source, &s.qname(), &f.name)
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
        p.linked(
            vec![format!("DROP TABLE {}", ddl.qt(t))],
            vec![h],
            vec![format!("drop:{q}")],
            vec![],
        );
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
        // a view replacing a table that is held back cannot be created either
        p.linked(
            vec![ddl.create_view(v)],
            vec![],
            vec![],
            vec![format!("drop:{}", v.qname())],
        );
    }
    let recreated_views: BTreeSet<String> = source
        .views
        .iter()
        .filter(|v| views_to_drop.iter().any(|t| t.qname() == v.qname()))
        .map(|v| v.qname())
        .collect();

    // 9. triggers
    for t in &source.triggers {
        let changed = diff.changes.iter().any(|c| {
            c.object == ObjectKind::Trigger && c.change != ChangeKind::Extra && c.name == t.qname()
        });
        let rebuilt =
            sqlite_rebuild.contains(&t.table_qname()) || recreated_views.contains(&t.table_qname());
        if (changed || rebuilt) && source.dialect == d {
            p.one(t.definition.trim().trim_end_matches(';').to_string());
        }
    }

    // 9b. catalog objects: of new tables, of recreated views, and those that differ
    let new_tables: BTreeSet<String> = missing_tables.iter().map(|t| t.qname()).collect();
    objs.late(&mut p, &new_tables, &recreated_views);

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
    objs.drop_early(&mut p);
    for c in by(ObjectKind::Schema, ChangeKind::Extra) {
        // not while anything in it stays (a held-back DROP TABLE keeps its table)
        let inside = |s: &Option<String>| s.as_deref() == Some(c.name.as_str());
        let needs = target
            .tables
            .iter()
            .filter(|t| inside(&t.schema))
            .map(|t| format!("drop:{}", t.qname()))
            .collect();
        p.linked(
            vec![format!("DROP SCHEMA {}", ddl.q(&c.name))],
            vec![],
            vec![],
            needs,
        );
    }

    let _ = p.src;
    Migration {
        dialect: d,
        steps: p.steps,
        not_migrated: p.not_migrated,
    }
}

pub(super) fn drop_fk(ddl: &Ddl, t: &Table, name: &str) -> String {
    ddl.to.sql().drop_foreign_key(&ddl.qt(t), &ddl.q(name))
}

/// Tables ordered so that a table comes after the tables it references.
pub(super) fn topo<'a>(tables: &[&'a Table]) -> Vec<&'a Table> {
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

pub(super) fn changes_of<'a>(
    diff: &'a SchemaDiff,
    table: &'a str,
) -> impl Iterator<Item = &'a Change> + 'a {
    diff.changes
        .iter()
        .filter(move |c| c.table.as_deref() == Some(table))
}

/// SQLite's ALTER TABLE can add a plain column, drop an unconstrained one, and
/// create/drop indexes; everything else needs a table rebuild.
pub(super) fn sqlite_needs_rebuild(
    diff: &SchemaDiff,
    source: &Schema,
    target: &Schema,
    tq: &str,
) -> bool {
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

/// Whether `a`'s labels appear in `b` in the same order (so `b` adds only).
fn is_subsequence(a: &[String], b: &[String]) -> bool {
    let mut it = b.iter();
    a.iter().all(|x| it.any(|y| y == x))
}

/// A PostgreSQL enum that loses or reorders labels: rename the old type, create the
/// new one, cast every column through text, drop the old type. A row holding a label
/// that goes makes the cast fail (and, in the plan's transaction, nothing changes).
fn enum_rebuild(p: &mut Planner, target: &Schema, e: &EnumType, t: &EnumType) {
    let ddl = p.ddl;
    let d = p.d();
    let qn = ddl.qn(&e.schema, &e.name);
    let old_name = format!("{}__cutover_old", e.name);
    let labels = e
        .labels
        .iter()
        .map(|x| d.quote_literal(x))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = vec![
        format!("ALTER TYPE {qn} RENAME TO {}", ddl.q(&old_name)),
        format!("CREATE TYPE {qn} AS ENUM ({labels})"),
    ];
    let bare = |s: &str| {
        s.rsplit('.')
            .next()
            .unwrap_or(s)
            .trim_matches('"')
            .to_string()
    };
    for tab in &target.tables {
        for c in &tab.columns {
            if c.normalized_type.starts_with("enum(") && bare(&c.engine_type) == e.name {
                let qc = ddl.q(&c.name);
                let qt = ddl.qt(tab);
                if c.default.is_some() {
                    sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"));
                }
                sql.push(format!(
                    "ALTER TABLE {qt} ALTER COLUMN {qc} TYPE {qn} USING {qc}::text::{qn}"
                ));
                if let Some(x) = &c.default {
                    let x = x.replace(&format!("::{}", e.name), &format!("::{qn}"));
                    sql.push(format!(
                        "ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {x}"
                    ));
                }
            }
        }
    }
    let schema_prefix = e
        .schema
        .as_ref()
        .map(|s| format!("{}.", ddl.q(s)))
        .unwrap_or_default();
    sql.push(format!("DROP TYPE {schema_prefix}{}", ddl.q(&old_name)));
    let gone: Vec<&String> = t.labels.iter().filter(|l| !e.labels.contains(l)).collect();
    let h = hz(
        "enum-label-removed",
        e.qname(),
        if gone.is_empty() {
            format!(
                "the labels of enum {} are reordered: the type is recreated and every column using it cast through text",
                e.qname()
            )
        } else {
            format!(
                "enum {} loses {}: rows holding them make the change fail; the type is recreated and every column using it cast through text",
                e.qname(),
                gone.iter()
                    .map(|l| format!("'{l}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    );
    p.step(sql, vec![h]);
}

/// The changed catalog objects (extensions, domains, policies, grants, ...), planned
/// with the statements introspection read for them.
struct CatalogChanges<'a> {
    source: &'a Schema,
    target: &'a Schema,
    changes: Vec<&'a Change>,
    all: &'a [Change],
}

/// Kinds whose removal follows from another change (the sequence, the table, the
/// constraint goes): an extra one needs no statement of its own.
const ATTRIBUTE_KINDS: &[&str] = &[
    "sequence option",
    "identity option",
    "table option",
    "constraint option",
    "partition key",
];

/// The order late objects are created in.
const LATE_KINDS: &[&str] = &[
    "partition",
    "inheritance",
    "partitioning",
    "table option",
    "column collation",
    "exclusion constraint",
    "constraint option",
    "identity option",
    "sequence option",
    "materialized view index",
    "row level security",
    "policy",
    "event",
    "comment",
    "grant",
];

impl<'a> CatalogChanges<'a> {
    fn new(source: &'a Schema, target: &'a Schema, diff: &'a SchemaDiff) -> Self {
        let catalog = |c: &&Change| {
            source.objects.iter().chain(&target.objects).any(|o| {
                ObjectKind::of_catalog(&o.kind) == c.object
                    && o.name == c.name
                    && o.table == c.table
            })
        };
        CatalogChanges {
            source,
            target,
            changes: diff.changes.iter().filter(catalog).collect(),
            all: &diff.changes,
        }
    }
    /// Catalog objects carry one engine's statements: across engines they are
    /// reported (not compared), never migrated.
    fn cross(&self) -> bool {
        self.source.dialect != self.target.dialect
    }
    fn find(s: &'a Schema, c: &Change) -> Option<&'a CatalogObject> {
        s.objects.iter().find(|o| {
            ObjectKind::of_catalog(&o.kind) == c.object && o.name == c.name && o.table == c.table
        })
    }
    fn describe(c: &Change) -> String {
        format!(
            "{} {} is {} (cutover has no statement for that)",
            c.object.label(),
            c.path(),
            match c.change {
                ChangeKind::Missing => "missing in target",
                ChangeKind::Extra => "extra in target",
                ChangeKind::Changed => "different",
            }
        )
    }

    /// Create (or replace) early objects of the given kinds, in that order.
    fn early(&self, p: &mut Planner, kinds: &[&str]) {
        if self.cross() {
            return;
        }
        for k in kinds {
            for c in &self.changes {
                let Some(so) = Self::find(self.source, c) else {
                    continue;
                };
                if so.kind != *k || !so.early {
                    continue;
                }
                if c.change == ChangeKind::Changed && so.kind == "extension" {
                    let ver = so
                        .definition
                        .strip_prefix("VERSION ")
                        .and_then(|r| r.split(" SCHEMA ").next())
                        .unwrap_or("");
                    p.one(format!(
                        "ALTER EXTENSION {} UPDATE TO {}",
                        p.ddl.q(&so.name),
                        p.d().quote_literal(ver)
                    ));
                    continue;
                }
                if so.create.is_empty() {
                    p.not_migrated.push(Self::describe(c));
                    continue;
                }
                let mut sql = Vec::new();
                if c.change == ChangeKind::Changed
                    && let Some(to) = Self::find(self.target, c)
                {
                    sql.extend(to.drop.iter().cloned());
                }
                sql.extend(so.create.iter().cloned());
                p.step(sql, vec![]);
            }
        }
    }

    /// Early objects the source no longer has, last kinds first.
    fn drop_early(&self, p: &mut Planner) {
        if self.cross() {
            return;
        }
        for c in self.changes.iter().rev() {
            if c.change != ChangeKind::Extra {
                continue;
            }
            let Some(to) = Self::find(self.target, c) else {
                continue;
            };
            if !to.early {
                continue;
            }
            if to.drop.is_empty() {
                p.not_migrated.push(Self::describe(c));
            } else {
                p.step(to.drop.clone(), vec![]);
            }
        }
    }

    /// Late objects that go or change are removed before the tables change.
    fn drop_late(&self, p: &mut Planner) {
        if self.cross() {
            return;
        }
        for c in &self.changes {
            if c.change == ChangeKind::Missing {
                continue;
            }
            let Some(to) = Self::find(self.target, c) else {
                continue;
            };
            if to.early || (c.change == ChangeKind::Changed && to.drop.is_empty()) {
                continue;
            }
            if to.drop.is_empty() {
                if !ATTRIBUTE_KINDS.contains(&to.kind.as_str()) {
                    p.not_migrated.push(Self::describe(c));
                }
                continue;
            }
            let hazards = if to.kind == "partition" {
                vec![hz(
                    "drop-table",
                    &to.name,
                    format!("dropping partition {} discards its rows", to.name),
                )]
            } else {
                vec![]
            };
            let provides = vec![format!("drop:{}", to.name)];
            p.linked(to.drop.clone(), hazards, provides, vec![]);
        }
    }

    /// Late objects: those that differ, and every one of a new table or a recreated view.
    fn late(&self, p: &mut Planner, new_tables: &BTreeSet<String>, views: &BTreeSet<String>) {
        if self.cross() {
            return;
        }
        for k in LATE_KINDS {
            for so in self
                .source
                .objects
                .iter()
                .filter(|o| o.kind == *k && !o.early)
            {
                let change = self.changes.iter().find(|c| {
                    ObjectKind::of_catalog(&so.kind) == c.object
                        && c.name == so.name
                        && c.table == so.table
                        && c.change != ChangeKind::Extra
                });
                let owner_new = so
                    .table
                    .as_ref()
                    .is_some_and(|t| new_tables.contains(t) || views.contains(t));
                if change.is_none() && !owner_new {
                    continue;
                }
                if so.kind == "partition key"
                    || (so.kind == "inheritance"
                        && so.table.as_ref().is_some_and(|t| new_tables.contains(t)))
                {
                    continue;
                }
                // NOT VALID on a constraint the plan adds is said in its ADD
                if so.kind == "constraint option"
                    && so.create.is_empty()
                    && self.all.iter().any(|c| {
                        matches!(c.object, ObjectKind::Check | ObjectKind::ForeignKey)
                            && c.table == so.table
                            && c.name == so.name
                            && c.change != ChangeKind::Extra
                    })
                {
                    continue;
                }
                if so.create.is_empty() {
                    let what = match change {
                        Some(c) => Self::describe(c),
                        None => format!(
                            "{} {} of {}",
                            so.kind,
                            so.name,
                            so.table.clone().unwrap_or_default()
                        ),
                    };
                    p.not_migrated.push(what);
                    continue;
                }
                p.step(so.create.clone(), vec![]);
            }
        }
        // a partition key on a table both sides have cannot be added or removed in place
        for c in &self.changes {
            if c.object == ObjectKind::PartitionKey {
                p.not_migrated.push(Self::describe(c));
            }
        }
    }
}

/// ` NOT VALID` when the source has the constraint unvalidated (PostgreSQL).
pub(super) fn not_valid(source: &Schema, table: &str, name: &str) -> &'static str {
    let unvalidated = source.objects.iter().any(|o| {
        o.kind == "constraint option"
            && o.table.as_deref() == Some(table)
            && o.name == name
            && o.definition.contains("NOT VALID")
    });
    if unvalidated { " NOT VALID" } else { "" }
}
