#!/usr/bin/env bash
# cutover diff data --apply on SQLite, beside SQLite's own tools, in one run: time and
# peak memory of making a target equal to its source when every row differs (dense) and
# when few do (scattered). Issue 13: the statements are spooled, not held, so peak
# memory stays bounded (64 MiB) whatever the number of differences.
#
#   benches/apply_sqlite.sh                 # 1,000,000 rows
#   ROWS=200000 RUNS=1 benches/apply_sqlite.sh
#
# Environment: ROWS (default 1000000), RUNS (3), CUTOVER_BIN (target/release/cutover,
# built if missing), KEEP=1 keeps the files.
#
# Table t (id INTEGER PRIMARY KEY, n int, s text, r real) in a.db; dense.db has every
# row's text changed (ROWS UPDATEs), scattered.db every 1000th (ROWS/1000). Each run
# starts from a fresh copy of the target (the copy is not timed).
#
#   floor = sqldiff --table t TARGET a.db | sqlite3 TARGET in one transaction (SQLite's
#           own diff, applied by its own shell; its memory is that of the larger one)
#   cutover diff data --apply --yes (one transaction, then the re-diff that proves it)
#
# Wall time and peak memory (max RSS of the largest process, /usr/bin/time) are medians
# of RUNS. On a shared machine the wall times move with the load: compare ratios
# measured in one run.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-1000000}"
RUNS="${RUNS:-3}"
BIN="${CUTOVER_BIN:-target/release/cutover}"
TMP="$(mktemp -d)"
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$TMP"' EXIT; else echo "files kept in $TMP" >&2; fi

for tool in sqlite3 sqldiff; do
    command -v "$tool" >/dev/null || { echo "missing $tool (sqldiff: Debian package sqlite3-tools)" >&2; exit 2; }
done
if [ ! -x "$BIN" ]; then
    echo "building cutover (release)..." >&2
    cargo build --release >&2
fi

echo "setting up $ROWS rows in SQLite a.db, dense.db, scattered.db ..." >&2
sqlite3 "$TMP/a.db" >/dev/null <<SQL
PRAGMA journal_mode = OFF;
CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, s TEXT NOT NULL, r REAL NOT NULL);
WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $ROWS)
INSERT INTO t SELECT i, (i * 7919) % 1000003,
    'customer ' || i || ' ' || substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26),
    (i % 1000000) * 0.125
FROM g;
SQL
cp "$TMP/a.db" "$TMP/dense.db"
cp "$TMP/a.db" "$TMP/scattered.db"
sqlite3 "$TMP/dense.db" "UPDATE t SET s = s || '!'"
sqlite3 "$TMP/scattered.db" "UPDATE t SET s = s || '!' WHERE id % 1000 = 7"

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# measure NAME TARGET CMD...: wall seconds and peak RSS (MiB) of RUNS runs, each on a
# fresh copy of TARGET at $TMP/work.db, into $TMP/NAME.{s,m}; then checks the copy
# equals a.db (sqldiff prints nothing)
measure() {
    local name="$1" target="$2"
    shift 2
    : >"$TMP/$name.s"
    : >"$TMP/$name.m"
    : >"$TMP/$name.bad"
    for _ in $(seq "$RUNS"); do
        cp "$TMP/$target" "$TMP/work.db"
        /usr/bin/time -f "%e %M" -o "$TMP/time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || true
        tail -1 "$TMP/time" | awk '{print $1}' >>"$TMP/$name.s"
        tail -1 "$TMP/time" | awk '{printf "%.0f\n", $2/1024}' >>"$TMP/$name.m"
        if [ -n "$(sqldiff --table t "$TMP/a.db" "$TMP/work.db" | head -1)" ]; then
            echo "not equal after $name: $(tail -2 "$TMP/$name.err")" >>"$TMP/$name.bad"
        fi
    done
}

floor() {
    # sqldiff DB1 DB2 prints what turns DB1 into DB2
    { echo "BEGIN;"; sqldiff --table t "$TMP/work.db" "$TMP/a.db"; echo "COMMIT;"; } | sqlite3 "$TMP/work.db"
}
cutover_apply() {
    "$BIN" diff data -q --no-ledger --format json --limit 0 --apply --yes \
        --source "sqlite://$TMP/a.db" --target "sqlite://$TMP/work.db" --table t
}
export -f floor cutover_apply
export BIN TMP

row() { printf "%-38s %9s %9s   %s\n" "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "cutover $("$BIN" --version | awk '{print $2}'); sqlite3 $(sqlite3 --version | awk '{print $1}'); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$ROWS rows; dense: $ROWS rows changed; scattered: $((ROWS / 1000)) rows changed"
row "case" "median s" "peak MiB" "details (runs / cutover ÷ floor)"
for target in dense scattered; do
    measure floor "$target.db" bash -c floor
    measure cutover "$target.db" bash -c cutover_apply
    f=$(median <"$TMP/floor.s")
    c=$(median <"$TMP/cutover.s")
    row "$target: floor (sqldiff | sqlite3)" "$f" "$(median <"$TMP/floor.m")" "runs $(tr '\n' ' ' <"$TMP/floor.s")$(cat "$TMP/floor.bad")"
    row "$target: cutover --apply" "$c" "$(median <"$TMP/cutover.m")" "runs $(tr '\n' ' ' <"$TMP/cutover.s")/ wall ratio $(ratio "$c" "$f")$(cat "$TMP/cutover.bad")"
done
