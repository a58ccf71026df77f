#!/usr/bin/env bash
# stop_postgres.sh - stop the PostgreSQL that start_postgres.sh started (by its postmaster PID) and remove its data.
set -uo pipefail
PG_CI_DIR=${PG_CI_DIR:-${TMPDIR:-/tmp}/cpt-pg-ci}
f=$PG_CI_DIR/data/postmaster.pid
[ -f "$f" ] || { echo "no postgres pid file" >&2; exit 0; }
pid=$(head -1 "$f")
kill -INT "$pid" 2>/dev/null   # PostgreSQL's "fast" shutdown
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$pid" 2>/dev/null && { echo "postgres $pid did not stop; SIGKILL" >&2; kill -KILL "$pid"; }
rm -rf "$PG_CI_DIR"
echo "postgres (pid $pid) stopped" >&2
