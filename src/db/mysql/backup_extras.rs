//! What a whole-database MySQL/MariaDB restore would leave behind: views, triggers,
//! routines, events and foreign keys the target has and the backup's dump does not
//! (the dump's own statements say what it has). The dump drops and recreates its own
//! tables, views and routines; a view, routine or event created since survives it, and
//! so does a trigger or foreign key hung since on a table the backup lacks... which
//! is kept; one hung on a backed-up table goes with the table, and is named too.

use super::backup::{connect, err, q};
use crate::db::backup::{ExtraObject, ExtrasRequest, zstd_reader};
use crate::error::{Error, Result};
use sqlx::{Executor, Row};
use std::collections::BTreeSet;
use std::io::BufRead;

/// The objects a dump creates, as ("view" | "trigger" | "function" | "procedure" |
/// "event" | "foreign key" | "table", name); routine, trigger and event names lower-cased
/// (the server compares them without case).
#[derive(Debug, Default)]
pub(super) struct DumpObjects(BTreeSet<(&'static str, String)>);

impl DumpObjects {
    fn has(&self, kind: &'static str, name: &str) -> bool {
        let name = match kind {
            "view" | "foreign key" | "table" => name.to_string(),
            _ => name.to_lowercase(),
        };
        self.0.contains(&(kind, name))
    }

    pub(super) fn scan_line(&mut self, line: &str) {
        const AFTER: &[(&str, &str)] = &[
            ("CREATE TABLE ", "table"),
            ("DROP VIEW IF EXISTS ", "view"),
            ("DROP FUNCTION IF EXISTS ", "function"),
            ("DROP PROCEDURE IF EXISTS ", "procedure"),
            ("DROP EVENT IF EXISTS ", "event"),
            (" TRIGGER ", "trigger"),
            ("CONSTRAINT ", "foreign key"),
        ];
        for (marker, kind) in AFTER {
            let Some(at) = line.find(marker) else {
                continue;
            };
            if *kind == "trigger" && !line.contains("CREATE") {
                continue;
            }
            let rest = &line[at + marker.len()..];
            let Some((name, after)) = qualified_ident(rest) else {
                continue;
            };
            if *kind == "foreign key" && !after.trim_start().starts_with("FOREIGN KEY") {
                continue;
            }
            let name = match *kind {
                "view" | "foreign key" | "table" => name,
                _ => name.to_lowercase(),
            };
            self.0.insert((kind, name));
        }
    }
}

/// An identifier (`quoted`, with `` for a backtick, or bare), the last part of a
/// `db`.`name`; and what follows it.
fn qualified_ident(s: &str) -> Option<(String, &str)> {
    let (mut name, mut rest) = ident(s)?;
    while let Some(r) = rest.strip_prefix('.') {
        let (n, r) = ident(r)?;
        name = n;
        rest = r;
    }
    Some((name, rest))
}

fn ident(s: &str) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('`') {
        let mut out = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '`' {
                if chars.peek().is_some_and(|(_, n)| *n == '`') {
                    chars.next();
                    out.push('`');
                } else {
                    return Some((out, &body[i + 1..]));
                }
            } else {
                out.push(c);
            }
        }
        None
    } else {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(s.len());
        (end > 0).then(|| (s[..end].to_string(), &s[end..]))
    }
}

/// Read the dump's statements (its rows skipped) for the objects it creates.
fn scan_dump(path: &std::path::Path) -> Result<DumpObjects> {
    let mut r = std::io::BufReader::with_capacity(1 << 20, zstd_reader(path)?);
    let mut found = DumpObjects::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::runtime(format!("reading {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        // the rows: an INSERT's first line, or one row a line (`(1,'a'),`); a value's
        // newline is written `\n`, so no statement line starts like these
        if line.starts_with(b"(") || line.starts_with(b"INSERT INTO ") {
            continue;
        }
        found.scan_line(&String::from_utf8_lossy(&line));
    }
    Ok(found)
}

pub(super) async fn objects_not_in_backup(req: ExtrasRequest<'_>) -> Result<Vec<ExtraObject>> {
    let file = req
        .files
        .iter()
        .find(|f| f.ends_with(".sql.zst"))
        .ok_or_else(|| Error::bad_input("the backup has no dump file"))?;
    let path = req.dir.join(file);
    let dump = tokio::task::spawn_blocking(move || scan_dump(&path))
        .await
        .map_err(|e| Error::runtime(format!("reading the dump: {e}")))??;
    let r = req.redacted;
    let mut c = connect(req.url, r).await?;
    let mut found = Vec::new();
    let db = "DATABASE()";
    let views = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.views WHERE table_schema = {db} ORDER BY 1"
    )))
    .fetch_all(&mut c)
    .await
    .map_err(err(r))?;
    for v in views {
        let name: String = v.get(0);
        if !dump.has("view", &name) {
            found.push(ExtraObject {
                kind: "view".into(),
                drop: format!("DROP VIEW IF EXISTS {}", q(&name)),
                name,
            });
        }
    }
    let routines = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(routine_type AS CHAR), CAST(routine_name AS CHAR) FROM information_schema.routines \
         WHERE routine_schema = {db} AND routine_type IN ('FUNCTION', 'PROCEDURE') ORDER BY 1, 2"
    )))
    .fetch_all(&mut c)
    .await
    .map_err(err(r))?;
    for row in routines {
        let ty: String = row.get(0);
        let name: String = row.get(1);
        let kind = if ty == "FUNCTION" {
            "function"
        } else {
            "procedure"
        };
        if !dump.has(kind, &name) {
            found.push(ExtraObject {
                kind: kind.into(),
                drop: format!("DROP {ty} IF EXISTS {}", q(&name)),
                name,
            });
        }
    }
    let events = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(event_name AS CHAR) FROM information_schema.events WHERE event_schema = {db} ORDER BY 1"
    )))
    .fetch_all(&mut c)
    .await
    .map_err(err(r))?;
    for row in events {
        let name: String = row.get(0);
        if !dump.has("event", &name) {
            found.push(ExtraObject {
                kind: "event".into(),
                drop: format!("DROP EVENT IF EXISTS {}", q(&name)),
                name,
            });
        }
    }
    let triggers = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(trigger_name AS CHAR), CAST(event_object_table AS CHAR) FROM information_schema.triggers \
         WHERE trigger_schema = {db} ORDER BY 1"
    )))
    .fetch_all(&mut c)
    .await
    .map_err(err(r))?;
    for row in triggers {
        let name: String = row.get(0);
        let table: String = row.get(1);
        // a trigger of a table the backup lacks goes (or stays) with that table
        if !dump.has("trigger", &name) && !req.extra_tables.contains(&table) {
            found.push(ExtraObject {
                kind: "trigger".into(),
                drop: format!("DROP TRIGGER IF EXISTS {}", q(&name)),
                name: format!("{name} on {table}"),
            });
        }
    }
    let fks = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(constraint_name AS CHAR), CAST(table_name AS CHAR), CAST(referenced_table_name AS CHAR) \
         FROM information_schema.referential_constraints WHERE constraint_schema = {db} ORDER BY 2, 1"
    )))
    .fetch_all(&mut c)
    .await
    .map_err(err(r))?;
    for row in fks {
        let name: String = row.get(0);
        let table: String = row.get(1);
        let to: String = row.get(2);
        if !dump.has("foreign key", &name) && !req.extra_tables.contains(&table) {
            found.push(ExtraObject {
                kind: "foreign key".into(),
                drop: format!("ALTER TABLE {} DROP FOREIGN KEY {}", q(&table), q(&name)),
                name: format!("{name} on {table} (to {to})"),
            });
        }
    }
    Ok(found)
}

/// Drop them (each DDL statement commits by itself on MySQL: a crash in between
/// leaves some dropped, and the rerun finds the rest).
pub(super) async fn drop_objects(url: &str, redacted: &str, objects: &[ExtraObject]) -> Result<()> {
    let mut c = connect(url, redacted).await?;
    for o in objects {
        c.execute(sqlx::AssertSqlSafe(o.drop.clone()))
            .await
            .map_err(|e| crate::db::sqlx_error(redacted, e).context(format!("dropping {o}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::DumpObjects;

    #[test]
    fn a_dump_names_its_objects() {
        let mut d = DumpObjects::default();
        for l in [
            "CREATE TABLE `a` (",
            "  CONSTRAINT `b fk` FOREIGN KEY (`a_id`) REFERENCES `a` (`id`)",
            "  CONSTRAINT `chk` CHECK (`x` > 0)",
            "/*!50001 DROP VIEW IF EXISTS `va`*/;",
            "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`127.0.0.1`*/ /*!50003 TRIGGER Trg BEFORE INSERT ON a FOR EACH ROW SET NEW.v = 'x' ",
            "/*!50003 CREATE*/ /*!50003 TRIGGER `db`.`t``2` AFTER INSERT ON a FOR EACH ROW SET @x = 1",
            "/*!50003 DROP FUNCTION IF EXISTS `F` */;",
            "/*!50003 DROP PROCEDURE IF EXISTS `p` */;",
            "/*!50106 DROP EVENT IF EXISTS `ev` */;",
        ] {
            d.scan_line(l);
        }
        assert!(d.has("table", "a"));
        assert!(d.has("foreign key", "b fk"));
        assert!(!d.has("foreign key", "chk"), "a CHECK is not a foreign key");
        assert!(d.has("view", "va"));
        assert!(d.has("trigger", "trg"));
        assert!(d.has("trigger", "t`2"));
        assert!(d.has("function", "f"));
        assert!(d.has("procedure", "p"));
        assert!(d.has("event", "ev"));
        assert!(!d.has("view", "a"));
    }
}
