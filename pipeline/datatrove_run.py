"""Run a datatrove pipeline on the configured executor and read back its per-step stats."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor

from pipeline.errors import CptError

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
        return super()._run_for_rank(rank, local_rank)

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


def run_local(pipeline: list, *, logging_dir: Path, tasks: int, workers: int, what: str) -> list[dict]:
    """Run with datatrove's LocalPipelineExecutor. Completed tasks in ``logging_dir`` are skipped
    on a rerun (resume). Returns the merged per-step stats (``stats.json``)."""
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
    return merged_stats(logging_dir, tasks)


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
