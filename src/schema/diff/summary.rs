//! One-line summaries of columns, indexes and foreign keys, as the diff shows them.

use super::*;

pub fn column_summary(c: &Column) -> String {
    let mut s = c.engine_type.clone();
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(
            " GENERATED AS ({}){}",
            g.expression,
            if g.stored { " STORED" } else { "" }
        ));
    }
    if let Some(i) = &c.identity {
        s.push_str(&format!(" IDENTITY {i}"));
    }
    s
}

pub fn index_summary(i: &Index) -> String {
    let cols = i
        .columns
        .iter()
        .map(|c| {
            let mut s = c
                .column
                .clone()
                .or_else(|| c.expression.clone())
                .unwrap_or_default();
            if let Some(p) = c.prefix {
                s.push_str(&format!("({p})"));
            }
            if c.descending {
                s.push_str(" DESC");
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = format!(
        "{}{}({cols})",
        if i.unique { "UNIQUE " } else { "" },
        i.method
            .as_ref()
            .map(|m| format!("USING {m} "))
            .unwrap_or_default()
    );
    if let Some(p) = &i.predicate {
        s.push_str(&format!(" WHERE {p}"));
    }
    s
}

pub fn fk_summary(f: &ForeignKey) -> String {
    format!(
        "({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
        f.columns.join(", "),
        f.ref_qname(),
        f.ref_columns.join(", "),
        f.on_delete,
        f.on_update
    )
}

pub(super) fn columns_text(t: &Table) -> String {
    match t.columns.len() {
        1 => "1 column".to_string(),
        n => format!("{n} columns"),
    }
}
