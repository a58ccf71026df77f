"""Data stages and training on a real single-node Slurm (started by ``.ci/cluster/with_clusters.sh``).

Each test submits real jobs through ``sbatch`` and waits for them: a 4-task curate stage keeps what
the local executor keeps, a failed rank is reported with its log and a rerun resubmits only it, a
2-rank training job equals the local 2-rank run, and a preempted job checkpoints, requeues and
resumes to the same loss curve as an uninterrupted run."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cluster_inputs import curate_args, four_shard_input, kept_documents, require_slurm  # noqa: E402
from conftest import run_cpt  # noqa: E402
from train_runner import MEGATRON_NOISE, TRAIN, read_metrics, train_tiny, untimed, write_corpus  # noqa: E402

from pipeline.config import ClusterConfig, SlurmConfig  # noqa: E402
from pipeline.errors import ConfigError  # noqa: E402

pytestmark = [pytest.mark.slurm, *[pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE]]
SLURM = ["cluster=slurm", "cluster.slurm.poll_interval_s=0.5"]
TRAIN_ON_SLURM = ClusterConfig(executor="slurm", slurm=SlurmConfig(gpus_per_node=0, train_cpus_per_rank=1,
                                                                    poll_interval_s=0.5))


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    require_slurm()
    return four_shard_input(tmp_path_factory.mktemp("input"))


@pytest.fixture(scope="module")
def local_kept(shards, tmp_path_factory) -> set:
    proc = run_cpt(*curate_args(shards), cwd=tmp_path_factory.mktemp("local"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return kept_documents(proc.stdout)


def test_curate_on_slurm_with_4_tasks_keeps_what_local_keeps(shards, local_kept, tmp_path):
    proc = run_cpt(*curate_args(shards, *SLURM), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[curate] 4/4 tasks done" in proc.stderr  # cpt waited, with a progress line
    assert kept_documents(proc.stdout) == local_kept and local_kept
    curate_dir = Path(proc.stdout.strip().split(": ", 1)[1])
    record = json.loads((curate_dir / "logs" / "cluster_job.json").read_text())
    assert record["executor"] == "slurm" and record["submissions"][-1]["ranks"] == [0, 1, 2, 3]
    script = (curate_dir / "logs" / "launch_script.slurm").read_text()
    assert "#SBATCH --signal=USR1@120" in script and "#SBATCH --requeue" in script
    status = run_cpt("status", cwd=tmp_path)
    assert "4/4 done, 0 running, 0 pending, 0 failed (slurm job" in status.stdout
    again = run_cpt(*curate_args(shards), cwd=tmp_path)  # the executor is not in the fingerprint
    assert again.returncode == 0 and "[curate] cache hit" in again.stderr


def test_failed_rank_is_reported_with_its_log_and_a_rerun_runs_only_it(shards, local_kept, tmp_path):
    assert run_cpt("extract", *curate_args(shards, *SLURM)[1:], cwd=tmp_path).returncode == 0
    failed = run_cpt(*curate_args(shards, *SLURM), cwd=tmp_path, env={"CPT_FAULT_FAIL_RANK": "logs:2"})
    assert failed.returncode == 2, failed.stderr[-3000:]
    line = failed.stderr.strip().splitlines()[-1]
    assert line.startswith("cpt: error: curate: 1 of 4 Slurm task(s) failed: rank 2 (log "), line
    log = Path(line.split("(log ", 1)[1].split(";")[0].split(")")[0])
    assert log.is_file() and "injected failure of rank 2" in log.read_text()
    status = run_cpt("status", cwd=tmp_path).stdout
    assert "3/4 done, 0 running, 0 pending, 1 failed" in status and f"failed rank 2: {log}" in status

    rerun = run_cpt(*curate_args(shards, *SLURM), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "[curate] 1/1 tasks done" in rerun.stderr
    curate_dir = Path(rerun.stdout.strip().split(": ", 1)[1])
    record = json.loads((curate_dir / "logs" / "cluster_job.json").read_text())
    assert [s["ranks"] for s in record["submissions"]] == [[0, 1, 2, 3], [2]]
    assert kept_documents(rerun.stdout) == local_kept


@pytest.mark.parametrize("override, message", [
    ("cluster.slurm.partition=gpu-huge", "unknown partition 'gpu-huge' (available: debug, short)"),
    ("cluster.slurm.partition=short cluster.slurm.time=01:00:00",
     "'cluster.slurm.time': 01:00:00 is over partition 'short''s MaxTime 00:10:00"),
    ("cluster.slurm.cpus_per_task=4096", "no node in partition 'debug' satisfies the request"),
    ("cluster.slurm.venv=/nonexistent/venv", "/nonexistent/venv/bin/activate does not exist"),
    ("cluster.slurm.container_image=/nonexistent/cpt.sqsh", "/nonexistent/cpt.sqsh does not exist"),
    ("cluster.slurm.time=soon", "'soon' is not a Slurm time"),
    ("cluster.executor=kubernetes", "cluster.executor"),
])
def test_bad_submissions_are_one_line_errors_before_anything_is_queued(shards, tmp_path, override, message):
    queued = lambda: set(subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True).stdout.split())  # noqa: E731
    before = queued()
    proc = run_cpt(*curate_args(shards, *SLURM, *override.split()), cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("cpt: error: ") and message in lines[-1], proc.stderr[-2000:]
    assert not list(tmp_path.rglob("slurm_logs")) and not list(tmp_path.rglob("cluster_job.json"))
    assert not queued() - before  # nothing new was queued (an earlier test's job may still be leaving)


CFG = replace(TRAIN, train_iters=8, micro_batch_size=2, global_batch_size=8, log_interval=1, eval_interval=4,
              nproc_per_node=2)


def test_two_rank_training_job_through_sbatch_equals_the_local_two_rank_run(corpus_root, tmp_path):
    require_slurm()
    corpus = write_corpus(corpus_root)
    on_slurm = train_tiny(corpus, tmp_path / "slurm", train_cfg=CFG, cluster=TRAIN_ON_SLURM)
    local = train_tiny(corpus, tmp_path / "local", train_cfg=CFG)
    assert on_slurm["data_parallel_size"] == 2 and on_slurm["iterations"] == 8
    assert untimed(read_metrics(tmp_path / "slurm")) == untimed(read_metrics(tmp_path / "local"))
    job = json.loads((tmp_path / "slurm" / "slurm" / "job.json").read_text())
    assert job["state"] == "COMPLETED" and job["world_size"] == 2 and Path(job["log"]).is_file()
    script = (tmp_path / "slurm" / "slurm" / "train.sbatch").read_text()
    assert "#SBATCH --ntasks-per-node=2" in script and "srun" in script and "--signal=USR1@120" in script


def _preempt_once_training_has_started(out: Path) -> None:
    """Send SIGUSR1 to the job's ranks (as Slurm does before the time limit), then shorten Slurm's
    hold on the requeued job (BeginTime, two minutes) so the test does not sit through it."""
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            job = json.loads((out / "slurm" / "job.json").read_text())["job_id"]
            if any(json.loads(x)["kind"] == "train" for x in (out / "metrics.jsonl").read_text().splitlines()):
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    subprocess.run(["scancel", "--signal=USR1", job], check=True)
    while time.time() < deadline:
        info = subprocess.run(["scontrol", "show", "job", "-o", job], capture_output=True, text=True).stdout
        if "Restarts=1" in info and "JobState=PENDING" in info:
            # not at once: slurmd refuses a credential issued in the second it revoked the old one
            time.sleep(3)
            subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], check=True)
            return
        time.sleep(0.2)


def test_preempted_job_checkpoints_requeues_and_resumes_bitwise(corpus_root, tmp_path):
    require_slurm()
    corpus = write_corpus(corpus_root)
    cfg = replace(CFG, train_iters=40, log_interval=5, eval_interval=20)
    out = tmp_path / "run"
    preempt = threading.Thread(target=_preempt_once_training_has_started, args=(out,), daemon=True)
    preempt.start()
    resumed = train_tiny(corpus, out, train_cfg=cfg, cluster=TRAIN_ON_SLURM)
    preempt.join(timeout=5)
    straight = train_tiny(corpus, tmp_path / "straight", train_cfg=cfg)
    job = json.loads((out / "slurm" / "job.json").read_text())
    assert job["restarts"] == 1 and job["state"] == "COMPLETED"
    assert resumed["resumed"] and 0 < resumed["start_iteration"] < cfg.train_iters
    log = Path(job["log"]).read_text()
    assert "requeueing job" in log and "attempt 2" in log
    assert untimed(read_metrics(out)) == untimed(read_metrics(tmp_path / "straight"))
    assert straight["iterations"] == resumed["iterations"] == cfg.train_iters


def test_training_rank_count_must_match_gpus_per_node(corpus_root, tmp_path):
    require_slurm()
    corpus = write_corpus(corpus_root)
    cluster = ClusterConfig(executor="slurm", slurm=SlurmConfig(gpus_per_node=8))
    with pytest.raises(ConfigError, match="one rank per GPU"):
        train_tiny(corpus, tmp_path / "run", train_cfg=CFG, cluster=cluster)
    assert not (tmp_path / "run" / "slurm").exists()


def test_filter_sweep_as_slurm_jobs_through_hydras_submitit_launcher(shards, tmp_path):
    """``cpt curate -m hydra/launcher=submitit_slurm ...``: one Slurm job per sweep point; cpt blocks
    until all have finished. The jobs share the extract stage (one runs it, the other waits: a cache hit)."""
    proc = run_cpt(*curate_args(shards), "-m", "hydra/launcher=submitit_slurm", "hydra.launcher.partition=debug",
                   "hydra.launcher.timeout_min=10", "hydra.launcher.cpus_per_task=2", "hydra.launcher.mem_gb=2",
                   "recipe.filters.gopher_quality.min_stop_words=1,3", cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifests = [json.loads(p.read_text()) for p in (tmp_path / "work" / "curate").glob("*/manifest.json")]
    assert len(manifests) == 2 and all(m["status"] == "completed" for m in manifests)
    assert {m["config"]["gopher_quality"]["min_stop_words"] for m in manifests} == {1, 3}
    assert len(list((tmp_path / "work" / "extract").glob("*/manifest.json"))) == 1
    assert list((tmp_path / "work" / "multirun").rglob(".submitit/*/*_result.pkl"))


def test_doctor_runs_the_submission_checks_without_submitting(tmp_path):
    require_slurm()
    good = run_cpt("doctor", "cluster=slurm", cwd=tmp_path).stdout
    assert "[ok  ] Slurm: partition 'debug' takes the data stages' tasks" in good
    bad = run_cpt("doctor", "cluster=slurm", "cluster.slurm.partition=nope", cwd=tmp_path)
    assert bad.returncode == 1
    assert "[FAIL] Slurm: invalid value for 'cluster.slurm.partition': unknown partition 'nope'" in bad.stdout
