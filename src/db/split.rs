//! Split an SQL script into statements, keeping the line each starts on, so that an
//! error names the statement and its line. Understands quotes, comments, PostgreSQL
//! dollar-quoting and SQLite `BEGIN ... END` trigger bodies.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    /// 1-based line of the first character of the statement in the script.
    pub line: usize,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Self {
        Statement {
            sql: sql.into(),
            line: 1,
        }
    }
}

pub fn split_statements(script: &str) -> Vec<Statement> {
    let bytes = script.as_bytes();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut i = 0usize;
    let mut line = 1usize;
    let mut start_line: Option<usize> = None;
    let mut begin_depth = 0i32; // CREATE TRIGGER ... BEGIN ... END;
    let mut word = String::new();
    let mut has_content = false;

    let flush_word = |word: &mut String, depth: &mut i32, upto: &str| {
        let w = word.to_ascii_uppercase();
        if w == "BEGIN" {
            // Only a trigger body opens a block; a bare BEGIN; is a transaction statement.
            let u = upto.to_ascii_uppercase();
            if u.contains("TRIGGER") {
                *depth += 1;
            }
        } else if w == "END" && *depth > 0 {
            // END is followed by ';' to close the trigger.
            *depth -= 1;
        } else if w == "CASE" && *depth > 0 {
            *depth += 1;
        }
        word.clear();
    };

    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line += 1;
        }
        // comments
        if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
            if !word.is_empty() {
                flush_word(&mut word, &mut begin_depth, &script[start..i]);
            }
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            if !word.is_empty() {
                flush_word(&mut word, &mut begin_depth, &script[start..i]);
            }
            i += 2;
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                if bytes[i] == b'\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        if !c.is_ascii_whitespace() && start_line.is_none() {
            start_line = Some(line);
        }
        match c {
            b'\'' | b'"' | b'`' => {
                has_content = true;
                if !word.is_empty() {
                    flush_word(&mut word, &mut begin_depth, &script[start..i]);
                }
                let q = c;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    if bytes[i] == b'\\' && q == b'\'' && i + 1 < bytes.len() {
                        // backslash escapes (MySQL); harmless elsewhere for splitting
                        if bytes[i + 1] == b'\'' {
                            i += 2;
                            continue;
                        }
                    }
                    if bytes[i] == q {
                        if bytes.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            b'$' => {
                // dollar quote $tag$ ... $tag$
                let rest = &script[i..];
                if let Some(end) = rest[1..].find('$') {
                    let tag = &rest[..end + 2];
                    if tag[1..tag.len() - 1]
                        .chars()
                        .all(|ch| ch.is_alphanumeric() || ch == '_')
                        && !tag[1..tag.len() - 1].starts_with(|ch: char| ch.is_ascii_digit())
                    {
                        has_content = true;
                        let body_start = i + tag.len();
                        if let Some(close) = script[body_start..].find(tag) {
                            let body_end = body_start + close + tag.len();
                            line += script[i..body_end].matches('\n').count();
                            i = body_end;
                            continue;
                        }
                    }
                }
                i += 1;
                continue;
            }
            b';' => {
                if !word.is_empty() {
                    flush_word(&mut word, &mut begin_depth, &script[start..i]);
                }
                if begin_depth > 0 {
                    i += 1;
                    continue;
                }
                let sql = script[start..i].trim();
                if has_content && !sql.is_empty() {
                    out.push(Statement {
                        sql: sql.to_string(),
                        line: start_line.unwrap_or(line),
                    });
                }
                i += 1;
                start = i;
                start_line = None;
                has_content = false;
                continue;
            }
            _ => {
                if c.is_ascii_alphanumeric() || c == b'_' {
                    word.push(c as char);
                } else if !word.is_empty() {
                    flush_word(&mut word, &mut begin_depth, &script[start..i]);
                }
                if !c.is_ascii_whitespace() {
                    has_content = true;
                }
            }
        }
        i += 1;
    }
    let sql = script[start..].trim();
    if has_content && !sql.is_empty() && !only_comments(sql) {
        out.push(Statement {
            sql: sql.to_string(),
            line: start_line.unwrap_or(line),
        });
    }
    out
}

fn only_comments(sql: &str) -> bool {
    sql.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with("--")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_lines_quotes_and_comments() {
        let s = "-- header\nCREATE TABLE a(x int);\n\nINSERT INTO a VALUES (';'); -- trailing\n/* block; */ UPDATE a SET x = 1";
        let st = split_statements(s);
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].line, 2);
        assert_eq!(st[1].sql, "INSERT INTO a VALUES (';')");
        assert_eq!(st[1].line, 4);
        assert_eq!(st[2].line, 5);
    }

    #[test]
    fn keeps_dollar_quoted_bodies_and_triggers_whole() {
        let s = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nCREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x=1; END;\nSELECT 2;";
        let st = split_statements(s);
        assert_eq!(st.len(), 3, "{st:?}");
        assert!(st[1].sql.ends_with("END"));
    }

    #[test]
    fn bare_begin_is_a_statement() {
        let st = split_statements("BEGIN; SELECT 1; COMMIT;");
        assert_eq!(st.len(), 3);
    }
}
