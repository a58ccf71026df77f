"""torch.distributed + megatron model-parallel state: one process, or one rank of a data-parallel job.

megatron-core needs a process group even on one device. :func:`distributed_session` sets it up
(gloo on CPU, nccl on GPU), seeds every RNG megatron uses, and tears everything down again so a
process can train more than once (pretrain then CPT; pytest runs many).

A process started as a rank (by :mod:`pipeline.launch.local_ranks` or ``srun``) (``CPT_DIST_WORKER=1`` with torch's
``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT``) joins that job instead,
on ``cuda:<LOCAL_RANK>`` for a GPU. Every other process is a world of one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
from typing import Iterator

import numpy as np
import torch
from megatron.core import parallel_state
from megatron.core.rerun_state_machine import destroy_rerun_state_machine, initialize_rerun_state_machine
from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed

from pipeline.errors import ConfigError
from pipeline.train.cpu_compat import disable_cpu_mode, enable_cpu_mode
from pipeline.train.contract import WORKER_ENV, free_port

_ENV_KEYS = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK")


def is_launched_rank() -> bool:
    """True in a process started as one rank of a multi-process job."""
    return os.environ.get(WORKER_ENV) == "1"


def data_parallel_size() -> int:
    """The number of ranks this process trains with (before the process group exists)."""
    return int(os.environ["WORLD_SIZE"]) if is_launched_rank() else 1


def resolve_device(name: str) -> torch.device:
    """``auto`` = the GPU when there is one, else the CPU. A launched rank gets its own GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("invalid value for 'train.device': 'cuda' but no GPU is visible; use 'auto' or 'cpu'")
    if name == "cuda" and is_launched_rank():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device(name)


def init_distributed(device: torch.device) -> None:
    """Start the process group and megatron's parallel state: a launched rank joins its job
    (rendezvous from the environment); any other process is a group of one on 127.0.0.1."""
    if device.type == "cpu":
        enable_cpu_mode()
    else:
        torch.cuda.set_device(device.index or 0)
    if is_launched_rank():
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    else:
        rank, world_size = 0, 1
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()),
                          RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")
    extra = {} if device.type == "cpu" else {"device_id": torch.device("cuda", torch.cuda.current_device())}
    torch.distributed.init_process_group(backend="gloo" if device.type == "cpu" else "nccl",
                                         rank=rank, world_size=world_size, **extra)
    parallel_state.initialize_model_parallel(1, 1)  # tensor and pipeline parallel 1: data parallel only
    # megatron's rerun state machine (result validation; off). Initialised explicitly, since
    # implicit initialisation warns; the explicit one announces itself at WARNING, so mute that.
    rerun_logger = logging.getLogger("megatron.core.rerun_state_machine")
    level = rerun_logger.level
    rerun_logger.setLevel(logging.ERROR)
    try:
        initialize_rerun_state_machine()
    finally:
        rerun_logger.setLevel(level)


def seed_everything(seed: int) -> None:
    """Seed python, numpy, torch and megatron's RNG tracker.

    The tracker is the "inference" one (a no-op fork): with tensor parallel size 1 and no dropout
    there is no per-rank stream to track, and it works on CPU.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model_parallel_cuda_manual_seed(seed, inference_rng_tracker=True, force_reset_rng=True)


def teardown_distributed(saved_env: dict | None = None) -> None:
    """Undo :func:`init_distributed` (safe when only part of it ran): process group, megatron's
    parallel state, the CPU compatibility layer; restore ``saved_env``."""
    if parallel_state.model_parallel_is_initialized():
        parallel_state.destroy_model_parallel()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    destroy_rerun_state_machine()
    disable_cpu_mode()
    for key, value in (saved_env or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextlib.contextmanager
def distributed_session(device: torch.device, seed: int) -> Iterator[None]:
    """``with distributed_session(device, seed): ...`` — init, seed, and always tear down."""
    if torch.distributed.is_initialized():
        raise RuntimeError("torch.distributed is already initialized; nested training runs are not supported")
    saved_env = {k: os.environ.get(k) for k in _ENV_KEYS}
    try:
        init_distributed(device)
        seed_everything(seed)
        yield
    finally:
        teardown_distributed(saved_env)
