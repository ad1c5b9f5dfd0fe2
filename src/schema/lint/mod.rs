//! Hazards in SQL that will run: a script is split into statements the way the `sql`
//! and `migrate` steps split it (`db::split_statements`), each statement is read for
//! what it does, and what is destructive or risky is a hazard with the same stable
//! codes as a generated migration's (plus those only hand-written SQL has), at its
//! file and line. `cutover lint` reports them for CI; a checkpoint carries those of
//! the steps it lets run.
//!
//! A hazard is acknowledged in the file with a comment on the statement's line or
//! just above it: `-- cutover:allow drop-table the legacy table was archived`.
//! The reason is required. An acknowledged hazard is still reported (and still raises
//! what a checkpoint requires); only `cutover lint` stops counting it as an error.

mod statement;
mod tokens;

use super::migrate::HAZARD_CODES;
use crate::db::Dialect;
use crate::db::split_statements;

pub use super::migrate::HazardCode;

/// Codes only hand-written SQL raises (a generated migration never does these).
pub const STATEMENT_HAZARD_CODES: &[HazardCode] = &[
    HazardCode {
        code: "truncate",
        explanation: "empties a table: every row is removed",
    },
    HazardCode {
        code: "delete-without-where",
        explanation: "a DELETE with no WHERE removes every row of its table",
    },
    HazardCode {
        code: "update-without-where",
        explanation: "an UPDATE with no WHERE changes every row of its table",
    },
    HazardCode {
        code: "rename-table",
        explanation: "renames a table: queries and code that name the old name fail",
    },
    HazardCode {
        code: "rename-column",
        explanation: "renames a column: queries and code that name the old name fail",
    },
    HazardCode {
        code: "implicit-commit-ddl",
        explanation: "on MySQL/MariaDB each DDL statement commits as it runs: a script mixing it with other statements is not atomic, and a failure part-way leaves the statements before it applied",
    },
];

/// The codes that fail `cutover lint` unless acknowledged.
pub const ERROR_CODES: &[&str] = &[
    "drop-table",
    "drop-column",
    "truncate",
    "delete-without-where",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn of(code: &str) -> Severity {
        if ERROR_CODES.contains(&code) {
            Severity::Error
        } else {
            Severity::Warning
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Whether `code` is a hazard code (of a generated migration or of hand-written SQL).
pub fn is_known_code(code: &str) -> bool {
    HAZARD_CODES
        .iter()
        .chain(STATEMENT_HAZARD_CODES)
        .any(|c| c.code == code)
}

/// Every code, for messages.
pub fn known_codes() -> Vec<&'static str> {
    HAZARD_CODES
        .iter()
        .chain(STATEMENT_HAZARD_CODES)
        .map(|c| c.code)
        .collect()
}

/// A hazard in a script, at its 1-based line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StatementHazard {
    pub code: &'static str,
    pub severity: Severity,
    /// The table or `table.column` it concerns.
    pub object: String,
    pub message: String,
    pub line: usize,
    /// The reason given by a `-- cutover:allow CODE reason` comment, if acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
}

/// A script's hazards, in line order, and its malformed allow comments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptHazards {
    pub statements: usize,
    pub hazards: Vec<StatementHazard>,
    /// `cutover:allow` comments that do not read (they acknowledge nothing).
    pub bad_allows: Vec<AllowError>,
}

/// A malformed `cutover:allow` comment.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowError {
    pub line: usize,
    pub message: String,
}

struct Allow {
    line: usize,
    codes: Vec<String>,
    reason: String,
}

fn allows(script: &str) -> (Vec<Allow>, Vec<AllowError>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (line, text) in tokens::line_comments(script) {
        let Some(rest) = text.strip_prefix("cutover:allow") else {
            continue;
        };
        let rest = rest.trim();
        let (codes, reason) = rest
            .split_once(char::is_whitespace)
            .map(|(c, r)| (c, r.trim()))
            .unwrap_or((rest, ""));
        if codes.is_empty() {
            bad.push(AllowError {
                line,
                message:
                    "`-- cutover:allow` names no hazard code (write `-- cutover:allow CODE reason`)"
                        .into(),
            });
            continue;
        }
        let codes: Vec<String> = codes.split(',').map(|c| c.trim().to_string()).collect();
        if let Some(unknown) = codes.iter().find(|c| !is_known_code(c)) {
            bad.push(AllowError {
                line,
                message: format!(
                    "unknown hazard code \"{unknown}\" in `-- cutover:allow`; known codes: {}",
                    known_codes().join(", ")
                ),
            });
            continue;
        }
        if reason.is_empty() {
            bad.push(AllowError {
                line,
                message: format!(
                    "`-- cutover:allow {}` gives no reason (write `-- cutover:allow CODE reason`)",
                    codes.join(",")
                ),
            });
            continue;
        }
        out.push(Allow {
            line,
            codes,
            reason: reason.to_string(),
        });
    }
    (out, bad)
}

/// The hazards of a script's statements. `dialect` is the engine it runs on, when
/// known: `implicit-commit-ddl` needs MySQL/MariaDB, and some rewrites are PostgreSQL's.
pub fn script_hazards(script: &str, dialect: Option<Dialect>) -> ScriptHazards {
    let (allows, bad_allows) = allows(script);
    let statements = split_statements(script);
    // (first line, last line) of each statement, and its hazards.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut found: Vec<(usize, StatementHazard)> = Vec::new();
    let mut ddl_lines: Vec<usize> = Vec::new();
    for (n, st) in statements.iter().enumerate() {
        let toks = tokens::tokenize(&st.sql);
        let Some(first) = toks.first() else {
            spans.push((st.line, st.line));
            continue;
        };
        let abs = |rel: usize| st.line + rel.saturating_sub(first.line);
        spans.push((
            st.line,
            abs(toks.last().map(|t| t.line).unwrap_or(first.line)),
        ));
        if statement::is_implicit_commit_ddl(&toks) {
            ddl_lines.push(st.line);
        }
        for f in statement::hazards(&toks, dialect) {
            let line = abs(toks.get(f.at).map(|t| t.line).unwrap_or(first.line));
            found.push((
                n,
                StatementHazard {
                    code: f.code,
                    severity: Severity::of(f.code),
                    object: f.object,
                    message: f.message,
                    line,
                    allowed: None,
                },
            ));
        }
    }
    let mysql = dialect.is_some_and(|d| !d.transactional_ddl());
    if mysql && !ddl_lines.is_empty() && statements.len() > 1 {
        let first = ddl_lines[0];
        let n = statements.iter().position(|s| s.line == first).unwrap_or(0);
        let lines: Vec<String> = ddl_lines.iter().map(|l| l.to_string()).collect();
        found.push((
            n,
            StatementHazard {
                code: "implicit-commit-ddl",
                severity: Severity::of("implicit-commit-ddl"),
                object: String::new(),
                message: format!(
                    "{} of its {} statements {} DDL (line{} {}), which MySQL/MariaDB commits as it runs: the script is not atomic, and a failure part-way leaves what ran before it applied",
                    ddl_lines.len(),
                    statements.len(),
                    if ddl_lines.len() == 1 { "is" } else { "are" },
                    if ddl_lines.len() == 1 { "" } else { "s" },
                    lines.join(", ")
                ),
                line: first,
                allowed: None,
            },
        ));
    }
    // An allow comment covers the first statement that ends on or after its line.
    for a in &allows {
        let Some(target) = spans.iter().position(|(_, end)| *end >= a.line) else {
            continue;
        };
        for (n, h) in found.iter_mut() {
            if *n == target && a.codes.iter().any(|c| c == h.code) && h.allowed.is_none() {
                h.allowed = Some(a.reason.clone());
            }
        }
    }
    let mut hazards: Vec<StatementHazard> = found.into_iter().map(|(_, h)| h).collect();
    hazards.sort_by_key(|h| h.line);
    ScriptHazards {
        statements: statements.len(),
        hazards,
        bad_allows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(sql: &str, d: Option<Dialect>) -> Vec<(&'static str, usize)> {
        script_hazards(sql, d)
            .hazards
            .iter()
            .map(|h| (h.code, h.line))
            .collect()
    }

    #[test]
    fn destructive_statements_with_lines() {
        let sql = "-- retire\nDROP TABLE IF EXISTS a, s.b;\nTRUNCATE TABLE c;\nDELETE FROM d;\nDELETE FROM e WHERE id = 1;\nUPDATE f SET x = 1;\nUPDATE g SET x = (SELECT 1 WHERE true) WHERE y = 2;\n";
        assert_eq!(
            codes(sql, None),
            vec![
                ("drop-table", 2),
                ("drop-table", 2),
                ("truncate", 3),
                ("delete-without-where", 4),
                ("update-without-where", 6)
            ]
        );
    }

    #[test]
    fn alter_table_actions() {
        let sql = "ALTER TABLE t\n  ADD COLUMN a int NOT NULL,\n  ADD COLUMN b int NOT NULL DEFAULT 0,\n  DROP COLUMN c,\n  DROP CONSTRAINT k,\n  RENAME COLUMN d TO e;\nALTER TABLE t RENAME TO u;\nALTER TABLE u ALTER COLUMN f TYPE varchar(10);\nALTER TABLE u ALTER COLUMN g SET NOT NULL;\nRENAME TABLE u TO v;\nALTER TABLE v CHANGE old_name new_name int;\nALTER TABLE v MODIFY h smallint NOT NULL;";
        assert_eq!(
            codes(sql, Some(Dialect::Postgres)),
            vec![
                ("not-null-without-default", 2),
                ("drop-column", 4),
                ("rename-column", 6),
                ("rename-table", 7),
                ("narrow-type", 8),
                ("table-rewrite", 8),
                ("not-null-without-default", 9),
                ("rename-table", 10),
                ("rename-column", 11),
                ("narrow-type", 12),
                ("table-rewrite", 12),
            ]
        );
        let h = script_hazards(
            "ALTER TABLE u ALTER COLUMN f TYPE varchar(10) USING f::text;",
            None,
        );
        assert!(
            h.hazards[0].message.contains("to varchar(10):"),
            "{:?}",
            h.hazards
        );
    }

    #[test]
    fn safe_statements_raise_nothing() {
        let sql = "CREATE TABLE t (a int NOT NULL);\nINSERT INTO t SELECT 1;\nDROP INDEX i;\nDROP VIEW v;\nALTER TABLE t ADD COLUMN b text;\nALTER TABLE t ADD CONSTRAINT c UNIQUE (a);\nDELETE FROM t WHERE a IN (SELECT a FROM u);\nWITH x AS (SELECT 1) UPDATE t SET a = 1 WHERE a = 2;\nSELECT 'DROP TABLE t';\nDROP TEMPORARY TABLE tmp;";
        assert_eq!(codes(sql, Some(Dialect::Postgres)), vec![]);
    }

    #[test]
    fn implicit_commit_only_on_mysql_and_only_when_mixed() {
        let sql =
            "INSERT INTO t VALUES (1);\nCREATE TABLE u (a int);\nALTER TABLE u ADD COLUMN b int;";
        assert_eq!(
            codes(sql, Some(Dialect::Mysql)),
            vec![("implicit-commit-ddl", 2)]
        );
        assert_eq!(codes(sql, Some(Dialect::Postgres)), vec![]);
        assert_eq!(
            codes("CREATE TABLE u (a int)", Some(Dialect::Mysql)),
            vec![]
        );
    }

    #[test]
    fn allow_comments_cover_their_statement() {
        let sql = "-- cutover:allow drop-table archived in backups/lerg\nDROP TABLE a;\nDROP TABLE b; -- cutover:allow drop-table,truncate b was empty\nDROP TABLE c;";
        let h = script_hazards(sql, None).hazards;
        assert_eq!(h[0].allowed.as_deref(), Some("archived in backups/lerg"));
        assert_eq!(h[1].allowed.as_deref(), Some("b was empty"));
        assert_eq!(h[2].allowed, None, "{h:?}");
    }

    #[test]
    fn bad_allow_comments_name_their_line() {
        let h = script_hazards("SELECT 1;\n-- cutover:allow drop-everything because", None);
        let e = &h.bad_allows[0];
        assert_eq!(e.line, 2);
        assert!(
            e.message
                .contains("unknown hazard code \"drop-everything\""),
            "{}",
            e.message
        );
        let h = script_hazards("-- cutover:allow drop-table\nDROP TABLE a;", None);
        assert!(
            h.bad_allows[0].message.contains("no reason"),
            "{:?}",
            h.bad_allows
        );
        assert_eq!(
            h.hazards[0].allowed, None,
            "a comment that does not read acknowledges nothing"
        );
    }
}
