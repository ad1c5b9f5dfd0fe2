//! Syncing several tables as one change that respects foreign keys.
//!
//! Every table is diffed first; then the statements are applied in one transaction (or
//! committed per batch) in an order no foreign key can object to at any point: inserts
//! and updates parents before children, then deletes children before parents. So a
//! parent row deleted while its children move to another (perhaps new) parent works in
//! any order the tables are listed: the new parent is inserted, the children are
//! updated to point at it, and only then is the old parent deleted. Every table is
//! diffed again afterwards; a table still different is a failed check.
//!
//! Parents and children come from the target's declared foreign keys among the tables
//! synced. Foreign keys that form a cycle, and rows of one table referring to other rows
//! of the same table, keep the order given (and the diff's order inside a table): the
//! notes say so.

use super::apply::{Applied, apply, statements_for};
use super::diff::{DiffSink, Difference, Summary, diff};
use super::plan::{DiffOptions, Plan, build_plan};
use super::reconcile::SampleSink;
use crate::db::{Db, Statement};
use crate::error::Result;
use crate::vocab::Progress;

/// The order tables are written in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteOrder {
    /// Indexes into the tables given, parents first.
    pub parents_first: Vec<usize>,
    /// What the order could not honour (cycles, self-references).
    pub notes: Vec<String>,
}

fn last_part(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn schema_part(name: &str) -> Option<&str> {
    name.rsplit_once('.').map(|(s, _)| s)
}

/// Does the listed table `name` denote the table `(schema, table)`?
fn names(name: &str, schema: Option<&str>, table: &str) -> bool {
    let same_schema = match (schema_part(name), schema) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    same_schema && last_part(name).eq_ignore_ascii_case(table)
}

/// Order `tables` (their names on the target) parents first, from the target's
/// foreign keys. Stable: tables unrelated by foreign keys keep the order given.
pub async fn write_order(target: &Db, tables: &[String]) -> Result<WriteOrder> {
    let n = tables.len();
    // parents[i]: the listed tables table i refers to (itself excluded)
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut notes = Vec::new();
    if n > 1 {
        let schema = target.dialect().sql().introspect(target).await?;
        for (i, name) in tables.iter().enumerate() {
            let Some(t) = schema
                .tables
                .iter()
                .find(|t| names(name, t.schema.as_deref(), &t.name))
            else {
                continue;
            };
            for fk in &t.foreign_keys {
                let refs = fk.ref_schema.as_deref().or(t.schema.as_deref());
                for (j, other) in tables.iter().enumerate() {
                    if names(other, refs, &fk.ref_table) {
                        if i == j {
                            notes.push(format!(
                                "{name} refers to itself ({}): its own rows are written in the diff's order",
                                fk.name
                            ));
                        } else if !parents[i].contains(&j) {
                            parents[i].push(j);
                        }
                    }
                }
            }
        }
    } else if n == 1 {
        return Ok(WriteOrder {
            parents_first: vec![0],
            notes,
        });
    }
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let ready = (0..n).find(|&i| !placed[i] && parents[i].iter().all(|&p| placed[p]));
        let next = match ready {
            Some(i) => i,
            None => {
                let stuck: Vec<&str> = (0..n)
                    .filter(|&i| !placed[i])
                    .map(|i| tables[i].as_str())
                    .collect();
                notes.push(format!(
                    "foreign keys form a cycle among {}: written in the order given",
                    stuck.join(", ")
                ));
                (0..n).find(|&i| !placed[i]).expect("a table is left")
            }
        };
        placed[next] = true;
        order.push(next);
    }
    Ok(WriteOrder {
        parents_first: order,
        notes,
    })
}

/// Keeps one table's statements apart by what they do: inserts and updates (written
/// parents first) and deletes (written children first); and the first differences.
struct DeltaSink {
    dialect: crate::db::Dialect,
    upserts: Vec<String>,
    deletes: Vec<String>,
    inserted: u64,
    updated: u64,
    deleted: u64,
    sample: SampleSink,
}

impl DiffSink for DeltaSink {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        let sts = statements_for(self.dialect, plan, &d);
        match &d {
            Difference::OnlyInSource { .. } => {
                self.inserted += sts.len() as u64;
                self.upserts.extend(sts);
            }
            Difference::Changed { .. } => {
                self.updated += 1;
                self.upserts.extend(sts);
            }
            Difference::OnlyInTarget { count, .. } => {
                self.deleted += count;
                self.deletes.extend(sts);
            }
        }
        self.sample.difference(plan, d)
    }
}

/// One table of a sync.
#[derive(Debug, Clone)]
pub struct TableOutcome {
    /// The table as given (its name on the source).
    pub table: String,
    pub before: Summary,
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
    /// The diff after applying.
    pub after: Summary,
    /// The first differences found before applying, as `data::output::difference_json`.
    pub samples: Vec<serde_json::Value>,
}

/// What syncing the tables did.
#[derive(Debug, Clone)]
pub struct ManyOutcome {
    /// Per table, in the order given.
    pub tables: Vec<TableOutcome>,
    /// The tables as written: inserts and updates in this order, deletes in reverse.
    pub order: Vec<String>,
    pub notes: Vec<String>,
    pub applied: Applied,
    /// Set when a table still differs after applying.
    pub failure: Option<String>,
}

/// Diff every table, apply all the statements in foreign-key order (one transaction,
/// or committed per batch), and diff every table again. Nothing is applied when a diff
/// fails; an error applying rolls back everything not yet committed.
pub async fn sync_tables(
    source: &Db,
    target: &Db,
    tables: &[DiffOptions],
    batch_size: usize,
    batch_commit: bool,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ManyOutcome> {
    let names: Vec<String> = tables
        .iter()
        .map(|o| o.target_table.clone().unwrap_or_else(|| o.table.clone()))
        .collect();
    let order = write_order(target, &names).await?;
    let mut deltas = Vec::with_capacity(tables.len());
    for opts in tables {
        let plan = build_plan(source, target, opts)
            .await
            .map_err(|e| e.context(format!("table {}", opts.table)))?;
        let mut sink = DeltaSink {
            dialect: target.dialect(),
            upserts: Vec::new(),
            deletes: Vec::new(),
            inserted: 0,
            updated: 0,
            deleted: 0,
            sample: SampleSink::new(20),
        };
        let before = diff(source, target, plan, &mut sink, progress)
            .await
            .map_err(|e| e.context(format!("table {}", opts.table)))?;
        deltas.push((before, sink));
    }
    let mut statements: Vec<Statement> = Vec::new();
    let mut push = |sql: &mut Vec<String>| {
        for s in sql.drain(..) {
            let line = statements.len() + 1;
            statements.push(Statement { sql: s, line });
        }
    };
    for &i in &order.parents_first {
        push(&mut deltas[i].1.upserts);
    }
    for &i in order.parents_first.iter().rev() {
        push(&mut deltas[i].1.deletes);
    }
    let applied = apply(target, &statements, batch_size, batch_commit).await?;
    drop(statements);
    let mut out = Vec::with_capacity(tables.len());
    let mut failure = None;
    for (opts, (before, sink)) in tables.iter().zip(deltas) {
        let plan = build_plan(source, target, opts).await?;
        let after = diff(source, target, plan, &mut SampleSink::new(0), progress).await?;
        if !after.equal() && failure.is_none() {
            failure = Some(format!(
                "after applying {} statements, {} → {} still differs: only in source {}, only in target {}, changed {}",
                applied.statements,
                after.source_table,
                after.target_table,
                after.only_in_source,
                after.only_in_target,
                after.changed
            ));
        }
        out.push(TableOutcome {
            table: opts.table.clone(),
            before,
            inserts: sink.inserted,
            updates: sink.updated,
            deletes: sink.deleted,
            after,
            samples: sink.sample.samples,
        });
    }
    Ok(ManyOutcome {
        order: order
            .parents_first
            .iter()
            .map(|&i| tables[i].table.clone())
            .collect(),
        notes: order.notes,
        tables: out,
        applied,
        failure,
    })
}
