"""A service job on the local Slurm (``make test`` starts it): the server SIGKILLed while the job's
stages run as Slurm arrays; on restart it re-attaches to the job, which waits on the same Slurm
jobs: every stage is submitted once, and the result equals a local run's."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cluster_inputs import curate_args, four_shard_input, require_slurm  # noqa: E402
from service_server import Server, database_for, events, job, submit, wait_for, wait_state  # noqa: E402

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def test_server_killed_while_a_slurm_stage_runs_reattaches_and_submits_nothing_twice(tmp_path):
    require_slurm()
    shards = four_shard_input(tmp_path / "input")
    workdir = tmp_path / "work"
    command, *overrides = curate_args(shards, "cluster=slurm", "cluster.slurm.poll_interval_s=0.5")
    url = database_for("sqlite", tmp_path)
    server = Server(workdir, f"service.data_roots=[{tmp_path / 'input'}]", "service.executors=[local,slurm]",
                    database=url).start()
    try:
        job_id = submit(server, command, overrides)
        wait_for(lambda: any(e["kind"] == "slurm_submitted" for e in events(server, job_id)), 300,
                 "the first stage's Slurm submission")
        server.kill()
        server = Server(workdir, database=url, *server.overrides)
        server.start()
        done = wait_state(server, job_id, timeout=600)
        assert done["state"] == "succeeded" and done["attempt"] == 1, done["error"]
        evs = events(server, job_id)
        assert "reattached" in [e["kind"] for e in evs]
        submitted = [e["data"] for e in evs if e["kind"] == "slurm_submitted"]
        whats = [s["what"] for s in submitted]
        assert len(whats) == len(set(whats)) == 2, submitted  # extract and curate, each once
        assert sorted(done["slurm_job_ids"]) == sorted(j for s in submitted for j in s["job_ids"])
        record = json.loads(next(workdir.glob("curate/*/logs/cluster_job.json")).read_text())
        assert len(record["submissions"]) == 1 and record["executor"] == "slurm"
        assert [s["status"] for s in job(server, job_id)["stages"]] == ["completed", "completed"]
    finally:
        server.stop()
