"""What a launcher and the training ranks it starts agree on, in one place that imports neither
(nor anything slow: a starting rank imports it before it can take signals): the spec and result
files, the environment, and the preemption signals and the error a preempted rank reports.

A rank is ``python -m pipeline.train.worker <spec.json>``. Its launcher (the local one in
:mod:`pipeline.launch.local_ranks`, or ``srun`` in a job from :mod:`pipeline.launch.slurm_training`)
writes the spec, sets the environment below, and reads back ``result-<rank>.json`` beside the spec.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
from pathlib import Path

from pipeline.errors import CptError

WORKER_ENV = "CPT_DIST_WORKER"  # "1": this process is one rank of a multi-process job
LAUNCHER_PID_ENV = "CPT_LAUNCHER_PID"  # the local launcher's pid (a rank dies with it)
RANKS_FROM_SLURM_ENV = "CPT_RANKS_FROM_SLURM"  # "1": take rank/world/master from srun's variables
LAUNCH_DIR = "launch"  # inside the run's output directory: spec.json, result-<rank>.json
SPEC_FILE = "spec.json"
RANK_PROGRAM = "pipeline.train.worker"  # each rank runs python -m RANK_PROGRAM <spec.json>
PREEMPTION_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class TrainingPreempted(CptError):
    """Training stopped on a signal after saving a checkpoint; rerunning the same command resumes."""

    manifest_status = "preempted"

    def __init__(self, signum: int, iteration: int, checkpoint):
        self.signum, self.iteration, self.checkpoint = signum, iteration, checkpoint
        self.exit_code = 128 + signum  # what a process killed by the signal would report
        super().__init__(f"training stopped by {signal.Signals(signum).name} after step {iteration}; "
                         f"checkpoint saved to {checkpoint}; rerun the same command to resume")


_CONFIG_TYPES = {"model_cfg": "ModelConfig", "train_cfg": "TrainConfig", "schedule_cfg": "ScheduleConfig",
                 "precision_cfg": "PrecisionConfig", "tracking": "TrackingConfig"}


def result_path(spec_path: Path, rank: int) -> Path:
    return Path(spec_path).with_name(f"result-{rank}.json")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for the ranks' rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode_spec(train_kwargs: dict) -> dict:
    """``train`` keyword arguments as JSON: configs as dicts, paths as strings."""
    spec = {}
    for key, value in train_kwargs.items():
        if dataclasses.is_dataclass(value):
            value = dataclasses.asdict(value)
        elif isinstance(value, Path):
            value = str(value)
        elif key == "train_blend":
            value = [[float(w), str(p)] for w, p in value]
        spec[key] = value
    return spec


def decode_spec(spec: dict) -> dict:
    from pipeline import config  # not at import time: a rank imports this module before its signal guard is up

    kwargs = dict(spec)
    for key, cls in _CONFIG_TYPES.items():
        if kwargs.get(key) is not None:
            kwargs[key] = getattr(config, cls)(**kwargs[key])
    kwargs["out_dir"] = Path(kwargs["out_dir"])
    if kwargs.get("init_from"):
        kwargs["init_from"] = Path(kwargs["init_from"])
    return kwargs


def adopt_slurm_rank_env(environ=os.environ) -> None:
    """In a task started by ``srun`` in a cpt training job: torch's rank variables from Slurm's
    (``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_LOCALID``); the job script exports the master."""
    if environ.get(RANKS_FROM_SLURM_ENV) != "1" or "SLURM_PROCID" not in environ:
        return
    environ[WORKER_ENV] = "1"
    environ["RANK"] = environ["SLURM_PROCID"]
    environ["WORLD_SIZE"] = environ["SLURM_NTASKS"]
    environ["LOCAL_RANK"] = environ.get("SLURM_LOCALID", "0")
    environ.setdefault("LOCAL_WORLD_SIZE", environ.get("SLURM_NTASKS_PER_NODE", environ["SLURM_NTASKS"]).split("(")[0])
