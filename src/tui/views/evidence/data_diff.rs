//! Data diff: summary counts, changes per column, and a scrollable table of the
//! differing rows with changed cells highlighted. Rows live in one compact arena
//! (a million rows stay a few hundred MB at most) and only the visible window is
//! ever turned into widgets, so scrolling a million rows costs what scrolling ten does.
//!
//! Direction as everywhere else (`data::output`): what applying will do. A row only
//! in the source is `+` (inserted), only in the target `-` (deleted), and a changed
//! cell reads `target value → source value`.

use crate::steps::diff_data::{DiffDataEvidence, DifferenceRecord};
use crate::steps::sync::{SyncEvidence, SyncedTable, TableSynced};
use crate::tui::theme::Theme;
use crate::tui::views::{fit, thousands, truncate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    OnlyInSource,
    OnlyInTarget,
    Changed,
}

impl RowKind {
    pub fn mark(self) -> &'static str {
        match self {
            RowKind::OnlyInSource => "+",
            RowKind::OnlyInTarget => "-",
            RowKind::Changed => "~",
        }
    }
}

/// A NULL cell: distinct from every string, shown as a dim `NULL`.
const NULL: &str = "\u{0}";

/// Differing rows, one text arena for all cells. Per row: the key, then for every
/// column the source value and the target value.
#[derive(Debug, Default)]
pub struct RowStore {
    ncols: usize,
    kinds: Vec<RowKind>,
    /// Bit c set: column c differs (columns beyond 64 are compared on the fly).
    changed: Vec<u64>,
    text: String,
    ends: Vec<usize>,
}

/// One differing row, borrowed from the store.
pub struct RowRef<'a> {
    pub kind: RowKind,
    pub key: &'a str,
    store: &'a RowStore,
    row: usize,
}

impl<'a> RowRef<'a> {
    /// (source value, target value, differs) of column `c`; `None` for NULL.
    pub fn cell(&self, c: usize) -> (Option<&'a str>, Option<&'a str>, bool) {
        let base = self.row * (1 + 2 * self.store.ncols) + 1 + 2 * c;
        let old = self.store.get(base);
        let new = self.store.get(base + 1);
        let differs = if c < 64 {
            self.store.changed[self.row] & (1 << c) != 0
        } else {
            self.kind == RowKind::Changed && old != new
        };
        let n = |s: &'a str| (s != NULL).then_some(s);
        (n(old), n(new), differs)
    }
}

impl RowStore {
    pub fn new(ncols: usize) -> Self {
        RowStore {
            ncols,
            ..Default::default()
        }
    }
    pub fn len(&self) -> usize {
        self.kinds.len()
    }
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
    fn get(&self, cell: usize) -> &str {
        let start = if cell == 0 { 0 } else { self.ends[cell - 1] };
        &self.text[start..self.ends[cell]]
    }
    fn put(&mut self, s: Option<&str>) {
        self.text.push_str(s.unwrap_or(NULL));
        self.ends.push(self.text.len());
    }
    /// Append a row: `cells[c]` = (source value, target value) of column c; None is NULL.
    /// A cell differs when the row is `Changed` and the two values differ.
    pub fn push(&mut self, kind: RowKind, key: &str, cells: &[(Option<&str>, Option<&str>)]) {
        self.put(Some(key));
        let mut mask = 0u64;
        for c in 0..self.ncols {
            let (o, n) = cells.get(c).copied().unwrap_or((None, None));
            self.put(o);
            self.put(n);
            if kind == RowKind::Changed && o != n && c < 64 {
                mask |= 1 << c;
            }
        }
        self.kinds.push(kind);
        self.changed.push(mask);
    }
    pub fn row(&self, i: usize) -> RowRef<'_> {
        RowRef {
            kind: self.kinds[i],
            key: self.get(i * (1 + 2 * self.ncols)),
            store: self,
            row: i,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    pub source_rows: Option<u64>,
    pub target_rows: Option<u64>,
    pub only_in_source: Option<u64>,
    pub only_in_target: Option<u64>,
    pub changed: Option<u64>,
    pub unchanged: Option<u64>,
}

#[derive(Debug, Default)]
pub struct DataDiffModel {
    pub table: Option<String>,
    pub key_columns: Vec<String>,
    pub columns: Vec<String>,
    pub counts: Counts,
    /// (column, rows where it differs), most changed first.
    pub column_changes: Vec<(String, u64)>,
    pub rows: RowStore,
    /// Differing rows not included in the evidence (a `--limit`).
    pub omitted: Option<u64>,
    /// What a sync applied, shown under the counts.
    pub note: Option<String>,
}

/// A cell as text; `None` for NULL.
fn cell_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn key_text(key: &serde_json::Map<String, Value>) -> String {
    key.values()
        .map(|x| cell_text(x).unwrap_or_else(|| "NULL".into()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compared columns in the order the records show them (key columns left out).
fn columns_of(records: &[DifferenceRecord], key_columns: &[String]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    let mut add = |c: &String| {
        if !columns.contains(c) && !key_columns.contains(c) {
            columns.push(c.clone());
        }
    };
    for r in records.iter().take(1000) {
        match r {
            DifferenceRecord::OnlyInSource { row, .. }
            | DifferenceRecord::OnlyInTarget { row, .. } => row.keys().for_each(&mut add),
            DifferenceRecord::Changed { changes, .. } => changes.iter().for_each(|(c, _)| add(c)),
        }
    }
    columns
}

fn row_store(records: &[DifferenceRecord], columns: &[String]) -> RowStore {
    let mut rows = RowStore::new(columns.len());
    let mut cells: Vec<(Option<String>, Option<String>)> = Vec::with_capacity(columns.len());
    for r in records {
        cells.clear();
        let (kind, key) = match r {
            DifferenceRecord::OnlyInSource { key, row, .. } => {
                cells.extend(
                    columns
                        .iter()
                        .map(|c| (row.get(c).and_then(cell_text), None)),
                );
                (RowKind::OnlyInSource, key)
            }
            DifferenceRecord::OnlyInTarget { key, row, .. } => {
                cells.extend(
                    columns
                        .iter()
                        .map(|c| (None, row.get(c).and_then(cell_text))),
                );
                (RowKind::OnlyInTarget, key)
            }
            DifferenceRecord::Changed { key, changes } => {
                cells.extend(columns.iter().map(|c| {
                    match changes.iter().find(|(name, _)| name == c) {
                        Some((_, ch)) => (cell_text(&ch.source), cell_text(&ch.target)),
                        // Only the changed columns are recorded: the rest is unknown, not NULL.
                        None => (Some(String::new()), Some(String::new())),
                    }
                }));
                (RowKind::Changed, key)
            }
        };
        let refs: Vec<(Option<&str>, Option<&str>)> = cells
            .iter()
            .map(|(o, n)| (o.as_deref(), n.as_deref()))
            .collect();
        rows.push(kind, &key_text(key), &refs);
    }
    rows
}

fn by_most_changed(m: &std::collections::BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = m.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Differing rows the evidence does not list.
fn omitted(not_shown: u64, counts: &Counts, listed: usize) -> Option<u64> {
    let total = counts.only_in_source.unwrap_or(0)
        + counts.only_in_target.unwrap_or(0)
        + counts.changed.unwrap_or(0);
    let listed = listed as u64;
    (not_shown > 0)
        .then_some(not_shown)
        .or_else(|| (total > listed && listed > 0).then_some(total - listed))
}

impl DataDiffModel {
    /// From a `diff-data` step's evidence.
    pub fn from_diff(e: &DiffDataEvidence) -> DataDiffModel {
        let s = &e.summary;
        let key_columns = s.key.clone();
        let mut columns: Vec<String> = s
            .columns
            .iter()
            .map(|c| c.name.clone())
            .filter(|c| !key_columns.contains(c))
            .collect();
        if columns.is_empty() {
            columns = columns_of(&e.differences, &key_columns);
        }
        let counts = Counts {
            source_rows: Some(s.source_rows),
            target_rows: Some(s.target_rows),
            only_in_source: Some(s.only_in_source),
            only_in_target: Some(s.only_in_target),
            changed: Some(s.changed),
            unchanged: Some(s.unchanged),
        };
        let rows = row_store(&e.differences, &columns);
        DataDiffModel {
            table: (!s.source_table.is_empty()).then(|| s.source_table.clone()),
            key_columns,
            omitted: omitted(e.differences_not_shown, &counts, rows.len()),
            columns,
            counts,
            column_changes: by_most_changed(&s.column_changes),
            rows,
            note: None,
        }
    }

    /// From a `sync` step's evidence: the table with the most listed differences,
    /// its diff before applying, and what was applied. `None` when no table synced.
    pub fn from_sync(e: &SyncEvidence) -> Option<DataDiffModel> {
        let synced: Vec<&TableSynced> = e
            .tables
            .iter()
            .filter_map(|t| match t {
                SyncedTable::Synced(t) => Some(t),
                SyncedTable::Failed { .. } => None,
            })
            .collect();
        let (i, t) = synced
            .iter()
            .enumerate()
            .max_by_key(|(_, t)| t.differences.len())?;
        let key_columns: Vec<String> = match t.differences.first() {
            Some(
                DifferenceRecord::OnlyInSource { key, .. }
                | DifferenceRecord::OnlyInTarget { key, .. }
                | DifferenceRecord::Changed { key, .. },
            ) => key.keys().cloned().collect(),
            None => Vec::new(),
        };
        let columns = columns_of(&t.differences, &key_columns);
        let b = &t.before;
        let counts = Counts {
            source_rows: Some(b.source_rows),
            target_rows: Some(b.target_rows),
            only_in_source: Some(b.only_in_source),
            only_in_target: Some(b.only_in_target),
            changed: Some(b.changed),
            unchanged: None,
        };
        let mut note = format!(
            "applied: {} inserted, {} updated, {} deleted; equal after: {}",
            t.inserts,
            t.updates,
            t.deletes,
            if t.equal_after { "yes" } else { "NO" }
        );
        if e.tables.len() > 1 {
            note.push_str(&format!(" (table {} of {})", i + 1, e.tables.len()));
        }
        if !e.order.is_empty() {
            note.push_str(&format!(
                "; written parents first: {} (deletes in reverse)",
                e.order.join(", ")
            ));
        }
        let rows = row_store(&t.differences, &columns);
        Some(DataDiffModel {
            table: Some(t.table.clone()),
            key_columns,
            omitted: omitted(0, &counts, rows.len()),
            columns,
            counts,
            column_changes: by_most_changed(&b.column_changes),
            rows,
            note: Some(note),
        })
    }

    /// The summary lines above the table.
    pub fn summary_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let c = &self.counts;
        let n = |x: Option<u64>| x.map(thousands).unwrap_or_else(|| "?".into());
        let differing =
            c.only_in_source.unwrap_or(0) + c.only_in_target.unwrap_or(0) + c.changed.unwrap_or(0);
        let mut head = vec![Span::styled(
            match &self.table {
                Some(t) => format!("Data diff {t}"),
                None => "Data diff".to_string(),
            },
            theme.title(),
        )];
        head.push(Span::raw("  "));
        head.push(if differing == 0 {
            Span::styled("equal", theme.ok())
        } else {
            Span::styled(
                format!("{} differing rows", thousands(differing)),
                theme.warn(),
            )
        });
        let mut out = vec![Line::from(head)];
        out.push(Line::from(vec![
            Span::styled("rows ", theme.dim()),
            Span::raw(format!(
                "source {} · target {} · unchanged {}",
                n(c.source_rows),
                n(c.target_rows),
                n(c.unchanged)
            )),
        ]));
        out.push(Line::from(vec![
            Span::styled("+ only in source ", theme.added()),
            Span::raw(n(c.only_in_source)),
            Span::styled("  - only in target ", theme.removed()),
            Span::raw(n(c.only_in_target)),
            Span::styled("  ~ changed ", theme.warn()),
            Span::raw(n(c.changed)),
        ]));
        if let Some(n) = &self.note {
            out.push(Line::from(Span::styled(n.clone(), theme.title())));
        }
        if !self.column_changes.is_empty() {
            let mut spans = vec![Span::styled("changes by column ", theme.dim())];
            for (i, (col, k)) in self.column_changes.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" · "));
                }
                spans.push(Span::raw(format!("{col} {}", thousands(*k))));
            }
            out.push(Line::from(spans));
        }
        out
    }

    /// Draw summary and the visible window of rows. `top` is the first row shown,
    /// `selected` the highlighted row, `hscroll` the first column shown.
    pub fn draw(
        &self,
        f: &mut Frame,
        area: Rect,
        theme: &Theme,
        top: &mut usize,
        selected: usize,
        hscroll: usize,
    ) {
        self.draw_kept(f, area, theme, top, selected, hscroll, None);
    }

    /// Rows (their indexes) that contain `text` in the key or any value, case-insensitive.
    pub fn rows_matching(&self, text: &str) -> Vec<usize> {
        let needle = text.to_lowercase();
        let has = |s: &str| s.to_lowercase().contains(&needle);
        (0..self.rows.len())
            .filter(|&i| {
                let r = self.rows.row(i);
                has(r.key)
                    || (0..self.columns.len()).any(|c| {
                        let (o, n, _) = r.cell(c);
                        o.is_some_and(has) || n.is_some_and(has)
                    })
            })
            .collect()
    }

    /// As [`Self::draw`], listing only the rows in `kept` (a `/` filter); `top` and
    /// `selected` then count within `kept`. Returns where the rows were drawn (the
    /// first line is row `top`), for mouse clicks.
    #[allow(clippy::too_many_arguments)]
    pub fn draw_kept(
        &self,
        f: &mut Frame,
        area: Rect,
        theme: &Theme,
        top: &mut usize,
        selected: usize,
        hscroll: usize,
        kept: Option<&[usize]>,
    ) -> Rect {
        let at = |i: usize| kept.map_or(i, |k| k[i]);
        let summary = self.summary_lines(theme);
        let w = (area.width as usize).max(1);
        let wrapped: usize = summary.iter().map(|l| l.width().div_ceil(w).max(1)).sum();
        let sh = (wrapped as u16).min(area.height.saturating_sub(3));
        let [sum_area, table_area] =
            Layout::vertical([Constraint::Length(sh), Constraint::Min(0)]).areas(area);
        f.render_widget(Paragraph::new(summary).wrap(Wrap { trim: false }), sum_area);
        if table_area.height < 2 {
            return Rect::default();
        }
        let total = kept.map_or(self.rows.len(), <[usize]>::len);
        let body_h = (table_area.height - 2) as usize; // header + footer line
        // Keep the selection in view.
        if selected < *top {
            *top = selected;
        } else if body_h > 0 && selected >= *top + body_h {
            *top = selected + 1 - body_h;
        }
        *top = (*top).min(total.saturating_sub(body_h.max(1)));
        let end = (*top + body_h).min(total);

        let key_name = if self.key_columns.is_empty() {
            "key".to_string()
        } else {
            self.key_columns.join(",")
        };
        // Width of the key column from the visible window only.
        let mut key_w = key_name.chars().count().max(3);
        for i in *top..end {
            key_w = key_w.max(self.rows.row(at(i)).key.chars().count());
        }
        let key_w = key_w.min(18);
        let avail = table_area.width.saturating_sub(2 + key_w as u16 + 1) as usize;
        let hscroll = hscroll.min(self.columns.len().saturating_sub(1));
        // Visible columns: as many as fit from hscroll, each 8..=24 wide.
        let mut cols: Vec<(usize, usize)> = Vec::new();
        let mut used = 0usize;
        for c in hscroll..self.columns.len() {
            let mut w = self.columns[c].chars().count().max(4);
            for i in *top..end {
                let (o, n, d) = self.rows.row(at(i)).cell(c);
                let cw = if d {
                    o.unwrap_or("NULL").chars().count() + 3 + n.unwrap_or("NULL").chars().count()
                } else {
                    o.or(n).unwrap_or("NULL").chars().count()
                };
                w = w.max(cw);
            }
            let w = w.clamp(4, 40);
            if used + w + 1 > avail && !cols.is_empty() {
                break;
            }
            let w = w.min(avail.saturating_sub(used + 1).max(4));
            cols.push((c, w));
            used += w + 1;
        }

        let mut widths = vec![Constraint::Length(1), Constraint::Length(key_w as u16)];
        widths.extend(cols.iter().map(|(_, w)| Constraint::Length(*w as u16)));
        let mut header = vec![
            Line::from(" "),
            Line::from(Span::styled(fit(&key_name, key_w), theme.title())),
        ];
        header.extend(
            cols.iter()
                .map(|(c, w)| Line::from(Span::styled(fit(&self.columns[*c], *w), theme.title()))),
        );
        let rows = (*top..end).map(|i| {
            let r = self.rows.row(at(i));
            let mark_style = match r.kind {
                RowKind::OnlyInSource => theme.added(),
                RowKind::OnlyInTarget => theme.removed(),
                RowKind::Changed => theme.warn(),
            };
            let mut cells = vec![
                Line::from(Span::styled(r.kind.mark(), mark_style)),
                Line::from(truncate(r.key, key_w)),
            ];
            for (c, w) in &cols {
                let (o, n, d) = r.cell(*c);
                let show = |v: Option<&str>| v.unwrap_or("NULL").to_string();
                let line = match r.kind {
                    RowKind::Changed if d => {
                        // what applying does: the target's value becomes the source's
                        let text = format!("{} → {}", show(n), show(o));
                        Line::from(Span::styled(truncate(&text, *w), theme.changed_word(true)))
                    }
                    RowKind::OnlyInSource => {
                        Line::from(Span::styled(truncate(&show(o), *w), theme.added()))
                    }
                    RowKind::OnlyInTarget => {
                        Line::from(Span::styled(truncate(&show(n), *w), theme.removed()))
                    }
                    RowKind::Changed => {
                        let v = o.or(n);
                        let st = if v.is_none() {
                            theme.dim()
                        } else {
                            theme.text()
                        };
                        Line::from(Span::styled(truncate(&show(v), *w), st))
                    }
                };
                cells.push(line);
            }
            let row = Row::new(cells);
            if i == selected {
                row.style(theme.selected())
            } else {
                row
            }
        });
        let [t_area, foot] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(table_area);
        f.render_widget(
            Table::new(rows, widths)
                .header(Row::new(header))
                .column_spacing(1),
            t_area,
        );
        let mut foot_text = if total == 0 {
            "no differing rows listed".to_string()
        } else {
            format!(
                "row {}/{}  cols {}-{}/{}",
                thousands(selected as u64 + 1),
                thousands(total as u64),
                hscroll + 1,
                hscroll + cols.len(),
                self.columns.len()
            )
        };
        if let Some(o) = self.omitted {
            foot_text.push_str(&format!("  +{} not listed", thousands(o)));
        }
        foot_text.push_str("  (j/k h/l PgUp/PgDn g/G)");
        f.render_widget(Paragraph::new(Span::styled(foot_text, theme.dim())), foot);
        // Below the header line: one line a row, as many as were drawn.
        Rect {
            y: t_area.y + 1,
            height: (end - *top) as u16,
            ..t_area
        }
    }
}
