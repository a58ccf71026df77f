"""Run a datatrove pipeline on the configured executor and read back its per-step stats."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import CptError


def run_local(pipeline: list, *, logging_dir: Path, tasks: int, workers: int, what: str) -> list[dict]:
    """Run with datatrove's LocalPipelineExecutor. Completed tasks in ``logging_dir`` are skipped
    on a rerun (resume). Returns the merged per-step stats (``stats.json``)."""
    from datatrove.executor import LocalPipelineExecutor

    executor = LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=min(workers, tasks),
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
