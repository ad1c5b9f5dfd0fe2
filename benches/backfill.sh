#!/usr/bin/env bash
# cutover's `backfill` step vs one hand-written `UPDATE … FROM` of the same rows on
# PostgreSQL: rows per second, medians of RUNS runs, at several batch sizes, and the
# longest batch (the longest any batch's row locks were held) beside the single
# statement's time (it holds every row's lock until it commits).
#
#   benches/backfill.sh                                 # 1M orders, 100k customers
#   ROWS=200000 RUNS=3 BATCHES="10000 50000" benches/backfill.sh
#
# The data: customers (id, email) and consumer_orders (id bigint key, email, amount,
# customer_id NULL); 97% of the orders carry a customer's address with capitals or
# spaces around it, 3% nobody's. Both sides fill customer_id from customers on
# lower(trim(email)) = lower(trim(email)) with the expression index on customers that
# any such backfill wants. The peer is the floor: the database doing the whole join in
# one statement. cutover additionally writes the unmatched rows (3%) to
# validation_errors and commits a high-water mark per batch; its time is the wall
# time of `cutover run` (process start, ledger, the step, the end).
#
# Environment: ROWS (1000000), CUSTOMERS (ROWS/10), RUNS (3), BATCHES ("10000 50000
# 100000 250000"), PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres), CUTOVER_BIN
# (target/release/cutover if built, else target/debug/cutover: the work is in the
# database either way), KEEP=1 keeps the database.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-1000000}"
CUSTOMERS="${CUSTOMERS:-$((ROWS / 10))}"
RUNS="${RUNS:-3}"
BATCHES="${BATCHES:-10000 50000 100000 250000}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
DB="cutover_bench_backfill_$$"
if [ -n "${CUTOVER_BIN:-}" ]; then
    BIN="$CUTOVER_BIN"
elif [ -x target/release/cutover ]; then
    BIN=target/release/cutover
else
    BIN=target/debug/cutover
fi
[ -x "$BIN" ] || { echo "no cutover binary at $BIN: cargo build first" >&2; exit 2; }
TMP="$(mktemp -d)"
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$@"; }
cleanup() {
    rm -rf "$TMP"
    if [ "${KEEP:-}" != 1 ]; then
        psql_ -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }
now() { date +%s.%N; }

echo "setting up $ROWS orders and $CUSTOMERS customers in $DB ..." >&2
psql_ -d postgres -c "CREATE DATABASE $DB"
psql_ -d "$DB" <<SQL
CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL);
INSERT INTO customers SELECT i, 'customer' || i || '@example.com' FROM generate_series(1, $CUSTOMERS) i;
CREATE INDEX customers_email_rule ON customers (lower(trim(email)));
CREATE TABLE orders_template (id bigint, email text, amount numeric(10,2), customer_id integer);
INSERT INTO orders_template
SELECT i,
       CASE WHEN i % 100 < 3 THEN 'walk-in' || i || '@example.com'
            WHEN i % 2 = 0 THEN ' Customer' || (i % $CUSTOMERS + 1) || '@Example.com'
            ELSE 'customer' || (i % $CUSTOMERS + 1) || '@example.com ' END,
       (i % 1000) / 10.0, NULL
FROM generate_series(1, $ROWS) i;
ANALYZE customers;
SQL

# A fresh consumer_orders from the template (and no validation rows), vacuumed.
reset_orders() {
    psql_ -d "$DB" <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS consumer_orders;
DROP TABLE IF EXISTS validation_errors;
DROP TABLE IF EXISTS cutover_batch_progress;
DROP TABLE IF EXISTS cutover_anchors;
DROP TABLE IF EXISTS cutover_locks;
CREATE TABLE consumer_orders AS TABLE orders_template;
ALTER TABLE consumer_orders ADD PRIMARY KEY (id);
VACUUM ANALYZE consumer_orders;
CHECKPOINT;
SQL
}

floor_run() {
    reset_orders
    local t0 t1
    t0=$(now)
    psql_ -d "$DB" -c "UPDATE consumer_orders o SET customer_id = c.id FROM customers c WHERE lower(trim(c.email)) = lower(trim(o.email))" >/dev/null
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

cutover_run() {
    local batch=$1 dir="$TMP/run-$1-$2"
    mkdir -p "$dir"
    cat >"$dir/rb.toml" <<TOML
name = "bench-backfill"
[targets]
app = "$URL"
[[phases]]
id = "p"
  [[phases.steps]]
  id = "fill"
  kind = "backfill"
  target = "app"
  table = "consumer_orders"
  column = "customer_id"
  from = "customers"
  value = "customers.id"
  on = "lower(trim(customers.email)) = lower(trim(consumer_orders.email))"
  batch = $batch
TOML
    reset_orders
    local t0 t1
    t0=$(now)
    (cd "$dir" && "$OLDPWD/$BIN" run rb.toml --headless >"$dir/out.txt" 2>&1) || { cat "$dir/out.txt" >&2; exit 1; }
    t1=$(now)
    local filled longest
    filled=$(psql_ -d "$DB" -At -c "SELECT count(*) FROM consumer_orders WHERE customer_id IS NOT NULL")
    longest=$(cd "$dir" && "$OLDPWD/$BIN" status rb.toml --format json | python3 -c 'import json,sys; s=json.load(sys.stdin); print([x for x in s["steps"] if x["id"]=="fill"][0]["evidence"]["longest_batch_ms"])')
    echo "$(echo "$t1 - $t0" | bc -l) $filled $longest"
}

echo "floor: one UPDATE … FROM ($RUNS runs) ..." >&2
for _ in $(seq "$RUNS"); do floor_run; done >"$TMP/floor"
floor_filled=$(psql_ -d "$DB" -At -c "SELECT count(*) FROM consumer_orders WHERE customer_id IS NOT NULL")
floor_s=$(median <"$TMP/floor")

printf '\nbackfill of consumer_orders.customer_id on PostgreSQL: %s rows (%s filled, the rest unmatched), medians of %s runs, binary %s\n\n' "$ROWS" "$floor_filled" "$RUNS" "$BIN"
printf '%-34s %10s %12s %10s %22s\n' "what" "seconds" "rows/s" "× floor" "longest lock held (ms)"
printf '%-34s %10.2f %12.0f %10s %22s\n' "UPDATE … FROM (one statement)" "$floor_s" "$(echo "$ROWS / $floor_s" | bc -l)" "1.00" "$(echo "$floor_s * 1000" | bc -l | cut -d. -f1) (whole statement)"
best=""
for b in $BATCHES; do
    echo "cutover backfill, batch $b ($RUNS runs) ..." >&2
    : >"$TMP/c$b"
    for r in $(seq "$RUNS"); do cutover_run "$b" "$r" >>"$TMP/c$b"; done
    s=$(awk '{print $1}' "$TMP/c$b" | median)
    filled=$(awk '{print $2}' "$TMP/c$b" | sort -u | tr '\n' ' ')
    longest=$(awk '{print $3}' "$TMP/c$b" | median)
    ratio=$(echo "$s / $floor_s" | bc -l)
    [ "$(echo "$filled" | xargs)" = "$floor_filled" ] || { echo "batch $b filled $filled rows, the floor $floor_filled" >&2; exit 1; }
    printf '%-34s %10.2f %12.0f %10.2f %22s\n' "cutover backfill, batch $b" "$s" "$(echo "$ROWS / $s" | bc -l)" "$ratio" "$longest"
    if [ -z "$best" ] || [ "$(echo "$ratio < $best_ratio" | bc -l)" = 1 ]; then best=$b; best_ratio=$ratio; fi
done
printf '\nclosest to the floor: batch %s at %.2f× (goal: within 1.50×)\n' "$best" "$best_ratio"
