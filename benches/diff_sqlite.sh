#!/usr/bin/env bash
# cutover diff data with a SQLite side, beside the engines' own tools, in one run.
#
#   benches/diff_sqlite.sh                 # 2,000,000 rows
#   ROWS=200000 RUNS=1 benches/diff_sqlite.sh
#
# Environment: ROWS (default 2000000), RUNS (3), PGHOST/PGPORT/PGUSER
# (127.0.0.1/5432/postgres), MYHOST/MYUSER (127.0.0.1/root), CUTOVER_BIN
# (target/release/cutover, built if missing), KEEP=1 keeps the databases and files.
# ONLY=sqlite, ONLY=pg or ONLY=mariadb (or ONLY=my) runs that pair only.
#
# Table t (id INTEGER PRIMARY KEY, n int, s text, r real, ts text timestamp) in a.db;
# b.db is a copy with scattered changes: every 2500th row changed (its text, real or
# timestamp, in turn), every 2500th deleted, as many inserted past the end — for 2M rows
# 800 + 800 + 800 = 2,400 differences. c.db is an identical copy.
#
#   SQLite <-> SQLite:      sqldiff --table t (SQLite's own diff)      vs cutover
#   PostgreSQL <-> SQLite:  floor = sqlite3 and psql COPY streaming both sides in key
#                           order at once                               vs cutover
#   MariaDB <-> SQLite:     floor = sqlite3 and mariadb --quick at once vs cutover
#
# Each with the scattered changes and with none. Wall time, peak memory (max RSS of the
# largest process, /usr/bin/time) and CPU time (user + system of all processes: the
# database servers' own work is not in it) are medians of RUNS. On a shared machine the
# wall times move with the load; the CPU times and the ratios measured back to back less.
# The floors' memory is that of one client, not a figure to meet.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-2000000}"
RUNS="${RUNS:-3}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
MYHOST="${MYHOST:-127.0.0.1}"
MYUSER="${MYUSER:-root}"
DB=cutover_bench_sqlite
ONLY="${ONLY:-}"
[ "$ONLY" = my ] && ONLY=mariadb
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
BIN="${CUTOVER_BIN:-target/release/cutover}"
TMP="$(mktemp -d)"
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$TMP"' EXIT; else echo "files kept in $TMP" >&2; fi

for tool in sqlite3 sqldiff psql mariadb; do
    command -v "$tool" >/dev/null || { echo "missing $tool (sqldiff: Debian package sqlite3-tools)" >&2; exit 2; }
done
if [ ! -x "$BIN" ]; then
    echo "building cutover (release)..." >&2
    cargo build --release >&2
fi

PG_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
MY_URL="mysql://$MYUSER@$MYHOST/$DB"
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$@"; }
mariadb_() { mariadb -h "$MYHOST" -u "$MYUSER" "$@"; }
export -f psql_ mariadb_
export PGHOST PGPORT PGUSER MYHOST MYUSER DB BIN TMP

echo "setting up $ROWS rows in SQLite a.db, b.db (scattered changes), c.db (identical) ..." >&2
sqlite3 "$TMP/a.db" >/dev/null <<SQL
PRAGMA journal_mode = OFF;
CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, s TEXT NOT NULL, r REAL NOT NULL, ts TEXT NOT NULL);
WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $ROWS)
INSERT INTO t SELECT i, (i * 7919) % 1000003,
    'customer ' || i || ' ' || substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26),
    (i % 1000000) * 0.125,
    strftime('%Y-%m-%d %H:%M:%S', 1600000000 + i * 37, 'unixepoch')
FROM g;
SQL
cp "$TMP/a.db" "$TMP/b.db"
cp "$TMP/a.db" "$TMP/c.db"
sqlite3 "$TMP/b.db" <<SQL
UPDATE t SET s = CASE (id / 2500) % 3 WHEN 0 THEN s || '!' ELSE s END,
             r = CASE (id / 2500) % 3 WHEN 1 THEN r + 0.5 ELSE r END,
             ts = CASE (id / 2500) % 3 WHEN 2 THEN strftime('%Y-%m-%d %H:%M:%S', ts, '+1 second') ELSE ts END
    WHERE id % 2500 = 7;
DELETE FROM t WHERE id % 2500 = 1250;
INSERT INTO t SELECT id + $ROWS, n, s || ' new', r, ts FROM t WHERE id % 2500 = 3;
SQL
EXPECTED=$(sqldiff --table t "$TMP/a.db" "$TMP/b.db" | wc -l)

echo "loading the same rows into PostgreSQL and MariaDB ..." >&2
sqlite3 -csv "$TMP/a.db" "SELECT * FROM t ORDER BY id" >"$TMP/a.csv"
if want pg; then
    psql_ -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
    psql_ -d "$DB" -c "CREATE TABLE t (id bigint PRIMARY KEY, n bigint NOT NULL, s text NOT NULL, r double precision NOT NULL, ts timestamp NOT NULL)"
    psql_ -d "$DB" -c "\\copy t FROM '$TMP/a.csv' (FORMAT csv)" -c "VACUUM ANALYZE t"
fi
if want mariadb; then
    mariadb_ -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4"
    mariadb_ --local-infile=1 "$DB" >/dev/null <<SQL
CREATE TABLE t (id bigint PRIMARY KEY, n bigint NOT NULL, s varchar(100) NOT NULL, r double NOT NULL, ts datetime NOT NULL);
LOAD DATA LOCAL INFILE '$TMP/a.csv' INTO TABLE t FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"';
ANALYZE TABLE t;
SQL
fi

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# measure NAME CMD...: wall seconds, peak RSS (MiB) and CPU seconds (user + system, of
# every process of the command) of RUNS runs into $TMP/NAME.{s,m,c}
measure() {
    local name="$1"
    shift
    : >"$TMP/$name.s"
    : >"$TMP/$name.m"
    : >"$TMP/$name.c"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M %U %S" -o "$TMP/time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || true
        tail -1 "$TMP/time" | awk '{print $1}' >>"$TMP/$name.s"
        tail -1 "$TMP/time" | awk '{printf "%.0f\n", $2/1024}' >>"$TMP/$name.m"
        tail -1 "$TMP/time" | awk '{printf "%.2f\n", $3 + $4}' >>"$TMP/$name.c"
    done
}

# both sides streamed in key order by the engines' own clients, at once
floor_pg() {
    sqlite3 "$1" "SELECT * FROM t ORDER BY id" >/dev/null &
    psql_ -d "$DB" -c "COPY (SELECT * FROM t ORDER BY id) TO STDOUT" >/dev/null &
    wait
}
floor_my() {
    sqlite3 "$1" "SELECT * FROM t ORDER BY id" >/dev/null &
    mariadb_ --quick -N -e "SELECT * FROM t ORDER BY id" "$DB" >/dev/null &
    wait
}
export -f floor_pg floor_my

cutover_diff() { # SOURCE_URL TARGET_URL
    "$BIN" diff data -q --format json --limit 0 --source "$1" --target "$2" --table t
}
export -f cutover_diff

differences() {
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["only_in_source"]+s["only_in_target"]+s["changed"], s["stats"]["strategy"])' "$1" 2>/dev/null || echo "error: $(tail -2 "${1%.out}.err")"
}

row() { printf "%-52s %9s %9s %9s   %s\n" "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# case LABEL FLOOR_NAME FLOOR_CMD CUTOVER_SOURCE CUTOVER_TARGET_FILE
run_case() {
    local label="$1" fname="$2" fcmd="$3" src="$4" file="$5"
    measure floor bash -c "$fcmd"
    measure cutover bash -c "cutover_diff '$src' 'sqlite://$file'"
    local f c
    f=$(median <"$TMP/floor.s")
    c=$(median <"$TMP/cutover.s")
    row "$label: $fname" "$f" "$(median <"$TMP/floor.m")" "$(median <"$TMP/floor.c")" "runs $(tr '\n' ' ' <"$TMP/floor.s")"
    row "$label: cutover" "$c" "$(median <"$TMP/cutover.m")" "$(median <"$TMP/cutover.c")" "runs $(tr '\n' ' ' <"$TMP/cutover.s")/ $(differences "$TMP/cutover.out") / wall ratio $(ratio "$c" "$f")"
}

echo "cutover $("$BIN" --version | awk '{print $2}'); sqldiff $(sqlite3 --version | awk '{print $1}'); $(nproc) cores; PostgreSQL $(psql_ -d postgres -Atc 'show server_version'); $(mariadb_ -N -e 'select version()')"
echo "$ROWS rows; scattered: $EXPECTED differences (sqldiff's statements); none: identical copy"
row "case" "median s" "peak MiB" "CPU s" "details (differences, strategy / cutover ÷ peer)"
for pair in "scattered b.db" "none c.db"; do
    set -- $pair
    label="$1" file="$TMP/$2"
    if want sqlite; then run_case "sqlite↔sqlite $label" "sqldiff" "sqldiff --table t '$TMP/a.db' '$file'" "sqlite://$TMP/a.db" "$file"; fi
    if want pg; then run_case "postgres↔sqlite $label" "floor (psql COPY + sqlite3)" "floor_pg '$file'" "$PG_URL" "$file"; fi
    if want mariadb; then run_case "mariadb↔sqlite $label" "floor (mariadb --quick + sqlite3)" "floor_my '$file'" "$MY_URL" "$file"; fi
done

if [ -z "${KEEP:-}" ]; then
    if want pg; then psql_ -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; fi
    if want mariadb; then mariadb_ -e "DROP DATABASE IF EXISTS $DB"; fi
fi
