//! A backup's content hashes taken from the dump's own rows as they stream past,
//! instead of by a second scan of every table on the server. Where the dump tool is
//! MariaDB's, cutover writes those tables' rows itself (`dump_rows.rs`), and hashes
//! them there; this reader is for the rest: a dump tool without
//! `--ignore-table-data` (MySQL's `mysqldump`) or a table whose name holds a line
//! break.
//!
//! The hash is the CRC pair of `backup_hash.rs` (CRC-32 and CRC-32C of each row's byte
//! string, summed), which a restore's proof recomputes on the server. Here each row's
//! byte string is rebuilt in Rust from the dump's INSERT statements: the dump writes a
//! number, date or time as the server's own text, a string as its bytes escaped, a
//! binary value as hex (`--hex-blob`), NULL as `NULL`. So only tables whose every
//! column is of a type written exactly like that are hashed here:
//! - integers, DECIMAL, YEAR, DATE, DATETIME, TIMESTAMP (the dump and the proof both
//!   in UTC), TIME, none ZEROFILL: the field is the value's text;
//! - CHAR, VARCHAR, TEXT, ENUM and SET in utf8mb4, utf8mb3 or ascii (the dump's
//!   utf8mb4 is then the stored bytes), BINARY, VARBINARY and BLOB: `LENGTH:bytes`;
//!
//! and no generated or invisible column (the dump leaves them out of its rows). FLOAT
//! and DOUBLE, BIT, spatial and the other types keep the server's hash, as does any
//! table whose rows this reader did not find exactly once, in the expected shape: the
//! backup then hashes it on the server, in the same snapshot as the dump.

use super::dump_rows::{Column, Key, out_of};
use super::script::{Line, TopLevel, rows_end, trimmed};
use crate::db::backup::TableHash;
use crate::error::Result;
use sqlx::Row;
use sqlx::mysql::MySqlConnection;
use std::collections::BTreeMap;

/// A column's field in the row's byte string: its text as is, or `LENGTH:bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Text,
    Sized,
}

/// The field of a column of `data_type` (`column_type`, `charset`), or None if the
/// dump's text of it is not the hash's field.
fn field_of(data_type: &str, column_type: &str, charset: &str) -> Option<Field> {
    let utf8 = matches!(charset, "utf8mb4" | "utf8mb3" | "utf8" | "ascii");
    if column_type.contains("zerofill") {
        // padded with zeros in some texts of the value and not in others
        return None;
    }
    match data_type {
        "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "decimal" | "year" | "date"
        | "datetime" | "timestamp" | "time" => Some(Field::Text),
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => {
            utf8.then_some(Field::Sized)
        }
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            Some(Field::Sized)
        }
        _ => None,
    }
}

/// The tables of `tables` whose hashes can be taken from the dump, with their
/// columns' fields in order.
pub(super) async fn hashable(
    c: &mut MySqlConnection,
    redacted: &str,
    tables: &[String],
) -> Result<BTreeMap<String, Vec<Column>>> {
    let rows = sqlx::query(
        "SELECT CAST(table_name AS CHAR), CAST(LOWER(data_type) AS CHAR), CAST(LOWER(column_type) AS CHAR), \
         CAST(LOWER(COALESCE(character_set_name, '')) AS CHAR), CAST(UPPER(extra) AS CHAR), \
         CAST(column_name AS CHAR), CAST(column_key AS CHAR) \
         FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(|e| crate::db::sqlx_error(redacted, e))?;
    let mut fields: BTreeMap<String, Option<Vec<Column>>> = BTreeMap::new();
    for r in rows {
        let table: String = r.get(0);
        let extra: String = r.get(4);
        let data_type: String = r.get(1);
        let f = field_of(&data_type, &r.get::<String, _>(2), &r.get::<String, _>(3))
            .filter(|_| !extra.contains("GENERATED") && !extra.contains("INVISIBLE"))
            .map(|field| Column {
                field,
                out: out_of(&data_type),
                name: r.get(5),
                key: match r.get::<String, _>(6).as_str() {
                    "PRI" if data_type.ends_with("int") => Key::Integer,
                    "PRI" => Key::Other,
                    _ => Key::None,
                },
            });
        let entry = fields.entry(table).or_insert_with(|| Some(Vec::new()));
        match (entry.as_mut(), f) {
            (Some(v), Some(f)) => v.push(f),
            _ => *entry = None,
        }
    }
    Ok(tables
        .iter()
        .filter_map(|t| Some((t.clone(), fields.get(t).cloned().flatten()?)))
        .collect())
}

/// One table's sums as its rows go by.
struct Sums {
    fields: Vec<Field>,
    /// `INSERT INTO `t` VALUES`: how each of its row statements starts.
    insert: Vec<u8>,
    /// How many times its rows were written (exactly once, or it is not hashed here).
    sections: u32,
    sums: super::dump_rows::Sums,
    /// A row this reader could not read as expected.
    unreadable: bool,
}

/// Reads a dump as it streams ([`DumpHasher::feed`]) and sums the rows of the tables
/// it was given.
pub(super) struct DumpHasher {
    tables: BTreeMap<Vec<u8>, Sums>,
    top: TopLevel,
    /// The start of a line whose end is in the next chunk.
    partial: Vec<u8>,
    /// The table whose rows are being written (`LOCK TABLES` … `UNLOCK TABLES`).
    current: Option<Vec<u8>>,
    /// Inside a row statement (between its `INSERT INTO` and its `);`).
    in_rows: bool,
    row: Vec<u8>,
    value: Vec<u8>,
}

/// What the dump gave: the hashes of the tables read, and the tables it could not
/// vouch for (to be hashed on the server).
pub(super) struct DumpHashes {
    pub(super) hashed: BTreeMap<String, TableHash>,
    pub(super) unresolved: Vec<String>,
}

impl DumpHasher {
    pub(super) fn new(tables: &BTreeMap<String, Vec<Field>>) -> DumpHasher {
        DumpHasher {
            tables: tables
                .iter()
                .map(|(t, fields)| {
                    let insert = format!("INSERT INTO {} VALUES", super::backup::q(t));
                    (
                        t.as_bytes().to_vec(),
                        Sums {
                            fields: fields.clone(),
                            insert: insert.into_bytes(),
                            sections: 0,
                            sums: Default::default(),
                            unreadable: false,
                        },
                    )
                })
                .collect(),
            top: TopLevel::new(),
            partial: Vec::new(),
            current: None,
            in_rows: false,
            row: Vec::new(),
            value: Vec::new(),
        }
    }

    /// The next bytes of the dump.
    pub(super) fn feed(&mut self, mut chunk: &[u8]) {
        if !self.partial.is_empty() {
            let Some(end) = memchr::memchr(b'\n', chunk) else {
                self.partial.extend_from_slice(chunk);
                return;
            };
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&chunk[..=end]);
            self.line(&line);
            line.clear();
            self.partial = line;
            chunk = &chunk[end + 1..];
        }
        while let Some(end) = memchr::memchr(b'\n', chunk) {
            self.line(&chunk[..=end]);
            chunk = &chunk[end + 1..];
        }
        self.partial.extend_from_slice(chunk);
    }

    /// The hashes, once the whole dump was fed.
    pub(super) fn finish(mut self) -> DumpHashes {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line);
        }
        if self.in_rows || self.current.is_some() {
            // the dump ended inside a table's rows
            if let Some(s) = self.current.as_ref().and_then(|t| self.tables.get_mut(t)) {
                s.unreadable = true;
            }
        }
        let mut out = DumpHashes {
            hashed: BTreeMap::new(),
            unresolved: Vec::new(),
        };
        for (t, s) in self.tables {
            let t = String::from_utf8(t).expect("from a String");
            if s.sections == 1 && !s.unreadable {
                out.hashed.insert(t, s.sums.hash());
            } else {
                out.unresolved.push(t);
            }
        }
        out
    }

    fn line(&mut self, raw: &[u8]) {
        let text = trimmed(raw);
        if self.in_rows {
            self.in_rows = !rows_end(text);
            self.rows(text);
            return;
        }
        match self.top.line(text) {
            Line::DataStart => {
                let name = lock_tables_name(text);
                if let Some(s) = name.as_ref().and_then(|n| self.tables.get_mut(n)) {
                    s.sections += 1;
                }
                self.current = name;
            }
            Line::DataEnd => self.current = None,
            Line::Rows => {
                self.in_rows = !rows_end(text);
                let Some(s) = self.current.as_ref().and_then(|t| self.tables.get_mut(t)) else {
                    return;
                };
                match text.strip_prefix(&s.insert[..]) {
                    Some(rest) => self.rows(rest),
                    // a column list, or another table's name: not the shape read here
                    None => s.unreadable = true,
                }
            }
            Line::Other => {}
        }
    }

    /// The rows of one line of a row statement of the current table.
    fn rows(&mut self, text: &[u8]) {
        let Some(s) = self.current.as_ref().and_then(|t| self.tables.get_mut(t)) else {
            return;
        };
        if s.unreadable {
            return;
        }
        let mut p = Parser { s: text, i: 0 };
        loop {
            p.blanks();
            if p.at_end() {
                return;
            }
            if !p.eat(b'(') || read_row(&mut p, &s.fields, &mut self.row, &mut self.value).is_none()
            {
                s.unreadable = true;
                return;
            }
            s.sums.add(&self.row);
            p.blanks();
            if !(p.eat(b',') || p.eat(b';')) {
                s.unreadable = true;
                return;
            }
        }
    }
}

/// The table of `LOCK TABLES `t` WRITE;`.
fn lock_tables_name(text: &[u8]) -> Option<Vec<u8>> {
    let q = text
        .strip_prefix(b"LOCK TABLES ")?
        .strip_suffix(b" WRITE;")?;
    let inner = q.strip_prefix(b"`")?.strip_suffix(b"`")?;
    let mut name = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        if inner[i] == b'`' {
            // a backquote inside the name is doubled
            if inner.get(i + 1) != Some(&b'`') {
                return None;
            }
            i += 1;
        }
        name.push(inner[i]);
        i += 1;
    }
    Some(name)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.i += usize::from(hit);
        hit
    }
    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }
}

/// What a value in the dump is.
enum Value {
    Null,
    /// Its bytes are in the value buffer.
    Bytes,
}

/// One row, after its `(`, through its `)`, into `row` as the hash's byte string.
fn read_row(
    p: &mut Parser,
    fields: &[Field],
    row: &mut Vec<u8>,
    value: &mut Vec<u8>,
) -> Option<()> {
    row.clear();
    for (n, f) in fields.iter().enumerate() {
        if n > 0 {
            if !p.eat(b',') {
                return None;
            }
            row.push(b'|');
        }
        match read_value(p, value)? {
            Value::Null => row.push(b'N'),
            Value::Bytes => {
                if *f == Field::Sized {
                    push_decimal(row, value.len());
                    row.push(b':');
                }
                row.extend_from_slice(value);
            }
        }
    }
    p.eat(b')').then_some(())
}

/// `n` in decimal digits, as `LENGTH()` gives it in the row's text.
pub(super) fn push_decimal(row: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    row.extend_from_slice(&digits[i..]);
}

/// One value: a quoted string (unescaped as the server reads it), a hex literal
/// (decoded), `NULL`, or a bare number.
fn read_value(p: &mut Parser, out: &mut Vec<u8>) -> Option<Value> {
    out.clear();
    match p.peek()? {
        b'\'' => {
            p.i += 1;
            loop {
                let rest = &p.s[p.i..];
                let stop = memchr::memchr2(b'\'', b'\\', rest)?;
                out.extend_from_slice(&rest[..stop]);
                p.i += stop;
                if p.s[p.i] == b'\'' {
                    if p.s.get(p.i + 1) == Some(&b'\'') {
                        out.push(b'\'');
                        p.i += 2;
                        continue;
                    }
                    p.i += 1;
                    return Some(Value::Bytes);
                }
                let c = *p.s.get(p.i + 1)?;
                match c {
                    b'0' => out.push(0),
                    b'b' => out.push(8),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'Z' => out.push(0x1a),
                    // the server keeps the backslash of these two (LIKE patterns)
                    b'%' | b'_' => out.extend_from_slice(&[b'\\', c]),
                    _ => out.push(c),
                }
                p.i += 2;
            }
        }
        b'0' if p.s.get(p.i + 1) == Some(&b'x') => {
            p.i += 2;
            let start = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                p.i += 1;
            }
            let hex = &p.s[start..p.i];
            if !hex.len().is_multiple_of(2) {
                return None;
            }
            out.resize(hex.len() / 2, 0);
            hex::decode_to_slice(hex, out).ok()?;
            Some(Value::Bytes)
        }
        _ => {
            let start = p.i;
            while p.peek().is_some_and(|c| c != b',' && c != b')') {
                p.i += 1;
            }
            let token = &p.s[start..p.i];
            if token == b"NULL" {
                return Some(Value::Null);
            }
            let number = !token.is_empty()
                && token
                    .iter()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'));
            if !number {
                return None;
            }
            out.extend_from_slice(token);
            Some(Value::Bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(fields: &[Field]) -> DumpHasher {
        DumpHasher::new(&BTreeMap::from([("a`b".to_string(), fields.to_vec())]))
    }

    fn pair(rows: &[&[u8]]) -> String {
        let a: u128 = rows.iter().map(|r| u128::from(crc32fast::hash(r))).sum();
        let b: u128 = rows.iter().map(|r| u128::from(crc32c::crc32c(r))).sum();
        format!("crc32+crc32c:{a}:{b}")
    }

    const DUMP: &[u8] = b"-- header\n\
        DELIMITER ;;\n\
        LOCK TABLES `a``b` WRITE;\n\
        INSERT INTO `a``b` VALUES\n\
        (9,'trigger body',NULL);\n\
        END */;;\n\
        DELIMITER ;\n\
        LOCK TABLES `a``b` WRITE;\n\
        /*!40000 ALTER TABLE `a``b` DISABLE KEYS */;\n\
        INSERT INTO `a``b` VALUES\n\
        (1,'x\\'y\\\\z\\n\\0''',0x00FF),\n\
        (-2.50,'',''),\n\
        (3,NULL,NULL);\n\
        INSERT INTO `a``b` VALUES (4,'2024-01-02 03:04:05.5',0x61),(5,'\xc3\xa9',NULL);\n\
        /*!40000 ALTER TABLE `a``b` ENABLE KEYS */;\n\
        UNLOCK TABLES;\n\
        INSERT INTO `a``b` VALUES (6,'after',NULL);\n";

    #[test]
    fn rows_are_read_as_the_server_builds_them_whatever_the_chunks() {
        let fields = [Field::Text, Field::Sized, Field::Sized];
        let expected = pair(&[
            b"1|8:x'y\\z\n\0'|2:\x00\xff",
            b"-2.50|0:|0:",
            b"3|N|N",
            b"4|21:2024-01-02 03:04:05.5|1:a",
            b"5|2:\xc3\xa9|N",
        ]);
        for step in [1, 2, 3, 7, 64, DUMP.len()] {
            let mut h = hasher(&fields);
            for c in DUMP.chunks(step) {
                h.feed(c);
            }
            let out = h.finish();
            assert!(out.unresolved.is_empty(), "chunks of {step}");
            let t = &out.hashed["a`b"];
            assert_eq!(
                (t.rows, t.hash.as_str()),
                (5, expected.as_str()),
                "chunks of {step}"
            );
        }
    }

    #[test]
    fn a_table_not_read_exactly_once_in_the_expected_shape_is_left_to_the_server() {
        let fields = [Field::Text, Field::Sized, Field::Sized];
        let cases: [&[u8]; 4] = [
            // written twice
            b"LOCK TABLES `a``b` WRITE;\nUNLOCK TABLES;\nLOCK TABLES `a``b` WRITE;\nUNLOCK TABLES;\n",
            // never written
            b"-- nothing\n",
            // a column list
            b"LOCK TABLES `a``b` WRITE;\nINSERT INTO `a``b` (`x`, `y`, `z`) VALUES (1,'a',NULL);\nUNLOCK TABLES;\n",
            // one value too many, and the dump cut inside the rows
            b"LOCK TABLES `a``b` WRITE;\nINSERT INTO `a``b` VALUES\n(1,'a',NULL,4),\n",
        ];
        for dump in cases {
            let mut h = hasher(&fields);
            h.feed(dump);
            let out = h.finish();
            assert!(out.hashed.is_empty(), "{}", String::from_utf8_lossy(dump));
            assert_eq!(out.unresolved, ["a`b"]);
        }
        // a bit literal, a float's exponent-less junk: not a value read here
        for bad in [&b"b'101'"[..], b"abc", b"0x123", b"'open"] {
            let mut line = b"LOCK TABLES `a``b` WRITE;\nINSERT INTO `a``b` VALUES (1,".to_vec();
            line.extend_from_slice(bad);
            line.extend_from_slice(b",NULL);\nUNLOCK TABLES;\n");
            let mut h = hasher(&fields);
            h.feed(&line);
            assert_eq!(
                h.finish().unresolved,
                ["a`b"],
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn only_types_the_dump_writes_exactly_are_read() {
        assert_eq!(
            field_of("bigint", "bigint(20) unsigned", ""),
            Some(Field::Text)
        );
        assert_eq!(field_of("int", "int(5) unsigned zerofill", ""), None);
        assert_eq!(
            field_of("decimal", "decimal(6,2) unsigned zerofill", ""),
            None
        );
        assert_eq!(
            field_of("varchar", "varchar(5)", "utf8mb4"),
            Some(Field::Sized)
        );
        assert_eq!(field_of("varchar", "varchar(5)", "latin1"), None);
        assert_eq!(field_of("blob", "blob", ""), Some(Field::Sized));
        for t in ["float", "double", "bit", "geometry", "inet6", "uuid"] {
            assert_eq!(field_of(t, t, ""), None, "{t}");
        }
    }
}
