//! The hazard catalogue and the checks that raise hazards for column and key changes.

use super::plan::changes_of;
use super::*;

/// A hazard code with its one-line explanation. Codes are stable: runbooks and CI
/// name them in `--allow-hazards` and policies.
pub struct HazardCode {
    pub code: &'static str,
    pub explanation: &'static str,
}

pub const HAZARD_CODES: &[HazardCode] = &[
    HazardCode {
        code: "drop-table",
        explanation: "drops a table and every row in it",
    },
    HazardCode {
        code: "drop-column",
        explanation: "drops a column and the data in it",
    },
    HazardCode {
        code: "narrow-type",
        explanation: "changes a column to a type that cannot hold every value of the old one: values may be cut or the change may fail",
    },
    HazardCode {
        code: "not-null-without-default",
        explanation: "makes a column NOT NULL (or adds one) without a default on a table that has rows: existing rows have no value, so the change fails or needs a backfill",
    },
    HazardCode {
        code: "drop-fk-index",
        explanation: "drops the only index a foreign key relies on: MySQL refuses, other engines check the key by scanning the table",
    },
    HazardCode {
        code: "generated-to-plain",
        explanation: "a generated column becomes a plain one (ALTER COLUMN ... DROP EXPRESSION): it keeps its values but is no longer computed",
    },
    HazardCode {
        code: "plain-to-generated",
        explanation: "a plain column becomes generated: it is dropped and added again, and the values it held are replaced by the expression's",
    },
    HazardCode {
        code: "enum-label-removed",
        explanation: "an enum type loses or reorders labels: it is recreated and its columns cast through text; rows holding a removed label make the change fail",
    },
    HazardCode {
        code: "table-rewrite",
        explanation: "rewrites a large table while holding a lock that blocks writes (and on MySQL/PostgreSQL type changes, reads)",
    },
];

pub(super) fn hz(
    code: &str,
    object: impl Into<String>,
    message: impl Into<String>,
) -> SchemaHazard {
    SchemaHazard {
        code: code.to_string(),
        object: object.into(),
        message: message.into(),
    }
}

/// Whether `to` holds every value of `from` (normalized types).
pub fn is_widening(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    fn parts(t: &str) -> (String, Vec<i64>) {
        match t.find('(') {
            Some(i) => (
                t[..i].to_string(),
                t[i + 1..t.len().saturating_sub(1)]
                    .split(',')
                    .filter_map(|x| x.trim().parse().ok())
                    .collect(),
            ),
            None => (t.to_string(), vec![]),
        }
    }
    let (ff, fp) = parts(from);
    let (tf, tp) = parts(to);
    let int_rank = |f: &str| match f {
        "bool" => Some(0),
        "int8" | "uint8" => Some(1),
        "int16" | "uint16" => Some(2),
        "int24" | "uint24" => Some(3),
        "int32" | "uint32" => Some(4),
        "int64" | "uint64" => Some(5),
        _ => None,
    };
    if let (Some(a), Some(b)) = (int_rank(&ff), int_rank(&tf)) {
        return b > a || (a == b && ff.starts_with('u') == tf.starts_with('u'));
    }
    if int_rank(&ff).is_some() && tf == "decimal" {
        let digits = match int_rank(&ff) {
            Some(0..=2) => 5,
            Some(3..=4) => 10,
            _ => 20,
        };
        return tp.is_empty() || tp[0] - tp.get(1).copied().unwrap_or(0) >= digits;
    }
    if int_rank(&ff).is_some() && (tf == "float64" || tf == "text") {
        return true;
    }
    match (ff.as_str(), tf.as_str()) {
        ("varchar" | "char" | "text" | "enum", "text") => true,
        ("varchar" | "char", "varchar") => tp.is_empty() || fp.first() <= tp.first(),
        ("char", "char") => fp.first() <= tp.first(),
        ("decimal", "decimal") => {
            if tp.is_empty() {
                return true;
            }
            let (p1, s1) = (
                fp.first().copied().unwrap_or(1000),
                fp.get(1).copied().unwrap_or(0),
            );
            let (p2, s2) = (tp[0], tp.get(1).copied().unwrap_or(0));
            s2 >= s1 && p2 - s2 >= p1 - s1
        }
        ("float32", "float64") => true,
        ("timestamp", "timestamptz") | ("date", "timestamp" | "timestamptz") => true,
        ("varchar" | "char" | "text", "json") => false,
        ("bytes" | "binary" | "varbinary", "bytes") => true,
        _ => false,
    }
}

pub(super) fn column_hazards(
    p: &Planner,
    tq: &str,
    diff: &SchemaDiff,
    s: &Table,
    t: &Table,
) -> Vec<SchemaHazard> {
    let mut out = Vec::new();
    for c in changes_of(diff, tq).filter(|c| c.object == ObjectKind::Column) {
        let obj = format!("{tq}.{}", c.name);
        match (c.change, c.field.as_deref()) {
            (ChangeKind::Extra, _) => out.push(hz(
                "drop-column",
                &obj,
                format!(
                    "dropping column {obj} discards its data ({})",
                    p.rows_text(tq)
                ),
            )),
            (ChangeKind::Missing, _) => {
                if let Some(col) = s.column(&c.name)
                    && !col.nullable
                    && col.default.is_none()
                    && col.generated.is_none()
                    && col.identity.is_none()
                    && p.has_rows(tq)
                {
                    out.push(hz(
                        "not-null-without-default",
                        &obj,
                        format!(
                            "adding NOT NULL column {obj} without a default to a table with rows ({})",
                            p.rows_text(tq)
                        ),
                    ));
                }
            }
            (ChangeKind::Changed, Some("type")) => {
                if let (Some(sc), Some(tc)) = (s.column(&c.name), t.column(&c.name))
                    && !is_widening(&tc.normalized_type, &sc.normalized_type)
                {
                    out.push(hz(
                        "narrow-type",
                        &obj,
                        format!(
                            "changing {obj} from {} to {} can lose or reject values",
                            tc.engine_type, sc.engine_type
                        ),
                    ));
                }
            }
            (ChangeKind::Changed, Some("nullable")) => {
                if let Some(sc) = s.column(&c.name)
                    && !sc.nullable
                    && p.has_rows(tq)
                {
                    out.push(hz(
                        "not-null-without-default",
                        &obj,
                        format!(
                            "making {obj} NOT NULL on a table with rows ({}) fails if any row holds NULL",
                            p.rows_text(tq)
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether dropping an index/unique with `cols` leaves a foreign key of the table
/// without an index (its columns a prefix of no remaining index in the source table).
pub(super) fn fk_index_hazard(
    p: &Planner,
    tq: &str,
    s: &Table,
    t: &Table,
    name: &str,
    cols: &[String],
) -> Option<SchemaHazard> {
    let covers = |idx: &[String], fk: &[String]| idx.len() >= fk.len() && idx[..fk.len()] == *fk;
    let fk = t.foreign_keys.iter().find(|f| {
        covers(cols, &f.columns) && s.foreign_keys.iter().any(|sf| sf.columns == f.columns)
    })?;
    let remaining = s
        .indexes
        .iter()
        .filter(|i| i.predicate.is_none())
        .map(|i| {
            i.columns
                .iter()
                .filter_map(|c| c.column.clone())
                .collect::<Vec<_>>()
        })
        .chain(s.uniques.iter().map(|u| u.columns.clone()))
        .chain(s.primary_key.iter().map(|k| k.columns.clone()))
        .any(|idx| covers(&idx, &fk.columns));
    let _ = p;
    (!remaining).then(|| {
        hz(
            "drop-fk-index",
            format!("{tq}.{name}"),
            format!(
                "dropping index {name} on {tq} leaves foreign key {} ({}) without an index",
                fk.name,
                fk.columns.join(", ")
            ),
        )
    })
}
