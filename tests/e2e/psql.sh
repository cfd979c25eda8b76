#!/usr/bin/env bash
# psql.sh — psql 15 against troupe: connect, run the statements issue 2 names through
# psql's simple-query protocol, and compare psql's output with the expected transcript
# (tests/e2e/psql.expected, which is what PostgreSQL 15 prints for the same script).
#
#   tests/e2e/psql.sh          (after `cargo build --release`)
#
# Environment: TROUPE_BIN (target/release/troupe).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
TROUPE_BIN="${TROUPE_BIN:-$root/target/release/troupe}"
[ -x "$TROUPE_BIN" ] || { echo "psql.sh: no server binary at $TROUPE_BIN" >&2; exit 2; }
out=$(mktemp -d /tmp/troupe-psql.XXXXXX)
"$TROUPE_BIN" serve --listen 127.0.0.1:0 --in-memory >"$out/server.out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$out"' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/^troupe listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$out/server.out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "psql.sh: server did not start" >&2; cat "$out/server.out" >&2; exit 1; }
# troupe does not report error positions yet, so psql's `LINE n:` / caret lines are
# left out of the comparison (on both sides: psql.expected was filtered the same way).
cd "$root"
psql -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=0 -a \
  -f tests/e2e/psql.sql 2>&1 | grep -v -E '^LINE [0-9]+:|^ *\^$' >"$out/actual"
if diff -u "$root/tests/e2e/psql.expected" "$out/actual"; then
  echo "psql.sh: output matches ($(wc -l <"$out/actual") lines)"
else
  echo "psql.sh: output differs from tests/e2e/psql.expected" >&2
  exit 1
fi
