"""A datatrove pipeline as a Slurm job array, through datatrove's own ``SlurmPipelineExecutor``.

What cpt adds around it:

* submission-time checks (:mod:`pipeline.launch.slurm_preflight`);
* ``--signal=USR1@<cluster.slurm.signal_before_end_s>`` and ``--requeue``: datatrove installs a
  SIGUSR1 handler in every task that requeues it, but emits no ``--signal``, so Slurm never sends one.
  Without ``B:`` Slurm signals the job steps, i.e. the task that ``srun`` started;
* waiting: datatrove's ``run()`` returns once submitted; this polls ``completions/`` and ``squeue``
  and prints a progress line, and turns ranks that left the queue without completing into one
  error naming each rank's log;
* resume: datatrove submits only the ranks without a completion; a job that is still queued from an
  earlier cpt process (killed while waiting) is waited for instead of being submitted twice;
* chains: :func:`run_chain_on_slurm` submits runs that read each other's output at once, each array
  ``--dependency=afterok`` on the one before (datatrove's ``depends``);
* no merge-stats job: cpt sums the per-task stats itself, so a failed rank leaves nothing pending.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from datatrove.executor.slurm import SlurmPipelineExecutor

from pipeline import events
from pipeline.config import SlurmConfig
from pipeline.errors import CptError
from pipeline.launch import slurm_cli, slurm_preflight
from pipeline.launch.task_state import (ProgressLine, append_submission, completed_ranks, last_error_line,
                                        maybe_fail_rank, read_record)

LOGS = "slurm_logs"


class JobIdRecorder:
    """datatrove's ``job_id_retriever`` that also remembers every id (more tasks than
    ``max_array_size`` means several array jobs; datatrove keeps only the last)."""

    def __init__(self):
        self.ids: list[str] = []

    def __call__(self, sbatch_output: str) -> str:
        job_id = sbatch_output.split()[-1]
        self.ids.append(job_id)
        return job_id


class CptSlurmExecutor(SlurmPipelineExecutor):
    def launch_merge_stats(self):  # cpt merges stats/<rank>.json itself
        pass

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        return super(CptSlurmExecutor, maybe_fail_rank(self, rank))._run_for_rank(rank, local_rank, node_rank)


def sbatch_args(cfg: SlurmConfig) -> dict:
    args = {"signal": f"USR1@{cfg.signal_before_end_s}", "open-mode": "append"}
    if cfg.account:
        args["account"] = cfg.account
    return {**args, **{str(k): str(v) for k, v in cfg.sbatch_args.items()}}


def build_executor(pipeline: list, *, logging_dir: Path, tasks: int, what: str, cfg: SlurmConfig,
                   partition: str) -> tuple[CptSlurmExecutor, JobIdRecorder]:
    recorder = JobIdRecorder()
    container = {"container-image": cfg.container_image} if cfg.container_image else {}
    if cfg.container_image and cfg.container_mounts:
        container["container-mounts"] = cfg.container_mounts
    executor = CptSlurmExecutor(
        pipeline=pipeline, tasks=tasks, time=cfg.time, partition=partition, cpus_per_task=cfg.cpus_per_task,
        mem_per_cpu_gb=cfg.mem_per_cpu_gb, workers=cfg.max_parallel_tasks, job_name=f"cpt-{what.replace(' ', '-')}",
        qos=cfg.qos or None, venv_path=slurm_preflight.venv_activate(cfg), sbatch_args=sbatch_args(cfg),
        max_array_size=cfg.max_array_size, logging_dir=str(logging_dir),
        slurm_logs_folder=str(Path(logging_dir) / LOGS), job_id_retriever=recorder, requeue=True,
        requeue_signals=("SIGUSR1",), srun_args=container or None, mail_type="NONE")
    return executor, recorder


def run_on_slurm(pipeline: list, *, logging_dir: Path, tasks: int, what: str, cfg: SlurmConfig) -> None:
    """Submit the incomplete ranks (or find the job still running them), wait, raise on failed ranks."""
    submission = submit(pipeline, logging_dir=Path(logging_dir), tasks=tasks, what=what, cfg=cfg)
    if submission is not None:
        wait(Path(logging_dir), tasks=tasks, what=what, submission=submission, poll_s=cfg.poll_interval_s)


def run_chain_on_slurm(jobs: list, *, cfg: SlurmConfig) -> None:
    """Submit every run of the chain up front, each array depending (afterok) on the one before; wait
    for them in order. When one fails, the rest are cancelled (they could never start)."""
    submissions, after = [], None
    for job in jobs:
        sub = submit(job.pipeline, logging_dir=Path(job.logging_dir), tasks=job.tasks, what=job.what, cfg=cfg,
                     depends_job_id=after)
        submissions.append(sub)
        if sub is not None:
            after = ":".join(sub["job_ids"])
    for i, (job, sub) in enumerate(zip(jobs, submissions)):
        if sub is None:
            continue
        try:
            wait(Path(job.logging_dir), tasks=job.tasks, what=job.what, submission=sub, poll_s=cfg.poll_interval_s)
        except (CptError, KeyboardInterrupt):
            slurm_cli.cancel([j for later in submissions[i + 1:] if later for j in later["job_ids"]])
            raise


def submit(pipeline: list, *, logging_dir: Path, tasks: int, what: str, cfg: SlurmConfig,
           depends_job_id: str | None = None) -> dict | None:
    """The submission that will run this datatrove run's incomplete ranks: a new one, or one still
    queued from an earlier cpt process; None when every rank has completed."""
    if len(completed_ranks(logging_dir) & set(range(tasks))) == tasks:
        return None
    submission = _active_submission(logging_dir)
    if submission is not None:
        print(f"[{what}] waiting for Slurm job(s) {', '.join(submission['job_ids'])} submitted earlier",
              file=sys.stderr, flush=True)
        return {**submission, "attached": True}
    partition = slurm_preflight.check(cfg, slurm_preflight.Request(
        time=cfg.time, cpus=cfg.cpus_per_task, mem_mb=cfg.cpus_per_task * cfg.mem_per_cpu_gb * 1024))
    executor, recorder = build_executor(pipeline, logging_dir=logging_dir, tasks=tasks, what=what, cfg=cfg,
                                        partition=partition)
    executor.depends_job_id = depends_job_id
    executor.run()  # submits (datatrove: only the ranks without a completion) and returns
    ranks = json.loads((logging_dir / "ranks_to_run.json").read_text())
    submission = {"job_ids": recorder.ids, "ranks": ranks, "array_size": cfg.max_array_size,
                  "logs": str(logging_dir / LOGS), "after": depends_job_id}
    append_submission(logging_dir, executor="slurm", what=what, tasks=tasks, submission=submission)
    events.emit("slurm_submitted", what=what, job_ids=recorder.ids)
    return submission


def _active_submission(logging_dir: Path) -> dict | None:
    """The last submission, if it still has a task to run for a rank that has not completed. Its tasks
    for completed ranks may still be RUNNING (exiting) for a moment, and squeue lists ended tasks for a
    while: waiting on such a submission would report its old failures instead of resubmitting them."""
    record = read_record(logging_dir)
    if not record or record.get("executor") != "slurm" or not record["submissions"]:
        return None
    last = record["submissions"][-1]
    t = tally(Path(logging_dir), last)
    waiting = [r for r in t["running"] + t["pending"] if t["states"].get(r) in slurm_cli.NOT_STARTED_OR_RUNNING]
    return last if waiting else None


def task_log(submission: dict, rank: int) -> Path:
    """Slurm's log for the array task that ran ``rank`` in this submission."""
    index = submission["ranks"].index(rank)
    job = submission["job_ids"][min(index // submission["array_size"], len(submission["job_ids"]) - 1)]
    return Path(submission["logs"]) / f"{job}_{index % submission['array_size']}.out"


def tally(logging_dir: Path, submission: dict) -> dict:
    """Counts of this submission's ranks: done, running, pending, and the failed ranks (left the queue
    without a completion)."""
    done = completed_ranks(logging_dir)
    states = slurm_cli.queue_states(submission["job_ids"])
    in_queue = {}
    for key, state in states.items():
        job, _, index = key.partition("_")
        if index.isdigit() and job in submission["job_ids"]:
            k = submission["job_ids"].index(job) * submission["array_size"] + int(index)
            if k < len(submission["ranks"]):
                in_queue[submission["ranks"][k]] = state
    ranks = submission["ranks"]
    running = [r for r in ranks if r not in done and in_queue.get(r) in ("RUNNING", "COMPLETING")]
    pending = [r for r in ranks if r not in done and r in in_queue and r not in running]
    failed = [r for r in ranks if r not in done and r not in in_queue]
    return {"done": len([r for r in ranks if r in done]), "running": running, "pending": pending, "failed": failed,
            "queue_empty": not states, "states": in_queue}


def wait(logging_dir: Path, *, tasks: int, what: str, submission: dict, poll_s: float) -> None:
    progress = ProgressLine(what, len(submission["ranks"]), f"slurm job {','.join(submission['job_ids'])}")
    try:
        while True:
            t = tally(logging_dir, submission)
            progress.update(t["done"], len(t["running"]), len(t["pending"]))
            if t["queue_empty"] or (not t["running"] and not t["pending"]):
                t = tally(logging_dir, submission)  # completions written just before the task left the queue
                break
            time.sleep(poll_s)
    except KeyboardInterrupt:
        slurm_cli.cancel(submission["job_ids"])
        raise
    if t["failed"]:
        raise CptError(failure_message(logging_dir, what, tasks, submission, t["failed"]))


def failure_message(logging_dir: Path, what: str, tasks: int, submission: dict, failed: list[int]) -> str:
    parts = []
    for rank in failed[:5]:
        log = task_log(submission, rank)
        err = last_error_line(log) or last_error_line(Path(logging_dir) / "logs" / f"task_{rank:05d}.log")
        parts.append(f"rank {rank} (log {log}{'; ' + err if err else ''})")
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    return (f"{what}: {len(failed)} of {tasks} Slurm task(s) failed: {'; '.join(parts)}{more}. "
            f"Rerun the same command to resubmit only the failed ranks")
