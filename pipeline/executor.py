"""What a stage asks of the place it runs on, and nothing of how: run a datatrove job, a chain of them,
or training ranks.

A stage receives an :class:`Executor` in its :class:`~pipeline.registry.StageContext` (the chain builds
it from ``cluster``: :func:`pipeline.launch.executors.executor_for`). So the local, Slurm and Ray code
is outside every stage's import closure, and where a stage ran is in no fingerprint. All executors
write the same ``completions/`` and ``stats/`` under a job's logging folder, so a rerun resumes from
the tasks that completed on any of them, and :func:`merged_stats` reads the result the same way.
A leaf module: it imports nothing from the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Protocol


@dataclass
class Job:
    """One datatrove run: its steps, the folder of its logs, completions and stats, and how wide."""

    pipeline: list
    logging_dir: Path
    tasks: int
    workers: int  # tasks at once on the local executor
    what: str  # the name errors and progress lines give it


class Executor(Protocol):
    def run(self, job: Job) -> list[dict]:
        """Run ``job`` (tasks completed in an earlier attempt are skipped); its merged per-step stats."""

    def run_chain(self, jobs: list[Job]) -> list[list[dict]]:
        """Jobs that each read what the one before wrote (on Slurm: submitted at once, each waiting for the
        one before); each job's merged stats."""

    def train(self, program: ModuleType, nproc: int, train_kwargs: dict) -> dict:
        """Run the training ``program`` (:mod:`pipeline.train.worker`) on ``nproc`` ranks per node with
        ``train_kwargs``; rank 0's stats, or the error that stopped training."""


def merged_stats(logging_dir: Path, tasks: int) -> list[dict]:
    """Sum the per-task stats files (also correct when some tasks completed in an earlier attempt)."""
    from datatrove.utils.stats import PipelineStats

    total = PipelineStats()
    for rank in range(tasks):
        with open(Path(logging_dir) / "stats" / f"{rank:05d}.json") as f:
            total += PipelineStats.from_json(json.load(f))
    return [step.to_dict() for step in total.stats]


def stat(step: dict, key: str) -> int:
    """A counter from a step's stats dict (datatrove stores counters as MetricStats dicts)."""
    value = step.get("stats", {}).get(key, 0)
    if isinstance(value, dict):
        return int(value.get("total", 0))
    return int(value)
