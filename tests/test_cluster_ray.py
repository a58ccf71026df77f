"""Data stages on a real Ray head (started by ``.ci/cluster/with_clusters.sh``) through datatrove's
RayPipelineExecutor: the 4-task curate stage keeps what the local executor keeps, and a failed task
is an error naming its rank and log (datatrove only warns), after which a rerun runs only that rank."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cluster_inputs import curate_args, four_shard_input, kept_documents, ray_address  # noqa: E402
from conftest import run_cpt  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_args() -> list[str]:
    return ["cluster=ray", f"cluster.ray.address={ray_address()}", "cluster.ray.mem_per_cpu_gb=1"]


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    return four_shard_input(tmp_path_factory.mktemp("input"))


@pytest.fixture(scope="module")
def local_kept(shards, tmp_path_factory) -> set:
    proc = run_cpt(*curate_args(shards), cwd=tmp_path_factory.mktemp("local"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return kept_documents(proc.stdout)


def test_curate_on_ray_with_4_tasks_keeps_what_local_keeps(shards, local_kept, ray_args, tmp_path):
    proc = run_cpt(*curate_args(shards, *ray_args), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[curate] 4 Ray task(s) done" in proc.stderr
    assert kept_documents(proc.stdout) == local_kept and local_kept
    curate_dir = Path(proc.stdout.strip().split(": ", 1)[1])
    record = json.loads((curate_dir / "logs" / "cluster_job.json").read_text())
    assert record["executor"] == "ray" and record["submissions"][-1]["ranks"] == [0, 1, 2, 3]
    assert "4/4 done" in run_cpt("status", cwd=tmp_path).stdout


def test_failed_ray_task_is_an_error_and_a_rerun_runs_only_it(shards, local_kept, ray_args, tmp_path):
    assert run_cpt("extract", *curate_args(shards, *ray_args)[1:], cwd=tmp_path).returncode == 0
    failed = run_cpt(*curate_args(shards, *ray_args), cwd=tmp_path, env={"CPT_FAULT_FAIL_RANK": "logs:1"})
    assert failed.returncode == 2, failed.stderr[-3000:]
    line = failed.stderr.strip().splitlines()[-1]
    assert line.startswith("cpt: error: curate: 1 of 4 Ray task(s) failed: rank 1 (log "), line
    log = Path(line.split("(log ", 1)[1].split(";")[0].split(")")[0])
    assert log.is_file() and "injected failure of rank 1" in log.read_text()
    assert f"failed rank 1: {log}" in run_cpt("status", cwd=tmp_path).stdout

    rerun = run_cpt(*curate_args(shards, *ray_args), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    curate_dir = Path(rerun.stdout.strip().split(": ", 1)[1])
    record = json.loads((curate_dir / "logs" / "cluster_job.json").read_text())
    assert [s["ranks"] for s in record["submissions"]] == [[0, 1, 2, 3], [1]]
    assert kept_documents(rerun.stdout) == local_kept
