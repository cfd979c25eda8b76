#!/usr/bin/env bash
# workloads.sh — application workloads beyond pgbench's builtins, against troupe and a
# durable PostgreSQL 15 side by side, in one sitting on one machine, with the ratio
# troupe/PostgreSQL per workload (the median of per-pair ratios; runs alternate).
#
#   benches/workloads.sh --port PORT [WORKLOAD:CLIENTS ...]
#
# troupe must already listen on 127.0.0.1:PORT. A throwaway PostgreSQL 15 (fsync and
# synchronous_commit on) is started by tests/e2e/reference-pg.sh and stopped at the end.
# WORKLOAD is a file benches/workloads/WORKLOAD.sql (a pgbench script, run with
# `pgbench -n -M prepared -f`):
#   join-aggregate  a join of 20,000 orders with 1,000 customers, filtered on the
#                   customer's region, grouped, counted and summed (read-only)
#   upsert          INSERT … ON CONFLICT (k) DO UPDATE on 1,000 hot counters
#   pk-lookup       SELECT by primary key from 100,000 rows (wl_lookup.id)
#   index-lookup    SELECT by a unique secondary index of the same table
#                   (wl_lookup.code); its ratio to pk-lookup is the secondary/PK ratio
# Default: join-aggregate:8 upsert:32 pk-lookup:8 index-lookup:8.
# Environment: DURATION (s per run, 10), REPEATS (3), JOBS (2).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
PORT=""
while [ $# -gt 0 ]; do case "$1" in --port) PORT="$2"; shift 2;; *) break;; esac; done
[ -n "$PORT" ] || { echo "usage: workloads.sh --port PORT [WORKLOAD:CLIENTS ...]" >&2; exit 2; }
CONFIGS=("$@"); [ ${#CONFIGS[@]} -gt 0 ] || CONFIGS=(join-aggregate:8 upsert:32 pk-lookup:8 index-lookup:8)
DURATION="${DURATION:-10}"; REPEATS="${REPEATS:-3}"; JOBS="${JOBS:-2}"
WORK="$(mktemp -d /tmp/troupe-workloads.XXXXXX)"; [ "$(id -u)" = 0 ] && chmod 755 "$WORK"
PG_PORT=$(PG_DURABLE=on PG_SHARED_BUFFERS=1GB "$root/tests/e2e/reference-pg.sh" start "$WORK/pg") || exit 1
trap '"$root/tests/e2e/reference-pg.sh" stop "$WORK/pg"; rm -rf "$WORK"' EXIT

load() { # port
  local q=(psql -X -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1)
  "${q[@]}" -c "DROP TABLE IF EXISTS wl_orders" -c "DROP TABLE IF EXISTS wl_customers" \
    -c "DROP TABLE IF EXISTS wl_counters" -c "DROP TABLE IF EXISTS wl_lookup" \
    -c "CREATE TABLE wl_customers (id int PRIMARY KEY, region int NOT NULL, name text NOT NULL)" \
    -c "CREATE TABLE wl_orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2) NOT NULL)" \
    -c "CREATE TABLE wl_counters (k int PRIMARY KEY, n bigint NOT NULL)" \
    -c "CREATE TABLE wl_lookup (id int PRIMARY KEY, code int NOT NULL, payload text NOT NULL)" \
    -c "CREATE UNIQUE INDEX wl_lookup_code_idx ON wl_lookup (code)" || return 1
  seq 1 1000 | awk '{printf "%d\t%d\tc%d\n", $1, $1 % 10, $1}' \
    | "${q[@]}" -c "COPY wl_customers FROM STDIN" || return 1
  seq 1 20000 | awk '{printf "%d\t%d\t%.2f\n", $1, 1 + $1 % 1000, ($1 % 97) + 0.5}' \
    | "${q[@]}" -c "COPY wl_orders FROM STDIN" || return 1
  seq 1 100000 | awk '{printf "%d\t%d\tpayload %d\n", $1, 1000000 + $1, $1}' \
    | "${q[@]}" -c "COPY wl_lookup FROM STDIN" || return 1
  "${q[@]}" -c "VACUUM ANALYZE wl_customers" -c "VACUUM ANALYZE wl_orders" \
    -c "VACUUM ANALYZE wl_lookup" >/dev/null
}
load "$PORT" || { echo "workloads: loading troupe failed" >&2; exit 1; }
load "$PG_PORT" || { echo "workloads: loading PostgreSQL failed" >&2; exit 1; }

run() { # port workload clients -> "tps failed"
  local j=$JOBS; [ "$3" -lt "$j" ] && j=$3
  local out; out=$(pgbench -n -h 127.0.0.1 -p "$1" -U postgres -M prepared -c "$3" -j "$j" \
    -T "$DURATION" -f "$root/benches/workloads/$2.sql" postgres 2>&1)
  local tps failed
  tps=$(awk '/^tps = /{print $3; exit}' <<<"$out"); failed=$(awk '/^number of failed/{print $5}' <<<"$out")
  echo "${tps:-0} ${failed:-0}"
}
median() { sort -g | awk '{a[NR]=$1} END{if(NR==0){print "NA"; exit} if(NR%2){print a[(NR+1)/2]} else {printf "%.3f\n",(a[NR/2]+a[NR/2+1])/2}}'; }

echo "workload|clients|troupe TPS|PostgreSQL TPS|ratio|troupe failed"
for cfg in "${CONFIGS[@]}"; do
  IFS=: read -r wl clients <<<"$cfg"
  t_all=(); p_all=(); ratios=(); failed=0
  for _ in $(seq 1 "$REPEATS"); do
    read -r t tf < <(run "$PORT" "$wl" "$clients")
    read -r p _ < <(run "$PG_PORT" "$wl" "$clients")
    t_all+=("$t"); p_all+=("$p"); failed=$((failed + ${tf%%+*}))
    ratios+=("$(awk -v a="$t" -v b="$p" 'BEGIN{ if (b > 0) printf "%.3f", a / b; else print "NA" }')")
  done
  t=$(printf '%s\n' "${t_all[@]}" | median); p=$(printf '%s\n' "${p_all[@]}" | median)
  r=$(printf '%s\n' "${ratios[@]}" | median)
  printf '%s|%s|%.0f|%.0f|%s|%s\n' "$wl" "$clients" "$t" "$p" "$r" "$failed"
done
