//! Schema diff: a reviewer's summary, then the normalized DDL diff — unified or side
//! by side — with the changed words inside changed lines highlighted (via `similar`).

use crate::schema::{Change, ChangeKind};
use crate::steps::diff_schema::DiffSchemaEvidence;
use crate::steps::drift_check::DriftCheckEvidence;
use crate::tui::theme::Theme;
use crate::tui::views::fit;
use ratatui::text::{Line, Span};
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

/// One line for a change: `missing in target: column profiles.billing_plan`,
/// `changed: column profiles.email nullable (source NO, target YES)`.
fn change_line(c: &Change) -> String {
    let what = match c.change {
        ChangeKind::Missing => "missing in target",
        ChangeKind::Extra => "extra in target",
        ChangeKind::Changed => "changed",
    };
    let mut out = format!("{what}: {} {}", c.object.label(), c.path());
    if let Some(f) = &c.field {
        out.push_str(&format!(" {f}"));
    }
    if c.change == ChangeKind::Changed {
        out.push_str(&format!(
            " (source {}, target {})",
            c.source.as_deref().unwrap_or("—"),
            c.target.as_deref().unwrap_or("—")
        ));
    }
    out
}

impl SchemaDiffModel {
    /// From a `diff-schema` step's evidence.
    pub fn from_diff(e: &DiffSchemaEvidence) -> SchemaDiffModel {
        let mut summary = vec![e.summary.text.clone()];
        summary.extend(e.changes.iter().map(change_line));
        let (unified, side) = match &e.ddl {
            Some(ddl) => from_texts(&ddl.target, &ddl.source),
            // Only the object-by-object changes: a definition diff per changed object.
            None => from_changes(&e.changes),
        };
        SchemaDiffModel {
            source: Some(e.source.input.clone()),
            target: Some(e.target.input.clone()),
            equal: Some(e.equal),
            summary,
            equivalences: e
                .equivalences
                .iter()
                .map(|q| format!("{} ({}x): {}", q.rule, q.applied, q.description))
                .collect(),
            unified,
            side,
            migration: e.migration.statements.clone(),
            blocked: e.migration.blocked_statements.clone(),
        }
    }

    /// From a `drift-check` step's evidence: the target against its snapshot.
    pub fn from_drift(e: &DriftCheckEvidence) -> SchemaDiffModel {
        let mut summary = Vec::new();
        let mut equal = e.drift.map(|d| !d);
        if let (Some(want), Some(got)) = (&e.expected_sha256, &e.sha256) {
            equal = Some(false);
            summary.push(format!(
                "the snapshot file changed since it was recorded: sha256 {} expected, {} found; schemas not compared",
                crate::tui::views::short_hash(want),
                crate::tui::views::short_hash(got)
            ));
        }
        summary.extend(e.differences.iter().flatten().cloned());
        SchemaDiffModel {
            source: Some(e.snapshot.clone()),
            target: Some(e.target.clone()),
            equal,
            summary,
            equivalences: Vec::new(),
            unified: Vec::new(),
            side: Vec::new(),
            migration: Vec::new(),
            blocked: Vec::new(),
        }
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

/// Evidence with only object-by-object changes: one hunk per changed object with
/// both definitions, so the changed words are still highlighted.
pub fn from_changes(changes: &[Change]) -> (Vec<DiffLine>, Vec<SideRow>) {
    let mut unified = Vec::new();
    let mut side = Vec::new();
    for c in changes {
        let (Some(src), Some(tgt)) = (&c.source, &c.target) else {
            continue;
        };
        let path = [
            Some(c.object.label().to_string()),
            c.table.clone(),
            Some(c.name.clone()),
            c.field.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let head = DiffLine::plain(Tag::Hunk, &format!("@@ {path} @@"));
        unified.push(head.clone());
        side.push((Some(head.clone()), Some(head)));
        let (u, sd) = from_texts(&format!("{tgt}\n"), &format!("{src}\n"));
        unified.extend(u.into_iter().filter(|l| l.tag != Tag::Hunk));
        side.extend(
            sd.into_iter()
                .filter(|(l, _)| l.as_ref().is_none_or(|l| l.tag != Tag::Hunk)),
        );
    }
    (unified, side)
}
