#!/usr/bin/env bash
# reference-pg.sh — a throwaway PostgreSQL 15 for tests, on 127.0.0.1, trust auth,
# fsync off (its data is thrown away). Used by .ci/run's `slt` step to check that the
# expectations in tests/slt/ are PostgreSQL's.
#
#   tests/e2e/reference-pg.sh start DIR [PORT]   initdb DIR (must not exist or be empty),
#                                                 start on PORT (default: a free port),
#                                                 wait until it answers, print the port
#   tests/e2e/reference-pg.sh stop DIR           fast shutdown (a no-op if not running)
#
# PostgreSQL refuses to run as root: as root the cluster runs as the user 'troupepg'
# (created if missing) and DIR is given to it. Needs the PostgreSQL server binaries
# (Debian: apt-get install postgresql-15; PG_BIN overrides where they are).
# PG_DURABLE=on turns fsync, synchronous_commit and full_page_writes on (benchmarks
# compare against a durable PostgreSQL); PG_SHARED_BUFFERS sets shared_buffers.
set -euo pipefail
BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin 2>/dev/null | head -1)}"
[ -x "$BIN/pg_ctl" ] || { echo "reference-pg: no PostgreSQL server binaries (apt-get install postgresql-15)" >&2; exit 2; }
PG_USER=troupepg
as_owner() { if [ "$(id -u)" = 0 ]; then su "$PG_USER" -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

cmd="${1:?usage: reference-pg.sh start DIR [PORT] | stop DIR}"
dir="${2:?usage: reference-pg.sh start DIR [PORT] | stop DIR}"
case "$cmd" in
  start)
    port="${3:-$(free_port)}"
    if [ "$(id -u)" = 0 ] && ! id "$PG_USER" >/dev/null 2>&1; then useradd -M -s /bin/bash "$PG_USER"; fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown "$PG_USER" "$dir"; chmod 700 "$dir"; fi
    as_owner "'$BIN/initdb' -D '$dir' -U postgres -A trust -E UTF8 --locale=C.UTF-8" >"$dir.initdb.log" 2>&1 \
      || { echo "reference-pg: initdb failed:" >&2; cat "$dir.initdb.log" >&2; exit 1; }
    cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = ${PG_DURABLE:-off}
synchronous_commit = ${PG_DURABLE:-off}
full_page_writes = ${PG_DURABLE:-off}
shared_buffers = ${PG_SHARED_BUFFERS:-128MB}
logging_collector = off
CONF
    as_owner "'$BIN/pg_ctl' -D '$dir' -l '$dir/server.log' -w -t 60 start >/dev/null" \
      || { echo "reference-pg: start failed:" >&2; cat "$dir/server.log" >&2; exit 1; }
    for _ in $(seq 1 60); do
      if as_owner "'$BIN/pg_isready' -h 127.0.0.1 -p $port -q"; then echo "$port"; exit 0; fi
      sleep 0.5
    done
    echo "reference-pg: server on port $port did not answer" >&2; exit 1 ;;
  stop)
    [ -f "$dir/postmaster.pid" ] || exit 0
    as_owner "'$BIN/pg_ctl' -D '$dir' -m fast -w stop >/dev/null" || true ;;
  *) echo "usage: reference-pg.sh start DIR [PORT] | stop DIR" >&2; exit 2 ;;
esac
