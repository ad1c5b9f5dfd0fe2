//! Runbooks: TOML files of targets, an approval policy, ordered phases of ordered
//! steps, and rollback phases. Every error names the file, line and column.

mod context;
mod overrides;
mod params;
mod roster;
mod source;

pub use context::BuildContext;
pub use overrides::TargetOverrides;
pub use params::Params;
pub use roster::{Roster, RosterEntry, parse_key};
pub use source::SourceFile;

use crate::db::Dialect;
use crate::db::TargetSpec;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// Who must approve a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalPolicy {
    /// Approvals needed at each checkpoint (default 1).
    pub approvals: u32,
    /// Roles whose approvals count (empty: any role).
    pub roles: Vec<String>,
    /// May the operator who started the run approve its checkpoints? (default no)
    pub allow_self_approval: bool,
    /// Extra approvals required at a checkpoint when earlier steps raised hazards.
    pub hazard_extra_approvals: u32,
    /// Roles of which at least one must approve when hazards were raised.
    pub hazard_roles: Vec<String>,
    /// Run a rollback phase automatically when a step fails (set by
    /// `rollback_on_failure = true` or by naming the phase in `on_failure`).
    pub rollback_on_failure: bool,
    /// The rollback phase that runs when a step fails (`on_failure = "full-restore"`);
    /// a phase's own `on_failure` overrides it.
    pub on_failure: Option<String>,
    /// Every rollback (on demand or on failure) waits at an approval gate first.
    pub rollback_requires_approval: bool,
    /// Who may decide, in which roles (and with which keys). Without a roster, the
    /// role an approver names is taken at their word.
    pub roster: Option<Roster>,
    /// Every decision must carry an SSH signature by the roster key of its giver.
    pub require_signatures: bool,
    /// May `--approve-as` record approvals? (default: yes, unless signatures are required)
    pub allow_command_line_approvals: bool,
    /// Roles that may withdraw someone else's rejection (the rejecter always may).
    pub withdraw_rejection_roles: Vec<String>,
    /// Roles whose ticks count on checklists (empty: the policy's `roles`; a
    /// checklist's own `roles` overrides both).
    pub checklist_roles: Vec<String>,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy {
            approvals: 1,
            roles: Vec::new(),
            allow_self_approval: false,
            hazard_extra_approvals: 0,
            hazard_roles: Vec::new(),
            rollback_on_failure: false,
            on_failure: None,
            rollback_requires_approval: false,
            roster: None,
            require_signatures: false,
            allow_command_line_approvals: true,
            withdraw_rejection_roles: Vec::new(),
            checklist_roles: Vec::new(),
        }
    }
}

/// Builds a step of a kind from its table; the step registry implements it, so the
/// runbook model knows nothing of step kinds.
pub trait StepFactory {
    type Step;
    /// Every kind it builds, for "unknown kind" messages.
    fn kinds(&self) -> &'static [&'static str];
    fn build(&self, kind: &str, p: &Params, ctx: &BuildContext) -> Result<Self::Step>;
}

pub struct StepDef<S> {
    pub id: String,
    pub title: String,
    pub step: S,
    /// file:line:col of the step's table.
    pub location: String,
}

pub struct Phase<S> {
    pub id: String,
    pub title: String,
    pub steps: Vec<StepDef<S>>,
    pub rollback: bool,
    /// The rollback phase to run when a step of this phase fails (overrides the policy's).
    pub on_failure: Option<String>,
}

pub struct Runbook<S> {
    pub path: PathBuf,
    /// The directory relative paths resolve from.
    pub dir: PathBuf,
    pub name: String,
    pub description: Option<String>,
    /// SHA-256 of the file's bytes: approvals bind to it.
    pub content_hash: String,
    pub targets: BTreeMap<String, TargetSpec>,
    /// Ledger URL from the runbook (`[ledger] url`), already interpolated.
    pub ledger_url: Option<String>,
    pub policy: ApprovalPolicy,
    pub phases: Vec<Phase<S>>,
    pub rollback: Vec<Phase<S>>,
}

/// Where a runbook's `on_failure` names were written, checked once every rollback
/// phase is known.
struct OnFailureRef {
    phase: String,
    location: String,
}

/// Read and parse a runbook file, building each step with `factory`.
pub fn load<F: StepFactory>(path: &Path, factory: &F) -> Result<Runbook<F::Step>> {
    let src = SourceFile::read(path)?;
    parse(&src, factory)
}

/// [`load`] with some targets' URLs replaced by the command line's.
pub fn load_with<F: StepFactory>(
    path: &Path,
    factory: &F,
    overrides: &TargetOverrides,
) -> Result<Runbook<F::Step>> {
    let src = SourceFile::read(path)?;
    parse_with(&src, factory, overrides)
}

impl<S> Runbook<S> {
    /// Every step in run order with its phase.
    pub fn steps(&self) -> impl Iterator<Item = (&Phase<S>, &StepDef<S>)> {
        self.phases
            .iter()
            .flat_map(|p| p.steps.iter().map(move |s| (p, s)))
    }

    pub fn find_step(&self, id: &str) -> Option<(&Phase<S>, &StepDef<S>)> {
        self.phases
            .iter()
            .chain(self.rollback.iter())
            .flat_map(|p| p.steps.iter().map(move |s| (p, s)))
            .find(|(_, s)| s.id == id)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Replace `${env:NAME}` with the environment variable's value.
pub fn interpolate_env(s: &str) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "unclosed \"${\" (expected ${env:NAME})".to_string())?;
        let expr = &after[..end];
        let name = expr.strip_prefix("env:").ok_or_else(|| {
            format!("unknown interpolation \"${{{expr}}}\"; only ${{env:NAME}} is supported")
        })?;
        let val = std::env::var(name).map_err(|_| {
            format!("environment variable {name} is not set (used as ${{env:{name}}})")
        })?;
        out.push_str(&val);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Resolve a sqlite:// URL's relative path against the runbook's directory.
fn resolve_sqlite_url(url: &str, dir: &Path) -> String {
    let path = crate::db::sqlite_path(url);
    if path.is_empty() || path == ":memory:" || Path::new(&path).is_absolute() {
        return url.to_string();
    }
    let query = url
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("sqlite://{}{}", dir.join(path).display(), query)
}

/// Parse a target URL value (with interpolation) from a runbook.
fn target_url(p: &Params, key: &'static str, dir: &Path) -> Result<Option<(String, Dialect)>> {
    let Some(raw) = p.str(key)? else {
        return Ok(None);
    };
    let v = p.raw(key).expect("present");
    url_value(p.src, &v.span(), &raw, dir).map(Some)
}

fn url_value(
    src: &SourceFile,
    span: &std::ops::Range<usize>,
    raw: &str,
    dir: &Path,
) -> Result<(String, Dialect)> {
    let url = interpolate_env(raw).map_err(|m| src.error(span, m))?;
    crate::redact::register_url(&url);
    crate::redact::check_url(&url).map_err(|m| src.error(span, m))?;
    let dialect = crate::db::dialect_of(&url).map_err(|e| src.error(span, e.message))?;
    let url = if dialect.sql().is_file() {
        resolve_sqlite_url(&url, dir)
    } else {
        url
    };
    Ok((url, dialect))
}

pub fn parse<F: StepFactory>(src: &SourceFile, factory: &F) -> Result<Runbook<F::Step>> {
    parse_with(src, factory, &TargetOverrides::default())
}

/// [`parse`] with some targets' URLs replaced (see [`TargetOverrides`]). An
/// overridden target's URL in the file is not read at all (so an `${env:...}` it
/// uses need not be set).
pub fn parse_with<F: StepFactory>(
    src: &SourceFile,
    factory: &F,
    overrides: &TargetOverrides,
) -> Result<Runbook<F::Step>> {
    let doc = DeTable::parse(&src.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        src.error(&span, format!("invalid TOML: {}", e.message().trim()))
    })?;
    let dir = src
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let root = Params::new(src, doc.get_ref(), doc.span(), "the runbook");

    let name = match root.str("name")? {
        Some(n) if valid_id(&n) => n,
        Some(n) => {
            return Err(root.error_at(
                "name",
                format!("runbook name \"{n}\" may use only letters, digits, '-', '_' and '.'"),
            ));
        }
        None => src
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "runbook".into()),
    };
    let description = root.str("description")?;

    // [targets.NAME] url = "..."  or  [targets] NAME = "url"
    let mut targets = BTreeMap::new();
    if let Some(t) = root.table("targets")? {
        for (k, v) in t.entries() {
            let tname = k.get_ref().to_string();
            if !valid_id(&tname) {
                return Err(src.error(
                    &k.span(),
                    format!(
                        "target name \"{tname}\" may use only letters, digits, '-', '_' and '.'"
                    ),
                ));
            }
            let (url, dialect) = match (overrides.resolve(&tname)?, v.get_ref()) {
                (Some(r), _) => r,
                // shorthand: name = "url"
                (None, DeValue::String(s)) => url_value(src, &v.span(), s, &dir)?,
                (None, DeValue::Table(tt)) => {
                    let tp = Params::new(src, tt, v.span(), format!("target \"{tname}\""));
                    let r = target_url(&tp, "url", &dir)?.ok_or_else(|| {
                        src.error(&v.span(), format!("target \"{tname}\" is missing `url`"))
                    })?;
                    tp.str("description")?;
                    tp.finish()?;
                    r
                }
                (None, other) => {
                    return Err(src.error(&v.span(), format!("target \"{tname}\" must be a URL string or a table with `url`, found {}", other.type_str())));
                }
            };
            let redacted = crate::redact::register_url(&url);
            targets.insert(
                tname.clone(),
                TargetSpec {
                    name: tname,
                    url,
                    redacted,
                    dialect,
                },
            );
        }
    }
    if let Some(unknown) = overrides.urls.keys().find(|n| !targets.contains_key(*n)) {
        return Err(Error::bad_input(format!(
            "--target {unknown}=...: {} declares no target \"{unknown}\"; its targets are {}",
            src.path.display(),
            if targets.is_empty() {
                "none".to_string()
            } else {
                targets.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        )));
    }
    let target_names: Vec<String> = targets.keys().cloned().collect();

    let ledger_url = match root.table("ledger")? {
        Some(l) => {
            let r = target_url(&l, "url", &dir)?.map(|(u, _)| u);
            l.finish()?;
            r
        }
        None => None,
    };

    let mut policy = ApprovalPolicy::default();
    let mut on_failure_refs: Vec<OnFailureRef> = Vec::new();
    let mut rollback_on_failure_at: Option<String> = None;
    if let Some(p) = root.table("policy")? {
        if let Some(n) = p.int("approvals")? {
            if n < 1 {
                return Err(p.error_at("approvals", "`approvals` must be at least 1 (a checkpoint nobody must approve is not a checkpoint)"));
            }
            policy.approvals = n as u32;
        }
        policy.roles = p.str_list("roles")?.unwrap_or_default();
        policy.allow_self_approval = p.bool("allow_self_approval")?.unwrap_or(false);
        let explicit = p.bool("rollback_on_failure")?;
        policy.on_failure = p.str("on_failure")?;
        if explicit == Some(false) && policy.on_failure.is_some() {
            return Err(p.error_at(
                "on_failure",
                "`on_failure` names a rollback phase to run on failure, but `rollback_on_failure = false` says not to; remove one of them",
            ));
        }
        if let Some(name) = &policy.on_failure {
            on_failure_refs.push(OnFailureRef {
                phase: name.clone(),
                location: p
                    .src
                    .location(&p.raw("on_failure").expect("present").span()),
            });
        }
        policy.rollback_on_failure = explicit.unwrap_or(policy.on_failure.is_some());
        if policy.rollback_on_failure && explicit.is_some() {
            rollback_on_failure_at = Some(
                p.src
                    .location(&p.raw("rollback_on_failure").expect("present").span()),
            );
        }
        policy.rollback_requires_approval = p.bool("rollback_requires_approval")?.unwrap_or(false);
        policy.require_signatures = p.bool("require_signatures")?.unwrap_or(false);
        policy.allow_command_line_approvals = p
            .bool("allow_command_line_approvals")?
            .unwrap_or(!policy.require_signatures);
        policy.withdraw_rejection_roles =
            p.str_list("withdraw_rejection_roles")?.unwrap_or_default();
        policy.checklist_roles = p.str_list("checklist_roles")?.unwrap_or_default();
        policy.roster = Roster::parse(&p, &dir, policy.require_signatures)?;
        if policy.require_signatures && policy.roster.is_none() {
            return Err(p.error_at(
                "require_signatures",
                "require_signatures = true needs a roster with each approver's public key: add [policy.roster] NAME = { roles = [...], key = \"ssh-ed25519 AAAA...\" } or roster = \"roster.toml\"",
            ));
        }
        if let Some(h) = p.table("hazards")? {
            policy.hazard_extra_approvals = h.count("extra_approvals")?.unwrap_or(0) as u32;
            policy.hazard_roles = h.str_list("require_roles")?.unwrap_or_default();
            h.finish()?;
        }
        p.finish()?;
    }

    let dialects: BTreeMap<String, Dialect> = targets
        .iter()
        .map(|(k, t)| (k.clone(), t.dialect))
        .collect();
    let mut b = Builder {
        dir: &dir,
        targets: &target_names,
        dialects: &dialects,
        steps: BTreeMap::new(),
        phases: BTreeMap::new(),
        earlier: Vec::new(),
    };
    let phases = parse_phases(
        &root,
        "phases",
        false,
        &mut b,
        factory,
        &mut on_failure_refs,
    )?;
    let rollback = parse_phases(
        &root,
        "rollback",
        true,
        &mut b,
        factory,
        &mut on_failure_refs,
    )?;
    root.finish()?;
    if phases.is_empty() {
        return Err(src.error(
            &(0..0),
            "the runbook has no phases; add at least one [[phases]] with [[phases.steps]]",
        ));
    }
    check_on_failure(
        &policy,
        &phases,
        &rollback,
        &on_failure_refs,
        rollback_on_failure_at.as_deref(),
    )?;

    Ok(Runbook {
        path: src.path.clone(),
        dir,
        name,
        description,
        content_hash: sha256_hex(src.text.as_bytes()),
        targets,
        ledger_url,
        policy,
        phases,
        rollback,
    })
}

/// What parsing the phases carries from one step to the next.
struct Builder<'a> {
    dir: &'a Path,
    targets: &'a [String],
    dialects: &'a BTreeMap<String, Dialect>,
    /// Step ids seen, with where.
    steps: BTreeMap<String, String>,
    /// Phase ids seen (phases and rollback phases), with where.
    phases: BTreeMap<String, String>,
    /// (id, kind) of every step built so far, in run order.
    earlier: Vec<(String, String)>,
}

fn parse_phases<F: StepFactory>(
    root: &Params,
    key: &'static str,
    rollback: bool,
    b: &mut Builder,
    factory: &F,
    on_failure_refs: &mut Vec<OnFailureRef>,
) -> Result<Vec<Phase<F::Step>>> {
    let mut phases = Vec::new();
    for (i, p) in root.tables(key)?.into_iter().enumerate() {
        let on_failure = if rollback {
            None
        } else {
            let v = p.str("on_failure")?;
            if let Some(name) = &v {
                on_failure_refs.push(OnFailureRef {
                    phase: name.clone(),
                    location: p
                        .src
                        .location(&p.raw("on_failure").expect("present").span()),
                });
            }
            v
        };
        let id = p.str("id")?.unwrap_or_else(|| format!("{key}-{}", i + 1));
        if !valid_id(&id) {
            return Err(p.error_at(
                "id",
                format!("phase id \"{id}\" may use only letters, digits, '-', '_' and '.'"),
            ));
        }
        let here = match p.raw("id") {
            Some(v) => p.src.location(&v.span()),
            None => p.src.location(&p.span),
        };
        if let Some(prev) = b.phases.insert(id.clone(), here) {
            return Err(p.error_at(
                "id",
                format!(
                    "phase id \"{id}\" is used twice (first at {prev}); `cutover rollback --phase` and the ledger name phases by id"
                ),
            ));
        }
        let title = p.str("title")?.unwrap_or_else(|| id.clone());
        let mut steps = Vec::new();
        let tables = p.tables("steps")?;
        if tables.is_empty() {
            return Err(p.src.error(
                &p.span,
                format!(
                    "{} \"{id}\" has no steps; add at least one [[{key}.steps]] or remove the phase",
                    if rollback { "rollback phase" } else { "phase" }
                ),
            ));
        }
        for (j, s) in tables.into_iter().enumerate() {
            let kind = s.req_str("kind")?;
            let id = s.str("id")?.unwrap_or_else(|| format!("{id}.{}", j + 1));
            let s = s.named(format!("step \"{id}\""));
            if !valid_id(&id) {
                return Err(s.error_at(
                    "id",
                    format!("step id \"{id}\" may use only letters, digits, '-', '_' and '.'"),
                ));
            }
            if let Some(prev) = b.steps.insert(id.clone(), s.src.location(&s.span)) {
                return Err(s.error_at(
                    "id",
                    format!("step id \"{id}\" is used twice (first at {prev})"),
                ));
            }
            if !factory.kinds().contains(&kind.as_str()) {
                let v = s.raw("kind").expect("present");
                let hint = closest(&kind, factory.kinds())
                    .map(|c| format!(" (did you mean \"{c}\"?)"))
                    .unwrap_or_default();
                return Err(s.value_error(
                    v,
                    format!(
                        "unknown step kind \"{kind}\"{hint}; expected one of {}",
                        factory.kinds().join(", ")
                    ),
                ));
            }
            let title = s.str("title")?.unwrap_or_else(|| id.clone());
            let bctx = BuildContext {
                dir: b.dir,
                targets: b.targets,
                dialects: b.dialects,
                earlier: &b.earlier,
                rollback,
            };
            let step = factory.build(&kind, &s, &bctx)?;
            s.finish()?;
            let location = s.src.location(&s.span);
            b.earlier.push((id.clone(), kind));
            steps.push(StepDef {
                id,
                title,
                step,
                location,
            });
        }
        p.finish()?;
        phases.push(Phase {
            id,
            title,
            steps,
            rollback,
            on_failure,
        });
    }
    Ok(phases)
}

/// Every `on_failure` must name a rollback phase, and a runbook that rolls back on
/// failure must say which phase runs for every phase that can fail: one rollback phase,
/// or `on_failure` in the policy, or `on_failure` on each phase.
fn check_on_failure<S>(
    policy: &ApprovalPolicy,
    phases: &[Phase<S>],
    rollback: &[Phase<S>],
    refs: &[OnFailureRef],
    rollback_on_failure_at: Option<&str>,
) -> Result<()> {
    use crate::error::Error;
    let ids: Vec<&str> = rollback.iter().map(|p| p.id.as_str()).collect();
    for r in refs {
        if !ids.contains(&r.phase.as_str()) {
            let known = if ids.is_empty() {
                "the runbook has no [[rollback]] phases".to_string()
            } else {
                format!("the rollback phases are {}", ids.join(", "))
            };
            let hint = closest(&r.phase, &ids)
                .map(|c| format!(" (did you mean \"{c}\"?)"))
                .unwrap_or_default();
            return Err(Error::bad_input(format!(
                "{}: `on_failure` names \"{}\", which is not a rollback phase{hint}; {known}",
                r.location, r.phase
            )));
        }
    }
    if !policy.rollback_on_failure && phases.iter().all(|p| p.on_failure.is_none()) {
        return Ok(());
    }
    if rollback.is_empty() {
        let at = rollback_on_failure_at.unwrap_or("the runbook");
        return Err(Error::bad_input(format!(
            "{at}: `rollback_on_failure = true` but the runbook has no [[rollback]] phases to run"
        )));
    }
    if policy.rollback_on_failure && policy.on_failure.is_none() && rollback.len() > 1 {
        let open: Vec<&str> = phases
            .iter()
            .filter(|p| p.on_failure.is_none())
            .map(|p| p.id.as_str())
            .collect();
        if !open.is_empty() {
            let at = rollback_on_failure_at.unwrap_or("the runbook");
            return Err(Error::bad_input(format!(
                "{at}: `rollback_on_failure = true` is ambiguous: the runbook has {} rollback phases ({}) and does not say which runs when phase(s) {} fail; name one with `on_failure = \"{}\"` in [policy] or in each phase",
                rollback.len(),
                ids.join(", "),
                open.join(", "),
                ids[0]
            )));
        }
    }
    Ok(())
}

/// The candidate closest to `word` by edit distance, if reasonably close.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    fn dist(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + (ca != *cb) as usize)
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }
    candidates
        .iter()
        .map(|c| (dist(word, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}
