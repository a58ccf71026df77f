"""The :class:`~pipeline.executor.Executor` for a ``cluster`` config: what the chain hands every stage.

Data jobs run on datatrove's local executor, as Slurm job arrays (:mod:`pipeline.launch.slurm_data`)
or as Ray tasks (:mod:`pipeline.launch.ray_data`); training runs in this process, on local ranks or as
a Slurm job (:mod:`pipeline.launch.training`). Only this package knows which: the stages do not import it.
"""

from __future__ import annotations

from types import ModuleType

from pipeline.config import ClusterConfig
from pipeline.executor import Executor, Job, merged_stats
from pipeline.launch.datatrove_exec import quiet_main_logger, run_local


class ClusterExecutor:
    """Runs data jobs and training where ``cluster`` says (``executor``: local, slurm or ray)."""

    def __init__(self, cluster: ClusterConfig | None = None):
        self.cluster = cluster or ClusterConfig()

    def run(self, job: Job) -> list[dict]:
        kind = self.cluster.executor
        if kind == "local":
            return run_local(job)
        quiet_main_logger()
        if kind == "slurm":
            from pipeline.launch.slurm_data import run_on_slurm

            run_on_slurm(job.pipeline, logging_dir=job.logging_dir, tasks=job.tasks, what=job.what,
                         cfg=self.cluster.slurm)
        else:
            from pipeline.launch.ray_data import run_on_ray

            run_on_ray(job.pipeline, logging_dir=job.logging_dir, tasks=job.tasks, workers=job.workers,
                       what=job.what, cfg=self.cluster.ray)
        return merged_stats(job.logging_dir, job.tasks)

    def run_chain(self, jobs: list[Job]) -> list[list[dict]]:
        if self.cluster.executor == "slurm":
            from pipeline.launch.slurm_data import run_chain_on_slurm

            quiet_main_logger()
            run_chain_on_slurm(jobs, cfg=self.cluster.slurm)
            return [merged_stats(job.logging_dir, job.tasks) for job in jobs]
        return [self.run(job) for job in jobs]

    def train(self, program: ModuleType, nproc: int, train_kwargs: dict) -> dict:
        from pipeline.launch.training import run_training

        return run_training(nproc, cluster=self.cluster, program=program, **train_kwargs)


def executor_for(cluster: ClusterConfig | None) -> Executor:
    return ClusterExecutor(cluster)
