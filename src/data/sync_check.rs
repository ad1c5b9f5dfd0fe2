//! The cheap first look: per table, row counts and the latest value of a
//! last-updated column on both sides, all tables at once.

use super::introspect::{list_tables, table_info};
use super::normalize::{Class, ColumnPlan, common_class, normalize};
use crate::db::{Db, Value};
use crate::error::Result;
use serde::Serialize;

/// Column names taken as "last updated" (case-insensitive), in order of preference.
pub const UPDATED_COLUMNS: &[&str] = &[
    "updated_at",
    "last_updated",
    "modified_at",
    "last_modified",
    "updated_on",
    "modified_on",
    "changed_at",
    "update_time",
    "updated",
    "modified",
    "mtime",
];

#[derive(Debug, Clone, Serialize)]
pub struct TableCheck {
    pub table: String,
    /// `in_step`, `out_of_step`, `missing_in_source`, `missing_in_target`.
    pub status: String,
    pub source_rows: Option<u64>,
    pub target_rows: Option<u64>,
    pub updated_column: Option<String>,
    pub source_latest: Option<Value>,
    pub target_latest: Option<Value>,
    /// Why the table is out of step.
    pub reasons: Vec<String>,
    /// The filter both sides were counted under (`--where TABLE=SQL`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl TableCheck {
    pub fn in_step(&self) -> bool {
        self.status == "in_step"
    }
}

struct SideFacts {
    rows: u64,
    latest: Option<Value>,
    col: Option<(String, Class, bool)>,
}

async fn facts(
    db: &Db,
    table: &str,
    updated: Option<&str>,
    filter: Option<&str>,
) -> Result<Option<SideFacts>> {
    let info = match table_info(db, table).await {
        Ok(i) => i,
        Err(e) if e.kind == crate::ErrorKind::BadInput => return Ok(None),
        Err(e) => return Err(e),
    };
    let col = match updated {
        Some(u) => info.column(u),
        None => UPDATED_COLUMNS.iter().find_map(|c| info.column(c)),
    }
    .map(|c| {
        (
            c.name.clone(),
            c.native,
            db.dialect().sql().dynamic_typing(),
        )
    });
    let d = db.dialect();
    let t = d.quote_qualified(table);
    let mut sql = match &col {
        Some((c, _, _)) => format!("SELECT COUNT(*), MAX({}) FROM {t}", d.quote_ident(c)),
        None => format!("SELECT COUNT(*) FROM {t}"),
    };
    if let Some(f) = filter {
        // a filter is SQL by design, like the data diff's `--where`
        sql.push_str(&format!(" WHERE {f}"));
    }
    let r = db.query(&sql, &[]).await.map_err(|e| match filter {
        Some(f) => e.context(format!("table {table} with the filter \"{f}\"")),
        None => e,
    })?;
    let row = r.rows.into_iter().next().unwrap_or_default();
    Ok(Some(SideFacts {
        rows: row.first().and_then(Value::as_i64).unwrap_or(0) as u64,
        latest: row.get(1).cloned(),
        col,
    }))
}

/// Check `tables` (default: every table of the source) on both sides concurrently.
pub async fn sync_check(
    source: &Db,
    target: &Db,
    tables: Option<Vec<String>>,
    updated_column: Option<String>,
) -> Result<Vec<TableCheck>> {
    sync_check_filtered(source, target, tables, updated_column, &[]).await
}

/// [`sync_check`] with a filter per table (`(table, SQL condition)`), applied on both
/// sides. A filter naming a table that is not checked is bad input.
pub async fn sync_check_filtered(
    source: &Db,
    target: &Db,
    tables: Option<Vec<String>>,
    updated_column: Option<String>,
    filters: &[(String, String)],
) -> Result<Vec<TableCheck>> {
    let tables = match tables {
        Some(t) if !t.is_empty() => t,
        _ => list_tables(source).await?,
    };
    for (t, _) in filters {
        if !tables.iter().any(|x| x == t) {
            return Err(crate::Error::bad_input(format!(
                "a filter names table \"{t}\", which is not checked; checked: {}",
                tables.join(", ")
            )));
        }
    }
    let checks = tables.iter().map(|t| {
        let uc = updated_column.clone();
        let filter = filters
            .iter()
            .find(|(name, _)| name == t)
            .map(|(_, f)| f.as_str());
        async move {
            let (s, g) = tokio::try_join!(
                facts(source, t, uc.as_deref(), filter),
                facts(target, t, uc.as_deref(), filter)
            )?;
            let mut c = judge(t, s, g);
            c.filter = filter.map(str::to_string);
            Ok::<_, crate::Error>(c)
        }
    });
    futures::future::try_join_all(checks).await
}

fn judge(table: &str, s: Option<SideFacts>, t: Option<SideFacts>) -> TableCheck {
    let mut c = TableCheck {
        table: table.to_string(),
        status: "in_step".into(),
        source_rows: s.as_ref().map(|x| x.rows),
        target_rows: t.as_ref().map(|x| x.rows),
        updated_column: None,
        source_latest: None,
        target_latest: None,
        reasons: Vec::new(),
        filter: None,
    };
    let (s, t) = match (s, t) {
        (None, _) => {
            c.status = "missing_in_source".into();
            c.reasons.push("table not found in the source".into());
            return c;
        }
        (_, None) => {
            c.status = "missing_in_target".into();
            c.reasons.push("table not found in the target".into());
            return c;
        }
        (Some(s), Some(t)) => (s, t),
    };
    if s.rows != t.rows {
        c.reasons.push(format!(
            "row counts differ: source {}, target {}",
            s.rows, t.rows
        ));
    }
    if let (Some((name, sn, ssq)), Some((_, tn, tsq))) = (&s.col, &t.col) {
        c.updated_column = Some(name.clone());
        let class = common_class(*sn, *ssq, *tn, *tsq).unwrap_or(Class::Text);
        let plan = ColumnPlan {
            name: name.clone(),
            target_name: name.clone(),
            class,
            scale: None,
            precision: 6,
            tolerance: None,
            source_type: String::new(),
            target_type: String::new(),
            source_native: *sn,
            target_native: *tn,
            source_scale: None,
            target_scale: None,
            source_nullable: true,
            target_nullable: true,
            is_key: false,
        };
        let sl = s.latest.clone().unwrap_or(Value::Null);
        let tl = t.latest.clone().unwrap_or(Value::Null);
        if normalize(&sl, &plan) != normalize(&tl, &plan) {
            c.reasons
                .push(format!("latest {name} differs: source {sl}, target {tl}"));
        }
        c.source_latest = Some(sl);
        c.target_latest = Some(tl);
    }
    if !c.reasons.is_empty() {
        c.status = "out_of_step".into();
    }
    c
}
