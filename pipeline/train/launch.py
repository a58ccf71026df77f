"""Data-parallel training on one node: ``train.nproc_per_node`` worker processes, one per GPU.

:func:`run_training` is what the stages call. With one process it trains in the calling process.
With more, it starts ``python -m pipeline.train.worker`` once per rank (torch's ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT`` in each environment, plus
``CPT_DIST_WORKER=1``), and:

* forwards SIGTERM and SIGUSR1 to every rank, so a preempted job checkpoints collectively and
  this process raises the same :class:`TrainingPreempted` as a single-process run;
* stops the other ranks ``RANK_EXIT_GRACE_S`` after one exits with an error, instead of leaving
  them blocked in a collective forever;
* returns rank 0's stats, or re-raises rank 0's error (a clear one-line ``CptError``).

On a CPU (tests, CI) the ranks use gloo and split the cores between them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from pipeline import errors
from pipeline.config import ModelConfig, PrecisionConfig, ScheduleConfig, TrainConfig
from pipeline.errors import ConfigError, CptError
from pipeline.train.preemption import PREEMPTION_SIGNALS, TrainingPreempted

RANK_EXIT_GRACE_S = 60.0
LAUNCH_DIR = "launch"  # inside the run's output directory: spec.json, result.json
_CONFIG_TYPES = {"model_cfg": ModelConfig, "train_cfg": TrainConfig, "schedule_cfg": ScheduleConfig,
                 "precision_cfg": PrecisionConfig}


def run_training(nproc: int, **train_kwargs) -> dict:
    """``pipeline.train.loop.train(**train_kwargs)`` on ``nproc`` data-parallel ranks (1 = in this process)."""
    if nproc <= 1:
        from pipeline.train.loop import train

        return train(**train_kwargs)
    return launch_ranks(nproc, train_kwargs)


# ----------------------------------------------------------------------------- the spec a worker reads
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
    kwargs = dict(spec)
    for key, cls in _CONFIG_TYPES.items():
        if key in kwargs:
            kwargs[key] = cls(**kwargs[key])
    kwargs["out_dir"] = Path(kwargs["out_dir"])
    if kwargs.get("init_from"):
        kwargs["init_from"] = Path(kwargs["init_from"])
    return kwargs


def _error_from(result: dict) -> CptError:
    """Rebuild the error rank 0 reported."""
    if result["error"] == "TrainingPreempted":
        return TrainingPreempted(result["signum"], result["iteration"], result["checkpoint"])
    cls = getattr(errors, result["error"], CptError)
    exc = cls(result["message"]) if isinstance(cls, type) and issubclass(cls, CptError) else CptError(result["message"])
    exc.exit_code = result.get("exit_code", 2)
    return exc


# ----------------------------------------------------------------------------- launching
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check_resources(nproc: int, train_cfg: TrainConfig) -> str:
    """The device kind the ranks use; ConfigError when the node cannot hold ``nproc`` ranks."""
    gbs, mbs = train_cfg.global_batch_size, train_cfg.micro_batch_size
    if gbs % (mbs * nproc):
        raise ConfigError(f"invalid value for 'train.global_batch_size': {gbs} is not a multiple of "
                          f"train.micro_batch_size x train.nproc_per_node = {mbs} x {nproc}")
    import torch

    device = train_cfg.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and torch.cuda.device_count() < nproc:
        raise ConfigError(f"invalid value for 'train.nproc_per_node': {nproc} ranks but "
                          f"{torch.cuda.device_count()} visible GPU(s)")
    return device


def rank_env(rank: int, nproc: int, port: int, device: str) -> dict:
    env = {**os.environ, "CPT_DIST_WORKER": "1", "RANK": str(rank), "LOCAL_RANK": str(rank),
           "WORLD_SIZE": str(nproc), "LOCAL_WORLD_SIZE": str(nproc), "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(port)}
    if device == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // nproc))
    return env


def launch_ranks(nproc: int, train_kwargs: dict) -> dict:
    """Run ``train`` on ``nproc`` local ranks; returns rank 0's stats or raises its error."""
    device = _check_resources(nproc, train_kwargs["train_cfg"])
    launch_dir = Path(train_kwargs["out_dir"]) / LAUNCH_DIR
    launch_dir.mkdir(parents=True, exist_ok=True)
    spec_path, result_path = launch_dir / "spec.json", launch_dir / "result.json"
    spec_path.write_text(json.dumps(encode_spec(train_kwargs), indent=2))
    result_path.unlink(missing_ok=True)
    port = _free_port()
    with _ForwardSignals() as procs:  # handlers first: no window in which a signal kills only us
        for rank in range(nproc):
            procs.append(subprocess.Popen([sys.executable, "-m", "pipeline.train.worker", str(spec_path)],
                                          env=rank_env(rank, nproc, port, device), preexec_fn=_die_with_parent))
        returncodes = _wait(procs)
    if result_path.exists():
        result = json.loads(result_path.read_text())
        if result["ok"]:
            return result["stats"]
        raise _error_from(result)
    failed = {rank: rc for rank, rc in enumerate(returncodes) if rc != 0}
    raise RuntimeError(f"data-parallel training failed without a result from rank 0: exit codes by rank "
                       f"{failed} (the ranks' tracebacks are above)")


def _load_prctl():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:  # not Linux (glibc): ranks may outlive a launcher killed by SIGKILL
        return None


_PRCTL = _load_prctl()  # loaded here, not in the forked child (no dlopen between fork and exec)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: have Linux SIGKILL this rank if the launcher dies (even by SIGKILL)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


class _ForwardSignals:
    """``with _ForwardSignals() as procs:`` forwards SIGTERM/SIGUSR1 to every process in ``procs``."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []
        self._previous: dict = {}

    def _forward(self, signum, frame) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    def __enter__(self) -> list[subprocess.Popen]:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._forward) for sig in PREEMPTION_SIGNALS}
        return self.procs

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:  # KeyboardInterrupt or a failed start: take the ranks down with us
            for proc in self.procs:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        return False


def _wait(procs: list[subprocess.Popen], grace_s: float | None = None) -> list[int]:
    """Wait for every rank; ``grace_s`` (default RANK_EXIT_GRACE_S) after one fails, kill the rest."""
    grace_s = RANK_EXIT_GRACE_S if grace_s is None else grace_s
    failed_at = None
    while any(proc.poll() is None for proc in procs):
        if failed_at is None and any(proc.returncode not in (None, 0) for proc in procs):
            failed_at = time.monotonic()
        if failed_at is not None and time.monotonic() - failed_at > grace_s:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()  # blocked in a collective with a rank that is gone
        time.sleep(0.1)
    return [proc.wait() for proc in procs]
