//! `import-csv`: load a CSV file into a table, every field checked against its
//! column's type first (integers, decimals exactly through rust_decimal, dates,
//! timestamps, booleans, UUIDs), NULL told from text by a configured marker. Rejected
//! rows go to a rejects file with their line number and reason; when any row is bad
//! nothing is loaded (unless `skip_bad = true`). The good rows go in one transaction,
//! at most once per run (`once::apply_once`).
//!
//! ```toml
//! [[phases.steps]]
//! id = "load-prices"
//! kind = "import-csv"
//! target = "production"
//! table = "prices"
//! file = "data/prices.csv"        # header row: column names of the table
//! null = ""                       # the unquoted field text meaning NULL (default: empty;
//!                                 # a quoted "" is the empty string)
//! delimiter = ","                 # default ","
//! skip_bad = false                # true: load the good rows, reject the bad ones
//! rejects = "prices.rejects.csv"  # default: FILE.rejects.csv
//! ```

use super::once::{Applied, apply_once};
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::data::csv_quoted::quoted_fields;
use crate::db::{Class, Db, Dialect, Statement, Targets, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;
use std::path::PathBuf;
use std::str::FromStr;

const ROWS_PER_INSERT: usize = 500;

pub struct ImportCsv {
    target: String,
    table: String,
    file: PathBuf,
    file_label: String,
    null: String,
    delimiter: u8,
    skip_bad: bool,
    rejects: PathBuf,
    rejects_label: String,
}

impl ImportCsv {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let target = ctx.target(p, "target")?;
        let table = p.req_str("table")?;
        let file_label = p.req_str("file")?;
        let file = p.existing_path("file", ctx.dir)?.expect("required");
        let delimiter = match p.str("delimiter")? {
            None => b',',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some(_) => {
                return Err(p.error_at("delimiter", "`delimiter` must be one ASCII character"));
            }
        };
        let rejects_label = p
            .str("rejects")?
            .unwrap_or_else(|| format!("{file_label}.rejects.csv"));
        Ok(ImportCsv {
            target,
            table,
            rejects: ctx.dir.join(&rejects_label),
            rejects_label,
            file,
            file_label,
            null: p.str("null")?.unwrap_or_default(),
            delimiter,
            skip_bad: p.bool("skip_bad")?.unwrap_or(false),
        })
    }
}

/// One column of the destination as the import needs it.
struct Col {
    name: String,
    class: Class,
    tz: bool,
    nullable: bool,
    /// A default, identity or generated value fills it when the CSV leaves it out.
    has_default: bool,
}

/// A field's text as a value for `col`, or why it cannot be. Only an unquoted field
/// can be the NULL marker: a quoted one is always its text (`""` an empty string).
fn parse_field(
    text: &str,
    quoted: bool,
    null: &str,
    col: &Col,
) -> std::result::Result<Value, String> {
    if text == null && !quoted {
        return if col.nullable {
            Ok(Value::Null)
        } else {
            Err(format!(
                "column {} cannot be NULL (empty or the NULL marker)",
                col.name
            ))
        };
    }
    let t = text.trim();
    let bad = |what: &str| format!("column {}: {text:?} is not {what}", col.name);
    Ok(match col.class {
        Class::Int => Value::Int(t.parse::<i64>().map_err(|_| bad("an integer"))?),
        Class::Decimal => Value::Decimal(
            rust_decimal::Decimal::from_str_exact(t)
                .or_else(|_| rust_decimal::Decimal::from_scientific(t))
                .map_err(|_| bad("a decimal number (use . as the decimal point)"))?,
        ),
        Class::Float => {
            let f = t.parse::<f64>().map_err(|_| bad("a number"))?;
            if !f.is_finite() {
                return Err(bad("a finite number"));
            }
            Value::Float(f)
        }
        Class::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "y" => Value::Bool(true),
            "false" | "f" | "0" | "no" | "n" => Value::Bool(false),
            _ => return Err(bad("a boolean (true/false, 1/0, yes/no)")),
        },
        Class::Date => Value::Date(
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map_err(|_| bad("a date (YYYY-MM-DD)"))?,
        ),
        Class::Time => Value::Time(
            chrono::NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
                .map_err(|_| bad("a time (HH:MM:SS)"))?,
        ),
        Class::Timestamp => {
            let with_zone = chrono::DateTime::parse_from_rfc3339(t)
                .or_else(|_| chrono::DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%#z"));
            match (with_zone, col.tz) {
                (Ok(z), true) => Value::TimestampTz(z.with_timezone(&chrono::Utc)),
                (Ok(_), false) => {
                    return Err(format!(
                        "column {}: {text:?} carries a time zone, but the column is a timestamp without one",
                        col.name
                    ));
                }
                (Err(_), tz) => {
                    let naive = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
                        .or_else(|_| {
                            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
                        })
                        .map_err(|_| bad("a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM])"))?;
                    if tz {
                        Value::TimestampTz(naive.and_utc())
                    } else {
                        Value::Timestamp(naive)
                    }
                }
            }
        }
        Class::Uuid => Value::Uuid(uuid::Uuid::from_str(t).map_err(|_| bad("a UUID"))?),
        Class::Json => Value::Json(serde_json::from_str(text).map_err(|_| bad("JSON"))?),
        Class::Bytes => {
            return Err(format!(
                "column {} holds bytes, which import-csv does not load",
                col.name
            ));
        }
        Class::Text | Class::Any => Value::Text(text.to_string()),
    })
}

fn literal(d: Dialect, v: &Value, class: Class) -> String {
    match v {
        Value::Bool(b) => d.sql().bool_literal(*b, class),
        Value::Text(s) => d.quote_literal(s),
        other => other.to_sql_literal(d),
    }
}

async fn columns(db: &Db, table: &str) -> Result<Vec<Col>> {
    let d = db.dialect();
    let Some(t) = d.sql().introspect_table(db, table).await? else {
        return Err(Error::bad_input(format!(
            "table \"{table}\" does not exist on {}",
            db.redacted_url()
        )));
    };
    Ok(t.columns
        .iter()
        .map(|c| {
            let cc = d.sql().column_class(&c.engine_type, &c.normalized_type);
            Col {
                name: c.name.clone(),
                class: cc.class,
                tz: cc.tz,
                nullable: c.nullable,
                has_default: c.default.is_some() || c.identity.is_some() || c.generated.is_some(),
            }
        })
        .collect())
}

#[async_trait]
impl Step for ImportCsv {
    fn kind(&self) -> &'static str {
        "import-csv"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn files_read(&self) -> Vec<PathBuf> {
        vec![self.file.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        vec![format!(
            "load {} into {}.{} (every field checked first; {}; bad rows to {})",
            self.file_label,
            self.target,
            self.table,
            if self.skip_bad {
                "good rows loaded, bad ones skipped"
            } else {
                "nothing loaded if any row is bad"
            },
            self.rejects_label
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let db = ctx.targets.get(&self.target).await?;
        let d = db.dialect();
        let cols = columns(&db, &self.table).await?;
        let bytes = std::fs::read(&self.file)
            .map_err(|e| Error::bad_input(format!("{}: cannot read: {e}", self.file_label)))?;
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes.as_slice());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| {
                Error::bad_input(format!(
                    "{}:1: cannot read the header: {e}",
                    self.file_label
                ))
            })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        // The header names columns of the table, each once; the table's columns it
        // leaves out must take NULL or a default. Otherwise nothing is read further.
        let mut mapped: Vec<&Col> = Vec::new();
        for h in &header {
            let Some(c) = cols.iter().find(|c| c.name.eq_ignore_ascii_case(h)) else {
                return Err(Error::bad_input(format!(
                    "{}:1: the header names \"{h}\", which is not a column of {}; its columns are: {}",
                    self.file_label,
                    self.table,
                    cols.iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            if mapped.iter().any(|m| m.name == c.name) {
                return Err(Error::bad_input(format!(
                    "{}:1: the header names \"{h}\" twice",
                    self.file_label
                )));
            }
            mapped.push(c);
        }
        for c in &cols {
            if !mapped.iter().any(|m| m.name == c.name) && !c.nullable && !c.has_default {
                return Err(Error::bad_input(format!(
                    "{}:1: the header lacks column \"{}\", which is NOT NULL without a default in {}",
                    self.file_label, c.name, self.table
                )));
            }
        }
        let mut good: Vec<Vec<String>> = Vec::new();
        let mut rejected: Vec<(u64, String, Vec<String>)> = Vec::new();
        let mut rows = 0u64;
        for rec in rdr.records() {
            rows += 1;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(rows + 1);
                    rejected.push((line, format!("not CSV: {e}"), Vec::new()));
                    continue;
                }
            };
            let line = rec.position().map(|p| p.line()).unwrap_or(rows + 1);
            let fields: Vec<String> = rec.iter().map(str::to_string).collect();
            let quoted = rec
                .position()
                .map(|p| quoted_fields(&bytes, p.byte() as usize, self.delimiter))
                .unwrap_or_default();
            if fields.len() != mapped.len() {
                rejected.push((
                    line,
                    format!("{} field(s), the header has {}", fields.len(), mapped.len()),
                    fields,
                ));
                continue;
            }
            let parsed: std::result::Result<Vec<String>, String> = fields
                .iter()
                .zip(&mapped)
                .enumerate()
                .map(|(i, (f, c))| {
                    let q = quoted.get(i).copied().unwrap_or(false);
                    parse_field(f, q, &self.null, c).map(|v| literal(d, &v, c.class))
                })
                .collect();
            match parsed {
                Ok(lits) => good.push(lits),
                Err(why) => rejected.push((line, why, fields)),
            }
        }
        if !rejected.is_empty() {
            self.write_rejects(&header, &rejected)?;
        }
        let first = rejected
            .first()
            .map(|(l, why, _)| format!("{}:{l}: {why}", self.file_label));
        if !rejected.is_empty() && !self.skip_bad {
            return Err(Error::bad_input(format!(
                "{} of {rows} row(s) of {} are bad, so nothing was loaded into {}; first: {}; every bad row, with its line and reason, is in {}",
                rejected.len(),
                self.file_label,
                self.table,
                first.unwrap_or_default(),
                self.rejects_label
            ))
            .with_hint("fix the rows and run again, or set skip_bad = true to load the good rows and leave the bad ones out"));
        }
        let quoted_cols = mapped
            .iter()
            .map(|c| d.quote_ident(&c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let statements: Vec<Statement> = good
            .chunks(ROWS_PER_INSERT)
            .map(|chunk| {
                let values = chunk
                    .iter()
                    .map(|r| format!("({})", r.join(", ")))
                    .collect::<Vec<_>>()
                    .join(", ");
                Statement::new(format!(
                    "INSERT INTO {} ({quoted_cols}) VALUES {values}",
                    d.quote_qualified(&self.table)
                ))
            })
            .collect();
        ctx.log(format!(
            "loading {} row(s) of {} into {} ({} rejected)",
            good.len(),
            self.file_label,
            self.table,
            rejected.len()
        ));
        let (loaded, again) = match apply_once(&db, ctx, &statements, &self.file_label).await? {
            Applied::Now { .. } => (good.len() as u64, false),
            Applied::Before { .. } => (good.len() as u64, true),
        };
        let evidence = ImportCsvEvidence {
            target: self.target.clone(),
            table: self.table.clone(),
            file: self.file_label.clone(),
            sha256: crate::runbook::sha256_hex(&bytes),
            rows,
            loaded,
            rejected: rejected.len() as u64,
            rejects_file: (!rejected.is_empty()).then(|| self.rejects_label.clone()),
            first_rejected: first,
            already_applied: again.then_some(true),
        };
        let summary = format!(
            "{loaded} of {rows} row(s) loaded into {}{}{}",
            self.table,
            if rejected.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} bad row(s) skipped (see {})",
                    rejected.len(),
                    self.rejects_label
                )
            },
            if again {
                " (already loaded in this run; not repeated)"
            } else {
                ""
            }
        );
        Ok(StepOutcome::ok(summary, evidence))
    }
}

impl ImportCsv {
    fn write_rejects(
        &self,
        header: &[String],
        rejected: &[(u64, String, Vec<String>)],
    ) -> Result<()> {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_path(&self.rejects)
            .map_err(|e| Error::runtime(format!("{}: cannot write: {e}", self.rejects_label)))?;
        let mut head = vec!["line".to_string(), "reason".to_string()];
        head.extend(header.iter().cloned());
        let io =
            |e: csv::Error| Error::runtime(format!("{}: cannot write: {e}", self.rejects_label));
        w.write_record(&head).map_err(io)?;
        for (line, why, fields) in rejected {
            let mut r = vec![line.to_string(), why.clone()];
            r.extend(fields.iter().cloned());
            w.write_record(&r).map_err(io)?;
        }
        w.flush()
            .map_err(|e| Error::runtime(format!("{}: cannot write: {e}", self.rejects_label)))
    }
}

/// What an import loaded and rejected.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImportCsvEvidence {
    pub target: String,
    pub table: String,
    pub file: String,
    pub sha256: String,
    /// Data rows in the file.
    pub rows: u64,
    pub loaded: u64,
    pub rejected: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejects_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_rejected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_applied: Option<bool>,
}
