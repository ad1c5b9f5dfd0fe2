//! A small tokenizer for the DDL SQLite keeps in `sqlite_master`: SQLite has no catalog
//! for check constraints, constraint names, generated-column expressions or index
//! expressions, so those are read from the CREATE statements themselves.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare word (keyword or identifier), as written.
    Word(String),
    /// A quoted identifier, unquoted.
    Ident(String),
    /// A string literal including its quotes.
    Str(String),
    /// A parenthesized group: the text between the parentheses.
    Group(String),
    Punct(char),
}

impl Tok {
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
    /// The identifier this token names, if it is one.
    pub fn ident(&self) -> Option<String> {
        match self {
            Tok::Word(w) => Some(w.clone()),
            Tok::Ident(i) => Some(i.clone()),
            Tok::Str(s) => Some(s.trim_matches('\'').replace("''", "'")),
            _ => None,
        }
    }
}

/// Tokens with their byte ranges in `s`.
pub fn tokenize(s: &str) -> Vec<(Tok, usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        let start = i;
        match c {
            b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                let mut ident = String::new();
                let mut seg = i;
                while i < b.len() {
                    if b[i] == close {
                        if close != b']' && b.get(i + 1) == Some(&close) {
                            ident.push_str(&s[seg..=i]);
                            i += 2;
                            seg = i;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                ident.push_str(&s[seg..i.min(b.len())]);
                i += 1;
                out.push((Tok::Ident(ident), start, i.min(b.len())));
            }
            b'\'' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                let end = i.min(b.len());
                out.push((Tok::Str(s[start..end].to_string()), start, end));
            }
            b'(' => {
                let mut depth = 0;
                let mut in_q: Option<u8> = None;
                while i < b.len() {
                    let ch = b[i];
                    if let Some(q) = in_q {
                        if ch == q {
                            in_q = None;
                        }
                    } else if ch == b'\'' || ch == b'"' || ch == b'`' {
                        in_q = Some(ch);
                    } else if ch == b'[' {
                        in_q = Some(b']');
                    } else if ch == b'(' {
                        depth += 1;
                    } else if ch == b')' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
                let end = (i + 1).min(b.len());
                let inner = s[start + 1..i.min(b.len())].to_string();
                out.push((Tok::Group(inner), start, end));
                i = end;
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push((Tok::Word(s[start..i].to_string()), start, i));
            }
            _ => {
                i += 1;
                out.push((Tok::Punct(c as char), start, i));
            }
        }
    }
    out
}

/// Split on top-level commas.
pub fn split_commas(s: &str) -> Vec<String> {
    let toks = tokenize(s);
    let mut items = Vec::new();
    let mut start = 0;
    for (t, a, _) in &toks {
        if *t == Tok::Punct(',') {
            items.push(s[start..*a].trim().to_string());
            start = a + 1;
        }
    }
    let last = s[start..].trim();
    if !last.is_empty() {
        items.push(last.to_string());
    }
    items
}

/// The items (column definitions and table constraints) of a CREATE TABLE statement.
pub fn create_table_items(sql: &str) -> Vec<String> {
    tokenize(sql)
        .into_iter()
        .find_map(|(t, _, _)| match t {
            Tok::Group(g) => Some(split_commas(&g)),
            _ => None,
        })
        .unwrap_or_default()
}

/// What a column definition or table constraint says beyond the catalog.
#[derive(Debug, Default, Clone)]
pub struct ItemInfo {
    /// For a column definition, its name; None for a table constraint.
    pub column: Option<String>,
    /// (constraint name if any, expression)
    pub checks: Vec<(Option<String>, String)>,
    pub generated: Option<(String, bool)>,
    pub autoincrement: bool,
    /// For `UNIQUE (...)`, `PRIMARY KEY (...)`, `FOREIGN KEY (...)`: (kind, name, columns)
    pub keyed: Vec<(String, Option<String>, Vec<String>)>,
    /// Inline `PRIMARY KEY` / `UNIQUE` on a column definition: (kind, name)
    pub inline: Vec<(String, Option<String>)>,
}

pub fn parse_item(item: &str) -> ItemInfo {
    let toks: Vec<Tok> = tokenize(item).into_iter().map(|(t, _, _)| t).collect();
    let mut info = ItemInfo::default();
    let is_constraint = toks.first().is_some_and(|t| {
        ["constraint", "primary", "unique", "check", "foreign"]
            .iter()
            .any(|k| t.is_kw(k))
    });
    let mut i = 0;
    if !is_constraint {
        info.column = toks.first().and_then(Tok::ident);
        i = 1;
    }
    let mut pending_name: Option<String> = None;
    while i < toks.len() {
        let t = &toks[i];
        if t.is_kw("constraint") {
            pending_name = toks.get(i + 1).and_then(Tok::ident);
            i += 2;
            continue;
        }
        if t.is_kw("check")
            && let Some(Tok::Group(g)) = toks.get(i + 1)
        {
            info.checks
                .push((pending_name.take(), g.trim().to_string()));
            i += 2;
            continue;
        }
        if t.is_kw("autoincrement") {
            info.autoincrement = true;
        }
        if t.is_kw("as")
            && let Some(Tok::Group(g)) = toks.get(i + 1)
        {
            let stored = toks.get(i + 2).is_some_and(|t| t.is_kw("stored"));
            info.generated = Some((g.trim().to_string(), stored));
            i += 2;
            continue;
        }
        let kind = if t.is_kw("primary") {
            Some("primary")
        } else if t.is_kw("unique") {
            Some("unique")
        } else if t.is_kw("foreign") {
            Some("foreign")
        } else {
            None
        };
        if let Some(kind) = kind {
            // PRIMARY KEY (cols) / FOREIGN KEY (cols) / UNIQUE (cols)
            let mut j = i + 1;
            if toks.get(j).is_some_and(|t| t.is_kw("key")) {
                j += 1;
            }
            if let Some(Tok::Group(g)) = toks.get(j) {
                let cols = split_commas(g)
                    .iter()
                    .filter_map(|c| tokenize(c).first().and_then(|(t, _, _)| t.ident()))
                    .collect();
                info.keyed
                    .push((kind.to_string(), pending_name.take(), cols));
                i = j + 1;
                continue;
            } else if kind != "foreign" {
                info.inline.push((kind.to_string(), pending_name.take()));
            }
            i = j;
            continue;
        }
        i += 1;
    }
    info
}

/// The parts of a CREATE INDEX statement: column expressions (as written, without
/// ASC/DESC) and the WHERE predicate.
pub fn index_parts(sql: &str) -> (Vec<String>, Option<String>) {
    let toks = tokenize(sql);
    let mut cols = Vec::new();
    let mut pred = None;
    let mut seen_on = false;
    for (k, (t, _, end)) in toks.iter().enumerate() {
        if t.is_kw("on") {
            seen_on = true;
        }
        if seen_on
            && cols.is_empty()
            && let Tok::Group(g) = t
        {
            cols = split_commas(g)
                .into_iter()
                .map(|c| strip_order(&c))
                .collect();
        }
        if t.is_kw("where") && !cols.is_empty() {
            let _ = k;
            pred = Some(sql[*end..].trim().trim_end_matches(';').trim().to_string());
            break;
        }
    }
    (cols, pred)
}

fn strip_order(c: &str) -> String {
    let toks = tokenize(c);
    let mut end = c.len();
    for (t, a, _) in toks.iter().rev() {
        if t.is_kw("asc") || t.is_kw("desc") || t.is_kw("collate") {
            end = *a;
        } else {
            break;
        }
    }
    // COLLATE x: the word after COLLATE is kept by the loop above; strip "COLLATE name"
    let s = c[..end].trim();
    if let Some(pos) = s.to_lowercase().rfind(" collate ") {
        return s[..pos].trim().to_string();
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_checks_and_generated() {
        let sql = r#"CREATE TABLE "Weird (t)" (id INTEGER PRIMARY KEY AUTOINCREMENT, "a,b" TEXT CHECK (length("a,b") > 1), c INT AS (id * 2) STORED, CONSTRAINT pos CHECK (c >= 0), UNIQUE (c, "a,b"))"#;
        let items = create_table_items(sql);
        assert_eq!(items.len(), 5, "{items:?}");
        let id = parse_item(&items[0]);
        assert!(id.autoincrement);
        let ab = parse_item(&items[1]);
        assert_eq!(ab.column.as_deref(), Some("a,b"));
        assert_eq!(ab.checks[0].1, r#"length("a,b") > 1"#);
        let c = parse_item(&items[2]);
        assert_eq!(c.generated, Some(("id * 2".into(), true)));
        let pos = parse_item(&items[3]);
        assert_eq!(pos.checks[0], (Some("pos".into()), "c >= 0".into()));
        let u = parse_item(&items[4]);
        assert_eq!(u.keyed[0].2, vec!["c".to_string(), "a,b".to_string()]);
    }

    #[test]
    fn index_sql() {
        let (cols, pred) =
            index_parts(r#"CREATE INDEX "i x" ON "T" (lower(name), "Id" DESC) WHERE deleted = 0"#);
        assert_eq!(cols, vec!["lower(name)".to_string(), "\"Id\"".to_string()]);
        assert_eq!(pred.as_deref(), Some("deleted = 0"));
    }
}
