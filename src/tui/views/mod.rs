//! One file per view. Evidence views live under `evidence/`, one file per kind.

pub mod evidence;
pub mod filter;
pub mod history;
pub mod log;
pub mod runbook;
pub mod waiting;

use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Cut `s` to at most `width` columns, marking the cut with '…'.
pub fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// Pad or cut to exactly `width` columns.
pub fn fit(s: &str, width: usize) -> String {
    let t = truncate(s, width);
    let pad = width.saturating_sub(t.width());
    format!("{t}{}", " ".repeat(pad))
}

/// Human duration: 850ms, 12.3s, 4m05s, 1h02m.
pub fn fmt_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Short form of a hash for tables: first 12 hex digits.
pub fn short_hash(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// A "key: value" line.
pub fn kv<'a>(key: &'a str, value: String, theme: &super::theme::Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{key}: "), theme.dim()),
        Span::raw(value),
    ])
}
