//! Renderings of a comparison: the reviewer's text (summary, then a unified diff of
//! normalized DDL) and the stable JSON documented in docs/schema.md.

use super::diff::{Change, ChangeKind, ObjectKind};
use super::migrate::HAZARD_CODES;
use super::{Comparison, ddl, types};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

pub const JSON_FORMAT: &str = "cutover-schema-diff";
pub const JSON_VERSION: u64 = 1;

/// `column users.email: missing in target (varchar(255) NOT NULL)`
pub fn change_line(c: &Change) -> String {
    // multi-line definitions (functions) show their first line here; JSON has them whole
    let first = |s: &String| -> String {
        let mut l = s.lines().next().unwrap_or("").to_string();
        if s.lines().count() > 1 {
            l.push_str(" ...");
        }
        l
    };
    let c = &Change {
        source: c.source.as_ref().map(first),
        target: c.target.as_ref().map(first),
        ..c.clone()
    };
    let what = format!("{} {}", c.object.label(), c.path());
    match c.change {
        ChangeKind::Missing => format!(
            "{what}: missing in target{}",
            c.source
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        ),
        ChangeKind::Extra => format!(
            "{what}: extra in target{}",
            c.target
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        ),
        ChangeKind::Changed => format!(
            "{what}: {} differs: source {}, target {}",
            c.field.as_deref().unwrap_or("definition"),
            c.source.as_deref().unwrap_or("none"),
            c.target.as_deref().unwrap_or("none")
        ),
    }
}

pub fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else if one.ends_with('x') {
        format!("{n} {one}es")
    } else if let Some(stem) = one.strip_suffix("key") {
        format!("{n} {stem}keys")
    } else if one.ends_with("ey") {
        format!("{n} {one}s")
    } else if let Some(stem) = one.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {one}s")
    }
}

/// "3 tables missing in target, 7 columns missing in target, 1 column changed"
pub fn summary(changes: &[Change]) -> String {
    let mut counts: BTreeMap<(u8, ObjectKind), usize> = BTreeMap::new();
    for c in changes {
        let k = match c.change {
            ChangeKind::Missing => 0,
            ChangeKind::Extra => 1,
            ChangeKind::Changed => 2,
        };
        *counts.entry((k, c.object)).or_default() += 1;
    }
    if counts.is_empty() {
        return "no differences".into();
    }
    counts
        .iter()
        .map(|((k, o), n)| {
            let what = match *k {
                0 => "missing in target",
                1 => "extra in target",
                _ => "changed",
            };
            format!("{} {what}", plural(*n, o.label()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn text(cmp: &Comparison, allow: &BTreeSet<String>) -> String {
    let d = &cmp.diff;
    let mut out = format!(
        "Schema diff\n  source: {} ({})\n  target: {} ({})\n\n",
        cmp.source_label,
        d.source_dialect.name(),
        cmp.target_label,
        d.target_dialect.name()
    );
    if d.is_equal() {
        out.push_str("Equal: no differences.\n");
    } else if d.changes.is_empty() {
        out.push_str(&format!(
            "No differences in what was compared, but NOT EQUAL: not compared: {}.\n",
            d.not_compared_text()
        ));
    } else {
        out.push_str(&format!(
            "{}: {}\n",
            plural(d.changes.len(), "difference"),
            summary(&d.changes)
        ));
        for (kind, title) in [
            (
                ChangeKind::Missing,
                "Missing in target (the source has them)",
            ),
            (ChangeKind::Extra, "Extra in target (the source lacks them)"),
            (ChangeKind::Changed, "Changed"),
        ] {
            let lines: Vec<String> = d
                .changes
                .iter()
                .filter(|c| c.change == kind)
                .map(change_line)
                .collect();
            if !lines.is_empty() {
                out.push_str(&format!("\n{title}:\n"));
                for l in lines {
                    out.push_str(&format!("  {l}\n"));
                }
            }
        }
    }
    if !d.not_compared.is_empty() && !d.changes.is_empty() {
        out.push_str(&format!("\nNot compared: {}.\n", d.not_compared_text()));
    }
    if !d.equivalences.is_empty() {
        out.push_str("\nCross-engine equivalences applied (docs/schema.md):\n");
        for (id, n) in &d.equivalences {
            let desc = types::rule(id).map(|r| r.description).unwrap_or("");
            out.push_str(&format!("  {id} ({n}x): {desc}\n"));
        }
    }
    let hazards = cmp.migration.hazards();
    if !hazards.is_empty() {
        out.push_str("\nHazards in the generated migration (--format sql):\n");
        for h in hazards {
            out.push_str(&format!(
                "  {}{}: {}\n",
                h.code,
                if allow.contains(&h.code) {
                    " (allowed)"
                } else {
                    ""
                },
                h.message
            ));
        }
    }
    if !d.is_equal() {
        let (a, b, neutral) = normalized_ddl(cmp);
        let udiff = similar::TextDiff::from_lines(&a, &b)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("target {}", cmp.target_label),
                &format!("source {}", cmp.source_label),
            )
            .to_string();
        if !udiff.is_empty() {
            out.push_str(&format!(
                "\nNormalized DDL{} (- target, + source):\n",
                if neutral { ", engine-neutral" } else { "" }
            ));
            out.push_str(&udiff);
        }
    }
    out
}

/// The normalized DDL of the target and the source (engine-neutral across engines).
fn normalized_ddl(cmp: &Comparison) -> (String, String, bool) {
    let d = &cmp.diff;
    let neutral = d.cross_engine();
    (
        ddl::render_schema(&cmp.target, d.target_dialect, neutral),
        ddl::render_schema(&cmp.source, d.source_dialect, neutral),
        neutral,
    )
}

pub fn json(cmp: &Comparison, allow: &BTreeSet<String>) -> Json {
    let d = &cmp.diff;
    // The full normalized DDL of both sides when they differ, so a reader (the TUI's
    // unified and side-by-side views) can show the whole diff, not only the changes.
    let ddl_json = (!d.is_equal()).then(|| {
        let (target, source, neutral) = normalized_ddl(cmp);
        json!({"source": source, "target": target, "engine_neutral": neutral})
    });
    let count = |k: ChangeKind| d.changes.iter().filter(|c| c.change == k).count();
    json!({
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "source": {"input": cmp.source_label, "dialect": d.source_dialect},
        "target": {"input": cmp.target_label, "dialect": d.target_dialect},
        "equal": d.is_equal(),
        "summary": {
            "differences": d.changes.len(),
            "missing": count(ChangeKind::Missing),
            "extra": count(ChangeKind::Extra),
            "changed": count(ChangeKind::Changed),
            "text": if d.changes.is_empty() && !d.not_compared.is_empty() {
                format!("not compared: {}", d.not_compared_text())
            } else {
                summary(&d.changes)
            },
        },
        "changes": d.changes,
        "not_compared": d.not_compared,
        "equivalences": d.equivalences.iter().map(|(id, n)| json!({
            "rule": id,
            "applied": n,
            "description": types::rule(id).map(|r| r.description).unwrap_or(""),
        })).collect::<Vec<_>>(),
        "hazards": cmp.migration.hazards().iter().map(|h| json!({
            "code": h.code,
            "object": h.object,
            "message": h.message,
            "allowed": allow.contains(&h.code),
        })).collect::<Vec<_>>(),
        "ddl": ddl_json,
        "migration": {
            "dialect": cmp.migration.dialect,
            "statements": cmp.migration.statements(allow),
            "blocked_statements": cmp.migration.blocked_statements(allow),
            "not_migrated": cmp.migration.not_migrated,
        },
    })
}

/// The known hazard codes, for help text.
pub fn hazard_codes_help() -> String {
    HAZARD_CODES
        .iter()
        .map(|h| format!("  {:<26} {}", h.code, h.explanation))
        .collect::<Vec<_>>()
        .join("\n")
}
