#!/usr/bin/env bash
# pgbench.sh — end-to-end check of troupe with pgbench 15 (shared/compat/pgbench.md).
#
#   tests/e2e/pgbench.sh          (after `cargo build --release`)
#
# Starts target/release/troupe in durable mode on a fresh data directory and checks:
#  1. `pgbench -i -s 1`;
#  2. every builtin script (tpcb-like, simple-update, select-only) in every protocol
#     mode (simple, extended, prepared), -T 3 -c 8 -j 2, plus tpcb-like prepared at
#     -c 64 and a 10 s tpcb-like run at 8 clients: each run must report
#     "number of failed transactions: 0" and no aborted client;
#  3. money is conserved. Each tpcb-like / simple-update run starts from a fresh
#     `pgbench -i` (all balances 0, history empty) and runs with -n, so pgbench never
#     truncates pgbench_history; after the run every delta is counted exactly once in
#     history and in each balance table, so
#        sum(abalance) = sum(tbalance) = sum(bbalance) = sum(delta)
#     holds exactly (simple-update touches only accounts and history: the first and the
#     last must agree);
#  4. crash recovery: a 30 s tpcb-like run, the server SIGKILLed after ~5 s and
#     restarted on the same directory; the four sums must still agree (no partial
#     transaction) and pgbench_history must hold at least as many rows as pgbench
#     logged completed transactions (no acknowledged commit lost).
# The server runs with --partition-keys $PARTITION_KEYS (16384): pgbench_accounts
# (100,000 rows) splits into key-range partitions on several storage actors while
# `pgbench -i` fills it, pgbench_history splits as the runs append to it, and the
# restart after the crash loads them split, so every check above also checks the
# partitions (issue 4: "the pgbench consistency check still holds").
# Prints a table of tps per configuration. Exit status 0 only if every check passed.
#
# Environment: TROUPE_BIN (target/release/troupe), WORK (a new temp dir, removed on
# success), DURATION (3, seconds per short run), KEEP_WORK=1 keeps WORK,
# PARTITION_KEYS (16384).
set -uo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
TROUPE_BIN="${TROUPE_BIN:-$root/target/release/troupe}"
DURATION="${DURATION:-3}"
PARTITION_KEYS="${PARTITION_KEYS:-16384}"
WORK="${WORK:-$(mktemp -d /tmp/troupe-e2e.XXXXXX)}"
DATA="$WORK/data"
mkdir -p "$WORK"
[ -x "$TROUPE_BIN" ] || { echo "pgbench.sh: no server binary at $TROUPE_BIN (cargo build --release)" >&2; exit 2; }
command -v pgbench >/dev/null && command -v psql >/dev/null \
  || { echo "pgbench.sh: pgbench and psql are needed (apt-get install postgresql-client)" >&2; exit 2; }

SERVER_PID=""
PORT=""
FAILURES=0
SUMMARY=()
starts=0

fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }

stop_server() { # SIGTERM, then SIGKILL if it lingers
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}

cleanup() {
  local status=$?
  stop_server
  if [ "$status" -ne 0 ] || [ "$FAILURES" -ne 0 ] || [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "pgbench.sh: logs kept in $WORK" >&2
    for log in "$WORK"/server-*.err; do
      [ -s "$log" ] && { echo "--- last lines of $log:" >&2; tail -20 "$log" >&2; }
    done
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() { # on $DATA; sets SERVER_PID and PORT
  starts=$((starts + 1))
  local out="$WORK/server-$starts.out"
  "$TROUPE_BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" --partition-keys "$PARTITION_KEYS" >"$out" 2>"$WORK/server-$starts.err" &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1 300); do
    PORT=$(sed -n 's/^troupe listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out")
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PORT" ]; then
    echo "pgbench.sh: the server did not start (see $WORK/server-$starts.err)" >&2
    exit 1
  fi
  echo "# server pid $SERVER_PID on port $PORT (start $starts, data $DATA)"
}

sql() { # one query, unaligned: prints its value
  psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atc "$1"
}

init() {
  if ! timeout 300 pgbench -h 127.0.0.1 -p "$PORT" -U postgres -i -s 1 -q postgres >"$WORK/init.out" 2>&1; then
    cat "$WORK/init.out" >&2
    fail "pgbench -i -s 1"
    return 1
  fi
}

# The sums that must agree; sum over an empty table is NULL, hence coalesce.
sums() { # accounts tellers branches history, one line
  local a t b h
  a=$(sql "select coalesce(sum(abalance), 0) from pgbench_accounts") || return 1
  t=$(sql "select coalesce(sum(tbalance), 0) from pgbench_tellers") || return 1
  b=$(sql "select coalesce(sum(bbalance), 0) from pgbench_branches") || return 1
  h=$(sql "select coalesce(sum(delta), 0) from pgbench_history") || return 1
  echo "$a $t $b $h"
}

check_sums() { # label script
  local label=$1 script=$2 line a t b h
  if ! line=$(sums); then fail "$label: sum queries failed"; return; fi
  read -r a t b h <<<"$line"
  if [ "$script" = simple-update ]; then
    [ "$a" = "$h" ] && echo "  sums ok: accounts = history = $a" \
      || fail "$label: sum(abalance)=$a but sum(delta)=$h"
  else
    [ "$a" = "$t" ] && [ "$t" = "$b" ] && [ "$b" = "$h" ] && echo "  sums ok: all four = $a" \
      || fail "$label: sums differ: accounts=$a tellers=$t branches=$b history=$h"
  fi
}

# bench LABEL SCRIPT MODE CLIENTS SECONDS [pgbench flags...]: one run that must pass.
bench() {
  local label=$1 script=$2 mode=$3 clients=$4 secs=$5; shift 5
  local out="$WORK/$label.out" jobs=2 status tps failed
  [ "$clients" -lt "$jobs" ] && jobs=$clients
  echo "== $label: -b $script -M $mode -c $clients -j $jobs -T $secs $*"
  timeout $((secs + 120)) pgbench -h 127.0.0.1 -p "$PORT" -U postgres -b "$script" -M "$mode" \
    -c "$clients" -j "$jobs" -T "$secs" "$@" postgres >"$out" 2>&1
  status=$?
  tps=$(awk '/^tps = /{printf "%.0f", $3; exit}' "$out")
  failed=$(awk '/^number of failed transactions/{print $5; exit}' "$out")
  SUMMARY+=("$label|$script|$mode|$clients|$secs|${tps:-NA}|${failed:-NA}")
  if [ "$status" -ne 0 ] || [ "$failed" != 0 ] || grep -q aborted "$out"; then
    tail -20 "$out" >&2
    fail "$label: pgbench exit $status, failed=${failed:-?}$(grep -q aborted "$out" && echo ', aborted clients')"
    return 1
  fi
  echo "  tps $tps, failed 0"
}

# A fresh init, then a run with -n (no truncate), then the sums.
bench_checked() { # LABEL SCRIPT MODE CLIENTS SECONDS
  init || return
  bench "$@" -n && check_sums "$1" "$2"
}

start_server
echo "== pgbench -i -s 1"
init || exit 1
[ "$(sql 'select count(*) from pgbench_accounts')" = 100000 ] || fail "pgbench_accounts does not hold 100000 rows"

for mode in simple extended prepared; do
  bench_checked "tpcb-$mode" tpcb-like "$mode" 8 "$DURATION"
  bench_checked "update-$mode" simple-update "$mode" 8 "$DURATION"
  # Without -n: pgbench's vacuum and truncate go through the server too.
  bench "select-$mode" select-only "$mode" 8 "$DURATION"
done
bench_checked tpcb-prepared-c64 tpcb-like prepared 64 "$DURATION"
bench_checked tpcb-10s tpcb-like simple 8 10

# Crash recovery: SIGKILL the server in the middle of a run.
echo "== kill -9 during tpcb-like -M prepared -c 8 -T 30"
if init; then
  mkdir -p "$WORK/kill-log"
  (cd "$WORK/kill-log" && exec timeout 120 pgbench -h 127.0.0.1 -p "$PORT" -U postgres -b tpcb-like \
    -M prepared -c 8 -j 2 -T 30 -n --log --log-prefix=tx postgres >"$WORK/kill.out" 2>&1) &
  bench_pid=$!
  sleep 5
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
  wait "$bench_pid" # pgbench exits non-zero: its clients lost the server
  # Each log line is one transaction whose END was answered (failed ones say so).
  acked=$(cat "$WORK"/kill-log/tx* 2>/dev/null | awk '$3 != "failed" && $3 != "serialization" && $3 != "deadlock"' | wc -l)
  echo "  pgbench logged $acked acknowledged transactions before the kill"
  [ "$acked" -gt 0 ] || fail "kill: no transaction completed in 5 s before the kill"
  start_server
  check_sums kill-recovery tpcb-like
  rows=$(sql "select count(*) from pgbench_history")
  if [ -n "$rows" ] && [ "$rows" -ge "$acked" ]; then
    echo "  history holds $rows rows >= $acked acknowledged"
  else
    fail "kill: pgbench_history holds ${rows:-?} rows, fewer than the $acked acknowledged commits"
  fi
  # The recovered server takes new work, and the sums stay exact (no re-init).
  bench after-recovery tpcb-like prepared 8 "$DURATION" -n && check_sums after-recovery tpcb-like
fi
stop_server

echo
echo "== summary"
{
  echo "run|script|mode|clients|seconds|tps|failed"
  printf '%s\n' "${SUMMARY[@]}"
} | awk -F'|' '{printf "%-20s %-14s %-9s %7s %7s %8s %6s\n", $1, $2, $3, $4, $5, $6, $7}'
if [ "$FAILURES" -ne 0 ]; then
  echo "pgbench.sh: $FAILURES check(s) failed" >&2
  exit 1
fi
echo "pgbench.sh: all checks passed"
