#!/usr/bin/env bash
# cutover diff data vs reladiff (hashdiff) vs the floors, measured in the same session.
#
#   benches/diff_vs_reladiff.sh                  # 10M rows PostgreSQL, 1M MariaDB and PG vs MariaDB
#   ROWS=1000000 MARIA_ROWS=1000000 CROSS_ROWS=100000 benches/diff_vs_reladiff.sh
#
# Environment: ROWS (default 10000000), MARIA_ROWS (1000000), CROSS_ROWS (1000000), RUNS
# (3), RELADIFF_RUNS (RUNS), PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres),
# MYHOST/MYUSER (127.0.0.1/root), BENCH_DB (cutover_bench: the database created and
# dropped on both servers), CUTOVER_BIN (target/release/cutover, built if
# missing), VENV (reladiff's virtualenv), KEEP=1 keeps the benchmark databases.
#
# Cases on two tables of one engine (bigint key, int, text, numeric(12,2), timestamp):
#   (a) PostgreSQL, identical;
#   (b) PostgreSQL, 0.12% changed, scattered: every 1000th row updated, every 5000th
#       deleted (other rows than the updated ones), one inserted;
#   (c) MariaDB, identical.
# The floors, each both tables scanned at once by the databases themselves, nothing
# compared: the fast one with the engine's fastest hash that tells rows apart as the
# diff does (PostgreSQL sum(hashint8extended(hash_record_extended(row(cols), 0), 0)):
# each column hashed as its own type, the fold mixed so values cannot trade rows
# unseen; MariaDB sum(crc32(concat(cols)))), on PostgreSQL also the text one
# (sum(hashtextextended(concat(cols), 0)), the fast floor of earlier reports), and the
# portable one (count + sum of the first 64 bits of an MD5 per row). Ratios are to the
# fast floor. Then PostgreSQL vs
# MariaDB (same data, default case-insensitive collation on MariaDB): false positives
# of each tool (must be 0). Peak memory is the maximum resident set of the process.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-10000000}"
MARIA_ROWS="${MARIA_ROWS:-1000000}"
CROSS_ROWS="${CROSS_ROWS:-1000000}"
RUNS="${RUNS:-3}"
RELADIFF_RUNS="${RELADIFF_RUNS:-$RUNS}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
MYHOST="${MYHOST:-127.0.0.1}"
MYUSER="${MYUSER:-root}"
DB="${BENCH_DB:-cutover_bench}"
BIN="${CUTOVER_BIN:-target/release/cutover}"
VENV="${VENV:-${TMPDIR:-/tmp}/cutover-bench-venv}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

PG_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
PG_URL_PY="postgresql://$PGUSER@$PGHOST:$PGPORT/$DB"
MY_URL="mysql://$MYUSER@$MYHOST/$DB"

psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$@"; }
mysql_() { mysql -h "$MYHOST" -u "$MYUSER" "$@"; }

if [ ! -x "$BIN" ]; then
    echo "building cutover (release)..." >&2
    cargo build --release >&2
fi
RELADIFF=""
if [ -x "$VENV/bin/reladiff" ]; then
    RELADIFF="$VENV/bin/reladiff"
else
    echo "installing reladiff into $VENV ..." >&2
    if python3 -m venv "$VENV" >&2 &&
        "$VENV/bin/pip" install -q reladiff psycopg2-binary mysql-connector-python >&2; then
        RELADIFF="$VENV/bin/reladiff"
    else
        echo "reladiff could not be installed: its columns are left empty" >&2
    fi
fi

echo "setting up $ROWS rows x 3 tables on PostgreSQL ..." >&2
psql_ -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
psql_ -d "$DB" <<SQL
CREATE TABLE a (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, ts timestamptz NOT NULL);
INSERT INTO a SELECT g, (g * 7) % 100000, md5(g::text), ((g % 100000) / 100.0)::numeric(12,2),
    timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second' + (g % 1000) * interval '1 microsecond'
FROM generate_series(1, $ROWS) g;
CREATE TABLE b (LIKE a INCLUDING ALL); INSERT INTO b SELECT * FROM a;
CREATE TABLE c (LIKE a INCLUDING ALL); INSERT INTO c SELECT * FROM a;
UPDATE c SET n = n + 1 WHERE id % 1000 = 0;
DELETE FROM c WHERE id % 5000 = 1;
INSERT INTO c VALUES ($ROWS + 1, 1, 'inserted', 1.00, now());
VACUUM ANALYZE a; VACUUM ANALYZE b; VACUUM ANALYZE c;
SQL
EXPECTED=$(( ROWS / 1000 + (ROWS + 4999 - 1) / 5000 + 1 ))

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# measure NAME RUNS CMD...: wall seconds and peak RSS (MiB) per run into $TMP/NAME.{s,m}
measure() {
    local name="$1" runs="$2"
    shift 2
    : >"$TMP/$name.s"
    : >"$TMP/$name.m"
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$TMP/time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || true
        tail -1 "$TMP/time" | awk '{print $1}' >>"$TMP/$name.s"
        tail -1 "$TMP/time" | awk '{printf "%.0f\n", $2/1024}' >>"$TMP/$name.m"
    done
}

# measure1 NAME CMD...: one run, its wall seconds and peak RSS appended to $TMP/NAME.{s,m}
measure1() {
    local name="$1"
    shift
    /usr/bin/time -f "%e %M" -o "$TMP/time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || true
    tail -1 "$TMP/time" | awk '{print $1}' >>"$TMP/$name.s"
    tail -1 "$TMP/time" | awk '{printf "%.0f\n", $2/1024}' >>"$TMP/$name.m"
}

# floor ENGINE fast|text|md5 TABLE1 TABLE2: both tables hashed by their database at once
floor_cmd() {
    local q
    case "$1/$2" in
    pg/fast) q="SELECT count(*), sum(hashint8extended(hash_record_extended(row(id, n, t, amount, ts), 0), 0)) FROM" ;;
    pg/text) q="SELECT count(*), sum(hashtextextended(concat(id, n, t, amount, ts), 0)) FROM" ;;
    pg/md5) q="SELECT count(*), sum(('x' || substr(md5(x::text), 1, 16))::bit(64)::bigint) FROM" ;;
    my/fast) q="SELECT count(*), sum(crc32(concat(id, n, t, amount, ts))) FROM" ;;
    my/md5) q="SELECT count(*), sum(cast(conv(substring(md5(concat(id, n, t, amount, ts)), 1, 16), 16, 10) as unsigned)) FROM" ;;
    esac
    if [ "$1" = pg ]; then
        psql_ -d "$DB" -Atc "$q $3 x" >/dev/null &
        psql_ -d "$DB" -Atc "$q $4 x" >/dev/null &
    else
        mysql_ "$DB" -e "$q $3 x" >/dev/null &
        mysql_ "$DB" -e "$q $4 x" >/dev/null &
    fi
    wait
}
export -f floor_cmd psql_ mysql_
export PGHOST PGPORT PGUSER DB MYHOST MYUSER

cutover_diff() { # SOURCE_URL TABLE TARGET_URL TABLE
    "$BIN" diff data -q --format json --limit 0 --source "$1" --table "$2" --target "$3" --target-table "$4"
}
export -f cutover_diff
export BIN

cutover_differences() {
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["only_in_source"]+s["only_in_target"]+s["changed"], s["stats"]["strategy"], s["stats"].get("hash", ""))' "$1" 2>/dev/null || echo "error: $(tail -2 "${1%.out}.err")"
}
reladiff_differences() { # lines of JSONL output = rows reported (a changed row is reported once per side)
    if [ -s "${1%.out}.err" ] && grep -qi "error\|traceback" "${1%.out}.err"; then echo "error: $(tail -1 "${1%.out}.err")"; else wc -l <"$1"; fi
}

row() { printf "%-10s %10s %10s   %s\n" "$@"; }

run_case() { # LABEL ENGINE(pg|my) ROWS TABLE_B
    local label="$1" engine="$2" rows="$3" tb="$4" url url_py
    if [ "$engine" = pg ]; then url="$PG_URL" url_py="$PG_URL_PY"; else url="$MY_URL" url_py="$MY_URL"; fi
    echo
    echo "== $label: $rows rows, tables a and $tb =="
    # run by run, each floor next to cutover: a shared machine's load drifts over a
    # minute, and the ratios should compare runs taken under the same load
    for name in floor floor_md5 floor_text cutover; do : >"$TMP/$name.s"; : >"$TMP/$name.m"; done
    for _ in $(seq "$RUNS"); do
        measure1 floor bash -c "floor_cmd $engine fast a $tb"
        measure1 floor_md5 bash -c "floor_cmd $engine md5 a $tb"
        if [ "$engine" = pg ]; then measure1 floor_text bash -c "floor_cmd pg text a $tb"; fi
        measure1 cutover bash -c "cutover_diff $url a $url $tb"
    done
    row tool "median s" "peak MiB" "runs (s) / differences reported"
    local f m c r=""
    f=$(median <"$TMP/floor.s")
    m=$(median <"$TMP/floor_md5.s")
    c=$(median <"$TMP/cutover.s")
    row "floor" "$f" "-" "$(tr '\n' ' ' <"$TMP/floor.s")(engine's fastest exact hash)"
    if [ "$engine" = pg ]; then row "floor text" "$(median <"$TMP/floor_text.s")" "-" "$(tr '\n' ' ' <"$TMP/floor_text.s")(hashtextextended of the row's text)"; fi
    row "floor md5" "$m" "-" "$(tr '\n' ' ' <"$TMP/floor_md5.s")(portable MD5)"
    row cutover "$c" "$(median <"$TMP/cutover.m")" "$(tr '\n' ' ' <"$TMP/cutover.s")/ $(cutover_differences "$TMP/cutover.out")"
    if [ -n "$RELADIFF" ]; then
        measure reladiff "$RELADIFF_RUNS" "$RELADIFF" "$url_py" a "$url_py" "$tb" -a hashdiff -k id -c n -c t -c amount -c ts --json
        r=$(median <"$TMP/reladiff.s")
        row reladiff "$r" "$(median <"$TMP/reladiff.m")" "$(tr '\n' ' ' <"$TMP/reladiff.s")/ $(reladiff_differences "$TMP/reladiff.out") rows"
    fi
    awk -v c="$c" -v f="$f" -v m="$m" -v r="$r" 'BEGIN {
        printf "ratios: cutover/floor %.2f, cutover/floor md5 %.2f", c / f, c / m;
        if (r != "") printf ", reladiff/floor %.2f, reladiff/cutover %.2f", r / f, r / c;
        printf "\n" }'
}

echo "cutover $("$BIN" --version | awk '{print $2}') vs $([ -n "$RELADIFF" ] && "$RELADIFF" --version 2>/dev/null | head -1 || echo 'no reladiff'); $(nproc) cores; PostgreSQL $(psql_ -d postgres -Atc 'show server_version'); MariaDB $(mysql_ -N -e 'select version()')"
run_case "(a) PostgreSQL identical" pg "$ROWS" b
run_case "(b) PostgreSQL scattered: every 1000th updated, every 5000th deleted, 1 inserted ($EXPECTED differences)" pg "$ROWS" c

echo "setting up $MARIA_ROWS rows x 2 tables on MariaDB ..." >&2
mysql_ -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4"
mysql_ "$DB" <<SQL
CREATE TABLE a (id bigint PRIMARY KEY, n int NOT NULL, t varchar(40) NOT NULL, amount decimal(12,2) NOT NULL, ts datetime(6) NOT NULL);
INSERT INTO a SELECT seq, (seq * 7) % 100000, MD5(seq), (seq % 100000) / 100,
    TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 1000) MICROSECOND
FROM seq_1_to_$MARIA_ROWS;
CREATE TABLE b LIKE a; INSERT INTO b SELECT * FROM a;
ANALYZE TABLE a; ANALYZE TABLE b;
SQL
run_case "(c) MariaDB identical" my "$MARIA_ROWS" b

echo
echo "== cross-engine: $CROSS_ROWS rows, PostgreSQL vs MariaDB (identical data: every reported difference is a false positive) =="
psql_ -d "$DB" <<SQL
CREATE TABLE x (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, ts timestamptz NOT NULL);
INSERT INTO x SELECT g, (g * 7) % 100000, md5(g::text), ((g % 100000) / 100.0)::numeric(12,2),
    timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second' + (g % 1000) * interval '1 microsecond'
FROM generate_series(1, $CROSS_ROWS) g;
VACUUM ANALYZE x;
SQL
mysql_ "$DB" <<SQL
CREATE TABLE x (id bigint PRIMARY KEY, n int NOT NULL, t varchar(40) NOT NULL, amount decimal(14,4) NOT NULL, ts datetime(6) NOT NULL);
INSERT INTO x SELECT seq, (seq * 7) % 100000, MD5(seq), (seq % 100000) / 100,
    TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 1000) MICROSECOND
FROM seq_1_to_$CROSS_ROWS;
ANALYZE TABLE x;
SQL
measure floor_x "$RUNS" bash -c "psql_ -d $DB -Atc \"SELECT count(*), sum(('x' || substr(md5(x::text), 1, 16))::bit(64)::bigint) FROM x\" >/dev/null & mysql_ $DB -e \"SELECT count(*), sum(cast(conv(substring(md5(concat(id, n, t, amount, ts)), 1, 16), 16, 10) as unsigned)) FROM x\" >/dev/null; wait"
measure cutover_x "$RUNS" bash -c "cutover_diff $PG_URL x $MY_URL x"
row tool "median s" "peak MiB" "runs (s) / false positives"
row "floor md5" "$(median <"$TMP/floor_x.s")" "-" "$(tr '\n' ' ' <"$TMP/floor_x.s")(both sides' MD5 scan at once)"
row cutover "$(median <"$TMP/cutover_x.s")" "$(median <"$TMP/cutover_x.m")" "$(tr '\n' ' ' <"$TMP/cutover_x.s")/ $(cutover_differences "$TMP/cutover_x.out")"
if [ -n "$RELADIFF" ]; then
    measure reladiff_x "$RELADIFF_RUNS" "$RELADIFF" "$PG_URL_PY" x "mysql://$MYUSER@$MYHOST/$DB" x -a hashdiff -k id -c n -c t -c amount -c ts --json
    row reladiff "$(median <"$TMP/reladiff_x.s")" "$(median <"$TMP/reladiff_x.m")" "$(tr '\n' ' ' <"$TMP/reladiff_x.s")/ $(reladiff_differences "$TMP/reladiff_x.out") rows"
fi

if [ -z "${KEEP:-}" ]; then
    psql_ -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
    mysql_ -e "DROP DATABASE IF EXISTS $DB"
fi
