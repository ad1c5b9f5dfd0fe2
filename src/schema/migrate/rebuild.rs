//! SQLite's table rebuild: the only way to make most changes to a table.

use super::hazards::column_hazards;
use super::*;

/// SQLite: create the source's version of the table under a new name, copy the rows,
/// drop the old table, rename, then recreate its indexes (triggers come later).
pub(super) fn sqlite_rebuild_table(p: &mut Planner, diff: &SchemaDiff, s: &Table, t: &Table) {
    let tq = s.qname();
    let ddl = p.ddl;
    let tmp = format!("_cutover_new_{}", s.name);
    let mut h = column_hazards(p, &tq, diff, s, t);
    h.extend(p.rewrite_hazard(&tq, "SQLite cannot alter this in place: rebuilding"));
    let cascades: Vec<String> = p
        .tgt
        .tables
        .iter()
        .filter(|o| {
            o.foreign_keys.iter().any(|f| {
                f.ref_qname() == tq && !matches!(f.on_delete.as_str(), "NO ACTION" | "RESTRICT")
            })
        })
        .map(|o| o.qname())
        .collect();
    if !cascades.is_empty() && !h.iter().any(|x| x.code == "table-rewrite") {
        h.push(hz(
            "table-rewrite",
            &tq,
            format!(
                "rebuilding {tq} deletes its rows once, which fires ON DELETE actions in {} unless PRAGMA foreign_keys is OFF outside a transaction",
                cascades.join(", ")
            ),
        ));
    }
    let common: Vec<&Column> = s
        .columns
        .iter()
        .filter(|c| {
            c.generated.is_none() && t.column(&c.name).is_some_and(|x| x.generated.is_none())
        })
        .collect();
    let cols = common
        .iter()
        .map(|c| ddl.q(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = vec![
        "PRAGMA defer_foreign_keys = ON".to_string(),
        ddl.create_table(s, Some(&tmp), true),
    ];
    if !common.is_empty() {
        sql.push(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            ddl.q(&tmp),
            ddl.qt(t)
        ));
    }
    sql.push(format!("DROP TABLE {}", ddl.qt(t)));
    sql.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        ddl.q(&tmp),
        ddl.q(&s.name)
    ));
    for i in &s.indexes {
        sql.push(ddl.create_index(s, i));
    }
    p.step(sql, h);
}
