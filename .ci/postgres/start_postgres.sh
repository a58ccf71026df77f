#!/usr/bin/env bash
# start_postgres.sh - a throw-away PostgreSQL on 127.0.0.1 for the service tests, stoppable by PID.
# initdb into $PG_CI_DIR/data (trust auth, loopback only); prints the URL to export as CPT_TEST_POSTGRES.
# Runs the server as the `postgres` user when started as root (PostgreSQL refuses root).
#   PG_CI_DIR   data/socket/log dir  [$TMPDIR/cpt-pg-ci]
#   PG_CI_PORT  TCP port             [55432]
set -euo pipefail
PG_CI_DIR=${PG_CI_DIR:-${TMPDIR:-/tmp}/cpt-pg-ci}
PG_CI_PORT=${PG_CI_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] && ! command -v pg_ctl >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    else
        echo "start_postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1
    fi
fi
PATH=${bin:+$bin:}$PATH
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -f "$PG_CI_DIR/data/postmaster.pid" ] && kill -0 "$(head -1 "$PG_CI_DIR/data/postmaster.pid")" 2>/dev/null; then
    echo "postgres already running (pid $(head -1 "$PG_CI_DIR/data/postmaster.pid"))" >&2; exit 1
fi
rm -rf "$PG_CI_DIR"; mkdir -p "$PG_CI_DIR"
[ "$(id -u)" = 0 ] && chown postgres "$PG_CI_DIR"
t0=$(date +%s.%N)
as_pg initdb -D "$PG_CI_DIR/data" -A trust -U postgres --no-sync >"$PG_CI_DIR/initdb.log" 2>&1 || { cat "$PG_CI_DIR/initdb.log" >&2; exit 1; }
as_pg pg_ctl -D "$PG_CI_DIR/data" -l "$PG_CI_DIR/postgres.log" -w -t 60 \
    -o "-p $PG_CI_PORT -k $PG_CI_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$PG_CI_DIR/postgres.log" >&2; exit 1; }
echo "postgres up at 127.0.0.1:$PG_CI_PORT (pid $(head -1 "$PG_CI_DIR/data/postmaster.pid")) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s; export CPT_TEST_POSTGRES=postgresql://postgres@127.0.0.1:$PG_CI_PORT/postgres" >&2
