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

use super::apply::{Applied, apply_each, statements_for};
use super::diff::{DiffSink, Difference, Summary, diff};
use super::plan::{DiffOptions, Plan, build_plan};
use super::reconcile::SampleSink;
use super::spool::{Spool, read_all};
use super::sync_record::SyncRecords;
use crate::db::Db;
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

/// Keeps one table's statements apart by what they do, each kind spooled to its own
/// file as found: inserts and updates (written parents first) and deletes (written
/// children first); and the first differences.
struct DeltaSink {
    dialect: crate::db::Dialect,
    upserts: Spool,
    deletes: Spool,
    inserted: u64,
    updated: u64,
    deleted: u64,
    sample: SampleSink,
    /// The table's name as given, and the deltas-table rows of its differences (one
    /// spool for every table's, handed from table to table: they are diffed in the
    /// order given, the order those rows are written in).
    table: String,
    records: Option<SyncRecords>,
    recorded: Spool,
    seq: u64,
}

impl DiffSink for DeltaSink {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        let sts = statements_for(self.dialect, plan, &d);
        if let Some(r) = &self.records {
            for s in r.delta_statements(self.dialect, &self.table, plan, &d, &mut self.seq) {
                self.recorded.push(&s.sql)?;
            }
        }
        let spool = match &d {
            Difference::OnlyInSource { .. } => {
                self.inserted += sts.len() as u64;
                &mut self.upserts
            }
            Difference::Changed { .. } => {
                self.updated += 1;
                &mut self.upserts
            }
            Difference::OnlyInTarget { count, .. } => {
                self.deleted += count;
                &mut self.deletes
            }
        };
        for s in &sts {
            spool.push(s)?;
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
    /// Rows written to the deltas table (0 without one).
    pub deltas_recorded: u64,
}

/// Diff every table, apply all the statements in foreign-key order (one transaction,
/// or committed per batch), and diff every table again. Nothing is applied when a diff
/// fails; an error applying rolls back everything not yet committed.
///
/// With `records`, the sync also writes its log and deltas rows (see `sync_record.rs`)
/// after the changes, in the same transaction (with `batch_commit`, in the last
/// batches), and settles each log row once its table was diffed again.
pub async fn sync_tables(
    source: &Db,
    target: &Db,
    tables: &[DiffOptions],
    batch_size: usize,
    batch_commit: bool,
    records: Option<&SyncRecords>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ManyOutcome> {
    if let Some(r) = records {
        r.ensure_tables(target).await?;
    }
    let mut seq = 0u64;
    let names: Vec<String> = tables
        .iter()
        .map(|o| o.target_table.clone().unwrap_or_else(|| o.table.clone()))
        .collect();
    let order = write_order(target, &names).await?;
    let mut deltas = Vec::with_capacity(tables.len());
    let mut recorded = Spool::temp();
    for opts in tables {
        let plan = build_plan(source, target, opts)
            .await
            .map_err(|e| e.context(format!("table {}", opts.table)))?;
        let mut sink = DeltaSink {
            dialect: target.dialect(),
            upserts: Spool::temp(),
            deletes: Spool::temp(),
            inserted: 0,
            updated: 0,
            deleted: 0,
            sample: SampleSink::new(20),
            table: opts.table.clone(),
            records: records.cloned(),
            recorded,
            seq,
        };
        let before = diff(source, target, plan, &mut sink, progress)
            .await
            .map_err(|e| e.context(format!("table {}", opts.table)))?;
        seq = sink.seq;
        recorded = std::mem::replace(&mut sink.recorded, Spool::temp());
        sink.upserts.seal()?;
        sink.deletes.seal()?;
        deltas.push((before, sink));
    }
    recorded.seal()?;
    // the records go last: they commit with (or after) the changes they describe
    let deltas_recorded = recorded.len();
    let mut logs = Vec::new();
    if let Some(r) = records {
        for (n, (_, sink)) in deltas.iter().enumerate() {
            let counts = (sink.inserted, sink.updated, sink.deleted);
            if let Some(s) = r.log_statement(target.dialect(), n as u64 + 1, &sink.table, counts) {
                logs.push(Ok(s.sql));
            }
        }
    }
    let recorded_rows = deltas_recorded + logs.len() as u64;
    let mut spools: Vec<&Spool> = Vec::with_capacity(2 * deltas.len() + 1);
    spools.extend(order.parents_first.iter().map(|&i| &deltas[i].1.upserts));
    spools.extend(
        order
            .parents_first
            .iter()
            .rev()
            .map(|&i| &deltas[i].1.deletes),
    );
    spools.push(&recorded);
    let statements = read_all(spools).chain(logs);
    let mut applied = apply_each(target, statements, batch_size, batch_commit).await?;
    // the records' own rows are not rows the sync changed
    applied.statements -= recorded_rows;
    applied.rows_affected = applied.rows_affected.saturating_sub(recorded_rows);
    drop(recorded);
    let mut out = Vec::with_capacity(tables.len());
    let mut failure = None;
    for (n, (opts, (before, sink))) in tables.iter().zip(deltas).enumerate() {
        let plan = build_plan(source, target, opts).await?;
        let after = diff(source, target, plan, &mut SampleSink::new(0), progress).await?;
        if let Some(r) = records {
            r.settle(target, n as u64 + 1, after.target_rows, after.equal())
                .await?;
        }
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
        deltas_recorded,
    })
}
