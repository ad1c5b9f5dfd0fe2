//! A small SQL tokenizer for reading what a statement does: words (keywords and bare
//! identifiers), quoted identifiers, literals and punctuation, each with the line it
//! starts on. Comments are skipped (the allow comments are read separately).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A bare word, as written (compare with [`Token::is`]).
    Word(String),
    /// A quoted identifier: `"x"`, `` `x` `` or `[x]`, without its quotes.
    Ident(String),
    /// A string literal (including dollar-quoted bodies) or a number, as written.
    Literal(String),
    /// One punctuation character: `(`, `)`, `,`, `.`, `;`, `=`, ...
    Punct(char),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    /// 0-based line offset from the start of the text tokenized.
    pub line: usize,
    /// Parenthesis depth the token is at (an opening parenthesis is at the outer depth).
    pub depth: usize,
}

impl Token {
    /// A bare word equal to `kw`, ignoring case.
    pub fn is(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
    pub fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
    /// The token as written (quoted identifiers without their quotes).
    pub fn text(&self) -> String {
        match &self.tok {
            Tok::Word(w) | Tok::Ident(w) | Tok::Literal(w) => w.clone(),
            Tok::Punct(c) => c.to_string(),
        }
    }
    /// The token as a name part (a bare word or a quoted identifier).
    pub fn name(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) | Tok::Ident(w) => Some(w),
            _ => None,
        }
    }
}

/// Tokenize `sql`. Unterminated quotes or comments end the text quietly: the statement
/// is then read as far as it goes (the database reports the syntax error when it runs).
pub fn tokenize(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    let mut line = 0usize;
    let mut depth = 0usize;
    let count_lines = |from: usize, to: usize| sql[from..to.min(sql.len())].matches('\n').count();
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
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
            let end = sql[i + 2..]
                .find("*/")
                .map(|e| i + 2 + e + 2)
                .unwrap_or(b.len());
            line += count_lines(i, end);
            i = end;
            continue;
        }
        let start_line = line;
        match c {
            b'\'' => {
                let end = quoted_end(b, i, b'\'', true);
                line += count_lines(i, end);
                out.push(Token {
                    tok: Tok::Literal(sql[i..end].to_string()),
                    line: start_line,
                    depth,
                });
                i = end;
            }
            b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                let end = quoted_end(b, i, close, false);
                line += count_lines(i, end);
                let inner = &sql[i + 1..end.saturating_sub(1).max(i + 1)];
                let doubled = format!("{}{}", close as char, close as char);
                out.push(Token {
                    tok: Tok::Ident(inner.replace(&doubled, &(close as char).to_string())),
                    line: start_line,
                    depth,
                });
                i = end;
            }
            b'$' => {
                // $tag$ ... $tag$ (PostgreSQL), or a $1 placeholder.
                let rest = &sql[i..];
                let tag_end = rest[1..].find('$').map(|e| e + 2);
                match tag_end {
                    Some(te)
                        if rest[1..te - 1]
                            .chars()
                            .all(|ch| ch.is_alphanumeric() || ch == '_')
                            && !rest[1..te - 1].starts_with(|ch: char| ch.is_ascii_digit()) =>
                    {
                        let tag = &rest[..te];
                        let end = rest[te..]
                            .find(tag)
                            .map(|e| i + te + e + tag.len())
                            .unwrap_or(b.len());
                        line += count_lines(i, end);
                        out.push(Token {
                            tok: Tok::Literal(sql[i..end].to_string()),
                            line: start_line,
                            depth,
                        });
                        i = end;
                    }
                    _ => {
                        out.push(Token {
                            tok: Tok::Punct('$'),
                            line,
                            depth,
                        });
                        i += 1;
                    }
                }
            }
            b'(' => {
                out.push(Token {
                    tok: Tok::Punct('('),
                    line,
                    depth,
                });
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                out.push(Token {
                    tok: Tok::Punct(')'),
                    line,
                    depth,
                });
                i += 1;
            }
            _ if c.is_ascii_digit() => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Literal(sql[s..i].to_string()),
                    line,
                    depth,
                });
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Word(sql[s..i].to_string()),
                    line,
                    depth,
                });
            }
            _ => {
                out.push(Token {
                    tok: Tok::Punct(c as char),
                    line,
                    depth,
                });
                i += 1;
            }
        }
    }
    out
}

/// The index just past the quote closing the one at `i` (doubled quotes stay inside;
/// with `backslash`, `\'` does too).
fn quoted_end(b: &[u8], i: usize, close: u8, backslash: bool) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        if backslash && b[j] == b'\\' {
            j += 2;
            continue;
        }
        if b[j] == close {
            if b.get(j + 1) == Some(&close) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// Every `--` comment of a script (outside quotes) with its 1-based line.
pub fn line_comments(script: &str) -> Vec<(usize, String)> {
    let b = script.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    let mut line = 1usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = script[i..].find('\n').map(|e| i + e).unwrap_or(b.len());
                out.push((line, script[i + 2..end].trim().to_string()));
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = script[i + 2..]
                    .find("*/")
                    .map(|e| i + 2 + e + 2)
                    .unwrap_or(b.len());
                line += script[i..end].matches('\n').count();
                i = end;
            }
            b'\'' | b'"' | b'`' => {
                let end = quoted_end(b, i, c, c == b'\'');
                line += script[i..end].matches('\n').count();
                i = end;
            }
            b'$' => {
                let rest = &script[i..];
                if let Some(te) = rest[1..].find('$').map(|e| e + 2)
                    && rest[1..te - 1]
                        .chars()
                        .all(|ch| ch.is_alphanumeric() || ch == '_')
                    && !rest[1..te - 1].starts_with(|ch: char| ch.is_ascii_digit())
                {
                    let tag = &rest[..te];
                    let end = rest[te..]
                        .find(tag)
                        .map(|e| i + te + e + tag.len())
                        .unwrap_or(b.len());
                    line += script[i..end].matches('\n').count();
                    i = end;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_depth_lines_and_comments() {
        let t = tokenize("-- c\nDELETE FROM \"My\"\"T\" -- x\nWHERE (a = 'it''s')");
        assert!(t[0].is("delete") && t[0].line == 1);
        assert_eq!(t[2].tok, Tok::Ident("My\"T".into()));
        assert!(t[3].is("WHERE") && t[3].line == 2 && t[3].depth == 0);
        assert_eq!(t[5].depth, 1);
        assert_eq!(t.last().unwrap().depth, 0);
    }

    #[test]
    fn comments_outside_quotes_only() {
        let c = line_comments("SELECT '--no';\n-- yes\nSELECT $$ -- no $$; -- also");
        assert_eq!(c, vec![(2, "yes".into()), (3, "also".into())]);
    }
}
