#!/usr/bin/env bash
# index-compare.sh — pgbench select-only through troupe with the learned index in the
# partitions against troupe with the BTreeMap, side by side in one sitting (the
# end-to-end measurement of the learned-index issue).
#
#   benches/index-compare.sh [--port PORT]
#
# Starts two in-memory release servers, `--index learned` on 127.0.0.1:PORT and
# `--index btree` on PORT+1 (PORT defaults to 6000), loads each with
# `pgbench -i -s $SCALE -q`, then runs `pgbench -b select-only -M prepared -c $CLIENTS
# -j $JOBS -T $DURATION` against them alternately (learned, btree, learned, btree …), so
# that drift of the shared machine hits both, and stops both servers at the end.
# Builds the release binary first (`cargo build --release --bin troupe`).
#
# Environment: SCALE (100: 10M accounts), DURATION (s per run, 20), REPEATS (2),
#              CLIENTS (8), JOBS (2), WORK (a new temp dir, kept: logs and outputs),
#              A and B: the two servers compared, each `name:serve arguments`
#              (defaults `learned:--index learned` and `btree:--index btree`). The
#              partition comparison of the README is
#              A="split:--partition-keys 1048576" B="whole:--partition-keys 1000000000".
# Output: the load time of each server, one row per run, then the medians and the ratio
# A/B.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
PORT=6000
while [ $# -gt 0 ]; do case "$1" in --port) PORT="$2"; shift 2;; *) echo "usage: index-compare.sh [--port PORT]" >&2; exit 2;; esac; done
SCALE="${SCALE:-100}"; DURATION="${DURATION:-20}"; REPEATS="${REPEATS:-2}"
CLIENTS="${CLIENTS:-8}"; JOBS="${JOBS:-2}"
A="${A:-learned:--index learned}"; B="${B:-btree:--index btree}"
an="${A%%:*}"; bn="${B%%:*}"
WORK="${WORK:-$(mktemp -d /tmp/index-compare.XXXXXX)}"; mkdir -p "$WORK"
(cd "$root" && cargo build --release --bin troupe -q) || exit 1
bin="$root/target/release/troupe"

pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; }
trap stop_all EXIT

start() { # name port args...
  local name=$1 port=$2; shift 2
  # shellcheck disable=SC2068 # the arguments are words on purpose
  "$bin" serve --in-memory $@ --listen "127.0.0.1:$port" >"$WORK/server-$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -qs "listening" "$WORK/server-$name.log" && return 0
    sleep 0.1
  done
  echo "# troupe $name did not start:"; tail -5 "$WORK/server-$name.log"; return 1
}

load() { # index port
  local t0 t1
  t0=$(date +%s.%N)
  if ! pgbench -h 127.0.0.1 -p "$2" -U postgres -i -s "$SCALE" -q postgres >"$WORK/init-$1.out" 2>&1; then
    echo "# pgbench -i failed on $1:"; tail -5 "$WORK/init-$1.out"; return 1
  fi
  t1=$(date +%s.%N)
  echo "# load $1: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", b-a}') s (pgbench -i -s $SCALE -q)"
}

run() { # index port repeat -> tps
  local out="$WORK/run-$1-$3.out"
  pgbench -h 127.0.0.1 -p "$2" -U postgres -b select-only -M prepared -c "$CLIENTS" -j "$JOBS" \
    -T "$DURATION" postgres >"$out" 2>&1
  awk '/^tps = /{print $3; exit}' "$out"
}
median() { sort -g | awk '{a[NR]=$1} END{if(NR==0){print "NA"; exit} if(NR%2){print a[(NR+1)/2]} else {printf "%.1f\n",(a[NR/2]+a[NR/2+1])/2}}'; }

# shellcheck disable=SC2086
start "$an" "$PORT" ${A#*:} || exit 1
# shellcheck disable=SC2086
start "$bn" "$((PORT + 1))" ${B#*:} || exit 1
load "$an" "$PORT" || exit 1
load "$bn" "$((PORT + 1))" || exit 1

echo "run|${an}_tps|${bn}_tps"
lt=(); bt=()
for r in $(seq 1 "$REPEATS"); do
  a=$(run "$an" "$PORT" "$r"); b=$(run "$bn" "$((PORT + 1))" "$r")
  lt+=("${a:-0}"); bt+=("${b:-0}")
  echo "$r|${a:-failed}|${b:-failed}"
done
ml=$(printf '%s\n' "${lt[@]}" | median); mb=$(printf '%s\n' "${bt[@]}" | median)
echo "median|$ml|$mb"
echo "# $an/$bn: $(awk -v a="$ml" -v b="$mb" 'BEGIN{ if (b>0) printf "%.3f", a/b; else print "NA" }')"
echo "# outputs in $WORK"
