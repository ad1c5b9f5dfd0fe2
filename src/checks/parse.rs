//! Reading check files. A check file is TOML: an optional `[params]` table and one or
//! more `[[check]]` tables. A directory is a suite: every `*.toml` file under it, in
//! name order. Every error names the file, line and column.

use super::compare::{Comparison, parse_duration};
use super::{Check, CheckKind, KIND_NAMES, Query, Severity};
use crate::db::Dialect;
use crate::error::{Error, Result};
use crate::runbook::Params as Table;
use crate::runbook::SourceFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::de::{DeTable, DeValue};

/// A parameter's value: filled into queries as a literal of the target's dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    /// A decimal or float, as written.
    Number(String),
    Text(String),
    Bool(bool),
}

impl ParamValue {
    /// From `--param NAME=VALUE`: a number when it reads as one, else text.
    pub fn from_cli(v: &str) -> ParamValue {
        if let Ok(i) = v.parse::<i64>() {
            ParamValue::Int(i)
        } else if v.parse::<rust_decimal::Decimal>().is_ok() {
            ParamValue::Number(v.to_string())
        } else if v == "true" || v == "false" {
            ParamValue::Bool(v == "true")
        } else {
            ParamValue::Text(v.to_string())
        }
    }
    /// As plain text (in `expect`).
    pub fn plain(&self) -> String {
        match self {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Number(n) => n.clone(),
            ParamValue::Text(s) => s.clone(),
            ParamValue::Bool(b) => b.to_string(),
        }
    }
    /// As a SQL literal of `dialect` (strings quoted by the dialect, never pasted).
    pub fn literal(&self, dialect: Dialect) -> String {
        match self {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Number(n) => n.clone(),
            ParamValue::Text(s) => dialect.quote_literal(s),
            ParamValue::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        }
    }
}

/// Parameters by name.
pub type Params = BTreeMap<String, ParamValue>;

/// The `${param:NAME}` references in a text, with their byte offsets.
fn param_refs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("${param:") {
        let start = at + i;
        let name_start = start + "${param:".len();
        match text[name_start..].find('}') {
            Some(j) => {
                out.push((start, text[name_start..name_start + j].to_string()));
                at = name_start + j + 1;
            }
            None => {
                out.push((start, String::new()));
                break;
            }
        }
    }
    out
}

/// Replace every `${param:NAME}` with `value(NAME)`.
pub fn fill(text: &str, mut value: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, name) in param_refs(text) {
        out.push_str(&text[at..start]);
        out.push_str(&value(&name));
        at = start + "${param:".len() + name.len() + 1;
    }
    out.push_str(&text[at.min(text.len())..]);
    out
}

/// A query with its parameters filled in as literals of `dialect`.
pub fn query_for(q: &Query, params: &Params, dialect: Dialect) -> String {
    fill(&q.text, |name| {
        params
            .get(name)
            .map(|v| v.literal(dialect))
            .unwrap_or_default()
    })
}

/// What was loaded: the checks in order, and every file read.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub checks: Vec<Check>,
    pub files: Vec<PathBuf>,
}

impl Loaded {
    /// Keep only the checks whose id is in `ids` (in `ids` order); an id that names no
    /// check is an error listing the ids there are.
    pub fn select(self, ids: &[String], what: &str) -> Result<Loaded> {
        let mut checks = Vec::new();
        for id in ids {
            match self.checks.iter().find(|c| &c.id == id) {
                Some(c) => checks.push(c.clone()),
                None => {
                    return Err(Error::bad_input(format!(
                        "{what}: no check \"{id}\"; the suite has {}",
                        self.checks
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
        Ok(Loaded {
            checks,
            files: self.files,
        })
    }
}

/// Load check files and suite directories, in the order given. `overrides` replace
/// (or add to) the files' `[params]`.
pub fn load(paths: &[PathBuf], overrides: &Params) -> Result<Loaded> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = files.len();
            toml_files(p, &mut files)?;
            if files.len() == before {
                return Err(Error::bad_input(format!(
                    "{}: no check files (*.toml) in this directory",
                    p.display()
                )));
            }
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(Error::bad_input(format!(
                "{}: no such check file or directory",
                p.display()
            )));
        }
    }
    load_files(&files, overrides)
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::bad_input(format!("{}: cannot read directory: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            toml_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Load the given check files; ids must be unique across them.
pub fn load_files(files: &[PathBuf], overrides: &Params) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    for f in files {
        let src = SourceFile::read(f).map_err(|e| {
            Error::bad_input(
                e.message
                    .replace("cannot read runbook", "cannot read check file"),
            )
        })?;
        let checks = parse_file(&src, overrides)?;
        for c in checks {
            if let Some(first) = loaded.checks.iter().find(|x| x.id == c.id) {
                return Err(Error::bad_input(format!(
                    "{}: check id \"{}\" is used twice (first at {})",
                    c.location, c.id, first.location
                )));
            }
            for extra in &c.files {
                if !loaded.files.contains(extra) {
                    loaded.files.push(extra.clone());
                }
            }
            loaded.checks.push(c);
        }
    }
    Ok(loaded)
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Parse one check file.
pub fn parse_file(src: &SourceFile, overrides: &Params) -> Result<Vec<Check>> {
    let doc = DeTable::parse(&src.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        src.error(&span, format!("invalid TOML: {}", e.message().trim()))
    })?;
    let root = Table::new(src, doc.get_ref(), doc.span(), "the check file");
    let dir = src
        .path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let suite = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n != "." && !n.is_empty())
        .or_else(|| {
            src.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "checks".into());

    let mut params = Params::new();
    if let Some(t) = root.table("params")? {
        for (k, v) in t.entries() {
            let value = match v.get_ref() {
                DeValue::Integer(i) => ParamValue::Int(
                    i64::from_str_radix(i.as_str(), i.radix())
                        .map_err(|_| t.value_error(v, "integer too large"))?,
                ),
                DeValue::Float(f) => ParamValue::Number(f.as_str().to_string()),
                DeValue::String(s) => ParamValue::Text(s.to_string()),
                DeValue::Boolean(b) => ParamValue::Bool(*b),
                other => {
                    return Err(t.value_error(
                        v,
                        format!(
                            "parameter \"{}\" must be a number, string or boolean, found {}",
                            k.get_ref(),
                            other.type_str()
                        ),
                    ));
                }
            };
            params.insert(k.get_ref().to_string(), value);
        }
    }
    for (k, v) in overrides {
        params.insert(k.clone(), v.clone());
    }

    let tables = root.tables("check")?;
    root.finish()?;
    if tables.is_empty() {
        return Err(src.error(
            &(0..0),
            "no checks: add a [[check]] table (id, kind, target, and what it expects)",
        ));
    }
    let mut out = Vec::new();
    for t in tables {
        let id = t.req_str("id")?;
        if !valid_id(&id) {
            return Err(t.error_at(
                "id",
                format!("check id \"{id}\" may use only letters, digits, '-', '_' and '.'"),
            ));
        }
        let t = t.named(format!("check \"{id}\""));
        let c = parse_check(src, &t, id, &dir, &suite, &params)?;
        t.finish()?;
        out.push(c);
    }
    Ok(out)
}

/// A `${param:NAME}` in `text` (the value of `key`) that names no parameter is an error there.
fn check_params(t: &Table, key: &'static str, text: &str, params: &Params) -> Result<()> {
    for (_, name) in param_refs(text) {
        if !params.contains_key(&name) {
            let known = if params.is_empty() {
                "none are defined (add a [params] table or --param NAME=VALUE)".to_string()
            } else {
                format!(
                    "defined: {}",
                    params.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            return Err(t.error_at(
                key,
                format!("`{key}` uses ${{param:{name}}}, which is not a parameter; {known}"),
            ));
        }
    }
    Ok(())
}

fn duration(t: &Table, key: &'static str) -> Result<Option<Duration>> {
    let Some(v) = t.raw(key) else {
        return Ok(None);
    };
    match v.get_ref() {
        DeValue::String(s) => parse_duration(s)
            .map(Some)
            .map_err(|e| t.value_error(v, format!("`{key}` in {}: {e}", t.what))),
        DeValue::Integer(i) => Err(t.value_error(
            v,
            format!(
                "`{key}` in {} has no unit: write it as a string with one, e.g. \"{}ms\" or \"{}s\"",
                t.what,
                i.as_str(),
                i.as_str()
            ),
        )),
        DeValue::Float(f) => Err(t.value_error(
            v,
            format!(
                "`{key}` in {} has no unit: write it as a string with one, e.g. \"{}s\"",
                t.what,
                f.as_str()
            ),
        )),
        other => Err(t.value_error(
            v,
            format!(
                "`{key}` in {} must be a duration such as \"200ms\", found {}",
                t.what,
                other.type_str()
            ),
        )),
    }
}

fn query(
    t: &Table,
    dir: &Path,
    params: &Params,
    files: &mut Vec<PathBuf>,
) -> Result<Option<Query>> {
    let file = t.existing_path("query_file", dir)?;
    let q = match (t.str("query")?, file) {
        (Some(q), None) => {
            check_params(t, "query", &q, params)?;
            Query {
                text: q.trim().trim_end_matches(';').to_string(),
                label: "query".into(),
            }
        }
        (None, Some(f)) => {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| t.error_at("query_file", format!("cannot read: {e}")))?;
            check_params(t, "query_file", &text, params)?;
            files.push(f.clone());
            Query {
                text: text.trim().trim_end_matches(';').to_string(),
                label: t.str("query_file")?.unwrap_or_default(),
            }
        }
        (Some(_), Some(_)) => {
            return Err(t.error_at(
                "query_file",
                "give either `query` or `query_file`, not both",
            ));
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(q))
}

fn req_query(t: &Table, dir: &Path, params: &Params, files: &mut Vec<PathBuf>) -> Result<Query> {
    query(t, dir, params, files)?.ok_or_else(|| {
        t.src
            .error(&t.span, format!("{} needs `query` or `query_file`", t.what))
    })
}

fn parse_check(
    src: &SourceFile,
    t: &Table,
    id: String,
    dir: &Path,
    suite: &str,
    params: &Params,
) -> Result<Check> {
    let kind_name = t.req_str("kind")?;
    if !KIND_NAMES.contains(&kind_name.as_str()) {
        return Err(t.error_at(
            "kind",
            format!(
                "unknown check kind \"{kind_name}\"; expected one of {}",
                KIND_NAMES.join(", ")
            ),
        ));
    }
    let two = matches!(
        kind_name.as_str(),
        "row-count-match" | "reconcile" | "data-diff"
    );
    let (targets, target_locations) = targets(t, two)?;
    let severity = match t.str("severity")?.as_deref() {
        None | Some("error") => Severity::Error,
        Some("warning") => Severity::Warning,
        Some(other) => {
            return Err(t.error_at(
                "severity",
                format!("severity must be \"error\" or \"warning\", found \"{other}\""),
            ));
        }
    };
    let timeout = duration(t, "timeout")?;
    let mut files = vec![src.path.clone()];
    let kind = match kind_name.as_str() {
        "value" => {
            let query = req_query(t, dir, params, &mut files)?;
            let v = t.raw("expect").ok_or_else(|| {
                t.src.error(
                    &t.span,
                    format!(
                        "{} (kind value) needs `expect`, e.g. expect = \">= 440\"",
                        t.what
                    ),
                )
            })?;
            let text = match v.get_ref() {
                DeValue::Integer(i) => format!("= {}", i.as_str()),
                DeValue::Float(f) => format!("= {}", f.as_str()),
                DeValue::Boolean(b) => format!("= {b}"),
                DeValue::String(s) => {
                    check_params(t, "expect", s, params)?;
                    fill(s, |n| params.get(n).map(|p| p.plain()).unwrap_or_default())
                }
                other => {
                    return Err(t.value_error(
                        v,
                        format!(
                            "`expect` in {} must be a true/false comparison such as \">= 440\" or \"between 1 and 10\", found {}",
                            t.what,
                            other.type_str()
                        ),
                    ));
                }
            };
            let expect = Comparison::parse(&text)
                .map_err(|e| t.value_error(v, format!("`expect` in {}: {e}", t.what)))?;
            CheckKind::Value { query, expect }
        }
        "no-rows" => CheckKind::NoRows {
            query: req_query(t, dir, params, &mut files)?,
            show: t.count("show")?.unwrap_or(10) as usize,
        },
        "row-count-match" => {
            let table = t.str("table")?;
            let query = query(t, dir, params, &mut files)?;
            if table.is_some() == query.is_some() {
                return Err(t.src.error(
                    &t.span,
                    format!(
                        "{} needs either `table` or `query` (a count), not both",
                        t.what
                    ),
                ));
            }
            CheckKind::RowCountMatch { table, query }
        }
        "reconcile" => {
            let tolerance = match t.raw("tolerance") {
                None => rust_decimal::Decimal::ZERO,
                Some(v) => {
                    let s = match v.get_ref() {
                        DeValue::Integer(i) => i.as_str().to_string(),
                        DeValue::Float(f) => f.as_str().to_string(),
                        DeValue::String(s) => s.to_string(),
                        _ => String::new(),
                    };
                    s.parse::<rust_decimal::Decimal>()
                        .ok()
                        .filter(|d| !d.is_sign_negative())
                        .ok_or_else(|| {
                            t.value_error(
                                v,
                                "`tolerance` must be a number of zero or more, e.g. \"0.01\"",
                            )
                        })?
                }
            };
            CheckKind::Reconcile {
                table: t.req_str("table")?,
                group_by: t.str_list("group_by")?.unwrap_or_default(),
                columns: t.str_list("columns")?.unwrap_or_default(),
                tolerance,
            }
        }
        "freshness" => CheckKind::Freshness {
            table: t.req_str("table")?,
            column: t.req_str("column")?,
            max_age: duration(t, "max_age")?.ok_or_else(|| {
                t.src.error(
                    &t.span,
                    format!(
                        "{} (kind freshness) needs `max_age`, e.g. max_age = \"15m\"",
                        t.what
                    ),
                )
            })?,
        },
        "latency" => {
            let runs = t.count("runs")?.unwrap_or(20);
            if !(1..=100_000).contains(&runs) {
                return Err(t.error_at("runs", "`runs` must be between 1 and 100000"));
            }
            CheckKind::Latency {
                query: req_query(t, dir, params, &mut files)?,
                runs: runs as u32,
                warmup: t.count("warmup")?.unwrap_or(3).min(100_000) as u32,
                p95_under: duration(t, "p95_under")?.ok_or_else(|| {
                    t.src.error(
                        &t.span,
                        format!(
                            "{} (kind latency) needs `p95_under`, e.g. p95_under = \"200ms\"",
                            t.what
                        ),
                    )
                })?,
            }
        }
        "schema" => {
            let p = t.existing_path("snapshot", dir)?.ok_or_else(|| {
                t.src.error(
                    &t.span,
                    format!("{} (kind schema) needs `snapshot = \"FILE.json\"`", t.what),
                )
            })?;
            files.push(p.clone());
            CheckKind::Schema { snapshot: p }
        }
        "data-diff" => CheckKind::DataDiff {
            table: t.req_str("table")?,
            target_table: t.str("target_table")?,
            key: t.str_list("key")?,
            columns: t.str_list("columns")?,
            where_sql: t.str("where")?,
            max_differences: t.count("max_differences")?.unwrap_or(0),
        },
        _ => unreachable!("kind checked above"),
    };
    let (line, _) = src.line_col(t.span.start);
    Ok(Check {
        id,
        suite: suite.to_string(),
        file: src.path.clone(),
        line,
        location: src.location(&t.span),
        description: t.str("description")?,
        severity,
        timeout,
        targets,
        target_locations,
        kind,
        params: params.clone(),
        files,
    })
}

/// `target = "NAME"` for one-target kinds; `targets = ["A", "B"]` for the kinds that
/// compare two.
fn targets(t: &Table, two: bool) -> Result<(Vec<String>, Vec<String>)> {
    let loc = |key: &'static str| {
        t.raw(key)
            .map(|v| t.src.location(&v.span()))
            .unwrap_or_else(|| t.src.location(&t.span))
    };
    if two {
        if t.has("target") {
            return Err(t.error_at(
                "target",
                format!(
                    "{} compares two targets: write targets = [\"A\", \"B\"]",
                    t.what
                ),
            ));
        }
        let list = t.str_list("targets")?.ok_or_else(|| {
            t.src.error(
                &t.span,
                format!(
                    "{} needs `targets = [\"A\", \"B\"]` (the two targets it compares)",
                    t.what
                ),
            )
        })?;
        if list.len() != 2 || list[0] == list[1] {
            return Err(t.error_at(
                "targets",
                format!("`targets` in {} must name two different targets", t.what),
            ));
        }
        let l = loc("targets");
        Ok((list, vec![l.clone(), l]))
    } else {
        if t.has("targets") {
            return Err(t.error_at(
                "targets",
                format!("{} reads one target: write target = \"NAME\"", t.what),
            ));
        }
        let name = t.str("target")?.ok_or_else(|| {
            t.src.error(
                &t.span,
                format!(
                    "{} is missing `target` (the name of the database it reads)",
                    t.what
                ),
            )
        })?;
        Ok((vec![name], vec![loc("target")]))
    }
}
