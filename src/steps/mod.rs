//! Step kinds. Every kind implements [`Step`]; the engine knows nothing of kinds.
//! Adding a kind is one new file here plus one entry in [`KINDS`].

use crate::db::Targets;
use crate::error::Result;
use crate::runbook::Params;
use crate::vocab::{EngineEvent, EventSink, Progress};
use async_trait::async_trait;
use std::path::Path;

pub use crate::runbook::BuildContext;
pub use crate::vocab::Hazard;

/// A step's evidence: one struct per step kind, next to its step. It serializes as
/// the struct alone (the JSON stored in the ledger and hashed); it is read back by
/// kind with [`read_evidence`].
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
#[serde(untagged)]
pub enum Evidence {
    Backup(backup::BackupEvidence),
    Check(check::CheckEvidence),
    Checkpoint(checkpoint::CheckpointEvidence),
    Copy(copy::CopyEvidence),
    DiffSchema(diff_schema::DiffSchemaEvidence),
    DriftCheck(drift_check::DriftCheckEvidence),
    DiffData(diff_data::DiffDataEvidence),
    Migrate(migrate::MigrateEvidence),
    Restore(restore::RestoreEvidence),
    Snapshot(snapshot::SnapshotEvidence),
    Sql(sql::SqlEvidence),
    Sync(sync::SyncEvidence),
    SyncCheck(sync_check::SyncCheckEvidence),
    Checklist(checklist::ChecklistEvidence),
    Backfill(backfill::BackfillEvidence),
    Consolidate(consolidate::ConsolidateEvidence),
    Command(command::CommandEvidence),
    ImportCsv(import_csv::ImportCsvEvidence),
    ExportCsv(export_csv::ExportCsvEvidence),
    /// Nothing recorded (JSON null).
    #[default]
    None,
}

impl Evidence {
    /// The evidence as the JSON stored in the ledger.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("evidence serializes")
    }
    /// What a person should notice about a step that passed: shown instead of a plain
    /// tick, and named at the next checkpoint. `None` for a clean pass.
    pub fn warning(&self) -> Option<String> {
        match self {
            Evidence::DiffData(e) => e.warning(),
            Evidence::SyncCheck(e) => e.warning(),
            _ => None,
        }
    }
}

/// A step kind's stored evidence read back as its struct; `None` when the kind is
/// unknown or the JSON does not fit (e.g. written by a later release).
pub fn read_evidence(kind: &str, evidence: &serde_json::Value) -> Option<Evidence> {
    if evidence.is_null() {
        return Some(Evidence::None);
    }
    (self::kind(kind)?.read)(evidence.clone()).ok()
}

/// What a step produced.
#[derive(Debug, Clone, Default)]
pub struct StepOutcome {
    /// One line for progress output and the TUI.
    pub summary: String,
    /// The evidence a person or CI judges by; stored in the ledger and hashed.
    pub evidence: Evidence,
    /// Set when the step ran but its assertion does not hold (check failed, diff not
    /// equal): the run stops with exit code 1 and the evidence is still recorded.
    pub failure: Option<String>,
    /// Hazards raise what the next checkpoint requires.
    pub hazards: Vec<Hazard>,
}

impl StepOutcome {
    pub fn ok(summary: impl Into<String>, evidence: impl Into<Evidence>) -> Self {
        StepOutcome {
            summary: summary.into(),
            evidence: evidence.into(),
            ..Default::default()
        }
    }
}

/// A step completed earlier in the same run, with its recorded evidence.
#[derive(Debug, Clone)]
pub struct PriorStep {
    pub id: String,
    pub kind: String,
    /// Read back as the kind's struct; `None` when it does not read.
    pub evidence: Option<Evidence>,
}

/// What a step may use while running.
pub struct StepContext<'a> {
    pub run_id: &'a str,
    pub phase: &'a str,
    pub step_id: &'a str,
    /// The runbook's directory: relative paths resolve from here.
    pub dir: &'a Path,
    pub targets: &'a Targets,
    pub events: &'a EventSink,
    /// Steps completed earlier in this run (in runbook order), e.g. a backup to restore.
    pub prior: &'a [PriorStep],
    /// The ledger's head as the step starts: a step that changes a target records it
    /// there in the same transaction as its effects (see `once.rs`).
    pub anchor: Option<&'a crate::db::bookkeeping::Anchor>,
    /// Where a batched step (backfill, consolidate) records each committed batch's
    /// high-water mark in the ledger and reads it back when it resumes; `None` outside
    /// a run (the target's own mark still makes the step resumable).
    pub batches: Option<&'a dyn BatchLedger>,
}

/// The ledger as a batched step sees it: its own batch marks in this run.
#[async_trait]
pub trait BatchLedger: Send + Sync {
    /// Append a committed batch's mark for `step_id`.
    async fn record_batch(&self, step_id: &str, mark: &crate::ledger::BatchCommitted)
    -> Result<()>;
    /// The marks recorded for `step_id` in this run, oldest first.
    async fn batches(&self, step_id: &str) -> Result<Vec<crate::ledger::BatchCommitted>>;
}

impl StepContext<'_> {
    pub fn progress(&self, progress: Progress) {
        self.events.emit(EngineEvent::StepProgress {
            step: self.step_id.to_string(),
            progress,
        });
    }
    pub fn log(&self, message: impl Into<String>) {
        let message = crate::redact::scrub(&message.into());
        tracing::info!(step = self.step_id, "{message}");
        self.events.emit(EngineEvent::StepLog {
            step: self.step_id.to_string(),
            message,
        });
    }
    pub fn prior(&self, id: &str) -> Option<&PriorStep> {
        self.prior.iter().rev().find(|p| p.id == id)
    }
}

#[async_trait]
pub trait Step: Send + Sync {
    /// The kind as written in runbooks (`sql`, `backup`, ...).
    fn kind(&self) -> &'static str;
    /// Names of the targets this step touches.
    fn targets(&self) -> Vec<String>;
    /// Names of the targets whose state this step changes or records (a backup taken):
    /// the run locks them and anchors the ledger in them. Reading is not changing.
    fn writes(&self) -> Vec<String> {
        Vec::new()
    }
    /// Lines describing what the step will do, for `validate` and the plan.
    fn plan(&self, targets: &Targets) -> Vec<String>;
    /// Checkpoints are the one kind the engine treats specially.
    fn checkpoint(&self) -> Option<&crate::steps::checkpoint::CheckpointSpec> {
        None
    }
    /// Checklists wait for people too: the engine handles them (see `engine/checklist.rs`).
    fn checklist(&self) -> Option<&crate::steps::checklist::ChecklistSpec> {
        None
    }
    /// Every file the step reads when it runs (migrations, SQL scripts, query files,
    /// snapshots), resolved against the runbook's directory. A checkpoint's approval
    /// binds to their content, so editing one after the approval makes it stale.
    /// A directory counts as the files in it (adding a file changes what runs).
    fn files_read(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
    /// Hazards in the SQL the step will run, read before it runs (see `foresee.rs`):
    /// the checkpoint that lets the step run carries them, so the person approving
    /// sees `drop-table at drop_lerg_codes.sql:1` before the table is dropped.
    fn foreseen_hazards(&self) -> Vec<Hazard> {
        Vec::new()
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome>;
}

pub mod backfill;
pub mod backup;
pub mod backup_path;
pub mod batch;
pub mod check;
pub mod check_suite;
pub mod checklist;
pub mod checkpoint;
pub mod command;
pub mod consolidate;
pub mod copy;
pub mod diff_data;
pub mod diff_schema;
pub mod drift_check;
pub mod export_csv;
pub mod foresee;
pub mod import_csv;
pub mod migrate;
pub mod once;
pub mod restore;
pub mod snapshot;
pub mod sql;
pub mod sync;
pub mod sync_check;

/// One step kind: its name in runbooks, what it does, how it is built from its table,
/// and how its stored evidence reads back as its struct (the TUI matches `Evidence`
/// exhaustively, so a new kind of evidence cannot land without a view).
pub struct Kind {
    pub name: &'static str,
    /// One line for help and error messages.
    pub about: &'static str,
    pub build: fn(&Params, &BuildContext) -> Result<Box<dyn Step>>,
    /// Reads the kind's stored evidence back as its struct.
    pub read: fn(serde_json::Value) -> serde_json::Result<Evidence>,
}

macro_rules! evidence_from {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl From<$ty> for Evidence {
            fn from(e: $ty) -> Evidence {
                Evidence::$variant(e)
            }
        }
    )*};
}

evidence_from!(
    Backup(backup::BackupEvidence),
    Check(check::CheckEvidence),
    Checkpoint(checkpoint::CheckpointEvidence),
    Copy(copy::CopyEvidence),
    DiffSchema(diff_schema::DiffSchemaEvidence),
    DriftCheck(drift_check::DriftCheckEvidence),
    DiffData(diff_data::DiffDataEvidence),
    Migrate(migrate::MigrateEvidence),
    Restore(restore::RestoreEvidence),
    Snapshot(snapshot::SnapshotEvidence),
    Sql(sql::SqlEvidence),
    Sync(sync::SyncEvidence),
    SyncCheck(sync_check::SyncCheckEvidence),
    Checklist(checklist::ChecklistEvidence),
    Backfill(backfill::BackfillEvidence),
    Consolidate(consolidate::ConsolidateEvidence),
    Command(command::CommandEvidence),
    ImportCsv(import_csv::ImportCsvEvidence),
    ExportCsv(export_csv::ExportCsvEvidence),
);

fn boxed<S: Step + 'static>(
    build: fn(&Params, &BuildContext) -> Result<S>,
    p: &Params,
    ctx: &BuildContext,
) -> Result<Box<dyn Step>> {
    Ok(Box::new(build(p, ctx)?))
}

/// Every step kind: the one list (validation, building, and the evidence views use it).
pub const KINDS: &[Kind] = &[
    Kind {
        name: "backup",
        about: "copy a target to a file, with its checksum and row counts",
        build: |p, c| boxed(backup::Backup::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Backup),
    },
    Kind {
        name: "check",
        about: "assert queries' results",
        build: check::build,
        read: |v| serde_json::from_value(v).map(Evidence::Check),
    },
    Kind {
        name: "checkpoint",
        about: "stop until the approval policy is met",
        build: |p, c| boxed(checkpoint::Checkpoint::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Checkpoint),
    },
    Kind {
        name: "copy",
        about: "copy rows of a table from one target into another",
        build: |p, c| boxed(copy::CopyTables::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Copy),
    },
    Kind {
        name: "diff-schema",
        about: "compare two targets' schemas",
        build: |p, c| boxed(diff_schema::DiffSchema::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::DiffSchema),
    },
    Kind {
        name: "drift-check",
        about: "compare a target's schema with a snapshot",
        build: |p, c| boxed(drift_check::DriftCheck::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::DriftCheck),
    },
    Kind {
        name: "diff-data",
        about: "compare two targets' rows",
        build: |p, c| boxed(diff_data::DiffData::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::DiffData),
    },
    Kind {
        name: "migrate",
        about: "apply a directory of migrations",
        build: |p, c| boxed(migrate::Migrate::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Migrate),
    },
    Kind {
        name: "restore",
        about: "restore a target from a backup",
        build: |p, c| boxed(restore::Restore::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Restore),
    },
    Kind {
        name: "snapshot",
        about: "write a target's schema to a snapshot file",
        build: |p, c| boxed(snapshot::SnapshotStep::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Snapshot),
    },
    Kind {
        name: "sql",
        about: "run SQL on a target, once per run",
        build: |p, c| boxed(sql::Sql::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Sql),
    },
    Kind {
        name: "sync",
        about: "make a target's rows match a source's",
        build: |p, c| boxed(sync::SyncTables::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Sync),
    },
    Kind {
        name: "sync-check",
        about: "compare row counts and latest updates of tables on two targets",
        build: |p, c| boxed(sync_check::SyncCheck::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::SyncCheck),
    },
    Kind {
        name: "checklist",
        about: "wait until people tick every item pass (or one fail)",
        build: |p, c| boxed(checklist::Checklist::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Checklist),
    },
    Kind {
        name: "backfill",
        about: "fill a column's NULLs in resumable batches, capturing the rows left unfilled",
        build: |p, c| boxed(backfill::Backfill::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Backfill),
    },
    Kind {
        name: "consolidate",
        about: "merge legacy tables into a table by a natural key, recording conflicts",
        build: |p, c| boxed(consolidate::Consolidate::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Consolidate),
    },
    Kind {
        name: "command",
        about: "run an external program (the application's migrate, build or test)",
        build: |p, c| boxed(command::Command::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::Command),
    },
    Kind {
        name: "import-csv",
        about: "load a CSV file into a table, every field type-checked first",
        build: |p, c| boxed(import_csv::ImportCsv::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::ImportCsv),
    },
    Kind {
        name: "export-csv",
        about: "write a table or a query's rows to a CSV file",
        build: |p, c| boxed(export_csv::ExportCsv::build, p, c),
        read: |v| serde_json::from_value(v).map(Evidence::ExportCsv),
    },
];

/// The step kind named `name`, if there is one.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// The names of every kind, in [`KINDS`] order.
pub fn kind_names() -> &'static [&'static str] {
    static NAMES: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| KINDS.iter().map(|k| k.name).collect());
    &NAMES
}

/// A runbook whose steps are built: what the engine runs.
pub type Runbook = crate::runbook::Runbook<Box<dyn Step>>;
pub type Phase = crate::runbook::Phase<Box<dyn Step>>;
pub type StepDef = crate::runbook::StepDef<Box<dyn Step>>;

/// Builds runbook steps from their tables (the runbook parser calls it per step).
pub struct Registry;

impl crate::runbook::StepFactory for Registry {
    type Step = Box<dyn Step>;
    fn kinds(&self) -> &'static [&'static str] {
        kind_names()
    }
    fn build(&self, kind: &str, p: &Params, ctx: &BuildContext) -> Result<Box<dyn Step>> {
        build(kind, p, ctx)
    }
}

impl Runbook {
    /// Read, parse and validate a runbook file, building every step.
    pub fn load(path: &Path) -> Result<Runbook> {
        crate::runbook::load(path, &Registry)
    }
}

/// Build a step of `kind` from its table in the runbook.
pub fn build(kind: &str, p: &Params, ctx: &BuildContext) -> Result<Box<dyn Step>> {
    match self::kind(kind) {
        Some(k) => (k.build)(p, ctx),
        None => Err(p.error_at(
            "kind",
            format!(
                "unknown step kind \"{kind}\"; expected one of {}",
                kind_names().join(", ")
            ),
        )),
    }
}
