//! Comparing one table present on both sides: its columns, keys, indexes and checks.

use super::*;

pub(super) fn table(c: &mut Cmp, s: &Table, t: &Table) {
    let tq = s.qname();
    let tn = Some(tq.as_str());
    // columns
    for sc in &s.columns {
        let Some(tc) = t.column(&sc.name) else {
            c.push(
                ObjectKind::Column,
                tn,
                &sc.name,
                ChangeKind::Missing,
                None,
                Some(column_summary(sc)),
                None,
            );
            continue;
        };
        column(c, &tq, sc, tc);
    }
    for tc in &t.columns {
        if s.column(&tc.name).is_none() {
            c.push(
                ObjectKind::Column,
                tn,
                &tc.name,
                ChangeKind::Extra,
                None,
                None,
                Some(column_summary(tc)),
            );
        }
    }

    // primary key: by columns
    let spk = s.primary_key.as_ref().map(|p| p.columns.join(", "));
    let tpk = t.primary_key.as_ref().map(|p| p.columns.join(", "));
    match (&spk, &tpk) {
        (Some(a), Some(b)) if a != b => c.push(
            ObjectKind::PrimaryKey,
            tn,
            "PRIMARY KEY",
            ChangeKind::Changed,
            Some("columns"),
            Some(format!("({a})")),
            Some(format!("({b})")),
        ),
        (Some(a), None) => c.push(
            ObjectKind::PrimaryKey,
            tn,
            "PRIMARY KEY",
            ChangeKind::Missing,
            None,
            Some(format!("({a})")),
            None,
        ),
        (None, Some(b)) => c.push(
            ObjectKind::PrimaryKey,
            tn,
            "PRIMARY KEY",
            ChangeKind::Extra,
            None,
            None,
            Some(format!("({b})")),
        ),
        _ => {}
    }

    // unique constraints (and, across engines, plain unique indexes)
    let plain_unique = |i: &Index| {
        i.unique
            && i.predicate.is_none()
            && i.method.is_none()
            && i.columns
                .iter()
                .all(|c| c.column.is_some() && !c.descending && c.prefix.is_none())
    };
    let cross = c.cross;
    let uniq_list = |tb: &Table| -> Vec<(ObjectKind, String, String, String)> {
        let mut v: Vec<_> = tb
            .uniques
            .iter()
            .map(|u| {
                let def = format!("({})", u.columns.join(", "));
                (ObjectKind::Unique, u.name.clone(), def.clone(), def)
            })
            .collect();
        if cross {
            for i in tb.indexes.iter().filter(|i| plain_unique(i)) {
                let cols: Vec<String> = i.columns.iter().filter_map(|c| c.column.clone()).collect();
                let def = format!("({})", cols.join(", "));
                v.push((ObjectKind::Index, i.name.clone(), def, index_summary(i)));
            }
        }
        v
    };
    let su = uniq_list(s);
    let tu = uniq_list(t);
    let moved = su.iter().chain(tu.iter()).any(|x| x.0 == ObjectKind::Index);
    let matched_before = c.changes.len();
    sub_objects(c, &tq, ObjectKind::Unique, su, tu);
    if moved && c.changes.len() == matched_before {
        c.rule("unique-index-as-constraint");
    }

    // indexes
    let idx_key = |i: &Index| -> String {
        let cols = i
            .columns
            .iter()
            .map(|c| {
                let base = match (&c.column, &c.expression) {
                    (Some(n), _) => n.clone(),
                    (None, Some(e)) => normalize_expr(e),
                    _ => String::new(),
                };
                format!(
                    "{base}{}{}",
                    c.prefix.map(|p| format!("({p})")).unwrap_or_default(),
                    if c.descending { " DESC" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{}({cols}){}{}",
            if i.unique { "UNIQUE " } else { "" },
            i.predicate
                .as_ref()
                .map(|p| format!(" WHERE {}", normalize_expr(p)))
                .unwrap_or_default(),
            i.method
                .as_ref()
                .map(|m| format!(" USING {}", m.to_lowercase()))
                .unwrap_or_default()
        )
    };
    let idx_list = |tb: &Table, other: &Table, is_mysql: bool, rules: &mut usize| {
        tb.indexes
            .iter()
            .filter(|i| !(cross && plain_unique(i)))
            .filter(|i| {
                // the index MySQL made for a foreign key, absent on the other engine
                let plain_columns = |x: &Index| -> Vec<String> {
                    x.columns.iter().filter_map(|c| c.column.clone()).collect()
                };
                let cols = plain_columns(i);
                let fk_index = cross
                    && is_mysql
                    && !i.unique
                    && tb.foreign_keys.iter().any(|f| f.columns == cols)
                    && !other.indexes.iter().any(|o| plain_columns(o) == cols);
                if fk_index {
                    *rules += 1;
                }
                !fk_index
            })
            .map(|i| {
                (
                    ObjectKind::Index,
                    i.name.clone(),
                    idx_key(i),
                    index_summary(i),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut fk_idx_rules = 0;
    let si = idx_list(s, t, c.sd.sql().indexes_foreign_keys(), &mut fk_idx_rules);
    let ti = idx_list(t, s, c.td.sql().indexes_foreign_keys(), &mut fk_idx_rules);
    for _ in 0..fk_idx_rules {
        c.rule("mysql-fk-index");
    }
    sub_objects(c, &tq, ObjectKind::Index, si, ti);

    // foreign keys
    let restrict_seen = std::cell::Cell::new(false);
    let fk_key = |f: &ForeignKey| {
        let act = |a: &str| {
            if cross && a == "RESTRICT" {
                restrict_seen.set(true);
                "NO ACTION".to_string()
            } else {
                a.to_string()
            }
        };
        format!(
            "({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
            f.columns.join(", "),
            f.ref_qname(),
            f.ref_columns.join(", "),
            act(&f.on_delete),
            act(&f.on_update)
        )
    };
    let fk_list = |tb: &Table| -> Vec<_> {
        tb.foreign_keys
            .iter()
            .map(|f| {
                (
                    ObjectKind::ForeignKey,
                    f.name.clone(),
                    fk_key(f),
                    fk_summary(f),
                )
            })
            .collect()
    };
    let (sf, tf) = (fk_list(s), fk_list(t));
    if restrict_seen.get() {
        c.rule("fk-restrict");
    }
    sub_objects(c, &tq, ObjectKind::ForeignKey, sf, tf);

    // checks
    let ck = |k: &Check| {
        if cross {
            normalize_expr(&k.expression)
        } else {
            k.expression.clone()
        }
    };
    let check_list = |tb: &Table| -> Vec<_> {
        tb.checks
            .iter()
            .map(|k| {
                (
                    ObjectKind::Check,
                    k.name.clone(),
                    ck(k),
                    k.expression.clone(),
                )
            })
            .collect()
    };
    let (sc, tc) = (check_list(s), check_list(t));
    if cross && !sc.is_empty() {
        c.rule("expressions");
    }
    sub_objects(c, &tq, ObjectKind::Check, sc, tc);
}

/// Compare sub-objects given as (origin kind, name, comparison key, display).
pub(super) fn sub_objects(
    c: &mut Cmp,
    table: &str,
    kind: ObjectKind,
    src: Vec<(ObjectKind, String, String, String)>,
    tgt: Vec<(ObjectKind, String, String, String)>,
) {
    let tn = Some(table);
    if c.by_definition(kind) {
        let mut remaining: Vec<Option<&(ObjectKind, String, String, String)>> =
            tgt.iter().map(Some).collect();
        for s in &src {
            let hit = remaining.iter_mut().find(|t| t.is_some_and(|t| t.2 == s.2));
            match hit {
                Some(slot) => {
                    if c.cross && slot.is_some_and(|t| t.1 != s.1) {
                        c.rule("names-by-definition");
                    }
                    *slot = None;
                }
                None => c.push(
                    s.0,
                    tn,
                    &s.1,
                    ChangeKind::Missing,
                    None,
                    Some(s.3.clone()),
                    None,
                ),
            }
        }
        for t in remaining.into_iter().flatten() {
            c.push(
                t.0,
                tn,
                &t.1,
                ChangeKind::Extra,
                None,
                None,
                Some(t.3.clone()),
            );
        }
    } else {
        for s in &src {
            match tgt.iter().find(|t| t.1 == s.1) {
                None => c.push(
                    s.0,
                    tn,
                    &s.1,
                    ChangeKind::Missing,
                    None,
                    Some(s.3.clone()),
                    None,
                ),
                Some(t) if t.2 != s.2 => c.push(
                    s.0,
                    tn,
                    &s.1,
                    ChangeKind::Changed,
                    Some("definition"),
                    Some(s.3.clone()),
                    Some(t.3.clone()),
                ),
                Some(_) => {}
            }
        }
        for t in &tgt {
            if !src.iter().any(|s| s.1 == t.1) {
                c.push(
                    t.0,
                    tn,
                    &t.1,
                    ChangeKind::Extra,
                    None,
                    None,
                    Some(t.3.clone()),
                );
            }
        }
    }
}

pub(super) fn column(c: &mut Cmp, table: &str, s: &Column, t: &Column) {
    let tn = Some(table);
    match compare_types(
        &s.engine_type,
        &s.normalized_type,
        c.sd,
        &t.engine_type,
        &t.normalized_type,
        c.td,
    ) {
        TypeMatch::ByRule(rule) => {
            if !s.engine_type.eq_ignore_ascii_case(&t.engine_type) {
                c.rule(rule)
            }
        }
        TypeMatch::Same => {}
        TypeMatch::Different => {
            let show = |col: &Column| {
                if c.cross && !col.engine_type.eq_ignore_ascii_case(&col.normalized_type) {
                    format!("{} ({})", col.engine_type, col.normalized_type)
                } else {
                    col.engine_type.clone()
                }
            };
            c.push(
                ObjectKind::Column,
                tn,
                &s.name,
                ChangeKind::Changed,
                Some("type"),
                Some(show(s)),
                Some(show(t)),
            )
        }
    }
    // SQLite rowid aliases are NOT NULL whatever they declare
    if s.nullable != t.nullable {
        let yn = |b: bool| if b { "NULL" } else { "NOT NULL" }.to_string();
        c.push(
            ObjectKind::Column,
            tn,
            &s.name,
            ChangeKind::Changed,
            Some("nullable"),
            Some(yn(s.nullable)),
            Some(yn(t.nullable)),
        );
    }
    let dflt_equal = match (&s.default, &t.default) {
        (None, None) => true,
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) if c.cross && normalize_default(a) == normalize_default(b) => {
            c.rule("defaults");
            true
        }
        _ => false,
    };
    if !dflt_equal {
        c.push(
            ObjectKind::Column,
            tn,
            &s.name,
            ChangeKind::Changed,
            Some("default"),
            s.default.clone(),
            t.default.clone(),
        );
    }
    let gen_equal = match (&s.generated, &t.generated) {
        (None, None) => true,
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b))
            if c.cross
                && a.stored == b.stored
                && normalize_expr(&a.expression) == normalize_expr(&b.expression) =>
        {
            c.rule("expressions");
            true
        }
        _ => false,
    };
    if !gen_equal {
        let g = |x: &Option<Generated>| {
            x.as_ref().map(|g| {
                format!(
                    "AS ({}){}",
                    g.expression,
                    if g.stored { " STORED" } else { " VIRTUAL" }
                )
            })
        };
        c.push(
            ObjectKind::Column,
            tn,
            &s.name,
            ChangeKind::Changed,
            Some("generated"),
            g(&s.generated),
            g(&t.generated),
        );
    }
    let ident_equal = match (&s.identity, &t.identity) {
        (a, b) if a == b => true,
        (Some(_), Some(_)) if c.cross => {
            c.rule("identity");
            true
        }
        (Some(x), None) | (None, Some(x)) if c.cross && x == "rowid" => {
            c.rule("identity");
            true
        }
        _ => false,
    };
    if !ident_equal {
        c.push(
            ObjectKind::Column,
            tn,
            &s.name,
            ChangeKind::Changed,
            Some("identity"),
            s.identity.clone(),
            t.identity.clone(),
        );
    }
}
