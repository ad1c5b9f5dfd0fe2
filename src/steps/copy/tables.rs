//! Copying tables: the columns and key checked, the path chosen, chunks committed with
//! their high-water mark, sequences reset afterwards.

use super::*;

pub(super) fn find<'a>(s: &'a Schema, name: &str) -> Option<&'a Table> {
    s.tables.iter().find(|t| t.qname() == name).or_else(|| {
        s.tables
            .iter()
            .find(|t| t.name == name && name.contains('.'))
    })
}

/// Can values of class `s` be written into a column of class `d` without changing
/// what they mean?
pub(super) fn compatible(s: Class, d: Class) -> bool {
    use Class::*;
    s == d
        || s == Any
        || d == Any
        || matches!(
            (s, d),
            (Int, Decimal | Float | Bool)
                | (Bool, Int)
                | (Decimal, Float)
                | (Float, Decimal)
                | (Uuid | Json, Text)
                | (Text, Uuid | Json)
        )
}

pub(super) fn class_of(d: Dialect, c: &Column) -> Class {
    d.sql()
        .column_class(&c.engine_type, &c.normalized_type)
        .class
}

/// A value as a literal for a destination column of class `dclass`, or why it cannot be
/// stored there byte for byte.
pub(super) fn literal(
    v: &Value,
    dd: Dialect,
    dclass: Class,
) -> std::result::Result<String, String> {
    let sql = dd.sql();
    let text = |s: &str| {
        sql.exact_text_literal(s).ok_or_else(|| {
            format!(
                "holds a NUL byte, which a {} text column cannot store",
                dd.name()
            )
        })
    };
    Ok(match v {
        Value::Null => "NULL".into(),
        Value::Text(s) if dclass == Class::Bytes => sql.value_bytes_literal(s.as_bytes()),
        Value::Text(s) => text(s)?,
        Value::Bytes(b) if matches!(dclass, Class::Bytes | Class::Any) => {
            sql.value_bytes_literal(b)
        }
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => text(s)?,
            Err(_) => {
                return Err(format!(
                    "holds bytes that are not valid UTF-8, which the destination's {} column cannot store",
                    dclass.name()
                ));
            }
        },
        Value::Bool(b) => sql.bool_literal(*b, dclass),
        Value::Int(i) if dclass == Class::Bool => sql.bool_literal(*i != 0, Class::Bool),
        Value::Json(j) => text(&j.to_string())?,
        other => other.to_sql_literal(dd),
    })
}

/// Copy every table of `o` from `src` into `dst`. `log` hears one line per chunk.
pub async fn copy_tables(
    src: &Db,
    dst: &Db,
    o: &CopyOptions,
    log: &(dyn Fn(String) + Sync),
) -> Result<Vec<TableCopy>> {
    let (sd, dd) = (src.dialect(), dst.dialect());
    let src_schema = sd.sql().introspect(src).await?;
    let mut dst_schema = dd.sql().introspect(dst).await?;
    ensure_progress_table(dst).await?;
    // Check every table before copying any, so a bad one costs nothing.
    let mut plans = Vec::new();
    for (from, into) in &o.tables {
        let st = find(&src_schema, from).ok_or_else(|| {
            Error::bad_input(format!(
                "table \"{from}\" does not exist on the source {}",
                src.redacted_url()
            ))
        })?;
        let created = match find(&dst_schema, into) {
            Some(_) => false,
            None if o.create && super::deferred::defers(sd, dd, o, st) => {
                super::deferred::create_without_keys(dst, o, st, into, sd).await?;
                log(format!(
                    "created table {into} on the destination (its keys are added after the rows)"
                ));
                dst_schema = dd.sql().introspect(dst).await?;
                true
            }
            None if o.create => {
                let ddl = create_sql(st, into, sd, dd)?;
                dst.execute(&ddl)
                    .await
                    .map_err(|e| e.context(format!("creating table {into}")))?;
                log(format!("created table {into} on the destination"));
                dst_schema = dd.sql().introspect(dst).await?;
                true
            }
            None => {
                return Err(Error::bad_input(format!(
                    "table \"{into}\" does not exist on the destination {}",
                    dst.redacted_url()
                ))
                .with_hint("create it first, or ask the copy to (`create = true`, or --create)"));
            }
        };
        let dt = find(&dst_schema, into).ok_or_else(|| {
            Error::runtime(format!(
                "table \"{into}\" was created but cannot be read back"
            ))
        })?;
        plans.push(plan_table(st, dt, from, into, created, sd, dd, o)?);
    }
    let mut out = Vec::new();
    for plan in plans {
        out.push(copy_one(src, dst, o, &plan, log).await?);
        let keys = super::deferred::build_keys(dst, o, &plan.into).await?;
        if keys > 0 {
            log(format!("{}: {keys} key(s) added after the rows", plan.into));
        }
    }
    if o.forget_progress {
        let d = dd;
        for (_, into) in &o.tables {
            dst.execute(&format!(
                "DELETE FROM {} WHERE run_id = {} AND step_id = {} AND tbl = {}",
                d.quote_ident(PROGRESS_TABLE),
                d.quote_literal(&o.run_id),
                d.quote_literal(&o.step_id),
                d.quote_literal(into)
            ))
            .await?;
        }
    }
    Ok(out)
}

/// CREATE TABLE for `into` on `dd` from the source table, refusing a column whose type
/// has no equivalent there.
pub(super) fn create_sql(st: &Table, into: &str, sd: Dialect, dd: Dialect) -> Result<String> {
    let ddl = Ddl::new(dd, sd);
    if sd != dd {
        for c in &st.columns {
            if let Some(g) = &c.generated {
                return Err(Error::bad_input(format!(
                    "cannot create {into} on {}: column \"{}\" is generated on {} (AS {}), and its expression is not carried across engines",
                    dd.name(),
                    c.name,
                    sd.name(),
                    g.expression
                ))
                .with_hint("create the destination table yourself (with its own generated column), then copy without create"));
            }
            let rendered = ddl.column_type(c);
            let back = crate::db::types::normalize_type(&rendered, dd);
            let array = c.normalized_type.contains('[') || c.engine_type.contains('[');
            let (sc, dc) = (class_of(sd, c), {
                let mut dcol = c.clone();
                dcol.engine_type = rendered.clone();
                dcol.normalized_type = back.clone();
                class_of(dd, &dcol)
            });
            if array || !compatible(sc, dc) {
                return Err(Error::bad_input(format!(
                    "cannot create {into} on {}: column \"{}\" has type {} on {}, which has no equivalent on {}",
                    dd.name(),
                    c.name,
                    c.engine_type,
                    sd.name(),
                    dd.name()
                ))
                .with_hint("create the destination table yourself with the type you want, then copy without create"));
            }
        }
    }
    let mut t = st.clone();
    t.foreign_keys.clear();
    t.schema = None;
    Ok(ddl.create_table(&t, Some(into), false))
}

/// One table's copy, checked: columns, key and path.
pub(super) struct TablePlan {
    from: String,
    into: String,
    columns: Vec<String>,
    /// Destination class of each copied column.
    classes: Vec<Class>,
    key: Vec<String>,
    /// Indexes of the key columns among `columns`.
    key_idx: Vec<usize>,
    path: CopyPath,
    created: bool,
    skipped_generated: Vec<String>,
    /// Destination columns fed by a sequence / AUTO_INCREMENT.
    sequenced: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn plan_table(
    st: &Table,
    dt: &Table,
    from: &str,
    into: &str,
    created: bool,
    sd: Dialect,
    dd: Dialect,
    o: &CopyOptions,
) -> Result<TablePlan> {
    let mut columns = Vec::new();
    let mut classes = Vec::new();
    let mut skipped_generated = Vec::new();
    let mut same_types = sd == dd;
    let wanted: Vec<&Column> = match &o.columns {
        Some(names) => names
            .iter()
            .map(|n| {
                st.column(n).ok_or_else(|| {
                    Error::bad_input(format!(
                        "table \"{from}\" on the source has no column \"{n}\""
                    ))
                })
            })
            .collect::<Result<_>>()?,
        None => st.columns.iter().collect(),
    };
    for c in wanted {
        if c.generated.is_some() {
            skipped_generated.push(c.name.clone());
            continue;
        }
        let Some(d) = dt.column(&c.name) else {
            return Err(Error::bad_input(format!(
                "cannot copy {from} into {into}: the destination has no column \"{}\" ({} on the source)",
                c.name, c.engine_type
            )));
        };
        if d.generated.is_some() {
            return Err(Error::bad_input(format!(
                "cannot copy {from} into {into}: column \"{}\" is generated on the destination but not on the source",
                c.name
            )));
        }
        let (sc, dc) = (class_of(sd, c), class_of(dd, d));
        if !compatible(sc, dc) {
            return Err(Error::bad_input(format!(
                "cannot copy {from} into {into}: column \"{}\" is {} ({}) on the source but {} ({}) on the destination",
                c.name,
                c.engine_type,
                sc.name(),
                d.engine_type,
                dc.name()
            ))
            .with_hint("change the destination column's type, or copy only other columns"));
        }
        same_types &= c.engine_type == d.engine_type;
        columns.push(c.name.clone());
        classes.push(dc);
    }
    for d in &dt.columns {
        if !d.nullable
            && d.default.is_none()
            && d.generated.is_none()
            && d.identity.is_none()
            && !columns.contains(&d.name)
        {
            return Err(Error::bad_input(format!(
                "cannot copy {from} into {into}: the destination's column \"{}\" is NOT NULL without a default and the source has no value for it",
                d.name
            )));
        }
    }
    let key: Vec<String> = st
        .primary_key
        .as_ref()
        .map(|pk| pk.columns.clone())
        .filter(|k| k.iter().all(|c| columns.contains(c)))
        .unwrap_or_default();
    let key_idx = key
        .iter()
        .map(|k| columns.iter().position(|c| c == k).expect("key copied"))
        .collect();
    let path = if crate::db::has_binary_copy(sd, dd) && same_types && !o.skip_conflicts {
        CopyPath::BinaryCopy
    } else {
        CopyPath::BatchedInsert
    };
    let sequenced = dt
        .columns
        .iter()
        .filter(|c| {
            c.identity.is_some()
                || c.default
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains("nextval("))
        })
        .filter(|c| class_of(dd, c) == Class::Int)
        .map(|c| c.name.clone())
        .collect();
    Ok(TablePlan {
        from: from.to_string(),
        into: into.to_string(),
        columns,
        classes,
        key,
        key_idx,
        path,
        created,
        skipped_generated,
        sequenced,
    })
}

pub(super) async fn copy_one(
    src: &Db,
    dst: &Db,
    o: &CopyOptions,
    plan: &TablePlan,
    log: &(dyn Fn(String) + Sync),
) -> Result<TableCopy> {
    let started = Instant::now();
    let (sd, dd) = (src.dialect(), dst.dialect());
    let prior = read_progress(dst, o, &plan.into).await?;
    let mut result = TableCopy {
        table: plan.from.clone(),
        into_table: plan.into.clone(),
        rows: 0,
        bytes: 0,
        elapsed_ms: 0,
        path: plan.path,
        chunks: 0,
        resumed_after_rows: None,
        key: plan.key.clone(),
        created: plan.created,
        skipped_generated: plan.skipped_generated.clone(),
        sequences_reset: Vec::new(),
        already_done: false,
        conflicts_skipped: o.skip_conflicts,
    };
    let mut state = match prior {
        Some(p) if p.done => {
            result.rows = p.rows;
            result.bytes = p.bytes;
            result.already_done = true;
            return Ok(result);
        }
        Some(p) => {
            result.resumed_after_rows = Some(p.rows);
            log(format!(
                "{}: resuming after {} row(s) an interrupted copy committed",
                plan.into, p.rows
            ));
            p
        }
        None => Progress {
            high_water: None,
            rows: 0,
            bytes: 0,
            done: false,
        },
    };
    let scols = plan
        .columns
        .iter()
        .map(|c| sd.quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let stable = sd.quote_qualified(&plan.from);
    let keyed = !plan.key.is_empty();
    let key_list = format!(
        "({})",
        plan.key
            .iter()
            .map(|c| sd.quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let order = plan
        .key
        .iter()
        .map(|c| sd.quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let after = |hw: &Option<Vec<String>>| match hw {
        Some(h) if keyed => Some(format!("{key_list} > ({})", h.join(", "))),
        _ => None,
    };
    let batch = o.batch.unwrap_or(match plan.path {
        CopyPath::BinaryCopy => DEFAULT_BATCH,
        CopyPath::BatchedInsert => DEFAULT_DECODED_BATCH,
    });
    // The chunk's last key: the batch-th key after the high-water mark.
    let probe = async |lower: Option<String>| -> Result<Option<Vec<String>>> {
        let sql = format!(
            "SELECT {order} FROM {stable}{} ORDER BY {order} LIMIT 1 OFFSET {}",
            lower.map(|w| format!(" WHERE {w}")).unwrap_or_default(),
            batch - 1
        );
        Ok(src
            .query(&sql, &[])
            .await?
            .rows
            .into_iter()
            .next()
            .map(|r| r.iter().map(|v| v.to_sql_literal(sd)).collect::<Vec<_>>()))
    };
    // the next chunk's last key, read while this chunk's rows move (the probe walks
    // `batch` index entries: about 25 ms a chunk of 250,000, on the copy's critical path
    // when read in turn)
    let mut probed: Option<Option<Vec<String>>> = None;
    let mut chunk_no = 0u64;
    while !state.done {
        chunk_no += 1;
        let lower = after(&state.high_water);
        let moved = match plan.path {
            CopyPath::BinaryCopy => {
                let upper = match probed.take() {
                    Some(u) => u,
                    None if keyed => probe(lower.clone()).await?,
                    None => None,
                };
                let mut conds: Vec<String> = lower.iter().cloned().collect();
                if let Some(u) = &upper {
                    conds.push(format!("{key_list} <= ({})", u.join(", ")));
                }
                let select = format!(
                    "SELECT {scols} FROM {stable}{}",
                    if conds.is_empty() {
                        String::new()
                    } else {
                        format!(" WHERE {}", conds.join(" AND "))
                    }
                );
                // The mark is written after the rows, in the same transaction.
                let next = Progress {
                    high_water: upper.clone().or(state.high_water.clone()),
                    rows: state.rows,
                    bytes: state.bytes,
                    done: upper.is_none(),
                };
                let ahead = async {
                    match &upper {
                        Some(_) => Some(probe(after(&upper)).await),
                        None => None,
                    }
                };
                let (moved, ahead) =
                    tokio::join!(binary_copy_chunk(src, dst, o, plan, &select, &next), ahead);
                let moved = moved?;
                probed = ahead.transpose()?;
                state = Progress {
                    rows: state.rows + moved.rows,
                    bytes: state.bytes + moved.bytes,
                    ..next
                };
                moved
            }
            // no key to resume by: streamed, in one transaction (keyless.rs)
            CopyPath::BatchedInsert if !keyed => {
                let mark = |m: crate::db::Moved| {
                    let p = Progress {
                        high_water: None,
                        rows: state.rows + m.rows,
                        bytes: state.bytes + m.bytes,
                        done: true,
                    };
                    progress_statements(dd, o, &plan.into, &p)
                };
                let select = format!("SELECT {scols} FROM {stable}");
                let insert = |rows: &[Vec<Value>]| insert_statements(dd, o, plan, rows);
                let m = super::keyless::copy(src, dst, &plan.into, select, batch, &insert, &mark)
                    .await?;
                let (rows, bytes) = (state.rows + m.rows, state.bytes + m.bytes);
                state = Progress {
                    high_water: None,
                    rows,
                    bytes,
                    done: true,
                };
                m
            }
            CopyPath::BatchedInsert => {
                let sql = format!(
                    "SELECT {scols} FROM {stable}{}{}",
                    lower.map(|w| format!(" WHERE {w}")).unwrap_or_default(),
                    if keyed {
                        format!(" ORDER BY {order} LIMIT {batch}")
                    } else {
                        String::new()
                    }
                );
                let rows = src.query(&sql, &[]).await?.rows;
                let last = !keyed || (rows.len() as u64) < batch;
                let high_water = match rows.last() {
                    Some(r) if keyed => Some(
                        plan.key_idx
                            .iter()
                            .map(|&i| r[i].to_sql_literal(sd))
                            .collect(),
                    ),
                    _ => state.high_water.clone(),
                };
                let (mut stmts, bytes) = insert_statements(dd, o, plan, &rows)?;
                let next = Progress {
                    high_water,
                    rows: state.rows + rows.len() as u64,
                    bytes: state.bytes + bytes,
                    done: last,
                };
                stmts.extend(progress_statements(dd, o, &plan.into, &next));
                dst.execute_in_transaction(&stmts).await.map_err(|e| {
                    Error::runtime(format!(
                        "copy {} into {} on {}: chunk {chunk_no} failed and was rolled back (statement {}): {}",
                        plan.from,
                        plan.into,
                        dst.redacted_url(),
                        e.index + 1,
                        e.message
                    ))
                })?;
                state = next;
                crate::db::Moved {
                    rows: rows.len() as u64,
                    bytes,
                }
            }
        };
        result.chunks += 1;
        log(format!(
            "{}: chunk {chunk_no}: {} row(s), {} bytes committed ({} in all)",
            plan.into, moved.rows, moved.bytes, state.rows
        ));
        crate::crash::point(&format!("copy:{}:{chunk_no}", plan.into));
    }
    result.rows = state.rows;
    result.bytes = state.bytes;
    result.sequences_reset = reset_sequences(dst, plan).await?;
    result.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(result)
}

/// One binary COPY chunk, committed with its progress mark (whose counts add what the
/// stream moved).
pub(super) async fn binary_copy_chunk(
    src: &Db,
    dst: &Db,
    o: &CopyOptions,
    plan: &TablePlan,
    select: &str,
    next: &Progress,
) -> Result<crate::db::Moved> {
    let d = dst.dialect();
    let mark = |m: crate::db::Moved| {
        let p = Progress {
            high_water: next.high_water.clone(),
            rows: next.rows + m.rows,
            bytes: next.bytes + m.bytes,
            done: next.done,
        };
        progress_statements(d, o, &plan.into, &p)
    };
    crate::db::binary_copy(src, dst, select, &plan.into, &plan.columns, &mark)
        .await?
        .ok_or_else(|| Error::runtime("binary COPY is only possible between PostgreSQL databases"))
}

/// Multi-row INSERTs for a chunk, and their size in bytes.
pub(super) fn insert_statements(
    dd: Dialect,
    o: &CopyOptions,
    plan: &TablePlan,
    rows: &[Vec<Value>],
) -> Result<(Vec<Statement>, u64)> {
    let table = dd.quote_qualified(&plan.into);
    let cols = plan
        .columns
        .iter()
        .map(|c| dd.quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let (pre, post) = if o.skip_conflicts {
        dd.sql().insert_skipping_conflicts()
    } else {
        ("INSERT INTO", "")
    };
    let mut stmts = Vec::new();
    let mut bytes = 0u64;
    for group in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(group.len());
        for r in group {
            let mut lits = Vec::with_capacity(r.len());
            for ((v, class), col) in r.iter().zip(&plan.classes).zip(&plan.columns) {
                lits.push(literal(v, dd, *class).map_err(|why| {
                    let key = plan
                        .key
                        .iter()
                        .zip(&plan.key_idx)
                        .map(|(k, &i)| format!("{k} = {}", r[i]))
                        .collect::<Vec<_>>()
                        .join(", ");
                    Error::bad_input(format!(
                        "cannot copy {} into {}: the row with {} has column \"{col}\" that {why}; nothing of this chunk was written",
                        plan.from,
                        plan.into,
                        if key.is_empty() { "no key".to_string() } else { key }
                    ))
                })?);
            }
            values.push(format!("({})", lits.join(", ")));
        }
        let sql = format!("{pre} {table} ({cols}) VALUES {}{post}", values.join(", "));
        bytes += sql.len() as u64;
        stmts.push(Statement::new(sql));
    }
    Ok((stmts, bytes))
}

/// Set every sequence / AUTO_INCREMENT feeding the destination table past its largest
/// key.
pub(super) async fn reset_sequences(dst: &Db, plan: &TablePlan) -> Result<Vec<SequenceReset>> {
    let d = dst.dialect();
    let table = d.quote_qualified(&plan.into);
    let mut out = Vec::new();
    for col in &plan.sequenced {
        let max = dst
            .query(
                &format!("SELECT MAX({}) FROM {table}", d.quote_ident(col)),
                &[],
            )
            .await?;
        let next = max.scalar().and_then(Value::as_i64).unwrap_or(0) + 1;
        if let Some(sql) = d.sql().sequence_reset(&table, col, next) {
            dst.execute(&sql)
                .await
                .map_err(|e| e.context(format!("setting the sequence of {}.{col}", plan.into)))?;
            out.push(SequenceReset {
                column: col.clone(),
                next,
            });
        }
    }
    Ok(out)
}
