#!/usr/bin/env bash
# cutover backup, restore and copy vs the databases' own tools, measured in the
# same session: medians of wall time and of peak memory (/usr/bin/time -v's maximum
# resident set size of the command and the processes it waits for). Each case's runs
# alternate between cutover and the peer (ours first in odd runs, the peer's in even
# ones), so that the machine's drift weighs on both alike.
#
#   benches/backup_restore_copy.sh                 # 5M rows
#   ROWS=1000000 RUNS=3 benches/backup_restore_copy.sh
#
# BATCH sets `cutover copy --batch` (default: its own). ONLY=pg runs the PostgreSQL
# cases only, ONLY=mariadb (or ONLY=my) the MariaDB ones.
# Environment: ROWS (default 5000000), RUNS (3), PGHOST/PGPORT/PGUSER
# (127.0.0.1/5432/postgres), MYHOST/MYPORT/MYUSER (127.0.0.1/3306/root), CUTOVER_BIN
# (target/release/cutover, built if missing), KEEP=1 keeps the databases.
#
# The table (as in benches/diff_vs_reladiff.sh): bigint key, int, text, numeric(12,2),
# timestamptz (MariaDB: timestamp(6)). Each case is one function and its line at the bottom.
#   cutover backup   (pg_dump -Fc -Z0 in the exported snapshot without the plain tables'
#       rows, compressed by cutover with zstd as it streams into database.dump.zst; those
#       rows by binary COPY + zstd, one file a table; hashing every table; all in the same
#       snapshot) vs pg_dump -Fc (its own gzip)
#   cutover restore  (SHA-256 of every file; in one transaction pg_restore's script of the
#       archive and the rows files by binary COPY; re-hash) vs pg_restore --clean --if-exists
#   MariaDB: cutover backup vs mariadb-dump --single-transaction > file,
#            cutover restore vs mariadb < file
#   cutover copy --create vs pg_dump -t a | psql (PostgreSQL to PostgreSQL, fresh database)
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-5000000}"
RUNS="${RUNS:-3}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
MYHOST="${MYHOST:-127.0.0.1}"
MYPORT="${MYPORT:-3306}"
MYUSER="${MYUSER:-root}"
DB="cutover_bench_br_$$"
BIN="${CUTOVER_BIN:-target/release/cutover}"
TMP="$(mktemp -d)"
cleanup() {
    rm -rf "$TMP"
    if [ "${KEEP:-}" != 1 ]; then
        psql_ -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
        mariadb_ -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

PG_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
MY_URL="mysql://$MYUSER@$MYHOST:$MYPORT/$DB"
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$@"; }
mariadb_() { mariadb --protocol=TCP -h "$MYHOST" -P "$MYPORT" -u "$MYUSER" "$@"; }
export -f psql_ mariadb_
export PGHOST PGPORT PGUSER MYHOST MYPORT MYUSER DB BIN TMP PG_URL MY_URL

if [ ! -x "$BIN" ]; then
    echo "building cutover (release)..." >&2
    cargo build --release >&2
fi

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# once NAME RUN CMD...: one run, its wall seconds and peak RSS (MiB) appended to
# $TMP/NAME.{s,m}. A failing run is reported, not timed. After each run, untimed, the
# files it wrote are flushed to disk (`sync`): cutover syncs its backup before sealing
# it, so its time includes that, but the peers' (`mariadb-dump > file`, pg_dump) leave
# theirs in the page cache, and whichever command ran next paid for writing them (5M
# MariaDB rows: 430 MB; of two cutover builds run after each dump, the one right after
# it was the slower in 12 of 12 rounds, by 2-18%).
once() {
    local name="$1" i="$2"
    shift 2
    if /usr/bin/time -v -o "$TMP/time" env RUN="$i" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"; then
        awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$TMP/time" >>"$TMP/$name.s"
        awk -F': ' '/Maximum resident set size/ {printf "%.0f\n", $2/1024}' "$TMP/time" >>"$TMP/$name.m"
    else
        echo "  $name run $i FAILED: $(tail -3 "$TMP/$name.err" "$TMP/$name.out" | tr '\n' ' ')" >&2
    fi
    sync
}

# pair OURS PEER PREPARE CMD_OURS CMD_PEER: RUNS runs of each, interleaved (run 1:
# ours then the peer's, run 2: the peer's then ours, ...), PREPARE (untimed, may be
# empty) before every run. A shared machine's speed drifts by a quarter within
# minutes: all of one tool's runs, then all of the other's, would measure the drift.
pair() {
    local ours="$1" peer="$2" prepare="$3" a="$4" b="$5"
    : >"$TMP/$ours.s"; : >"$TMP/$ours.m"; : >"$TMP/$peer.s"; : >"$TMP/$peer.m"
    for i in $(seq "$RUNS"); do
        if [ $((i % 2)) = 1 ]; then
            eval "$prepare"; once "$ours" "$i" bash -c "$a"
            eval "$prepare"; once "$peer" "$i" bash -c "$b"
        else
            eval "$prepare"; once "$peer" "$i" bash -c "$b"
            eval "$prepare"; once "$ours" "$i" bash -c "$a"
        fi
    done
}

row() { printf "%-34s %9s %9s %9s   %s\n" "$@"; }

# compare LABEL OURS PEER: one table row per side and the ratios
compare() {
    local label="$1" ours="$2" peer="$3" o p
    o=$(median <"$TMP/$ours.s")
    p=$(median <"$TMP/$peer.s")
    row "$label: cutover" "$o" "$(median <"$TMP/$ours.m")" "$(awk -v a="$o" -v b="$p" 'BEGIN{ if (b>0 && a!="-") printf "%.2f", a/b; else print "-" }')" "runs: $(tr '\n' ' ' <"$TMP/$ours.s")"
    row "$label: $3" "$p" "$(median <"$TMP/$peer.m")" "1.00" "runs: $(tr '\n' ' ' <"$TMP/$peer.s")"
}

setup_pg() {
    echo "setting up $ROWS rows on PostgreSQL ($DB) ..." >&2
    psql_ -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
    psql_ -d "$DB" <<SQL
CREATE TABLE a (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, ts timestamptz NOT NULL);
INSERT INTO a SELECT g, (g * 7) % 100000, md5(g::text), ((g % 100000) / 100.0)::numeric(12,2),
    timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second' + (g % 1000) * interval '1 microsecond'
FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE a;
CHECKPOINT;
SQL
}

setup_mariadb() {
    echo "setting up $ROWS rows on MariaDB ($DB) ..." >&2
    mariadb_ -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
    mariadb_ "$DB" <<SQL
CREATE TABLE a (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount decimal(12,2) NOT NULL, ts timestamp(6) NOT NULL);
SET time_zone = '+00:00';
INSERT INTO a SELECT seq, (seq * 7) % 100000, md5(seq), (seq % 100000) / 100.0,
    TIMESTAMPADD(MICROSECOND, seq % 1000, TIMESTAMPADD(SECOND, seq % 200000000, '2020-01-01 00:00:00'))
FROM seq_1_to_$ROWS;
ANALYZE TABLE a;
SQL
    settle_mariadb
}

# One untimed read of the whole table after the setup. Its load leaves pages dirty in
# InnoDB's buffer pool that InnoDB does not write out by itself (5M rows: 2,759 pages,
# 43 MB, still dirty 30 s later), and the first run to read the table, cutover's, has
# to write them out to reuse their place: in a 7-run bench without this read, run 1 of
# the backup took 1.26x the dump's run after it, run 2 1.11x, the five others
# 0.93-1.03x. After this read, 0-6 pages were left dirty in the runs seen, and every run
# starts as the one before it left the pool.
settle_mariadb() {
    mariadb_ -N "$DB" -e "SELECT SUM(LENGTH(t)) FROM a" >/dev/null
    echo "MariaDB settled: $(mariadb_ -N -e "SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY'") dirty pages left" >&2
}

# ---- cases: one function each ----

case_pg_backup() {
    pair pg_backup pg_dump "" \
        '"$BIN" backup --target "$PG_URL" --out "$TMP/pg-backup-$RUN"' \
        'pg_dump -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -Fc -f "$TMP/pg-$RUN.dump" "$DB"'
    compare "PostgreSQL backup" pg_backup pg_dump
}

case_pg_restore() {
    pair pg_restore_ours pg_restore "" \
        '"$BIN" restore --from "$TMP/pg-backup-1" --target "$PG_URL" --yes' \
        'pg_restore -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" --clean --if-exists -d "$DB" "$TMP/pg-1.dump"'
    compare "PostgreSQL restore" pg_restore_ours pg_restore
}

case_mariadb_backup() {
    pair my_backup mariadb_dump "" \
        '"$BIN" backup --target "$MY_URL" --out "$TMP/my-backup-$RUN"' \
        'mariadb-dump --protocol=TCP -h "$MYHOST" -P "$MYPORT" -u "$MYUSER" --single-transaction "$DB" > "$TMP/my-$RUN.sql"'
    compare "MariaDB backup" my_backup mariadb_dump
}

case_mariadb_restore() {
    pair my_restore_ours mariadb_load "" \
        '"$BIN" restore --from "$TMP/my-backup-1" --target "$MY_URL" --yes' \
        'mariadb --protocol=TCP -h "$MYHOST" -P "$MYPORT" -u "$MYUSER" "$DB" < "$TMP/my-1.sql"'
    compare "MariaDB restore" my_restore_ours mariadb_load
}

# `cutover copy` vs `pg_dump -t a | psql`, PostgreSQL to PostgreSQL, into a fresh
# database each run (both create the table with its primary key).
case_pg_copy() {
    local dst="${DB}_copy"
    local fresh="psql_ -d postgres -c 'DROP DATABASE IF EXISTS $dst WITH (FORCE)' -c 'CREATE DATABASE $dst' >/dev/null"
    local dst_url="postgres://$PGUSER@$PGHOST:$PGPORT/$dst"
    pair pg_copy_ours pg_dump_psql "$fresh" \
        "\"\$BIN\" copy --from \"\$PG_URL\" --to '$dst_url' --tables a --create ${BATCH:+--batch $BATCH}" \
        "pg_dump -h $PGHOST -p $PGPORT -U $PGUSER -t a $DB | psql -X -q -v ON_ERROR_STOP=1 -h $PGHOST -p $PGPORT -U $PGUSER -d $dst"
    compare "PostgreSQL copy" pg_copy_ours pg_dump_psql
    psql_ -d postgres -c "DROP DATABASE IF EXISTS $dst WITH (FORCE)" >/dev/null
}

ONLY="${ONLY:-}"
pg() { [ "$ONLY" != my ] && [ "$ONLY" != mariadb ]; }
my() { [ "$ONLY" != pg ]; }
if pg; then setup_pg; fi
if my; then setup_mariadb; fi
echo
echo "cutover $("$BIN" --version | awk '{print $2}'); $(nproc) cores; $(pg && echo "PostgreSQL $(psql_ -d postgres -Atc 'show server_version'); ")$(my && echo "$(mariadb_ -N -e 'select version()'); ")ROWS=$ROWS, RUNS=$RUNS; load $(cut -d' ' -f1-3 /proc/loadavg)"
row "" "median s" "peak MiB" "ratio" ""
if pg; then case_pg_backup; case_pg_restore; fi
if my; then case_mariadb_backup; case_mariadb_restore; fi
if pg; then case_pg_copy; fi
echo
if pg; then echo "backup sizes: cutover PG $(du -sh "$TMP/pg-backup-1" | cut -f1), pg_dump -Fc $(du -sh "$TMP/pg-1.dump" | cut -f1)"; fi
if my; then echo "backup sizes: cutover MariaDB $(du -sh "$TMP/my-backup-1" | cut -f1), mariadb-dump $(du -sh "$TMP/my-1.sql" | cut -f1)"; fi
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
