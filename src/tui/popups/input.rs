//! A one-line text input with a cursor and the usual editing keys, shared by the
//! dialogs: ← → Home End (Ctrl-A Ctrl-E) move, Backspace Delete erase a character,
//! Ctrl-W erases a word back, Ctrl-U to the start, Ctrl-K to the end; typing inserts
//! at the cursor. No crate: this is the whole of it, and the fields stay `String`s.

use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::text::Span;

/// Byte offset of char index `i` in `s` (its length past the end).
fn at(s: &str, i: usize) -> usize {
    s.char_indices().nth(i).map_or(s.len(), |(b, _)| b)
}

/// Apply an editing key to `text` with the cursor at char index `cursor`. Returns
/// false for keys that are not editing keys (left to the dialog).
pub fn edit(text: &mut String, cursor: &mut usize, key: KeyEvent) -> bool {
    let n = text.chars().count();
    *cursor = (*cursor).min(n);
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Left => *cursor = cursor.saturating_sub(1),
        KeyCode::Right => *cursor = (*cursor + 1).min(n),
        KeyCode::Home => *cursor = 0,
        KeyCode::End => *cursor = n,
        KeyCode::Char('a') if ctrl => *cursor = 0,
        KeyCode::Char('e') if ctrl => *cursor = n,
        KeyCode::Char('u') if ctrl => {
            text.replace_range(..at(text, *cursor), "");
            *cursor = 0;
        }
        KeyCode::Char('k') if ctrl => text.truncate(at(text, *cursor)),
        KeyCode::Char('w') if ctrl => {
            let chars: Vec<char> = text.chars().collect();
            let mut i = *cursor;
            while i > 0 && chars[i - 1] == ' ' {
                i -= 1;
            }
            while i > 0 && chars[i - 1] != ' ' {
                i -= 1;
            }
            text.replace_range(at(text, i)..at(text, *cursor), "");
            *cursor = i;
        }
        KeyCode::Backspace if *cursor > 0 => {
            text.replace_range(at(text, *cursor - 1)..at(text, *cursor), "");
            *cursor -= 1;
        }
        KeyCode::Backspace => {}
        KeyCode::Delete if *cursor < n => {
            text.replace_range(at(text, *cursor)..at(text, *cursor + 1), "");
        }
        KeyCode::Delete => {}
        KeyCode::Char(c) if !ctrl => {
            text.insert(at(text, *cursor), c);
            *cursor += 1;
        }
        _ => return false,
    }
    true
}

/// The text with the cursor shown as a reversed cell (a space at the end), scrolled so
/// the cursor stays within `width` columns.
pub fn spans(text: &str, cursor: usize, width: usize, theme: &Theme) -> Vec<Span<'static>> {
    let chars: Vec<char> = text.chars().collect();
    let cursor = cursor.min(chars.len());
    let width = width.max(2);
    let first = (cursor + 1).saturating_sub(width);
    let before: String = chars[first..cursor].iter().collect();
    let under = chars.get(cursor).map_or(" ".to_string(), |c| c.to_string());
    let after: String = chars
        .iter()
        .skip(cursor + 1)
        .take(width.saturating_sub(cursor - first + 1))
        .collect();
    vec![
        Span::raw(before),
        Span::styled(under, theme.selected()),
        Span::raw(after),
    ]
}
