"""A datatrove job on this machine: datatrove's local executor, quieter on stderr, with the fault
injection the crash/resume tests use. The Slurm and Ray counterparts are :mod:`pipeline.launch.slurm_data`
and :mod:`pipeline.launch.ray_data`; :mod:`pipeline.launch.executors` chooses among them.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor

from pipeline import events
from pipeline.errors import CptError
from pipeline.executor import Job, merged_stats
from pipeline.launch.task_state import maybe_fail_rank

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
        dt_logging.setup_default_logger = quiet_main_logger  # what close_task_logger restores
        runner = maybe_fail_rank(_counting_documents(self, rank), rank)
        return super(QuietLocalExecutor, runner)._run_for_rank(rank, local_rank)

    def mark_rank_as_completed(self, rank: int):
        super().mark_rank_as_completed(rank)
        logging_dir = Path(self.logging_dir.path)
        done = len(list((logging_dir / "completions").iterdir()))
        events.emit("progress", metric="tasks", step=done, total=self.world_size)  # tasks of the running stage
        _maybe_inject_kill(logging_dir)


def _counting_documents(executor: QuietLocalExecutor, rank: int) -> QuietLocalExecutor:
    """With the service's events file set, a copy of ``executor`` for this task whose pipeline counts the
    documents its reader (first step) yields: a ``progress`` event with ``metric="documents"`` at most
    once a second and once at the end. A plain function, not a step: it adds no stats, so the merged
    stats, the outputs and the stage's fingerprint stay the same. Otherwise ``executor`` itself."""
    from datatrove.pipeline.readers.base import BaseReader

    pipeline = executor.pipeline
    if not os.environ.get(events.EVENTS_FILE_ENV) or not pipeline or not isinstance(pipeline[0], BaseReader):
        return executor

    def count_documents(data, rank: int = 0, world_size: int = 1):
        n, last = 0, time.monotonic()
        try:
            for document in data:
                n += 1
                if not n & 255 and time.monotonic() - last >= 1.0:  # the clock every 256 documents only
                    last = time.monotonic()
                    events.emit("progress", metric="documents", task=rank, documents=n)
                yield document
        finally:
            events.emit("progress", metric="documents", task=rank, documents=n)

    counting = copy.copy(executor)  # this task's pipeline only; the executor's own list stays as it is
    counting.pipeline = [pipeline[0], count_documents, *pipeline[1:]]
    return counting


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


def quiet_main_logger() -> None:
    from datatrove.utils.logging import logger

    logger.remove()
    logger.add(sys.stderr, level=STDERR_LEVEL, format="datatrove {level}: {message}")


def run_local(job: Job) -> list[dict]:
    """datatrove's LocalPipelineExecutor, ``job.workers`` tasks at a time; the merged stats."""
    quiet_main_logger()
    executor = QuietLocalExecutor(pipeline=job.pipeline, tasks=job.tasks, workers=min(job.workers, job.tasks),
                                  logging_dir=str(job.logging_dir))
    try:
        executor.run()
    except Exception as exc:  # a task raised: say which stage and where its logs are
        raise CptError(f"{job.what} failed: {type(exc).__name__}: {exc} (task logs in {job.logging_dir}/logs)") from exc
    incomplete = executor.get_incomplete_ranks(range(job.tasks))
    if incomplete:
        raise CptError(f"{job.what}: tasks {incomplete} did not complete (task logs in {job.logging_dir}/logs)")
    return merged_stats(job.logging_dir, job.tasks)
