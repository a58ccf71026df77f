"""What every executor shares about a datatrove run's tasks: which completed, the record of the jobs
that ran them (``cluster_job.json`` in the run's logging folder, read by ``cpt status``), a progress
line, and the fault injection the crash tests use."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from pipeline import events
from pipeline.registry import write_json_atomic

JOB_RECORD = "cluster_job.json"
FAIL_RANK_ENV = "CPT_FAULT_FAIL_RANK"  # "<logging dir name>:<rank>[,<rank>]": those tasks raise (tests)


def completed_ranks(logging_dir: Path) -> set[int]:
    folder = Path(logging_dir) / "completions"
    return {int(p.name) for p in folder.iterdir() if p.name.isdigit()} if folder.is_dir() else set()


def read_record(logging_dir: Path) -> dict | None:
    path = Path(logging_dir) / JOB_RECORD
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def append_submission(logging_dir: Path, *, executor: str, what: str, tasks: int, submission: dict) -> dict:
    record = read_record(logging_dir) or {"executor": executor, "what": what, "tasks": tasks, "submissions": []}
    record.update(executor=executor, what=what, tasks=tasks)
    record["submissions"].append({**submission, "submitted_at": time.time()})
    Path(logging_dir).mkdir(parents=True, exist_ok=True)
    write_json_atomic(Path(logging_dir) / JOB_RECORD, record)
    return record


def maybe_fail_rank(executor, rank: int):
    """Fault injection for the failed-rank tests: with ``CPT_FAULT_FAIL_RANK=<dir>:<ranks>``, the given
    ranks of the datatrove run logged under ``<dir>`` fail inside the task (so their task log records
    it). Returns the executor to run the rank with: a copy whose pipeline starts with the failure."""
    import copy

    spec = os.environ.get(FAIL_RANK_ENV)
    if not spec or executor.is_rank_completed(rank):
        return executor
    name, _, ranks = spec.rpartition(":")
    if Path(executor.logging_dir.path).name != name or str(rank) not in ranks.split(","):
        return executor

    def injected_failure(data, rank: int = 0, world_size: int = 1):
        raise RuntimeError(f"injected failure of rank {rank} ({FAIL_RANK_ENV}={spec})")

    failing = copy.copy(executor)
    failing.pipeline = [injected_failure, *executor.pipeline]
    return failing


class ProgressLine:
    """``[what] 2/4 tasks done, 2 running, 0 pending (slurm job 57)`` on stderr, each time it changes."""

    def __init__(self, what: str, total: int, where: str):
        self.what, self.total, self.where = what, total, where
        self._last = None
        self.started = time.monotonic()

    def update(self, done: int, running: int, pending: int, failed: int = 0) -> None:
        line = f"{done}/{self.total} tasks done, {running} running, {pending} pending"
        if failed:
            line += f", {failed} failed"
        if line != self._last:
            self._last = line
            events.emit("progress", metric="tasks", what=self.what, step=done, total=self.total, running=running,
                        pending=pending, failed=failed)
            elapsed = time.monotonic() - self.started
            print(f"[{self.what}] {line} ({self.where}, {elapsed:.0f}s)", file=sys.stderr, flush=True)


def last_error_line(log: Path) -> str:
    """The last line of a task log that names an error (for the one-line failure message)."""
    try:
        lines = Path(log).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if "Error" in line or "error" in line or "Exception" in line:
            return line.strip()[-200:]
    return ""
