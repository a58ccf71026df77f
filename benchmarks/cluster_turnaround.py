"""Submission-to-done time of the 4-task curate stage on each executor (local, Slurm, Ray).

    bash .ci/cluster/with_clusters.sh .venv/bin/python benchmarks/cluster_turnaround.py [--repeats 3]

Input: the embedded sample's extracted pages re-sharded into 4 Parquet files (tests/cluster_inputs.py),
so every run has 4 datatrove tasks. For Slurm and Ray the figure runs from the submission recorded
in ``cluster_job.json`` to the last task's completion file; for local, from the start of the stage's
datatrove run to its last completion. The cpt process's whole wall time is printed beside it.
Needs a Slurm controller and a Ray head (``with_clusters.sh`` starts both on localhost).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from cluster_inputs import curate_args, four_shard_input  # noqa: E402
from conftest import run_cpt  # noqa: E402


def one_run(shards: Path, extra: list[str], work: Path) -> tuple[float, float]:
    t0 = time.time()
    proc = run_cpt(*curate_args(shards, *extra), cwd=work)
    wall = time.time() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    stage_dir = Path(proc.stdout.strip().split(": ", 1)[1])
    logs = stage_dir / "logs"
    record = logs / "cluster_job.json"
    if not record.is_file():  # local: the whole stage, as the registry timed it
        return json.loads((stage_dir / "manifest.json").read_text())["duration_s"], wall
    done = max(p.stat().st_mtime for p in (logs / "completions").iterdir())
    return done - json.loads(record.read_text())["submissions"][-1]["submitted_at"], wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ray = os.environ.get("CPT_TEST_RAY_ADDRESS", "127.0.0.1:6379")
    executors = {"local": [], "slurm": ["cluster=slurm", "cluster.slurm.poll_interval_s=0.5"],
                 "ray": ["cluster=ray", f"cluster.ray.address={ray}", "cluster.ray.mem_per_cpu_gb=1"]}
    with tempfile.TemporaryDirectory() as tmp:
        shards = four_shard_input(Path(tmp) / "input")
        print(f"4-task curate stage, input {shards} (embedded sample, 4 Parquet shards), {os.cpu_count()} CPUs")
        for name, extra in executors.items():
            stage, wall = [], []
            for i in range(args.repeats):
                work = Path(tmp) / f"{name}-{i}"
                work.mkdir()
                s, w = one_run(shards, extra, work)
                stage.append(s)
                wall.append(w)
            print(f"{name:<6} submission-to-done median {statistics.median(stage):6.1f}s "
                  f"(runs: {', '.join(f'{x:.1f}' for x in stage)}); cpt curate wall median {statistics.median(wall):6.1f}s")


if __name__ == "__main__":
    main()
