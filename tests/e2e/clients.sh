#!/usr/bin/env bash
# clients.sh — the client drivers' test programs (tests/clients/) against troupe.
#
#   tests/e2e/clients.sh          (after `cargo build --release`)
#
# Installs what is missing: psycopg2-binary, psycopg[binary] and asyncpg at pinned
# versions into a venv under target/clients-venv; node-postgres with `npm ci`; Debian's
# libpostgresql-jdbc-java if /usr/share/java/postgresql.jar is missing. Starts
# `troupe serve --in-memory --listen 127.0.0.1:0`, reads the printed port, runs every
# program against it, stops the server in an EXIT trap, and exits non-zero if any
# program failed (each prints what differed). Every program passes unchanged against
# PostgreSQL 15 too: `PORT=5432 tests/e2e/clients.sh` runs them against a server
# already listening on 127.0.0.1:PORT instead of starting troupe.
#
# Environment: TROUPE_BIN (target/release/troupe), PORT (see above), PYTHON (python3).
set -uo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
TROUPE_BIN="${TROUPE_BIN:-$root/target/release/troupe}"
clients="$root/tests/clients"
venv="$root/target/clients-venv"
PYTHON="${PYTHON:-python3}"
JAR=/usr/share/java/postgresql.jar
WORK="$(mktemp -d /tmp/troupe-clients.XXXXXX)"
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- install what is missing -------------------------------------------------------
pins=(psycopg2-binary==2.9.13 "psycopg[binary]==3.3.9" asyncpg==0.32.0)
if ! "$venv/bin/python" -c "import psycopg2, psycopg, asyncpg" 2>/dev/null; then
  echo "clients.sh: installing ${pins[*]} into $venv"
  "$PYTHON" -m venv "$venv" && "$venv/bin/pip" install -q "${pins[@]}" \
    || { echo "clients.sh: pip install failed" >&2; exit 2; }
fi
if [ ! -d "$clients/node_modules/pg" ]; then
  (cd "$clients" && npm ci --no-audit --no-fund --silent) \
    || { echo "clients.sh: npm ci failed" >&2; exit 2; }
fi
if [ ! -f "$JAR" ]; then
  as_root apt-get update -qq && as_root apt-get install -y -qq libpostgresql-jdbc-java >/dev/null \
    || { echo "clients.sh: apt-get install libpostgresql-jdbc-java failed" >&2; exit 2; }
fi
for tool in node java javac; do
  command -v "$tool" >/dev/null || { echo "clients.sh: $tool not found" >&2; exit 2; }
done
javac -d "$WORK/jdbc" -cp "$JAR" "$clients/JdbcTest.java" \
  || { echo "clients.sh: javac failed" >&2; exit 2; }

# --- the server ---------------------------------------------------------------------
if [ -z "${PORT:-}" ]; then
  [ -x "$TROUPE_BIN" ] || { echo "clients.sh: no server binary at $TROUPE_BIN (cargo build --release)" >&2; exit 2; }
  "$TROUPE_BIN" serve --in-memory --listen 127.0.0.1:0 >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^troupe listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.out" | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$PORT" ] || { echo "clients.sh: the server did not start" >&2; cat "$WORK/server.err" >&2; exit 1; }
fi
echo "clients.sh: server on 127.0.0.1:$PORT"

# --- the programs -------------------------------------------------------------------
passed=0
failed=()
run() { # name command...
  local name=$1; shift
  echo "--- $name"
  if timeout 300 "$@"; then passed=$((passed + 1)); else failed+=("$name"); echo "FAIL: $name" >&2; fi
}
run psycopg2 "$venv/bin/python" "$clients/psycopg2_test.py" "$PORT"
run psycopg3 "$venv/bin/python" "$clients/psycopg3_test.py" "$PORT"
run asyncpg "$venv/bin/python" "$clients/asyncpg_test.py" "$PORT"
run node-postgres node "$clients/node_pg_test.js" "$PORT"
run jdbc java -cp "$JAR:$WORK/jdbc" JdbcTest "$PORT"

echo "clients: ${passed} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ] || { echo "clients.sh: failed: ${failed[*]}" >&2; exit 1; }
