//! What one statement does that is a hazard: read from its tokens, never by running it.

use super::knowledge::{Known, Orphaned, TypeChange, drop_index_targets};
use super::tokens::{Tok, Token};
use crate::db::Dialect;

/// A hazard found in one statement, at the token that causes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub code: &'static str,
    pub object: String,
    pub message: String,
    /// Index of the token the hazard is attributed to (for its line).
    pub at: usize,
}

fn found(code: &'static str, object: String, message: String, at: usize) -> Found {
    Found {
        code,
        object,
        message,
        at,
    }
}

/// A possibly qualified name starting at `i`: (`a.b`, index after it).
pub(super) fn name_at(t: &[Token], i: usize) -> Option<(String, usize)> {
    let mut parts = vec![t.get(i)?.name()?.to_string()];
    let mut j = i + 1;
    while j + 1 < t.len() && t[j].is_punct('.') {
        match t[j + 1].name() {
            Some(n) => parts.push(n.to_string()),
            None => break,
        }
        j += 2;
    }
    Some((parts.join("."), j))
}

/// Skip the optional words in `words` (in order, each at most once) from `i`.
pub(super) fn skip(t: &[Token], mut i: usize, words: &[&str]) -> usize {
    for w in words {
        if t.get(i).is_some_and(|x| x.is(w)) {
            i += 1;
        }
    }
    i
}

/// `IF EXISTS` / `IF NOT EXISTS` at `i`.
pub(super) fn skip_if_exists(t: &[Token], i: usize) -> usize {
    if t.get(i).is_some_and(|x| x.is("IF")) {
        skip(t, i + 1, &["NOT", "EXISTS"])
    } else {
        i
    }
}

/// Whether a top-level (depth `base`) `WHERE` follows `from`.
fn has_where(t: &[Token], from: usize, base: usize) -> bool {
    t[from..].iter().any(|x| x.depth == base && x.is("WHERE"))
}

/// Split `t[from..]` at top-level commas into (start, end) ranges.
pub(super) fn split_commas(t: &[Token], from: usize, base: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = from;
    for (k, x) in t.iter().enumerate().skip(from) {
        if x.depth == base && x.is_punct(',') {
            out.push((s, k));
            s = k + 1;
        }
    }
    if s < t.len() {
        out.push((s, t.len()));
    }
    out
}

/// Tokens rendered back as text, for a type in a message.
fn render(t: &[Token]) -> String {
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

/// Is this statement DDL that MySQL/MariaDB commits implicitly?
pub fn is_implicit_commit_ddl(t: &[Token]) -> bool {
    let Some(first) = t.first() else {
        return false;
    };
    ["CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"]
        .iter()
        .any(|k| first.is(k))
}

/// The hazards of one statement's tokens.
pub fn hazards(t: &[Token], dialect: Option<Dialect>, known: &Known) -> Vec<Found> {
    let mut t = t;
    let mut offset = 0;
    // WITH ... (CTEs) DELETE/UPDATE ...: read the main statement.
    if t.first().is_some_and(|x| x.is("WITH"))
        && let Some(k) = t.iter().position(|x| {
            x.depth == t[0].depth
                && ["DELETE", "UPDATE", "INSERT", "SELECT"]
                    .iter()
                    .any(|w| x.is(w))
        })
    {
        offset = k;
        t = &t[k..];
    }
    let mut out = statement(t, dialect, known);
    for f in &mut out {
        f.at += offset;
    }
    out
}

fn statement(t: &[Token], dialect: Option<Dialect>, known: &Known) -> Vec<Found> {
    let Some(first) = t.first() else {
        return Vec::new();
    };
    let base = first.depth;
    let pg = dialect.is_some_and(|d| d.sql().ddl_rewrites_tables());
    if first.is("DROP") {
        if let Some(targets) = drop_index_targets(t) {
            // Each index against what the statement leaves: dropping two indexes that
            // both cover a key leaves it without one.
            let mut after = known.clone();
            let mut out = Vec::new();
            for (name, table) in targets {
                out.extend(
                    after
                        .drop_index(table.as_deref(), &name)
                        .into_iter()
                        .map(|o| fk_index(o, 0)),
                );
                after.forget_index(table.as_deref(), &name);
            }
            return out;
        }
        let i = skip(t, 1, &["TEMPORARY", "TEMP"]);
        if i > 1 || !t.get(i).is_some_and(|x| x.is("TABLE")) {
            return Vec::new();
        }
        let i = skip_if_exists(t, i + 1);
        return split_commas(t, i, base)
            .into_iter()
            .filter_map(|(s, _)| name_at(t, s))
            .map(|(n, _)| {
                found(
                    "drop-table",
                    n.clone(),
                    format!("drops table {n} and every row in it"),
                    0,
                )
            })
            .collect();
    }
    if first.is("TRUNCATE") {
        let i = skip(t, 1, &["TABLE", "ONLY"]);
        return split_commas(t, i, base)
            .into_iter()
            .filter_map(|(s, _)| name_at(t, skip(t, s, &["ONLY"])))
            .map(|(n, _)| {
                found(
                    "truncate",
                    n.clone(),
                    format!("empties table {n}: every row is removed"),
                    0,
                )
            })
            .collect();
    }
    if first.is("DELETE") {
        let Some(from) = t.iter().position(|x| x.depth == base && x.is("FROM")) else {
            return Vec::new();
        };
        let Some((n, _)) = name_at(t, skip(t, from + 1, &["ONLY"])) else {
            return Vec::new();
        };
        if !has_where(t, from, base) {
            return vec![found(
                "delete-without-where",
                n.clone(),
                format!("deletes every row of {n} (no WHERE)"),
                0,
            )];
        }
        return Vec::new();
    }
    if first.is("UPDATE") {
        let mut i = skip(t, 1, &["LOW_PRIORITY", "IGNORE", "ONLY"]);
        if t.get(i).is_some_and(|x| x.is("OR")) {
            i += 2; // SQLite: UPDATE OR REPLACE t
        }
        let Some((n, _)) = name_at(t, i) else {
            return Vec::new();
        };
        if !has_where(t, i, base) {
            return vec![found(
                "update-without-where",
                n.clone(),
                format!("updates every row of {n} (no WHERE)"),
                0,
            )];
        }
        return Vec::new();
    }
    if first.is("RENAME") && t.get(1).is_some_and(|x| x.is("TABLE")) {
        return split_commas(t, 2, base)
            .into_iter()
            .filter_map(|(s, _)| {
                let (from, j) = name_at(t, s)?;
                let (to, _) = name_at(t, skip(t, j, &["TO"]))?;
                Some(found(
                    "rename-table",
                    from.clone(),
                    format!("renames table {from} to {to}: queries that name {from} fail"),
                    s,
                ))
            })
            .collect();
    }
    if first.is("ALTER") {
        let i = skip(t, 1, &["ONLINE", "IGNORE"]);
        if !t.get(i).is_some_and(|x| x.is("TABLE")) {
            return Vec::new();
        }
        let i = skip(t, skip_if_exists(t, i + 1), &["ONLY"]);
        let Some((table, j)) = name_at(t, i) else {
            return Vec::new();
        };
        return split_commas(t, j, base)
            .into_iter()
            .flat_map(|(s, e)| alter_action(&t[..e], s, &table, base, dialect, known))
            .collect();
    }
    if pg && first.is("VACUUM") && t.get(1).is_some_and(|x| x.is("FULL")) {
        let n = name_at(t, 2)
            .map(|(n, _)| n)
            .unwrap_or_else(|| "every table".into());
        return vec![found(
            "table-rewrite",
            n.clone(),
            format!("VACUUM FULL rewrites {n} under a lock that blocks reads and writes"),
            0,
        )];
    }
    if first.is("OPTIMIZE") && t.get(1).is_some_and(|x| x.is("TABLE")) {
        let n = name_at(t, 2).map(|(n, _)| n).unwrap_or_default();
        return vec![found(
            "table-rewrite",
            n.clone(),
            format!("OPTIMIZE TABLE rebuilds {n}"),
            0,
        )];
    }
    Vec::new()
}

/// One action of `ALTER TABLE table`: tokens `t[s..]` (already cut at its end).
fn alter_action(
    t: &[Token],
    s: usize,
    table: &str,
    base: usize,
    dialect: Option<Dialect>,
    known: &Known,
) -> Vec<Found> {
    let pg = dialect.is_some_and(|d| d.sql().ddl_rewrites_tables());
    let at = |k: usize| t.get(k);
    let Some(a0) = at(s) else {
        return Vec::new();
    };
    let not_column = |k: usize| {
        at(k).is_some_and(|x| {
            [
                "CONSTRAINT",
                "INDEX",
                "KEY",
                "PRIMARY",
                "FOREIGN",
                "CHECK",
                "PARTITION",
                "DEFAULT",
                "SYSTEM",
                "PERIOD",
                "UNIQUE",
                "FULLTEXT",
                "SPATIAL",
                "EXCLUDE",
            ]
            .iter()
            .any(|w| x.is(w))
        })
    };
    if a0.is("RENAME") {
        let a1 = at(s + 1);
        if a1.is_some_and(|x| x.is("TO") || x.is("AS")) {
            let to = name_at(t, s + 2).map(|(n, _)| n).unwrap_or_default();
            return vec![rename_table(table, &to, s)];
        }
        if a1.is_some_and(|x| x.is("CONSTRAINT") || x.is("INDEX") || x.is("KEY")) {
            return Vec::new();
        }
        let k = skip(t, s + 1, &["COLUMN"]);
        if let Some((from, j)) = name_at(t, k) {
            if at(j).is_some_and(|x| x.is("TO")) {
                let to = name_at(t, j + 1).map(|(n, _)| n).unwrap_or_default();
                return vec![found(
                    "rename-column",
                    format!("{table}.{from}"),
                    format!("renames column {table}.{from} to {to}: queries that name {from} fail"),
                    s,
                )];
            }
            if k == s + 1 {
                // MySQL: ALTER TABLE t RENAME new_name
                return vec![rename_table(table, &from, s)];
            }
        }
        return Vec::new();
    }
    if a0.is("DROP") {
        // DROP INDEX / KEY / CONSTRAINT name: the index a foreign key relies on?
        if at(s + 1).is_some_and(|x| x.is("INDEX") || x.is("KEY") || x.is("CONSTRAINT")) {
            return name_at(t, skip_if_exists(t, s + 2))
                .map(|(n, _)| known.drop_index(Some(table), &n))
                .unwrap_or_default()
                .into_iter()
                .map(|o| fk_index(o, s))
                .collect();
        }
        if not_column(s + 1) {
            return Vec::new();
        }
        let k = skip_if_exists(t, skip(t, s + 1, &["COLUMN"]));
        let Some((col, _)) = name_at(t, k) else {
            return Vec::new();
        };
        return vec![found(
            "drop-column",
            format!("{table}.{col}"),
            format!("drops column {table}.{col} and the data in it"),
            s,
        )];
    }
    if a0.is("ADD") {
        if not_column(s + 1) || at(s + 1).is_some_and(|x| x.is_punct('(')) {
            return Vec::new();
        }
        let k = skip_if_exists(t, skip(t, s + 1, &["COLUMN"]));
        let Some((col, j)) = name_at(t, k) else {
            return Vec::new();
        };
        let def = &t[j..];
        let top = |w: &str| def.iter().any(|x| x.depth == base && x.is(w));
        let not_null = def
            .windows(2)
            .any(|w| w[0].depth == base && w[0].is("NOT") && w[1].is("NULL"));
        let serial = def.first().is_some_and(|x| {
            [
                "SERIAL",
                "BIGSERIAL",
                "SMALLSERIAL",
                "SERIAL4",
                "SERIAL8",
                "SERIAL2",
            ]
            .iter()
            .any(|w| x.is(w))
        });
        let generated =
            top("GENERATED") || top("IDENTITY") || top("AUTO_INCREMENT") || top("AS") || serial;
        let mut out = Vec::new();
        if not_null && !top("DEFAULT") && !generated {
            out.push(found(
                "not-null-without-default",
                format!("{table}.{col}"),
                format!(
                    "adds NOT NULL column {table}.{col} without a default: on a table with rows the statement fails (existing rows have no value)"
                ),
                s,
            ));
        }
        if pg {
            let volatile = def.iter().any(|x| {
                [
                    "random",
                    "gen_random_uuid",
                    "uuid_generate_v4",
                    "clock_timestamp",
                    "timeofday",
                    "nextval",
                ]
                .iter()
                .any(|w| x.is(w))
            });
            if volatile || serial || (top("STORED") && top("GENERATED")) {
                out.push(found(
                    "table-rewrite",
                    table.to_string(),
                    format!(
                        "adding {table}.{col} with a value computed per row rewrites {table} under a lock that blocks reads and writes"
                    ),
                    s,
                ));
            }
        }
        return out;
    }
    if a0.is("ALTER") {
        let k = skip(t, s + 1, &["COLUMN"]);
        let Some((col, j)) = name_at(t, k) else {
            return Vec::new();
        };
        let obj = format!("{table}.{col}");
        let type_at = if at(j).is_some_and(|x| x.is("TYPE")) {
            Some(j + 1)
        } else if at(j).is_some_and(|x| x.is("SET"))
            && at(j + 1).is_some_and(|x| x.is("DATA"))
            && at(j + 2).is_some_and(|x| x.is("TYPE"))
        {
            Some(j + 3)
        } else {
            None
        };
        if let Some(ty) = type_at {
            let end = (ty..t.len())
                .find(|&q| t[q].depth == base && (t[q].is("USING") || t[q].is("COLLATE")))
                .unwrap_or(t.len());
            let ty = render(&t[ty..end]);
            let mut out: Vec<Found> =
                narrow(known.judge_type(table, &col, &ty, dialect), &obj, &ty, s)
                    .into_iter()
                    .collect();
            if pg {
                out.push(found(
                    "table-rewrite",
                    table.to_string(),
                    format!(
                        "changing the type of {obj} rewrites {table} under a lock that blocks reads and writes (unless the old type converts to {ty} without a rewrite)"
                    ),
                    s,
                ));
            }
            return out;
        }
        if at(j).is_some_and(|x| x.is("SET"))
            && at(j + 1).is_some_and(|x| x.is("NOT"))
            && at(j + 2).is_some_and(|x| x.is("NULL"))
        {
            return vec![found(
                "not-null-without-default",
                obj.clone(),
                format!("makes {obj} NOT NULL: fails if any row holds NULL"),
                s,
            )];
        }
        return Vec::new();
    }
    if a0.is("MODIFY") {
        let k = skip(t, s + 1, &["COLUMN"]);
        let Some((col, j)) = name_at(t, k) else {
            return Vec::new();
        };
        let obj = format!("{table}.{col}");
        let ty = render(&t[j..column_type_end(t, j, base)]);
        let judged = known.judge_type(table, &col, &ty, dialect);
        return narrow(judged, &obj, &ty, s)
            .into_iter()
            .chain([found(
                "table-rewrite",
                table.to_string(),
                format!(
                    "MODIFY of {obj} copies {table} while writes wait, unless the engine can change it in place"
                ),
                s,
            )])
            .collect();
    }
    if a0.is("CHANGE") {
        let k = skip(t, s + 1, &["COLUMN"]);
        let Some((from, j)) = name_at(t, k) else {
            return Vec::new();
        };
        let Some((to, j)) = name_at(t, j) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if !from.eq_ignore_ascii_case(&to) {
            out.push(found(
                "rename-column",
                format!("{table}.{from}"),
                format!("renames column {table}.{from} to {to}: queries that name {from} fail"),
                s,
            ));
        }
        // CHANGE restates the type: a hazard only when the declared old type is known
        // and does not fit in the new one.
        let ty = render(&t[j..column_type_end(t, j, base)]);
        if let judged @ TypeChange::Narrowing { .. } = known.judge_type(table, &from, &ty, dialect)
        {
            out.extend(narrow(judged, &format!("{table}.{from}"), &ty, s));
        }
        return out;
    }
    if pg && a0.is("SET") && at(s + 1).is_some_and(|x| x.is("LOGGED") || x.is("UNLOGGED")) {
        return vec![found(
            "table-rewrite",
            table.to_string(),
            format!(
                "SET {} rewrites {table}",
                at(s + 1).map(|x| x.text()).unwrap_or_default()
            ),
            s,
        )];
    }
    if a0.is("CONVERT") || a0.is("ENGINE") || a0.is("FORCE") {
        return vec![found(
            "table-rewrite",
            table.to_string(),
            format!(
                "{} rebuilds {table} while writes wait",
                a0.text().to_ascii_uppercase()
            ),
            s,
        )];
    }
    Vec::new()
}

/// Where a column's type that starts at `t[j]` ends (MySQL `MODIFY`/`CHANGE`): at the
/// first attribute after it.
fn column_type_end(t: &[Token], j: usize, base: usize) -> usize {
    (j + 1..t.len())
        .find(|&q| {
            let x = &t[q];
            x.depth == base
                && ([
                    "NOT",
                    "NULL",
                    "DEFAULT",
                    "FIRST",
                    "AFTER",
                    "COMMENT",
                    "COLLATE",
                    "CHARSET",
                    "AUTO_INCREMENT",
                    "PRIMARY",
                    "UNIQUE",
                    "REFERENCES",
                    "CHECK",
                    "GENERATED",
                    "AS",
                    "ON",
                    "INVISIBLE",
                    "VISIBLE",
                ]
                .iter()
                .any(|w| x.is(w))
                    || (x.is("CHARACTER") && t.get(q + 1).is_some_and(|y| y.is("SET"))))
        })
        .unwrap_or(t.len())
}

fn rename_table(from: &str, to: &str, at: usize) -> Found {
    found(
        "rename-table",
        from.to_string(),
        format!("renames table {from} to {to}: queries that name {from} fail"),
        at,
    )
}

fn fk_index(o: Orphaned, at: usize) -> Found {
    found(
        "drop-fk-index",
        format!("{}.{}", o.table, o.index),
        format!(
            "dropping index {} on {} leaves foreign key {}({}) without an index: MySQL refuses, other engines check the key by scanning {}",
            o.index,
            o.table,
            o.fk.name.map(|n| format!("{n} ")).unwrap_or_default(),
            o.fk.columns.join(", "),
            o.table
        ),
        at,
    )
}

/// A type change judged against the declared old type: `narrow-type` when it may not
/// hold every old value, nothing when it widens, `type-change` when the old type is
/// not known.
fn narrow(judged: TypeChange, obj: &str, ty: &str, at: usize) -> Option<Found> {
    match judged {
        TypeChange::Widening { .. } => None,
        TypeChange::Narrowing { old } => Some(found(
            "narrow-type",
            obj.to_string(),
            format!(
                "changes the type of {obj} from {old} to {ty}: {ty} cannot hold every value of {old}, so values are cut or the change fails"
            ),
            at,
        )),
        TypeChange::Unknown => Some(found(
            "type-change",
            obj.to_string(),
            format!(
                "changes the type of {obj} to {ty}; old type unknown: not declared in the SQL read before it, so whether {ty} holds every old value was not judged (cutover lint --target URL judges it against the schema)"
            ),
            at,
        )),
    }
}
