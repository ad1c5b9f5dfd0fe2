#!/usr/bin/env bash
# cutover diff schema vs pg_dump --schema-only of both databases, measured in the same run.
#
#   benches/schema_diff_vs_pg_dump.sh
#   TABLES=500 RUNS=7 benches/schema_diff_vs_pg_dump.sh
#
# Builds two PostgreSQL databases with TABLES tables (10 columns each, a primary key,
# a foreign key to the previous table, three secondary indexes one of them partial) and
# a few dozen differences between them (columns added/dropped/retyped/nullability/
# defaults, indexes added/dropped, tables added/dropped). Then, RUNS times each:
#   - cutover diff schema --source A --target B            (introspects both at once)
#   - pg_dump --schema-only A and B, run in parallel        (the same concurrency)
#   - pg_dump --schema-only A then B, one after the other
# and prints the medians and the ratio. The goal: the diff is no slower than the dumps.
#
# Environment: TABLES (500), RUNS (5), PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres),
# CUTOVER_BIN (target/release/cutover, built if missing), KEEP=1 keeps the databases.
set -euo pipefail
cd "$(dirname "$0")/.."

TABLES="${TABLES:-500}"
RUNS="${RUNS:-5}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
BIN="${CUTOVER_BIN:-target/release/cutover}"
A=cutover_bench_schema_a
B=cutover_bench_schema_b
URL_A="postgres://$PGUSER@$PGHOST:$PGPORT/$A"
URL_B="postgres://$PGUSER@$PGHOST:$PGPORT/$B"

psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$@"; }
dump() { pg_dump --schema-only -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$1" >/dev/null; }

if [ ! -x "$BIN" ]; then
    echo "building cutover (release)..." >&2
    cargo build --release >&2
fi
cleanup() {
    if [ "${KEEP:-0}" != 1 ]; then
        psql_ -d postgres -c "DROP DATABASE IF EXISTS $A WITH (FORCE)" -c "DROP DATABASE IF EXISTS $B WITH (FORCE)"
    fi
}
trap cleanup EXIT

echo "building two PostgreSQL databases of $TABLES tables..." >&2
for db in $A $B; do
    psql_ -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    psql_ -d "$db" <<SQL
DO \$\$
DECLARE n text; p text;
BEGIN
  FOR i IN 1..$TABLES LOOP
    n := 't' || lpad(i::text, 4, '0');
    p := 't' || lpad((i - 1)::text, 4, '0');
    EXECUTE format('CREATE TABLE %I (id bigint PRIMARY KEY, ref_id bigint %s, c1 text, c2 varchar(100),
        c3 int NOT NULL DEFAULT 0, c4 numeric(12,2), c5 timestamptz DEFAULT now(), c6 boolean,
        c7 date, c8 jsonb)', n, CASE WHEN i > 1 THEN format('REFERENCES %I (id)', p) ELSE '' END);
    EXECUTE format('CREATE INDEX %I ON %I (ref_id)', n || '_ref', n);
    EXECUTE format('CREATE INDEX %I ON %I (c2, c3 DESC)', n || '_c2c3', n);
    EXECUTE format('CREATE INDEX %I ON %I (c7) WHERE c6', n || '_c7_live', n);
  END LOOP;
END \$\$;
SQL
done

# A few dozen differences: B is production lagging staging (A).
psql_ -d "$B" <<SQL
DO \$\$
DECLARE n text;
BEGIN
  FOR i IN 1..5 LOOP
    n := 't' || lpad((i * 7)::text, 4, '0');
    EXECUTE format('ALTER TABLE %I DROP COLUMN c8', n);                        -- 5 columns missing
    n := 't' || lpad((i * 11)::text, 4, '0');
    EXECUTE format('ALTER TABLE %I ADD COLUMN legacy_%s text', n, i);         -- 5 columns extra
    n := 't' || lpad((i * 13)::text, 4, '0');
    EXECUTE format('ALTER TABLE %I ALTER COLUMN c2 TYPE varchar(50)', n);     -- 5 types changed
    n := 't' || lpad((i * 17)::text, 4, '0');
    EXECUTE format('ALTER TABLE %I ALTER COLUMN c3 DROP NOT NULL', n);        -- 5 nullability
    n := 't' || lpad((i * 19)::text, 4, '0');
    EXECUTE format('ALTER TABLE %I ALTER COLUMN c3 SET DEFAULT 1', n);        -- 5 defaults
    n := 't' || lpad((i * 23)::text, 4, '0');
    EXECUTE format('DROP INDEX %I', n || '_c2c3');                            -- 5 indexes missing
    n := 't' || lpad((i * 29)::text, 4, '0');
    EXECUTE format('CREATE INDEX %I ON %I (c4)', n || '_c4', n);              -- 5 indexes extra
  END LOOP;
  FOR i IN REVERSE $TABLES..$((TABLES - 2)) LOOP                              -- 3 tables missing
    EXECUTE format('DROP TABLE %I', 't' || lpad(i::text, 4, '0'));
  END LOOP;
  FOR i IN 1..3 LOOP                                                          -- 3 tables extra
    EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, note text)', 'old_import_' || i);
  END LOOP;
END \$\$;
SQL

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }

set +e
"$BIN" diff schema --source "$URL_A" --target "$URL_B" --format json >"${TMPDIR:-/tmp}/cutover_bench_diff.json"
code=$?
set -e
if [ "$code" != 1 ]; then
    echo "expected exit 1 (different), got $code" >&2
    exit 1
fi
found=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["summary"]["differences"])' "${TMPDIR:-/tmp}/cutover_bench_diff.json")

cut=(); par=(); seq_=()
for r in $(seq 1 "$RUNS"); do
    t0=$(now)
    "$BIN" diff schema --source "$URL_A" --target "$URL_B" >/dev/null || true
    t1=$(now)
    dump "$A" & p1=$!
    dump "$B" & p2=$!
    wait $p1 $p2
    t2=$(now)
    dump "$A"
    dump "$B"
    t3=$(now)
    cut+=("$(echo "$t1 - $t0" | bc)")
    par+=("$(echo "$t2 - $t1" | bc)")
    seq_+=("$(echo "$t3 - $t2" | bc)")
done

mc=$(printf '%s\n' "${cut[@]}" | median)
mp=$(printf '%s\n' "${par[@]}" | median)
ms=$(printf '%s\n' "${seq_[@]}" | median)
echo
echo "schema diff, PostgreSQL $(psql_ -d postgres -Atc 'SHOW server_version'), $TABLES tables x 10 columns, 3 indexes + 1 FK each"
echo "differences built into B: 41 (3+3 tables, 5+5 columns, 5 types, 5 nullability, 5 defaults, 5+5 indexes); found by cutover: $found"
echo "runs: $RUNS (median seconds)"
printf '  %-52s %8s s\n' "cutover diff schema (text, both databases)" "$mc"
printf '  %-52s %8s s\n' "pg_dump --schema-only A & B (in parallel)" "$mp"
printf '  %-52s %8s s\n' "pg_dump --schema-only A; pg_dump --schema-only B" "$ms"
printf '  ratio cutover / pg_dump in parallel:   %.2f\n' "$(echo "scale=4; $mc / $mp" | bc)"
printf '  ratio cutover / pg_dump one by one:    %.2f\n' "$(echo "scale=4; $mc / $ms" | bc)"
