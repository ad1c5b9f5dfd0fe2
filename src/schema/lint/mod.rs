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

pub mod knowledge;
mod statement;
mod tokens;

pub use knowledge::Known;

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
        code: "type-change",
        explanation: "changes a column's type whose old type is not declared in the SQL read (nor, with `cutover lint --target`, in the schema): whether the new type holds every value was not judged",
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
    /// What could not be judged (`type-change`): said, not counted as a warning.
    Notice,
}

/// The codes reported as notices.
pub const NOTICE_CODES: &[&str] = &["type-change"];

impl Severity {
    pub fn of(code: &str) -> Severity {
        if ERROR_CODES.contains(&code) {
            Severity::Error
        } else if NOTICE_CODES.contains(&code) {
            Severity::Notice
        } else {
            Severity::Warning
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
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
    script_hazards_with(script, dialect, &mut Known::default())
}

/// [`script_hazards`] judged against what `known` declares (the SQL read before, an
/// introspected target), learning what this script declares as it goes: pass the same
/// `known` to the scripts that run after it.
pub fn script_hazards_with(
    script: &str,
    dialect: Option<Dialect>,
    known: &mut Known,
) -> ScriptHazards {
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
        let here = statement::hazards(&toks, dialect, known);
        known.learn(&toks);
        for f in here {
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
                ("type-change", 8),
                ("table-rewrite", 8),
                ("not-null-without-default", 9),
                ("rename-table", 10),
                ("rename-column", 11),
                ("type-change", 12),
                ("table-rewrite", 12),
            ]
        );
        let h = script_hazards(
            "ALTER TABLE u ALTER COLUMN f TYPE varchar(10) USING f::text;",
            None,
        );
        assert!(
            h.hazards[0]
                .message
                .contains("to varchar(10); old type unknown"),
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

    /// The type-change codes of a script whose first statements declare the types.
    fn type_codes(sql: &str, d: Dialect) -> Vec<&'static str> {
        script_hazards(sql, Some(d))
            .hazards
            .iter()
            .map(|h| h.code)
            .filter(|c| *c != "table-rewrite")
            .collect()
    }

    #[test]
    fn type_changes_judged_against_the_declared_type() {
        let pg = |decl: &str, new: &str| {
            type_codes(
                &format!(
                    "CREATE TABLE s.t (id int PRIMARY KEY, c {decl} NOT NULL DEFAULT 0);\nALTER TABLE t ALTER COLUMN c TYPE {new};"
                ),
                Dialect::Postgres,
            )
        };
        for (old, new) in [
            ("varchar(100)", "varchar(50)"),
            ("bigint", "int"),
            ("numeric(12,2)", "numeric(10,2)"),
            ("numeric(12,2)", "numeric(12,1)"),
            ("text", "varchar(200)"),
            ("timestamptz", "timestamp"),
            ("timestamp with time zone", "timestamp without time zone"),
            ("character varying(30)", "char(10)"),
            ("int", "smallint"),
            ("double precision", "real"),
        ] {
            assert_eq!(pg(old, new), vec!["narrow-type"], "{old} -> {new}");
        }
        for (old, new) in [
            ("varchar(50)", "varchar(100)"),
            ("int", "bigint"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("varchar(20)", "text"),
            ("timestamp", "timestamptz"),
            ("smallint", "integer"),
            ("character varying(30)", "varchar(30)"),
        ] {
            assert_eq!(pg(old, new), Vec::<&str>::new(), "{old} -> {new}");
        }
        let h = script_hazards(
            "CREATE TABLE t (c varchar(100));\nALTER TABLE t ALTER COLUMN c TYPE varchar(50);",
            Some(Dialect::Postgres),
        );
        assert_eq!(h.hazards[0].line, 2);
        assert!(
            h.hazards[0]
                .message
                .contains("from varchar(100) to varchar(50)"),
            "{:?}",
            h.hazards
        );
        // MySQL: MODIFY and CHANGE, a column added later, a type changed twice.
        let my = "CREATE TABLE t (id bigint unsigned NOT NULL AUTO_INCREMENT, name varchar(64) CHARACTER SET utf8mb4 NOT NULL, PRIMARY KEY (id));\n\
                  ALTER TABLE t ADD COLUMN qty int NOT NULL DEFAULT 0;\n\
                  ALTER TABLE t MODIFY name varchar(128) NOT NULL;\n\
                  ALTER TABLE t MODIFY COLUMN name varchar(100);\n\
                  ALTER TABLE t MODIFY qty smallint;\n\
                  ALTER TABLE t MODIFY missing int;\n\
                  ALTER TABLE t MODIFY name varchar(100) CHARACTER SET utf8mb4 NOT NULL;\n\
                  ALTER TABLE t CHANGE name title varchar(40) NOT NULL;\n\
                  ALTER TABLE t CHANGE title title varchar(80);\n\
                  ALTER TABLE t CHANGE other other2 int;";
        let got: Vec<(&str, usize)> = script_hazards(my, Some(Dialect::Mysql))
            .hazards
            .iter()
            .filter(|h| h.code != "table-rewrite" && h.code != "implicit-commit-ddl")
            .map(|h| (h.code, h.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("narrow-type", 4),
                ("narrow-type", 5),
                ("type-change", 6),
                ("rename-column", 8),
                ("narrow-type", 8),
                ("rename-column", 10)
            ]
        );
        assert_eq!(Severity::of("type-change"), Severity::Notice);
    }

    #[test]
    fn dropping_the_only_index_of_a_foreign_key() {
        let pg = |sql: &str| -> Vec<(&'static str, usize, String)> {
            script_hazards(sql, Some(Dialect::Postgres))
                .hazards
                .into_iter()
                .map(|h| (h.code, h.line, h.object))
                .collect()
        };
        let schema = "CREATE TABLE parent (id int PRIMARY KEY);\n\
                      CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL, kind int,\n\
                        CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id));\n\
                      CREATE INDEX child_parent_idx ON child (parent_id);\n";
        let got = pg(&format!("{schema}DROP INDEX child_parent_idx;"));
        assert_eq!(
            got,
            vec![("drop-fk-index", 5, "child.child_parent_idx".to_string())]
        );
        let h = script_hazards(
            &format!("{schema}DROP INDEX IF EXISTS public.child_parent_idx;"),
            Some(Dialect::Postgres),
        );
        assert!(
            h.hazards[0]
                .message
                .contains("leaves foreign key child_parent_fk (parent_id) without an index"),
            "{:?}",
            h.hazards
        );
        // Dropping both indexes that cover the key in one statement: the second leaves it bare.
        assert_eq!(
            pg(&format!(
                "{schema}CREATE INDEX child_parent_kind ON child (parent_id, kind);\nDROP INDEX child_parent_idx, child_parent_kind;"
            )),
            vec![("drop-fk-index", 6, "child.child_parent_kind".to_string())]
        );
        // CREATE TABLE IF NOT EXISTS of a known table does not forget its index.
        assert_eq!(
            pg(&format!(
                "{schema}CREATE TABLE IF NOT EXISTS child (id int);\nDROP INDEX child_parent_idx;"
            ))
            .len(),
            1
        );
        // Another index whose leading column covers the key: nothing.
        assert_eq!(
            pg(&format!(
                "{schema}CREATE INDEX child_parent_kind ON child (parent_id, kind);\nDROP INDEX child_parent_idx;"
            )),
            vec![]
        );
        // An index led by another column does not cover it; a partial index does not either.
        assert_eq!(
            pg(&format!(
                "{schema}CREATE INDEX k1 ON child (kind, parent_id);\nCREATE INDEX k2 ON child (parent_id) WHERE kind = 1;\nDROP INDEX child_parent_idx;"
            ))
            .len(),
            1
        );
        // An index on a column no key uses, or an unknown index: nothing.
        assert_eq!(
            pg(&format!(
                "{schema}CREATE INDEX child_kind ON child (kind);\nDROP INDEX child_kind;\nDROP INDEX nobody_knows;"
            )),
            vec![]
        );
        // Dropping the key first leaves nothing to protect.
        assert_eq!(
            pg(&format!(
                "{schema}ALTER TABLE child DROP CONSTRAINT child_parent_fk;\nDROP INDEX child_parent_idx;"
            )),
            vec![]
        );
        // MySQL spellings: DROP INDEX name ON t, ALTER TABLE t DROP INDEX/KEY name.
        let my = "CREATE TABLE parent (id int PRIMARY KEY);\n\
                  CREATE TABLE child (id int PRIMARY KEY, parent_id int, KEY child_parent_idx (parent_id),\n\
                    FOREIGN KEY (parent_id) REFERENCES parent (id));\n";
        for drop in [
            "DROP INDEX child_parent_idx ON child;",
            "ALTER TABLE child DROP INDEX child_parent_idx;",
            "ALTER TABLE child DROP KEY child_parent_idx, ADD COLUMN x int;",
        ] {
            let got: Vec<&str> = script_hazards(&format!("{my}{drop}"), Some(Dialect::Mysql))
                .hazards
                .iter()
                .map(|h| h.code)
                .filter(|c| *c != "implicit-commit-ddl")
                .collect();
            assert_eq!(got, vec!["drop-fk-index"], "{drop}");
        }
        // An inline REFERENCES covered by the primary key: nothing.
        assert_eq!(
            pg(
                "CREATE TABLE a (id int PRIMARY KEY REFERENCES parent (id));\nCREATE UNIQUE INDEX a_id ON a (id);\nDROP INDEX a_id;"
            ),
            vec![]
        );
    }

    #[test]
    fn knowledge_carries_across_scripts() {
        let mut k = Known::default();
        script_hazards_with(
            "CREATE TABLE t (c varchar(100));",
            Some(Dialect::Postgres),
            &mut k,
        );
        let h = script_hazards_with(
            "ALTER TABLE t RENAME COLUMN c TO d;\nALTER TABLE t ALTER COLUMN d TYPE varchar(10);",
            Some(Dialect::Postgres),
            &mut k,
        );
        assert!(
            h.hazards
                .iter()
                .any(|h| h.code == "narrow-type" && h.line == 2),
            "{:?}",
            h.hazards
        );
        // After DROP TABLE, the old declaration no longer counts.
        let h = script_hazards_with(
            "DROP TABLE t;\nCREATE TABLE t (d text);\nALTER TABLE t ALTER COLUMN d TYPE varchar(10);",
            Some(Dialect::Postgres),
            &mut k,
        );
        assert!(
            h.hazards
                .iter()
                .any(|h| h.code == "narrow-type" && h.message.contains("from text")),
            "{:?}",
            h.hazards
        );
    }
}
