//! Schemas: introspection of SQLite, PostgreSQL and MySQL/MariaDB into one normalized
//! model, object-by-object diffs with documented cross-engine equivalences, generated
//! migrations with hazards, and snapshots for drift detection.
//!
//! - [`model`]: the normalized model; [`introspect`] reads it from a database.
//! - [`diff::diff`]: compare a source (wanted) with a target (actual).
//! - [`migrate::plan`]: the DDL that brings the target to the source, with hazards.
//! - [`snapshot`]: schema + row counts + content fingerprints in a stable JSON file.
//! - [`report`]: text and JSON renderings of a comparison.

pub mod ddl;
pub mod diff;
pub mod lint;
pub mod migrate;
pub mod model;
pub mod report;
pub mod snapshot;
pub mod types;

pub use diff::{Change, ChangeKind, ObjectKind, SchemaDiff};
pub use migrate::{Migration, PlanOptions, RowCounts, SchemaHazard};
pub use model::*;

use crate::db::{self, Db, Value};
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::Path;

/// cutover's own bookkeeping tables, left out of every schema unless asked for.
pub const BOOKKEEPING_TABLES: &[&str] = &[
    "cutover_marks",
    "cutover_anchors",
    "cutover_locks",
    "cutover_copy_progress",
    // backfill's and consolidate's high-water marks (steps::batch::PROGRESS_TABLE):
    // their rows carry run ids, like the marks.
    "cutover_batch_progress",
    "refinery_schema_history",
];

/// Read the schema of a database.
pub async fn introspect(db: &Db) -> Result<Schema> {
    let r = db.dialect().sql().introspect(db).await;
    r.map_err(|e| e.context(format!("reading the schema of {}", db.redacted_url())))
}

/// Which objects take part: `--include` / `--exclude` glob patterns (`*`, `?`) on
/// object names (`users`, `audit_*`, `billing.*`), plus the bookkeeping tables.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Keep the bookkeeping tables ([`BOOKKEEPING_TABLES`]).
    pub keep_bookkeeping: bool,
}

/// Glob match with `*` (any run) and `?` (one character).
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

impl Filter {
    pub fn new(include: Vec<String>, exclude: Vec<String>) -> Filter {
        Filter {
            include,
            exclude,
            keep_bookkeeping: false,
        }
    }

    /// Whether an object named `qname` (maybe `schema.name`) takes part.
    pub fn matches(&self, qname: &str) -> bool {
        let bare = qname.rsplit('.').next().unwrap_or(qname);
        let hit = |p: &String| glob(p, qname) || glob(p, bare);
        if !self.keep_bookkeeping && BOOKKEEPING_TABLES.contains(&bare) {
            return false;
        }
        // An excluded schema takes everything in it along.
        if let Some((ns, _)) = qname.split_once('.')
            && self.excludes_schema(ns)
        {
            return false;
        }
        if !self.include.is_empty() && !self.include.iter().any(hit) {
            return false;
        }
        !self.exclude.iter().any(hit)
    }

    /// Whether `--exclude` names the schema (namespace) `ns` itself.
    pub fn excludes_schema(&self, ns: &str) -> bool {
        self.exclude.iter().any(|p| glob(p, ns))
    }

    /// Whether a catalog object's label names an excluded schema: `on schema s to x`,
    /// or a qualified `s.name` (a grant on a routine, a domain, a collation).
    fn names_excluded_schema(&self, label: &str) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let words: Vec<&str> = label.split_whitespace().collect();
        words.iter().enumerate().any(|(i, w)| {
            let ns = if i > 0 && words[i - 1] == "schema" {
                Some(*w)
            } else {
                w.split_once('.').map(|(ns, _)| ns)
            };
            ns.is_some_and(|ns| self.excludes_schema(ns))
        })
    }

    pub fn apply(&self, s: &mut Schema) {
        s.tables.retain(|t| self.matches(&t.qname()));
        s.views.retain(|v| self.matches(&v.qname()));
        s.triggers.retain(|t| self.matches(&t.table_qname()));
        s.sequences.retain(|q| self.matches(&q.qname()));
        s.enums.retain(|e| self.matches(&e.qname()));
        s.functions
            .retain(|f| self.matches(&model::qualified(&f.schema, &f.name)));
        s.objects.retain(|o| match &o.table {
            Some(t) => self.matches(t),
            None => self.matches(&o.name) && !self.names_excluded_schema(&o.name),
        });
        // Schemas (namespaces): an excluded one goes; with --include, one stays when
        // its name is included or something included lives in it.
        let lives_in = |ns: &str, s: &Schema| {
            let ns = Some(ns.to_string());
            s.tables.iter().any(|t| t.schema == ns)
                || s.views.iter().any(|v| v.schema == ns)
                || s.sequences.iter().any(|q| q.schema == ns)
                || s.enums.iter().any(|e| e.schema == ns)
                || s.functions.iter().any(|f| f.schema == ns)
        };
        let keep: Vec<String> = s
            .schemas
            .iter()
            .filter(|ns| !self.excludes_schema(ns))
            .filter(|ns| {
                self.include.is_empty()
                    || self.include.iter().any(|p| glob(p, ns))
                    || lives_in(ns, s)
            })
            .cloned()
            .collect();
        s.schemas = keep;
        if !self.include.is_empty() {
            // uncovered kinds cannot be told apart by name: an --include selection leaves them out
            s.unmodelled.clear();
        }
    }
}

/// A schema to compare: from a live database or a snapshot file.
pub struct Loaded {
    /// What to call it in output: the redacted URL or the file path.
    pub label: String,
    pub schema: Schema,
    /// Row counts when known without asking (snapshots).
    pub rows: Option<RowCounts>,
    pub db: Option<Db>,
}

/// Whether a `--source`/`--target` argument is a database URL (else a snapshot file).
pub fn is_url(arg: &str) -> bool {
    arg.contains("://") || arg.starts_with("sqlite:")
}

/// Load a schema from a URL or a snapshot file, filtered.
pub async fn load(arg: &str, filter: &Filter) -> Result<Loaded> {
    if is_url(arg) {
        let db = db::connect(arg).await?;
        let mut schema = introspect(&db).await?;
        filter.apply(&mut schema);
        Ok(Loaded {
            label: db.redacted_url().to_string(),
            schema,
            rows: None,
            db: Some(db),
        })
    } else {
        let snap = snapshot::Snapshot::read(Path::new(arg))?;
        let mut schema = snap.schema;
        filter.apply(&mut schema);
        Ok(Loaded {
            label: arg.to_string(),
            schema,
            rows: Some(
                snap.tables
                    .iter()
                    .map(|(k, v)| (k.clone(), v.rows))
                    .collect(),
            ),
            db: None,
        })
    }
}

/// Row counts of some tables: exact, except that a table the engine's statistics put
/// at `large` rows or more keeps that estimate (counting a huge production table
/// exactly would take minutes, and only "large or not" matters then).
pub async fn count_rows(
    db: &Db,
    schema: &Schema,
    tables: &BTreeSet<String>,
    large: u64,
) -> Result<RowCounts> {
    let mut out = RowCounts::new();
    let d = db.dialect();
    for t in schema.tables.iter().filter(|t| tables.contains(&t.qname())) {
        let q = ddl::Ddl::new(d, d).qt(t);
        let estimate = match d.sql().row_estimate(&q, &t.name) {
            Some((sql, name)) => db
                .query(sql, &[Value::Text(name)])
                .await?
                .scalar()
                .and_then(Value::as_i64),
            None => None,
        };
        if let Some(e) = estimate
            && e >= 0
            && e as u64 >= large
        {
            out.insert(t.qname(), e as u64);
            continue;
        }
        let n = db
            .query(&format!("SELECT count(*) FROM {q}"), &[])
            .await?
            .scalar()
            .and_then(Value::as_i64)
            .unwrap_or(0);
        out.insert(t.qname(), n.max(0) as u64);
    }
    Ok(out)
}

/// A full comparison: the diff, the migration that would fix it, and its hazards.
pub struct Comparison {
    pub source_label: String,
    pub target_label: String,
    pub diff: SchemaDiff,
    pub migration: Migration,
    pub source: Schema,
    pub target: Schema,
}

/// Compare two loaded schemas; counts the rows of the target tables the migration
/// touches (hazards depend on whether a table has rows, and how many).
pub async fn compare(source: Loaded, target: Loaded, opts: &PlanOptions) -> Result<Comparison> {
    let d = diff::diff(&source.schema, &target.schema);
    let touched: BTreeSet<String> = d
        .changes
        .iter()
        .filter_map(|c| match (&c.table, c.object) {
            (Some(t), _) => Some(t.clone()),
            (None, ObjectKind::Table) => Some(c.name.clone()),
            _ => None,
        })
        .filter(|t| target.schema.table(t).is_some())
        .collect();
    let rows = match (&target.rows, &target.db) {
        (Some(r), _) => r.clone(),
        (None, Some(db)) => count_rows(db, &target.schema, &touched, opts.large_table_rows).await?,
        (None, None) => RowCounts::new(),
    };
    let migration = migrate::plan(&source.schema, &target.schema, &d, &rows, opts);
    Ok(Comparison {
        source_label: source.label,
        target_label: target.label,
        diff: d,
        migration,
        source: source.schema,
        target: target.schema,
    })
}

/// Parse `--allow-hazards a,b` against the known codes.
pub fn parse_hazard_codes(list: &[String]) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for item in list.iter().flat_map(|s| s.split(',')) {
        let code = item.trim();
        if code.is_empty() {
            continue;
        }
        if !migrate::HAZARD_CODES.iter().any(|h| h.code == code) {
            return Err(Error::bad_input(format!(
                "unknown hazard code \"{code}\"; known codes are {}",
                migrate::HAZARD_CODES
                    .iter()
                    .map(|h| h.code)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        out.insert(code.to_string());
    }
    Ok(out)
}
