"""Shared by the Slurm and Ray tests: the scheduler must be up (``make test`` starts both through
``.ci/cluster/with_clusters.sh``), and a 4-file Parquet input so a stage has 4 datatrove tasks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import run_cpt

START_HINT = ("start the local cluster first: `make test` does, or `bash .ci/cluster/with_clusters.sh "
              ".venv/bin/python -m pytest tests/test_cluster_slurm.py` (root: it installs Slurm with apt)")


def require_slurm(wait_s: float = 120.0) -> None:
    """Fail (not skip) when no Slurm controller answers: these tests are part of the suite.

    A node still "completing" the previous test's jobs is waited for (up to ``wait_s``), not failed on:
    slurmd takes a few seconds to reap a job's steps, longer on a loaded 2-core runner."""
    if shutil.which("sinfo") is None:
        pytest.fail(f"Slurm's `sinfo` is not on PATH; {START_HINT}")
    deadline = time.monotonic() + wait_s
    while True:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
        if proc.returncode == 0 and any(s in proc.stdout for s in ("idle", "mixed", "allocated")):
            return
        if proc.returncode != 0 or time.monotonic() > deadline:
            pytest.fail(f"no idle Slurm node ({proc.stderr.strip() or proc.stdout.strip()}); {START_HINT}")
        time.sleep(2)


def ray_address() -> str:
    address = os.environ.get("CPT_TEST_RAY_ADDRESS")
    if not address:
        pytest.fail(f"CPT_TEST_RAY_ADDRESS is not set (no Ray head); {START_HINT}")
    return address


def four_shard_input(root: Path) -> Path:
    """The embedded sample's extracted pages (cpt extract, local), re-sharded into 4 Parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shards = root / "shards"
    if (shards / "3.parquet").is_file():
        return shards
    root.mkdir(parents=True, exist_ok=True)
    proc = run_cpt("extract", cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    extract_dir = Path(proc.stdout.strip().split(": ", 1)[1])
    table = pa.concat_tables([pq.read_table(f) for f in sorted((extract_dir / "text").glob("*.parquet"))])
    rows = table.to_pylist()
    shards.mkdir()
    for i in range(4):
        part = rows[i::4]
        pq.write_table(pa.Table.from_pylist([{"id": r["id"], "text": r["text"],
                                              "url": (r.get("metadata") or {}).get("url", "")} for r in part]),
                       shards / f"{i}.parquet")
    return shards


def curate_args(shards: Path, *extra: str) -> list[str]:
    return ["curate", f"curate.input.paths=[{shards}]", "curate.input.format=parquet", "curate.input.dump=CC-TEST",
            "curate.tasks=4", "curate.workers=2", *extra]


def kept_documents(stdout: str) -> set[tuple[str, str]]:
    import pyarrow.parquet as pq

    curate_dir = Path(stdout.strip().splitlines()[-1].split(": ", 1)[1])
    docs = set()
    for f in sorted((curate_dir / "docs").glob("*.parquet")):
        docs |= {(r["id"], r["text"]) for r in pq.read_table(f, columns=["id", "text"]).to_pylist()}
    return docs


def job_record(stage_dir: Path) -> dict:
    return json.loads((stage_dir / "logs" / "cluster_job.json").read_text())
