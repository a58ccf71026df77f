"""Data-parallel training on one node: ``train.nproc_per_node`` worker processes, one per GPU.

:func:`run_training` is what the stages call. With one process it trains in the calling process.
With more, it starts ``python -m pipeline.train.worker`` once per rank (torch's ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT`` in each environment, plus
``CPT_DIST_WORKER=1``), and:

* forwards SIGTERM and SIGUSR1 to every rank, so a preempted job checkpoints collectively and
  this process raises the same :class:`TrainingPreempted` as a single-process run;
* stops the other ranks ``RANK_EXIT_GRACE_S`` after one exits, instead of leaving them blocked
  in a collective forever; each rank runs in its own process group, which is killed at the end;
* returns rank 0's stats, or re-raises the error a rank reported (a preemption first; a
  ``CptError`` stays a one-line ``CptError``).

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
import shutil
import threading
import time
from pathlib import Path

from pipeline import errors
from pipeline.config import ModelConfig, PrecisionConfig, ScheduleConfig, TrainConfig
from pipeline.errors import ConfigError, CptError
from pipeline.train.preemption import PREEMPTION_SIGNALS, TrainingPreempted
from pipeline.train.worker import result_path

RANK_EXIT_GRACE_S = 60.0
WORKER_ENV = "CPT_DIST_WORKER"  # "1" in each rank's environment (pipeline.train.distributed reads it)
LAUNCH_DIR = "launch"  # inside the run's output directory while the ranks run: spec.json, result-<rank>.json
_CONFIG_TYPES = {"model_cfg": ModelConfig, "train_cfg": TrainConfig, "schedule_cfg": ScheduleConfig,
                 "precision_cfg": PrecisionConfig}


def run_training(nproc: int, **train_kwargs) -> dict:
    """``pipeline.train.loop.train(**train_kwargs)`` on ``nproc`` data-parallel ranks (1 = in this process),
    after checking that the plan fits the GPU's memory (:mod:`pipeline.train.memory`)."""
    from pipeline.train.memory import check_training_plan

    check_training_plan(train_kwargs["model_cfg"], train_kwargs["train_cfg"], train_kwargs["precision_cfg"],
                        train_kwargs["tokenizer_path"])
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


def _error_from(result: dict) -> Exception:
    """Rebuild the error a rank reported: the same CptError (one clear line), else a RuntimeError."""
    if result["error"] == "TrainingPreempted":
        return TrainingPreempted(result["signum"], result["iteration"], result["checkpoint"])
    cls = getattr(errors, result["error"], None)
    if not (isinstance(cls, type) and issubclass(cls, CptError)):
        return RuntimeError(f"training rank {result.get('rank', '?')} failed: {result['error']}: "
                            f"{result['message']} (its traceback is above)")
    exc = cls(result["message"])
    exc.exit_code = result.get("exit_code", 2)
    return exc


# ----------------------------------------------------------------------------- launching
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for the ranks' rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_resources(nproc: int, train_cfg: TrainConfig) -> str:
    """The device kind the ranks use; ConfigError when this node cannot hold ``nproc`` ranks.
    (TrainConfig itself checks that the global batch splits evenly across them.)"""
    import torch

    device = train_cfg.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and torch.cuda.device_count() < nproc:
        raise ConfigError(f"invalid value for 'train.nproc_per_node': {nproc} ranks but "
                          f"{torch.cuda.device_count()} visible GPU(s)")
    return device


def rank_env(rank: int, nproc: int, port: int) -> dict:
    env = {**os.environ, WORKER_ENV: "1", "RANK": str(rank), "LOCAL_RANK": str(rank),
           "WORLD_SIZE": str(nproc), "LOCAL_WORLD_SIZE": str(nproc), "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(port), "CPT_LAUNCHER_PID": str(os.getpid())}
    if "OMP_NUM_THREADS" not in os.environ:  # the ranks share the node's cores (CPU-side work on a GPU too)
        env["OMP_NUM_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // nproc))
    return env


def launch_ranks(nproc: int, train_kwargs: dict) -> dict:
    """Run ``train`` on ``nproc`` local ranks; returns rank 0's stats or raises the error that stopped them."""
    check_resources(nproc, train_kwargs["train_cfg"])
    launch_dir = Path(train_kwargs["out_dir"]) / LAUNCH_DIR
    if launch_dir.exists():
        shutil.rmtree(launch_dir)  # results of an earlier launch
    launch_dir.mkdir(parents=True)
    spec_path = launch_dir / "spec.json"
    spec_path.write_text(json.dumps(encode_spec(train_kwargs), indent=2))
    port = free_port()
    with _ForwardSignals() as ranks:  # handlers first: no window in which a signal kills only us
        for rank in range(nproc):
            ranks.start([sys.executable, "-m", "pipeline.train.worker", str(spec_path)],
                        env=rank_env(rank, nproc, port))
        returncodes = _wait(ranks.procs)
    results = {rank: json.loads(path.read_text()) for rank in range(nproc)
               if (path := result_path(spec_path, rank)).exists()}
    shutil.rmtree(launch_dir, ignore_errors=True)
    if results.get(0, {}).get("ok"):
        if ranks.received:  # the ranks finished before acting on it: pass it on here, never swallow it
            signal.raise_signal(ranks.received)
        return results[0]["stats"]
    failed = [results[r] for r in sorted(results) if not results[r]["ok"]]
    preempted = [r for r in failed if r["error"] == "TrainingPreempted"]
    if preempted or failed:
        raise _error_from((preempted or failed)[0])
    codes = {rank: rc for rank, rc in enumerate(returncodes) if rc != 0}
    if ranks.received and all(rc == -ranks.received for rc in codes.values()):
        exc = CptError(f"training stopped by {signal.Signals(ranks.received).name} before it started; "
                       f"there is no checkpoint yet: rerun to start again")
        exc.exit_code = 128 + ranks.received  # as for a preemption
        raise exc
    raise RuntimeError(f"data-parallel training failed without a result: exit codes by rank {codes} "
                       f"(the ranks' tracebacks are above)")


class _ForwardSignals:
    """``with _ForwardSignals() as ranks:`` forwards SIGTERM/SIGUSR1 to every rank started with
    ``ranks.start`` (also to ranks started after the signal), and records it in ``ranks.received``.

    On an error (KeyboardInterrupt, a failed start) the ranks are killed.
    """

    def __init__(self):
        self.procs: list[subprocess.Popen] = []
        self.received: int | None = None
        self._previous: dict = {}

    def start(self, cmd: list[str], env: dict) -> None:
        # Own session: killing a rank's group also ends what it started (megatron's checkpoint writer).
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        self.procs.append(proc)
        if self.received is not None:
            proc.send_signal(self.received)

    def _forward(self, signum, frame) -> None:
        self.received = self.received or signum
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    def __enter__(self) -> "_ForwardSignals":
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._forward) for sig in PREEMPTION_SIGNALS}
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:  # KeyboardInterrupt or a failed start: take the ranks down with us
            for proc in self.procs:
                _kill_group(proc)
                proc.wait()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}
        return False


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the rank's process group (it leads one), or the rank alone if it does not."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        if proc.poll() is None:
            proc.kill()


def _wait(procs: list[subprocess.Popen], grace_s: float | None = None) -> list[int]:
    """Wait for every rank; ``grace_s`` (default RANK_EXIT_GRACE_S) after one has exited, kill the
    rest (they are blocked in a collective with a rank that is gone); returns the exit codes."""
    grace_s = RANK_EXIT_GRACE_S if grace_s is None else grace_s
    first_exit = None
    while any(proc.poll() is None for proc in procs):
        if first_exit is None and any(proc.returncode is not None for proc in procs):
            first_exit = time.monotonic()
        if first_exit is not None and time.monotonic() - first_exit > grace_s:
            for proc in procs:
                if proc.poll() is None:
                    _kill_group(proc)
        time.sleep(0.1)
    for proc in procs:
        _kill_group(proc)  # whatever a rank left behind
    return [proc.wait() for proc in procs]
