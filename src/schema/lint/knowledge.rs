//! What the SQL read so far declares about the schema: column types per table, indexes
//! with their columns, foreign keys with their columns. Statements are read in the
//! order they run, so a later `ALTER ... TYPE` is judged against the type an earlier
//! `CREATE TABLE` gave, and a `DROP INDEX` against the indexes and foreign keys declared
//! before it. `cutover lint --target` starts from the target's introspected schema.
//!
//! Tables are keyed by their unqualified name, case-insensitively (a script names
//! `public.t` and `t` alike); names that collide across schemas are read as one.

use super::statement::{name_at, skip, skip_if_exists, split_commas};
use super::tokens::{Tok, Token};
use crate::db::Dialect;
use std::collections::BTreeMap;

/// An index (or primary key / unique constraint) as declared.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownIndex {
    pub table: String,
    /// Lower-case name; None for an unnamed constraint.
    pub name: Option<String>,
    /// Columns in order; an expression is a placeholder that matches no column.
    pub columns: Vec<String>,
}

/// A foreign key as declared.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownFk {
    pub table: String,
    pub name: Option<String>,
    pub columns: Vec<String>,
}

/// The schema as far as the SQL read so far (and an introspected target) tells.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// table -> column -> type as written.
    columns: BTreeMap<String, BTreeMap<String, String>>,
    indexes: Vec<KnownIndex>,
    fks: Vec<KnownFk>,
}

/// The key of a possibly qualified table name.
pub fn table_key(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).to_lowercase()
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

/// What a type change does, judged against the declared old type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeChange {
    /// The old type is not known.
    Unknown,
    /// The new type holds every value of the old one.
    Widening { old: String },
    /// It may not.
    Narrowing { old: String },
}

/// A foreign key an index drop leaves without an index.
#[derive(Debug, Clone, PartialEq)]
pub struct Orphaned {
    pub table: String,
    pub index: String,
    pub fk: KnownFk,
}

fn covers(idx: &[String], fk: &[String]) -> bool {
    !fk.is_empty() && idx.len() >= fk.len() && idx[..fk.len()] == *fk
}

impl Known {
    /// What an introspected schema declares: every table's column types, indexes
    /// (partial ones excluded: they do not serve every row a key checks), primary key,
    /// unique constraints and foreign keys.
    pub fn from_schema(schema: &crate::db::model::Schema) -> Known {
        let mut k = Known::default();
        for t in &schema.tables {
            let name = &t.name;
            for c in &t.columns {
                k.add_column(name, &c.name, &c.engine_type);
            }
            if let Some(pk) = &t.primary_key {
                k.add_index(
                    name,
                    Some(pk.name.as_deref().unwrap_or("primary")),
                    pk.columns.clone(),
                );
            }
            for u in &t.uniques {
                k.add_index(name, Some(&u.name), u.columns.clone());
            }
            for i in t.indexes.iter().filter(|i| i.predicate.is_none()) {
                let cols = i
                    .columns
                    .iter()
                    .map(|c| match (&c.column, &c.expression) {
                        (Some(c), _) => c.clone(),
                        (None, e) => format!("({})", e.as_deref().unwrap_or_default()),
                    })
                    .collect();
                k.add_index(name, Some(&i.name), cols);
            }
            for f in &t.foreign_keys {
                k.add_fk(name, Some(&f.name), f.columns.clone());
            }
        }
        k
    }

    /// Declare a column (replacing its type if known).
    pub fn add_column(&mut self, table: &str, column: &str, ty: &str) {
        self.columns
            .entry(table_key(table))
            .or_default()
            .insert(key(column), ty.to_string());
    }
    pub fn add_index(&mut self, table: &str, name: Option<&str>, columns: Vec<String>) {
        self.indexes.push(KnownIndex {
            table: table_key(table),
            name: name.map(key),
            columns: columns.iter().map(|c| key(c)).collect(),
        });
    }
    pub fn add_fk(&mut self, table: &str, name: Option<&str>, columns: Vec<String>) {
        self.fks.push(KnownFk {
            table: table_key(table),
            name: name.map(key),
            columns: columns.iter().map(|c| key(c)).collect(),
        });
    }

    /// The declared type of `table.column`, as written.
    pub fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        self.columns
            .get(&table_key(table))?
            .get(&key(column))
            .map(String::as_str)
    }

    /// Judge changing `table.column` to `new` (as written) on `dialect`.
    pub fn judge_type(
        &self,
        table: &str,
        column: &str,
        new: &str,
        dialect: Option<Dialect>,
    ) -> TypeChange {
        let Some(old) = self.column_type(table, column) else {
            return TypeChange::Unknown;
        };
        let norm = |t: &str| crate::db::types::normalize_written_type(t, dialect);
        let old = old.to_string();
        if crate::schema::migrate::is_widening(&norm(&old), &norm(new)) {
            TypeChange::Widening { old }
        } else {
            TypeChange::Narrowing { old }
        }
    }

    /// The foreign keys left without an index if index `name` (on `table`, when the
    /// statement names it) is dropped: each whose columns it covers and no other
    /// declared index of its table does.
    pub fn drop_index(&self, table: Option<&str>, name: &str) -> Vec<Orphaned> {
        let name = key(name.rsplit('.').next().unwrap_or(name));
        let table = table.map(table_key);
        let Some(pos) = self.indexes.iter().position(|i| {
            i.name.as_deref() == Some(name.as_str()) && table.as_ref().is_none_or(|t| *t == i.table)
        }) else {
            return Vec::new();
        };
        let idx = &self.indexes[pos];
        self.fks
            .iter()
            .filter(|f| f.table == idx.table && covers(&idx.columns, &f.columns))
            .filter(|f| {
                !self.indexes.iter().enumerate().any(|(k, o)| {
                    k != pos && o.table == idx.table && covers(&o.columns, &f.columns)
                })
            })
            .map(|f| Orphaned {
                table: idx.table.clone(),
                index: name.clone(),
                fk: f.clone(),
            })
            .collect()
    }

    /// Forget index `name` (as a DROP INDEX of it does).
    pub fn forget_index(&mut self, table: Option<&str>, name: &str) {
        let name = key(name.rsplit('.').next().unwrap_or(name));
        let table = table.map(table_key);
        if let Some(pos) = self.indexes.iter().position(|i| {
            i.name.as_deref() == Some(name.as_str()) && table.as_ref().is_none_or(|t| *t == i.table)
        }) {
            self.indexes.remove(pos);
        }
    }

    fn drop_table(&mut self, table: &str) {
        let t = table_key(table);
        self.columns.remove(&t);
        self.indexes.retain(|i| i.table != t);
        self.fks.retain(|f| f.table != t);
    }

    fn rename_table(&mut self, from: &str, to: &str) {
        let (f, t) = (table_key(from), table_key(to));
        if let Some(cols) = self.columns.remove(&f) {
            self.columns.insert(t.clone(), cols);
        }
        for i in self.indexes.iter_mut().filter(|i| i.table == f) {
            i.table = t.clone();
        }
        for k in self.fks.iter_mut().filter(|k| k.table == f) {
            k.table = t.clone();
        }
    }

    fn drop_column(&mut self, table: &str, column: &str) {
        let t = table_key(table);
        let c = key(column);
        if let Some(cols) = self.columns.get_mut(&t) {
            cols.remove(&c);
        }
        // An index or key on a dropped column goes with it.
        self.indexes
            .retain(|i| !(i.table == t && i.columns.contains(&c)));
        self.fks
            .retain(|k| !(k.table == t && k.columns.contains(&c)));
    }

    fn rename_column(&mut self, table: &str, from: &str, to: &str) {
        let t = table_key(table);
        let (f, n) = (key(from), key(to));
        if let Some(cols) = self.columns.get_mut(&t)
            && let Some(ty) = cols.remove(&f)
        {
            cols.insert(n.clone(), ty);
        }
        let fix = |cols: &mut Vec<String>| {
            for c in cols.iter_mut().filter(|c| **c == f) {
                *c = n.clone();
            }
        };
        for i in self.indexes.iter_mut().filter(|i| i.table == t) {
            fix(&mut i.columns);
        }
        for k in self.fks.iter_mut().filter(|k| k.table == t) {
            fix(&mut k.columns);
        }
    }

    /// Learn what one statement (its tokens) declares, after its hazards were judged.
    pub fn learn(&mut self, t: &[Token]) {
        let Some(first) = t.first() else {
            return;
        };
        let base = first.depth;
        if first.is("CREATE") {
            let mut i = skip(t, 1, &["OR", "REPLACE"]);
            i = skip(t, i, &["GLOBAL", "LOCAL", "TEMPORARY", "TEMP", "UNLOGGED"]);
            if t.get(i).is_some_and(|x| x.is("TABLE")) {
                let k = skip_if_exists(t, i + 1);
                let Some((table, j)) = name_at(t, k) else {
                    return;
                };
                // CREATE TABLE IF NOT EXISTS of a table already known does nothing.
                if k > i + 1 && self.columns.contains_key(&table_key(&table)) {
                    return;
                }
                if t.get(j).is_some_and(|x| x.is_punct('(')) {
                    self.drop_table(&table);
                    for (s, e) in split_commas(&t[..close_of(t, j)], j + 1, base + 1) {
                        self.element(&t[..e], s, &table, base + 1);
                    }
                }
                return;
            }
            let i = skip(t, i, &["UNIQUE"]);
            if !t.get(i).is_some_and(|x| x.is("INDEX")) {
                return;
            }
            let i = skip_if_exists(t, skip(t, i + 1, &["CONCURRENTLY"]));
            let (name, i) = if t.get(i).is_some_and(|x| x.is("ON")) {
                (None, i)
            } else {
                match name_at(t, i) {
                    Some((n, j)) => (Some(n), j),
                    None => return,
                }
            };
            if !t.get(i).is_some_and(|x| x.is("ON")) {
                return;
            }
            let Some((table, j)) = name_at(t, skip(t, i + 1, &["ONLY"])) else {
                return;
            };
            let mut j = j;
            if t.get(j).is_some_and(|x| x.is("USING")) {
                j += 2;
            }
            // A partial index does not serve every row a foreign key checks.
            if t.iter().any(|x| x.depth == base && x.is("WHERE")) {
                return;
            }
            if let Some(cols) = column_list(t, j) {
                let name = name.map(|n| n.rsplit('.').next().unwrap_or(&n).to_string());
                self.add_index(&table, name.as_deref(), cols);
            }
            return;
        }
        if first.is("DROP") {
            let i = skip(t, 1, &["TEMPORARY", "TEMP"]);
            if t.get(i).is_some_and(|x| x.is("TABLE")) {
                let i = skip_if_exists(t, i + 1);
                for (s, _) in split_commas(t, i, base) {
                    if let Some((n, _)) = name_at(t, s) {
                        self.drop_table(&n);
                    }
                }
            } else if let Some(targets) = drop_index_targets(t) {
                for (name, table) in targets {
                    self.forget_index(table.as_deref(), &name);
                }
            }
            return;
        }
        if first.is("RENAME") && t.get(1).is_some_and(|x| x.is("TABLE")) {
            for (s, _) in split_commas(t, 2, base) {
                if let Some((from, j)) = name_at(t, s)
                    && let Some((to, _)) = name_at(t, skip(t, j, &["TO"]))
                {
                    self.rename_table(&from, &to);
                }
            }
            return;
        }
        if first.is("ALTER") {
            let i = skip(t, 1, &["ONLINE", "IGNORE"]);
            if !t.get(i).is_some_and(|x| x.is("TABLE")) {
                return;
            }
            let i = skip(t, skip_if_exists(t, i + 1), &["ONLY"]);
            let Some((table, j)) = name_at(t, i) else {
                return;
            };
            let mut table = table;
            for (s, e) in split_commas(t, j, base) {
                if let Some(renamed) = self.alter_action(&t[..e], s, &table, base) {
                    table = renamed;
                }
            }
        }
    }

    /// One `ALTER TABLE` action; returns the table's new name after a rename.
    fn alter_action(&mut self, t: &[Token], s: usize, table: &str, base: usize) -> Option<String> {
        let a0 = t.get(s)?;
        let at = |k: usize| t.get(k);
        if a0.is("ADD") {
            let k = skip(t, s + 1, &["COLUMN"]);
            let k = skip_if_exists(t, k);
            self.element(t, k, table, base);
        } else if a0.is("DROP") {
            let a1 = at(s + 1)?;
            if a1.is("INDEX") || a1.is("KEY") {
                let (n, _) = name_at(t, skip_if_exists(t, s + 2))?;
                self.forget_index(Some(table), &n);
            } else if a1.is("FOREIGN") {
                let (n, _) = name_at(t, skip_if_exists(t, skip(t, s + 2, &["KEY"])))?;
                let (tk, nk) = (table_key(table), key(&n));
                self.fks
                    .retain(|f| !(f.table == tk && f.name.as_deref() == Some(nk.as_str())));
            } else if a1.is("CONSTRAINT") {
                let (n, _) = name_at(t, skip_if_exists(t, s + 2))?;
                let (tk, nk) = (table_key(table), key(&n));
                self.fks
                    .retain(|f| !(f.table == tk && f.name.as_deref() == Some(nk.as_str())));
                self.forget_index(Some(table), &n);
            } else if a1.is("PRIMARY") {
                let tk = table_key(table);
                self.indexes
                    .retain(|i| !(i.table == tk && i.name.as_deref() == Some("primary")));
            } else {
                let (col, _) = name_at(t, skip_if_exists(t, skip(t, s + 1, &["COLUMN"])))?;
                self.drop_column(table, &col);
            }
        } else if a0.is("ALTER") {
            let k = skip(t, s + 1, &["COLUMN"]);
            let (col, j) = name_at(t, k)?;
            let ty = if at(j).is_some_and(|x| x.is("TYPE")) {
                j + 1
            } else if at(j).is_some_and(|x| x.is("SET")) && at(j + 2).is_some_and(|x| x.is("TYPE"))
            {
                j + 3
            } else {
                return None;
            };
            let end = (ty..t.len())
                .find(|&q| t[q].depth == base && (t[q].is("USING") || t[q].is("COLLATE")))
                .unwrap_or(t.len());
            self.add_column(table, &col, &type_text(&t[ty..end]));
        } else if a0.is("MODIFY") {
            let k = skip(t, s + 1, &["COLUMN"]);
            let (col, j) = name_at(t, k)?;
            self.column(t, &col, j, table, base);
        } else if a0.is("CHANGE") {
            let k = skip(t, s + 1, &["COLUMN"]);
            let (from, j) = name_at(t, k)?;
            let (to, j) = name_at(t, j)?;
            self.rename_column(table, &from, &to);
            self.column(t, &to, j, table, base);
        } else if a0.is("RENAME") {
            let a1 = at(s + 1)?;
            if a1.is("TO") || a1.is("AS") {
                let (to, _) = name_at(t, s + 2)?;
                self.rename_table(table, &to);
                return Some(to);
            }
            if a1.is("INDEX") || a1.is("KEY") || a1.is("CONSTRAINT") {
                let (from, j) = name_at(t, s + 2)?;
                let (to, _) = name_at(t, skip(t, j, &["TO"]))?;
                let (tk, fk) = (table_key(table), key(&from));
                for i in self
                    .indexes
                    .iter_mut()
                    .filter(|i| i.table == tk && i.name.as_deref() == Some(fk.as_str()))
                {
                    i.name = Some(key(&to));
                }
                return None;
            }
            let k = skip(t, s + 1, &["COLUMN"]);
            let (from, j) = name_at(t, k)?;
            if at(j).is_some_and(|x| x.is("TO")) {
                let (to, _) = name_at(t, j + 1)?;
                self.rename_column(table, &from, &to);
            } else if k == s + 1 {
                self.rename_table(table, &from);
                return Some(from);
            }
        }
        None
    }

    /// One element of a column/constraint list at `t[s..]`: a column definition or a
    /// table constraint (`CREATE TABLE (...)`, `ALTER TABLE ... ADD`).
    fn element(&mut self, t: &[Token], s: usize, table: &str, base: usize) {
        let Some(a0) = t.get(s) else {
            return;
        };
        let (cname, k) = if a0.is("CONSTRAINT") {
            match name_at(t, s + 1) {
                Some((n, j)) => (Some(n), j),
                None => return,
            }
        } else {
            (None, s)
        };
        let Some(w) = t.get(k) else {
            return;
        };
        if w.is("PRIMARY") {
            // PRIMARY KEY (cols)
            if let Some(cols) = column_list(t, skip(t, k + 1, &["KEY"])) {
                self.add_index(table, Some(cname.as_deref().unwrap_or("primary")), cols);
            }
        } else if w.is("UNIQUE")
            || w.is("INDEX")
            || w.is("KEY")
            || (w.is("FULLTEXT") || w.is("SPATIAL"))
        {
            let fulltext = w.is("FULLTEXT") || w.is("SPATIAL");
            let mut j = skip(t, k + 1, &["INDEX", "KEY"]);
            let mut name = cname;
            if !t.get(j).is_some_and(|x| x.is_punct('('))
                && let Some((n, nj)) = name_at(t, j)
            {
                name = Some(n);
                j = nj;
            }
            if t.get(j).is_some_and(|x| x.is("USING")) {
                j += 2;
            }
            if let Some(cols) = column_list(t, j)
                && !fulltext
            {
                self.add_index(table, name.as_deref(), cols);
            }
        } else if w.is("FOREIGN") {
            let mut j = skip(t, k + 1, &["KEY"]);
            let mut name = cname;
            if !t.get(j).is_some_and(|x| x.is_punct('('))
                && let Some((n, nj)) = name_at(t, j)
            {
                name = Some(n);
                j = nj;
            }
            if let Some(cols) = column_list(t, j) {
                self.add_fk(table, name.as_deref(), cols);
            }
        } else if w.is("CHECK") || w.is("EXCLUDE") || w.is("PERIOD") || w.is("LIKE") {
        } else if let Some((col, j)) = name_at(t, k) {
            self.column(t, &col, j, table, base);
        }
    }

    /// A column definition: `col` whose type starts at `t[j]`, then its inline
    /// constraints (PRIMARY KEY, UNIQUE, REFERENCES).
    fn column(&mut self, t: &[Token], col: &str, j: usize, table: &str, base: usize) {
        let stop = |q: usize| {
            let x = &t[q];
            x.depth == base
                && (q > j
                    && ([
                        "NOT",
                        "NULL",
                        "DEFAULT",
                        "PRIMARY",
                        "UNIQUE",
                        "REFERENCES",
                        "CHECK",
                        "CONSTRAINT",
                        "GENERATED",
                        "COLLATE",
                        "AUTO_INCREMENT",
                        "COMMENT",
                        "AS",
                        "FIRST",
                        "AFTER",
                        "ON",
                        "INVISIBLE",
                        "VISIBLE",
                    ]
                    .iter()
                    .any(|w| x.is(w))
                        || (x.is("CHARACTER") && t.get(q + 1).is_some_and(|y| y.is("SET")))
                        || x.is_punct(',')))
        };
        let end = (j..t.len()).find(|&q| stop(q)).unwrap_or(t.len());
        if end > j {
            self.add_column(table, col, &type_text(&t[j..end]));
        }
        for q in end..t.len() {
            let x = &t[q];
            if x.depth != base {
                continue;
            }
            if x.is("PRIMARY") && t.get(q + 1).is_some_and(|y| y.is("KEY")) {
                self.add_index(table, Some("primary"), vec![col.to_string()]);
            } else if x.is("UNIQUE") {
                self.add_index(table, None, vec![col.to_string()]);
            } else if x.is("REFERENCES") {
                self.add_fk(table, None, vec![col.to_string()]);
            }
        }
    }
}

/// The index end of the parenthesis opened at `t[open]` (exclusive of the `)`).
fn close_of(t: &[Token], open: usize) -> usize {
    let d = t[open].depth;
    (open + 1..t.len())
        .find(|&q| t[q].depth == d && t[q].is_punct(')'))
        .unwrap_or(t.len())
}

/// `(a, b DESC, c(10), lower(d))` at `t[i]`: column names, expressions as placeholders.
fn column_list(t: &[Token], i: usize) -> Option<Vec<String>> {
    if !t.get(i)?.is_punct('(') {
        return None;
    }
    let d = t[i].depth + 1;
    let end = close_of(t, i);
    let mut out = Vec::new();
    for (s, e) in split_commas(&t[..end], i + 1, d) {
        let el = &t[s..e];
        let plain = el.first().and_then(|x| x.name()).filter(|_| {
            el.len() == 1
                || !el[1].is_punct('(')
                || matches!(el.get(2).map(|x| &x.tok), Some(Tok::Literal(_)))
        });
        out.push(match plain {
            Some(n) => n.to_string(),
            None => format!("({})", type_text(el)),
        });
    }
    Some(out)
}

/// A type's tokens as text (`varchar(20)`, `numeric(12,2)`, `double precision`).
pub fn type_text(t: &[Token]) -> String {
    let mut s = String::new();
    for (k, x) in t.iter().enumerate() {
        let glue = k == 0 || matches!(x.tok, Tok::Punct('(' | ')' | ',')) || t[k - 1].is_punct('(');
        if !glue {
            s.push(' ');
        }
        s.push_str(&x.text());
    }
    s
}

/// `DROP INDEX [CONCURRENTLY] [IF EXISTS] name [, name ...] [ON table]`: each
/// (name, table); None when the statement is not a DROP INDEX.
pub fn drop_index_targets(t: &[Token]) -> Option<Vec<(String, Option<String>)>> {
    if !(t.first()?.is("DROP") && t.get(1)?.is("INDEX")) {
        return None;
    }
    let base = t[0].depth;
    let i = skip_if_exists(t, skip(t, 2, &["CONCURRENTLY"]));
    let mut out = Vec::new();
    for (s, _) in split_commas(t, i, base) {
        let Some((name, j)) = name_at(t, s) else {
            continue;
        };
        let table = if t.get(j).is_some_and(|x| x.is("ON")) {
            name_at(t, j + 1).map(|(n, _)| n)
        } else {
            None
        };
        out.push((name, table));
    }
    Some(out)
}
