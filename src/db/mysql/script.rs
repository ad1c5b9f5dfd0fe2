//! Where a line of a `mariadb-dump`/`mysqldump` script stands. The tools write a
//! statement on one line or more, ending with the delimiter (`;`, or `;;` inside the
//! `DELIMITER ;;` blocks of routines and triggers), and a table's rows as INSERT
//! statements between a top-level `LOCK TABLES `t` WRITE;` and `UNLOCK TABLES;`.
//! They escape newlines inside values, so a row statement's lines end at its rows'
//! ends, the last one with `);`.
//!
//! Shared by the restore's loader (`load.rs`) and the backup's hashing of the dump's
//! own rows (`dump_hash.rs`): both must find the same rows, and a line of a trigger's
//! body that looks like an INSERT must never be taken for one.

/// A line without its line end and trailing blanks.
pub(super) fn trimmed(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    &line[..end]
}

/// Whether `text` (trimmed) is the last line of a row statement.
pub(super) fn rows_end(text: &[u8]) -> bool {
    text.ends_with(b");")
}

/// What a line outside a row statement is.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// `LOCK TABLES `t` WRITE;` at the top level: a table's rows follow.
    DataStart,
    /// The `UNLOCK TABLES;` after them.
    DataEnd,
    /// The first line of a row statement (`INSERT INTO …`) between the two.
    Rows,
    /// Anything else.
    Other,
}

/// The script's state from line to line: the delimiter, whether a statement is open,
/// whether a table's rows are being written.
pub(super) struct TopLevel {
    delim: Vec<u8>,
    in_stmt: bool,
    in_data: bool,
}

impl TopLevel {
    pub(super) fn new() -> TopLevel {
        TopLevel {
            delim: b";".to_vec(),
            in_stmt: false,
            in_data: false,
        }
    }

    /// Whether a statement is open (its delimiter not yet seen).
    pub(super) fn open(&self) -> bool {
        self.in_stmt
    }

    /// Classifies `text`, a trimmed line that does not continue a row statement.
    pub(super) fn line(&mut self, text: &[u8]) -> Line {
        if !self.in_stmt && self.delim == b";" {
            if self.in_data && text.starts_with(b"INSERT INTO ") {
                return Line::Rows;
            }
            if !self.in_data && text.starts_with(b"LOCK TABLES ") && text.ends_with(b" WRITE;") {
                self.in_data = true;
                return Line::DataStart;
            }
            if self.in_data && text == b"UNLOCK TABLES;" {
                self.in_data = false;
                return Line::DataEnd;
            }
        }
        if !self.in_stmt && text.starts_with(b"DELIMITER ") {
            self.delim = trimmed(&text[10..]).to_vec();
        } else if self.in_stmt || !is_comment(text) {
            self.in_stmt = !text.ends_with(&self.delim);
        }
        Line::Other
    }
}

/// An empty line, a `--` comment or the sandbox line MariaDB's tools start with.
pub(super) fn is_comment(text: &[u8]) -> bool {
    text.is_empty() || text.starts_with(b"--") || text.starts_with(b"/*M!")
}
