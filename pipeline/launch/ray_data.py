"""A datatrove pipeline as Ray tasks, through datatrove's own ``RayPipelineExecutor``.

datatrove's ``run()`` blocks until every task has finished, but only warns when some failed. cpt
runs it in a thread, prints a progress line from ``completions/``, and turns incomplete ranks into
one error naming each rank's task log. Completed ranks are skipped on a rerun, as locally.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from datatrove.executor.ray import RayPipelineExecutor

from pipeline.config import RayConfig
from pipeline.errors import CptError
from pipeline.launch.task_state import (ProgressLine, append_submission, completed_ranks, last_error_line,
                                        maybe_fail_rank)


class CptRayExecutor(RayPipelineExecutor):
    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        return super(CptRayExecutor, maybe_fail_rank(self, rank))._run_for_rank(rank, local_rank, node_rank)


def connect(cfg: RayConfig) -> str:
    """Join the cluster at ``cluster.ray.address`` (or RAY_ADDRESS; none = start one here); returns where."""
    import os

    import ray

    if not ray.is_initialized():
        # the driver's CPT_* settings reach the tasks, as sbatch --export=ALL passes them on Slurm
        env = {k: v for k, v in os.environ.items() if k.startswith("CPT_")}
        try:
            ray.init(address=cfg.address or None, log_to_driver=False, include_dashboard=False,
                     configure_logging=False, runtime_env={"env_vars": env} if env else None)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise CptError(f"cluster.executor=ray: cannot connect to Ray at {cfg.address or '(local)'}: "
                           f"{str(exc).splitlines()[0]}") from exc
    return ray.get_runtime_context().gcs_address


def run_on_ray(pipeline: list, *, logging_dir: Path, tasks: int, workers: int, what: str, cfg: RayConfig) -> None:
    logging_dir = Path(logging_dir)
    todo = sorted(set(range(tasks)) - completed_ranks(logging_dir))
    if not todo:
        return
    address = connect(cfg)
    executor = CptRayExecutor(pipeline=pipeline, tasks=tasks, workers=max(1, min(workers, tasks)),
                              logging_dir=str(logging_dir), cpus_per_task=cfg.cpus_per_task,
                              mem_per_cpu_gb=cfg.mem_per_cpu_gb)
    append_submission(logging_dir, executor="ray", what=what, tasks=tasks,
                      submission={"address": address, "ranks": todo})
    outcome: dict = {}

    def target():
        try:
            executor.run()
        except BaseException as exc:  # reported below, in the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"ray-{what}", daemon=True)
    thread.start()
    progress = ProgressLine(what, len(todo), f"ray at {address}")
    while thread.is_alive():
        done = len(completed_ranks(logging_dir) & set(todo))
        progress.update(done, min(len(todo) - done, executor.workers), max(0, len(todo) - done - executor.workers))
        thread.join(timeout=1.0)
    failed = sorted(set(todo) - completed_ranks(logging_dir))
    progress.update(len(todo) - len(failed), 0, 0, len(failed))
    if "error" in outcome and not failed:
        raise CptError(f"{what} on Ray failed: {type(outcome['error']).__name__}: {outcome['error']}")
    if failed:
        parts = []
        for rank in failed[:5]:
            log = logging_dir / "logs" / f"task_{rank:05d}.log"
            err = last_error_line(log)
            parts.append(f"rank {rank} (log {log}{'; ' + err if err else ''})")
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        raise CptError(f"{what}: {len(failed)} of {tasks} Ray task(s) failed: {'; '.join(parts)}{more}. "
                       f"Rerun the same command to run only the failed ranks")
    print(f"[{what}] {len(todo)} Ray task(s) done", file=sys.stderr, flush=True)
