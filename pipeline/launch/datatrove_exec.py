"""Run a datatrove pipeline on the configured executor and read back its per-step stats.

Every data stage calls :func:`run_pipeline`. Which executor runs it is the ``cluster`` config that
:func:`use_cluster` installs around a stage (the chain does): datatrove's local executor, a Slurm
job array (:mod:`pipeline.launch.slurm_data`) or Ray tasks (:mod:`pipeline.launch.ray_data`). All
three write the same ``completions/`` and ``stats/`` into the logging folder, so a rerun resumes
from the completed tasks whichever executor ran them, and the stats merge the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from datatrove.executor import LocalPipelineExecutor

from pipeline.config import ClusterConfig
from pipeline.errors import CptError
from pipeline.launch.task_state import maybe_fail_rank

_ACTIVE = ClusterConfig()

# datatrove logs every task at INFO on stderr; its full logs still go to <logging_dir>/logs/.
STDERR_LEVEL = os.environ.get("CPT_DATATROVE_LOG_LEVEL", "WARNING")


def _quiet_task_logger(logging_dir, rank: int, local_rank: int = 0, node_rank: int = -1):
    """Replacement for datatrove's ``add_task_logger``: the same task log file at DEBUG, stderr at
    ``STDERR_LEVEL`` only."""
    from datatrove.utils.logging import logger

    logger.remove()
    logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
    logger.add(sys.stderr, level=STDERR_LEVEL, format="datatrove {level}: {message}")
    logger.add(logfile, level="DEBUG", format="{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{line} - {message}")
    logger.info(f"Launching pipeline for {rank=}")
    return logfile


class QuietLocalExecutor(LocalPipelineExecutor):
    """datatrove's local executor, quieter on stderr. Tasks run in worker processes, so the logger
    is swapped there, per task."""

    def _run_for_rank(self, rank: int, local_rank: int = 0):
        import datatrove.executor.base as base
        import datatrove.utils.logging as dt_logging

        base.add_task_logger = _quiet_task_logger
        dt_logging.setup_default_logger = _quiet_main_logger  # what close_task_logger restores
        return super(QuietLocalExecutor, maybe_fail_rank(self, rank))._run_for_rank(rank, local_rank)

    def mark_rank_as_completed(self, rank: int):
        super().mark_rank_as_completed(rank)
        _maybe_inject_kill(Path(self.logging_dir.path))


FAULT_ENV = "CPT_FAULT_KILL_AFTER"


def _maybe_inject_kill(logging_dir: Path) -> None:
    """Fault injection for the crash/resume tests: with ``CPT_FAULT_KILL_AFTER=<dir name>:<n>``, the
    process SIGKILLs itself once ``n`` tasks of the run logged under ``<dir name>`` have completed."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    name, _, n = spec.rpartition(":")
    if logging_dir.name == name and len(list((logging_dir / "completions").iterdir())) >= int(n):
        import signal

        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _quiet_main_logger() -> None:
    from datatrove.utils.logging import logger

    logger.remove()
    logger.add(sys.stderr, level=STDERR_LEVEL, format="datatrove {level}: {message}")


@contextlib.contextmanager
def use_cluster(cluster: ClusterConfig) -> Iterator[None]:
    """``with use_cluster(cfg.cluster):`` data stages inside run on that executor."""
    global _ACTIVE
    previous, _ACTIVE = _ACTIVE, cluster
    try:
        yield
    finally:
        _ACTIVE = previous


def run_pipeline(pipeline: list, *, logging_dir: Path, tasks: int, workers: int, what: str) -> list[dict]:
    """Run on the active executor. Completed tasks in ``logging_dir`` are skipped on a rerun (resume).
    Returns the merged per-step stats."""
    _quiet_main_logger()
    if _ACTIVE.executor == "slurm":
        from pipeline.launch.slurm_data import run_on_slurm

        run_on_slurm(pipeline, logging_dir=logging_dir, tasks=tasks, what=what, cfg=_ACTIVE.slurm)
    elif _ACTIVE.executor == "ray":
        from pipeline.launch.ray_data import run_on_ray

        run_on_ray(pipeline, logging_dir=logging_dir, tasks=tasks, workers=workers, what=what, cfg=_ACTIVE.ray)
    else:
        run_local(pipeline, logging_dir=logging_dir, tasks=tasks, workers=workers, what=what)
    return merged_stats(logging_dir, tasks)


@dataclass
class Job:
    """One datatrove run: what :func:`run_pipeline` takes, for :func:`run_chain`."""

    pipeline: list
    logging_dir: Path
    tasks: int
    workers: int
    what: str


def run_chain(jobs: list[Job]) -> list[list[dict]]:
    """Datatrove runs that each read what the one before wrote. On Slurm they are submitted at once as
    a chain of job arrays (``--dependency=afterok``), so the scheduler starts each as soon as the one
    before is done; elsewhere they run one after another. Returns each run's merged stats."""
    if _ACTIVE.executor == "slurm":
        from pipeline.launch.slurm_data import run_chain_on_slurm

        _quiet_main_logger()
        run_chain_on_slurm(jobs, cfg=_ACTIVE.slurm)
        return [merged_stats(job.logging_dir, job.tasks) for job in jobs]
    return [run_pipeline(job.pipeline, logging_dir=job.logging_dir, tasks=job.tasks, workers=job.workers,
                         what=job.what) for job in jobs]


def run_local(pipeline: list, *, logging_dir: Path, tasks: int, workers: int, what: str) -> None:
    """datatrove's LocalPipelineExecutor, ``workers`` tasks at a time."""
    _quiet_main_logger()
    executor = QuietLocalExecutor(pipeline=pipeline, tasks=tasks, workers=min(workers, tasks),
                                  logging_dir=str(logging_dir))
    try:
        executor.run()
    except Exception as exc:  # a task raised: say which stage and where its logs are
        raise CptError(f"{what} failed: {type(exc).__name__}: {exc} (task logs in {logging_dir}/logs)") from exc
    incomplete = executor.get_incomplete_ranks(range(tasks))
    if incomplete:
        raise CptError(f"{what}: tasks {incomplete} did not complete (task logs in {logging_dir}/logs)")


def merged_stats(logging_dir: Path, tasks: int) -> list[dict]:
    """Sum the per-task stats files (also correct when some tasks completed in an earlier attempt)."""
    from datatrove.utils.stats import PipelineStats

    total = PipelineStats()
    for rank in range(tasks):
        path = logging_dir / "stats" / f"{rank:05d}.json"
        with open(path) as f:
            total += PipelineStats.from_json(json.load(f))
    return [step.to_dict() for step in total.stats]


def stat(step: dict, key: str) -> int:
    """A counter from a step's stats dict (datatrove stores counters as MetricStats dicts)."""
    value = step.get("stats", {}).get(key, 0)
    if isinstance(value, dict):
        return int(value.get("total", 0))
    return int(value)
