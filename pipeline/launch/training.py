"""Where a training stage runs: in this process, on local ranks, or as a Slurm job.

:func:`run_training` checks that the plan fits the GPU's memory first (:mod:`pipeline.train.memory`),
then trains in this process (one rank), starts ``nproc`` local ranks (:mod:`pipeline.launch.local_ranks`),
or, with ``cluster.executor=slurm``, submits a job that runs the ranks through ``srun`` and waits for it
(:mod:`pipeline.launch.slurm_training`). Every way returns rank 0's stats or raises the error that
stopped training. The program is :mod:`pipeline.train.worker`: each rank runs it as ``python -m``.
"""

from __future__ import annotations

from types import ModuleType

from pipeline.config import ClusterConfig


def run_training(nproc: int, *, cluster: ClusterConfig | None = None, program: ModuleType | None = None,
                 **train_kwargs) -> dict:
    """``program.train_in_process(train_kwargs)`` on ``nproc`` data-parallel ranks per node."""
    from pipeline.train import worker
    from pipeline.train.memory import check_training_plan

    program = program or worker
    check_training_plan(train_kwargs["model_cfg"], train_kwargs["train_cfg"], train_kwargs["precision_cfg"],
                        train_kwargs["tokenizer_path"])
    if cluster is not None and cluster.executor == "slurm":
        from pipeline.launch.slurm_training import run_slurm_training

        return run_slurm_training(nproc, cluster.slurm, train_kwargs, program=program.__name__)
    if nproc <= 1:
        return program.train_in_process(train_kwargs)
    from pipeline.launch.local_ranks import launch_ranks

    return launch_ranks(nproc, train_kwargs, program=program.__name__)
