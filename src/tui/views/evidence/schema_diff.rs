//! Schema diff: a reviewer's summary, then the normalized DDL diff — unified or side
//! by side — with the changed words inside changed lines highlighted (via `similar`).

use super::{pick, scalar, str_list};
use crate::tui::theme::Theme;
use crate::tui::views::fit;
use ratatui::text::{Line, Span};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Hunk,
    Equal,
    Delete,
    Insert,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: Tag,
    /// (emphasized, text): emphasized parts are the words that changed.
    pub segments: Vec<(bool, String)>,
}

impl DiffLine {
    fn plain(tag: Tag, text: &str) -> Self {
        DiffLine {
            tag,
            segments: vec![(false, text.trim_end_matches('\n').to_string())],
        }
    }
}

/// A side-by-side row: (left = target/old, right = source/new).
pub type SideRow = (Option<DiffLine>, Option<DiffLine>);

#[derive(Debug)]
pub struct SchemaDiffModel {
    pub source: Option<String>,
    pub target: Option<String>,
    pub equal: Option<bool>,
    pub summary: Vec<String>,
    pub equivalences: Vec<String>,
    pub unified: Vec<DiffLine>,
    /// Rows of (left = target/old, right = source/new).
    pub side: Vec<SideRow>,
    /// The generated migration, and statements held back because of hazards.
    pub migration: Vec<String>,
    pub blocked: Vec<String>,
}

/// One line for a change object: `missing in target: column profiles.billing_plan`,
/// `changed: column profiles.email nullable (source NO, target YES)`.
fn change_line(c: &Value) -> String {
    if let Some(d) = pick(c, &["description", "message", "text"]).and_then(scalar) {
        return d;
    }
    let s = |k: &str| pick(c, &[k]).and_then(scalar);
    let what = match s("change").as_deref() {
        Some("missing") => "missing in target".to_string(),
        Some("extra") => "extra in target".to_string(),
        Some(other) => other.to_string(),
        None => "change".to_string(),
    };
    let path = match (s("table"), s("name")) {
        (Some(t), Some(n)) => format!("{t}.{n}"),
        (None, Some(n)) => n,
        (Some(t), None) => t,
        (None, None) => String::new(),
    };
    let mut out = format!("{what}: {} {path}", s("object").unwrap_or_default());
    if let Some(f) = s("field") {
        out.push_str(&format!(" {f}"));
    }
    if s("change").as_deref() == Some("changed") {
        out.push_str(&format!(
            " (source {}, target {})",
            s("source").unwrap_or_else(|| "—".into()),
            s("target").unwrap_or_else(|| "—".into())
        ));
    }
    out
}

fn summary_of(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match pick(v, &["summary"]) {
        Some(Value::Object(_)) => {
            if let Some(t) = pick(&v["summary"], &["text"]).and_then(scalar) {
                out.push(t);
            }
        }
        Some(Value::Array(a)) => out.extend(a.iter().map(|x| match x {
            Value::Object(_) => change_line(x),
            other => scalar(other).unwrap_or_default(),
        })),
        Some(Value::String(s)) => out.extend(s.lines().map(str::to_string)),
        _ => {}
    }
    if let Some(Value::Array(a)) = pick(v, &["changes", "differences"]) {
        out.extend(a.iter().map(|x| match x {
            Value::Object(_) => change_line(x),
            other => scalar(other).unwrap_or_default(),
        }));
    }
    out
}

/// The generated migration (statements that would bring the target to the source).
fn migration_of(v: &Value) -> (Vec<String>, Vec<String>) {
    let Some(m) = pick(v, &["migration"]) else {
        return (Vec::new(), Vec::new());
    };
    (
        str_list(pick(m, &["statements"])),
        str_list(pick(m, &["blocked_statements"])),
    )
}

fn ddl(v: &Value, side: &str) -> Option<String> {
    let flat = format!("{side}_ddl");
    pick(v, &[flat.as_str()])
        .or_else(|| pick(v, &["ddl"]).and_then(|d| d.get(side)))
        .or_else(|| v.get(side).and_then(|s| s.get("ddl")))
        .and_then(|x| match x {
            Value::Array(a) => Some(a.iter().filter_map(scalar).collect::<Vec<_>>().join("\n")),
            other => scalar(other),
        })
}

impl SchemaDiffModel {
    pub fn parse(v: &Value) -> Option<SchemaDiffModel> {
        let old = ddl(v, "target");
        let new = ddl(v, "source");
        let unified_text = pick(v, &["unified_diff", "unified", "diff"]).and_then(|x| x.as_str());
        let has_changes = matches!(pick(v, &["changes"]), Some(Value::Array(_)));
        if old.is_none() && new.is_none() && unified_text.is_none() && !has_changes {
            return None;
        }
        let label = |k: &str| {
            pick(v, &[k]).and_then(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Object(_) => pick(x, &["name", "label", "input", "url"]).and_then(scalar),
                _ => None,
            })
        };
        let (unified, side) = match (&old, &new, unified_text) {
            (Some(_), _, _) | (_, Some(_), _) => {
                let o = old.clone().unwrap_or_default();
                let n = new.clone().unwrap_or_default();
                from_texts(&o, &n)
            }
            (_, _, Some(u)) => from_unified(u),
            // Only the object-by-object changes: a definition diff per changed object.
            _ => from_changes(v),
        };
        let (migration, blocked) = migration_of(v);
        Some(SchemaDiffModel {
            source: label("source"),
            target: label("target"),
            equal: pick(v, &["equal", "identical"]).and_then(Value::as_bool),
            summary: summary_of(v),
            equivalences: match pick(v, &["equivalences", "equivalences_applied"]) {
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|e| match e {
                        Value::Object(_) => format!(
                            "{} ({}x): {}",
                            pick(e, &["rule", "id"])
                                .and_then(scalar)
                                .unwrap_or_default(),
                            pick(e, &["applied"]).and_then(scalar).unwrap_or_default(),
                            pick(e, &["description"])
                                .and_then(scalar)
                                .unwrap_or_default()
                        ),
                        other => scalar(other).unwrap_or_default(),
                    })
                    .collect(),
                _ => Vec::new(),
            },
            unified,
            side,
            migration,
            blocked,
        })
    }

    pub fn lines(&self, theme: &Theme, width: u16, side_by_side: bool) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        let title = match self.equal {
            Some(true) => Span::styled("Schemas are equal", theme.ok()),
            Some(false) => Span::styled("Schemas differ", theme.warn()),
            None => Span::styled("Schema diff", theme.title()),
        };
        let mut head = vec![title];
        if let (Some(s), Some(t)) = (&self.source, &self.target) {
            head.push(Span::styled(format!("  {t} → {s}"), theme.dim()));
        }
        out.push(Line::from(head));
        for s in &self.summary {
            out.push(Line::from(vec![Span::raw("  • "), Span::raw(s.clone())]));
        }
        for e in &self.equivalences {
            out.push(Line::from(Span::styled(format!("  ≈ {e}"), theme.dim())));
        }
        if !self.migration.is_empty() || !self.blocked.is_empty() {
            out.push(Line::from(Span::styled(
                format!("Generated migration ({} statements)", self.migration.len()),
                theme.title(),
            )));
            for st in &self.migration {
                for l in st.lines() {
                    out.push(Line::from(format!("  {l}")));
                }
            }
            for st in &self.blocked {
                for l in st.lines() {
                    out.push(Line::from(Span::styled(
                        format!("  -- held back (hazard): {l}"),
                        theme.warn(),
                    )));
                }
            }
        }
        if self.unified.is_empty() {
            return out;
        }
        out.push(Line::from(Span::styled(
            if side_by_side {
                "DDL diff (side by side; v: unified)"
            } else {
                "DDL diff (unified; v: side by side)"
            },
            theme.title(),
        )));
        if side_by_side {
            let half = (width.saturating_sub(3) / 2) as usize;
            for (l, r) in &self.side {
                let mut spans = cell(l.as_ref(), half, theme);
                spans.push(Span::styled(" │ ", theme.dim()));
                spans.extend(cell(r.as_ref(), half, theme));
                out.push(Line::from(spans));
            }
        } else {
            for l in &self.unified {
                out.push(unified_line(l, theme));
            }
        }
        out
    }
}

fn base_style(tag: Tag, theme: &Theme) -> ratatui::style::Style {
    match tag {
        Tag::Hunk => theme.dim(),
        Tag::Equal => theme.text(),
        Tag::Delete => theme.removed(),
        Tag::Insert => theme.added(),
    }
}

fn spans_of(l: &DiffLine, theme: &Theme) -> Vec<Span<'static>> {
    let base = base_style(l.tag, theme);
    l.segments
        .iter()
        .map(|(emph, t)| {
            if *emph {
                Span::styled(t.clone(), theme.changed_word(l.tag == Tag::Insert))
            } else {
                Span::styled(t.clone(), base)
            }
        })
        .collect()
}

fn unified_line(l: &DiffLine, theme: &Theme) -> Line<'static> {
    let prefix = match l.tag {
        Tag::Hunk => "",
        Tag::Equal => " ",
        Tag::Delete => "-",
        Tag::Insert => "+",
    };
    let mut spans = vec![Span::styled(prefix, base_style(l.tag, theme))];
    spans.extend(spans_of(l, theme));
    Line::from(spans)
}

/// One half of a side-by-side row, cut or padded to `width` columns.
fn cell(l: Option<&DiffLine>, width: usize, theme: &Theme) -> Vec<Span<'static>> {
    let Some(l) = l else {
        return vec![Span::raw(" ".repeat(width))];
    };
    let mut used = 0usize;
    let mut out = Vec::new();
    for s in spans_of(l, theme) {
        let w = unicode_width::UnicodeWidthStr::width(s.content.as_ref());
        if used >= width {
            break;
        }
        if used + w > width {
            let t = crate::tui::views::truncate(&s.content, width - used);
            used += unicode_width::UnicodeWidthStr::width(t.as_str());
            out.push(Span::styled(t, s.style));
            break;
        }
        used += w;
        out.push(s);
    }
    if used < width {
        out.push(Span::raw(fit("", width - used)));
    }
    out
}

/// Diff two DDL texts line by line, with word-level emphasis inside changed lines.
pub fn from_texts(old: &str, new: &str) -> (Vec<DiffLine>, Vec<SideRow>) {
    let diff = TextDiff::from_lines(old, new);
    let mut unified = Vec::new();
    let mut side = Vec::new();
    for group in diff.grouped_ops(3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (o, n) = (first.old_range().start, first.new_range().start);
        let (oe, ne) = (last.old_range().end, last.new_range().end);
        let hunk = DiffLine::plain(
            Tag::Hunk,
            &format!("@@ -{},{} +{},{} @@", o + 1, oe - o, n + 1, ne - n),
        );
        unified.push(hunk.clone());
        side.push((Some(hunk.clone()), Some(hunk)));
        for op in &group {
            let mut dels = Vec::new();
            let mut ins = Vec::new();
            for change in diff.iter_inline_changes(op) {
                let segments: Vec<(bool, String)> = change
                    .iter_strings_lossy()
                    .map(|(e, s)| (e, s.trim_end_matches('\n').to_string()))
                    .filter(|(_, s)| !s.is_empty())
                    .collect();
                let tag = match change.tag() {
                    ChangeTag::Equal => Tag::Equal,
                    ChangeTag::Delete => Tag::Delete,
                    ChangeTag::Insert => Tag::Insert,
                };
                let line = DiffLine { tag, segments };
                unified.push(line.clone());
                match tag {
                    Tag::Equal => side.push((Some(line.clone()), Some(line))),
                    Tag::Delete => dels.push(line),
                    _ => ins.push(line),
                }
            }
            pair(&mut side, dels, ins);
        }
    }
    (unified, side)
}

fn pair(side: &mut Vec<SideRow>, dels: Vec<DiffLine>, ins: Vec<DiffLine>) {
    let n = dels.len().max(ins.len());
    let mut d = dels.into_iter();
    let mut i = ins.into_iter();
    for _ in 0..n {
        side.push((d.next(), i.next()));
    }
}

/// Evidence that carries only a unified diff text: keep it, and emphasize changed
/// words between each run of removed lines and the added lines after it.
pub fn from_unified(text: &str) -> (Vec<DiffLine>, Vec<SideRow>) {
    let mut unified = Vec::new();
    let mut side = Vec::new();
    let mut dels: Vec<String> = Vec::new();
    let mut ins: Vec<String> = Vec::new();
    let flush = |dels: &mut Vec<String>,
                 ins: &mut Vec<String>,
                 unified: &mut Vec<DiffLine>,
                 side: &mut Vec<SideRow>| {
        if dels.is_empty() && ins.is_empty() {
            return;
        }
        let old = dels.join("\n");
        let new = ins.join("\n");
        let (u, _) = from_texts(&(old.clone() + "\n"), &(new.clone() + "\n"));
        let changed: Vec<DiffLine> = u.into_iter().filter(|l| l.tag != Tag::Hunk).collect();
        let d: Vec<DiffLine> = changed
            .iter()
            .filter(|l| l.tag == Tag::Delete)
            .cloned()
            .collect();
        let i: Vec<DiffLine> = changed
            .iter()
            .filter(|l| l.tag == Tag::Insert)
            .cloned()
            .collect();
        unified.extend(d.iter().cloned());
        unified.extend(i.iter().cloned());
        pair(side, d, i);
        dels.clear();
        ins.clear();
    };
    for raw in text.lines() {
        if raw.starts_with("---") || raw.starts_with("+++") {
            continue;
        }
        if let Some(r) = raw.strip_prefix('-') {
            if !ins.is_empty() {
                flush(&mut dels, &mut ins, &mut unified, &mut side);
            }
            dels.push(r.to_string());
        } else if let Some(r) = raw.strip_prefix('+') {
            ins.push(r.to_string());
        } else {
            flush(&mut dels, &mut ins, &mut unified, &mut side);
            let (tag, body) = if raw.starts_with("@@") {
                (Tag::Hunk, raw)
            } else {
                (Tag::Equal, raw.strip_prefix(' ').unwrap_or(raw))
            };
            let l = DiffLine::plain(tag, body);
            unified.push(l.clone());
            side.push((Some(l.clone()), Some(l)));
        }
    }
    flush(&mut dels, &mut ins, &mut unified, &mut side);
    (unified, side)
}

/// Evidence with only object-by-object changes: one hunk per changed object with
/// both definitions, so the changed words are still highlighted.
pub fn from_changes(v: &Value) -> (Vec<DiffLine>, Vec<SideRow>) {
    let mut unified = Vec::new();
    let mut side = Vec::new();
    let Some(Value::Array(changes)) = pick(v, &["changes"]) else {
        return (unified, side);
    };
    for c in changes {
        let s = |k: &str| pick(c, &[k]).and_then(scalar);
        let (Some(src), Some(tgt)) = (s("source"), s("target")) else {
            continue;
        };
        let path = [s("object"), s("table"), s("name"), s("field")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let head = DiffLine::plain(Tag::Hunk, &format!("@@ {path} @@"));
        unified.push(head.clone());
        side.push((Some(head.clone()), Some(head)));
        let (u, sd) = from_texts(&(tgt + "\n"), &(src + "\n"));
        unified.extend(u.into_iter().filter(|l| l.tag != Tag::Hunk));
        side.extend(
            sd.into_iter()
                .filter(|(l, _)| l.as_ref().is_none_or(|l| l.tag != Tag::Hunk)),
        );
    }
    (unified, side)
}
