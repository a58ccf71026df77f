"""Where a training stage runs: in this process, on local ranks, or as a Slurm job.

:func:`run_training` is what the stages call. It checks that the plan fits the GPU's memory first
(:mod:`pipeline.train.memory`), then trains in this process (one rank), starts ``nproc`` local
ranks (:mod:`pipeline.launch.local_ranks`), or, with ``cluster.executor=slurm``, submits a job that
runs the ranks through ``srun`` and waits for it (:mod:`pipeline.launch.slurm_training`). Every way
returns rank 0's stats or raises the error that stopped training.
"""

from __future__ import annotations

from pipeline.config import ClusterConfig


def run_training(nproc: int, *, cluster: ClusterConfig | None = None, **train_kwargs) -> dict:
    """``pipeline.train.loop.train(**train_kwargs)`` on ``nproc`` data-parallel ranks per node."""
    from pipeline.train.memory import check_training_plan

    check_training_plan(train_kwargs["model_cfg"], train_kwargs["train_cfg"], train_kwargs["precision_cfg"],
                        train_kwargs["tokenizer_path"])
    if cluster is not None and cluster.executor == "slurm":
        from pipeline.launch.slurm_training import run_slurm_training

        return run_slurm_training(nproc, cluster.slurm, train_kwargs)
    if nproc <= 1:
        from pipeline.train.loop import train

        return train(**train_kwargs)
    from pipeline.launch.local_ranks import launch_ranks

    return launch_ranks(nproc, train_kwargs)
