//! Catalog objects in the plan (extensions, domains, policies, grants, comments,
//! partitions, ...) and the PostgreSQL enum rebuild: planned with the statements
//! introspection read for them.

use super::*;

/// A PostgreSQL enum that loses or reorders labels: rename the old type, create the
/// new one, cast every column through text, drop the old type. A row holding a label
/// that goes makes the cast fail (and, in the plan's transaction, nothing changes).
pub(super) fn enum_rebuild(p: &mut Planner, target: &Schema, e: &EnumType, t: &EnumType) {
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
pub(super) struct CatalogChanges<'a> {
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
    pub(super) fn new(source: &'a Schema, target: &'a Schema, diff: &'a SchemaDiff) -> Self {
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
    pub(super) fn cross(&self) -> bool {
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
    pub(super) fn early(&self, p: &mut Planner, kinds: &[&str]) {
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
    pub(super) fn drop_early(&self, p: &mut Planner) {
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
    pub(super) fn drop_late(&self, p: &mut Planner) {
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
    pub(super) fn late(
        &self,
        p: &mut Planner,
        new_tables: &BTreeSet<String>,
        views: &BTreeSet<String>,
    ) {
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
