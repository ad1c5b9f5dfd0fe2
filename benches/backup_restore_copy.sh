#!/usr/bin/env bash
# cutover's way back and its copy against the databases' own tools, measured in the
# same run: medians of wall time, peak memory (/usr/bin/time -v, MiB) and ratios.
#
#   benches/backup_restore_copy.sh                 # 5M rows
#   ROWS=1000000 RUNS=3 benches/backup_restore_copy.sh
#
# Environment: ROWS (default 5000000), RUNS (3), PGHOST/PGPORT/PGUSER
# (127.0.0.1/5432/postgres), CUTOVER_BIN (target/release/cutover, built if missing),
# BATCH (cutover copy --batch; default its own), KEEP=1 keeps the databases.
#
# The table is the data-diff bench's: bigint key, int, text, numeric(12,2), timestamptz.
# Goal: every ratio cutover/peer <= 1.0 and cutover's peak memory <= 128 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-5000000}"
RUNS="${RUNS:-3}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
BIN="${CUTOVER_BIN:-target/release/cutover}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$@"; }

if [ ! -x "$BIN" ]; then
    echo "building cutover (release)..." >&2
    cargo build --release >&2
fi

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# measure NAME PREPARE CMD...: per run, PREPARE (untimed) then CMD; wall seconds and
# peak RSS (MiB) into $TMP/NAME.{s,m}. A failing run aborts the bench.
measure() {
    local name="$1" prepare="$2"
    shift 2
    : >"$TMP/$name.s"
    : >"$TMP/$name.m"
    for _ in $(seq "$RUNS"); do
        eval "$prepare"
        if ! /usr/bin/time -v -o "$TMP/time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"; then
            echo "$name failed:" >&2
            tail -5 "$TMP/$name.err" >&2
            exit 3
        fi
        awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$TMP/time" >>"$TMP/$name.s"
        awk -F': ' '/Maximum resident set size/ {printf "%.0f\n", $2/1024}' "$TMP/time" >>"$TMP/$name.m"
    done
}

row() { printf "%-34s %10s %10s   %s\n" "$@"; }

# ---------------------------------------------------------------- copy_bench
# `cutover copy` vs `pg_dump -t T | psql`, PostgreSQL to PostgreSQL, into a fresh
# database each run (both create the table with its primary key).
copy_bench() {
    local src=cutover_bench_copy_src dst=cutover_bench_copy_dst
    echo "setting up $ROWS rows on PostgreSQL ($src) ..." >&2
    psql_ -d postgres -c "DROP DATABASE IF EXISTS $src WITH (FORCE)" -c "CREATE DATABASE $src"
    psql_ -d "$src" <<SQL
CREATE TABLE a (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, ts timestamptz NOT NULL);
INSERT INTO a SELECT g, (g * 7) % 100000, md5(g::text), ((g % 100000) / 100.0)::numeric(12,2),
    timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second' + (g % 1000) * interval '1 microsecond'
FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE a;
SQL
    local fresh="psql_ -d postgres -c 'DROP DATABASE IF EXISTS $dst WITH (FORCE)' -c 'CREATE DATABASE $dst' >/dev/null"
    local src_url="postgres://$PGUSER@$PGHOST:$PGPORT/$src" dst_url="postgres://$PGUSER@$PGHOST:$PGPORT/$dst"
    measure pg_dump_psql "$fresh" bash -c "pg_dump -h $PGHOST -p $PGPORT -U $PGUSER -t a $src | psql -X -q -v ON_ERROR_STOP=1 -h $PGHOST -p $PGPORT -U $PGUSER -d $dst"
    local peer_rows
    peer_rows=$(psql_ -d "$dst" -Atc "SELECT count(*) FROM a")
    measure cutover_copy "$fresh" "$BIN" copy --from "$src_url" --to "$dst_url" --tables a --create ${BATCH:+--batch "$BATCH"}
    local our_rows
    our_rows=$(psql_ -d "$dst" -Atc "SELECT count(*) FROM a")
    local p c
    p=$(median <"$TMP/pg_dump_psql.s")
    c=$(median <"$TMP/cutover_copy.s")
    echo
    echo "== copy: $ROWS rows PostgreSQL -> PostgreSQL (bigint, int, text, numeric, timestamptz), $RUNS runs =="
    row tool "median s" "peak MiB" "runs (s) / rows in the copy"
    row "pg_dump -t a | psql (floor/peer)" "$p" "$(median <"$TMP/pg_dump_psql.m")" "$(tr '\n' ' ' <"$TMP/pg_dump_psql.s")/ $peer_rows"
    row "cutover copy --create" "$c" "$(median <"$TMP/cutover_copy.m")" "$(tr '\n' ' ' <"$TMP/cutover_copy.s")/ $our_rows ($(grep -o 'binary COPY\|batched INSERT' "$TMP/cutover_copy.out" | head -1))"
    awk -v c="$c" -v p="$p" 'BEGIN { printf "ratio cutover/pg_dump|psql: %.2f (goal <= 1.0)\n", c / p }'
    if [ "${KEEP:-0}" != 1 ]; then
        psql_ -d postgres -c "DROP DATABASE IF EXISTS $dst WITH (FORCE)" -c "DROP DATABASE IF EXISTS $src WITH (FORCE)"
    fi
}
# ---------------------------------------------------------------- end copy_bench

echo "cutover $("$BIN" --version | awk '{print $2}'); $(nproc) cores; PostgreSQL $(psql_ -d postgres -Atc 'show server_version'); pg_dump $(pg_dump --version | awk '{print $3}')"
copy_bench
