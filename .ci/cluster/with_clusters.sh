#!/usr/bin/env bash
# with_clusters.sh CMD...: run CMD with a throw-away single-node Slurm, a Ray head and a PostgreSQL on
# localhost (the cluster and service tests use them), then stop all three by PID, whatever CMD did.
#   CPT_CLUSTERS=0   run CMD without starting anything (the slurm/ray tests then fail, saying why)
# Slurm needs root (it installs munge + slurm with apt when missing); Ray runs from the project venv.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ "${CPT_CLUSTERS:-1}" = 0 ]; then exec "$@"; fi
export SLURM_CI_DIR=${SLURM_CI_DIR:-${TMPDIR:-/tmp}/cpt-slurm-ci}
export RAY_CI_DIR=${RAY_CI_DIR:-${TMPDIR:-/tmp}/cpt-ray-ci}
# advertise more CPUs than the machine has: the 4-task stage and 2-rank training run side by side
export SLURM_CI_CPUS=${SLURM_CI_CPUS:-8}
export RAY_CI_CPUS=${RAY_CI_CPUS:-4}
export RAY_CI_BIN=${RAY_CI_BIN:-$root/.venv/bin/ray}
export RAY_AUTH_MODE=disabled
stop() {
    bash "$root/.ci/postgres/stop_postgres.sh" || true
    bash "$here/stop_ray.sh" || true
    bash "$here/stop_slurm.sh" || true
}
trap stop EXIT
t0=$(date +%s)
bash "$here/start_slurm.sh" || echo "with_clusters: Slurm did not start; the slurm tests will fail" >&2
bash "$here/start_ray.sh" || echo "with_clusters: Ray did not start; the ray tests will fail" >&2
export PG_CI_PORT=${PG_CI_PORT:-55432}
bash "$root/.ci/postgres/start_postgres.sh" \
    && export CPT_TEST_POSTGRES=postgresql://postgres@127.0.0.1:$PG_CI_PORT/postgres \
    || echo "with_clusters: PostgreSQL did not start; the postgresql service tests will fail" >&2
echo "with_clusters: daemons up in $(( $(date +%s) - t0 ))s" >&2
export CPT_TEST_RAY_ADDRESS=127.0.0.1:${RAY_CI_PORT:-6379}
export CPT_TEST_SLURM=1
"$@"
