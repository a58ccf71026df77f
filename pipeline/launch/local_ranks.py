"""Data-parallel training on this node: ``train.nproc_per_node`` worker processes, one per GPU.

:func:`launch_ranks` starts ``python -m pipeline.train.worker`` once per rank (torch's ``RANK``,
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

import json
import os
import signal
import subprocess
import sys
import shutil
import threading
import time
from pathlib import Path

from pipeline import errors
from pipeline.config import TrainConfig
from pipeline.errors import ConfigError, CptError
from pipeline.train.contract import (LAUNCH_DIR, LAUNCHER_PID_ENV, PREEMPTION_SIGNALS, RANK_PROGRAM, SPEC_FILE,
                                     WORKER_ENV, TrainingPreempted, encode_spec, free_port, result_path)

RANK_EXIT_GRACE_S = 60.0


# ----------------------------------------------------------------------------- launching
def error_from_result(result: dict) -> Exception:
    """Rebuild the error a rank reported in its result file: the same CptError (one clear line), else
    a RuntimeError."""
    if result["error"] == "TrainingPreempted":
        return TrainingPreempted(result["signum"], result["iteration"], result["checkpoint"])
    cls = getattr(errors, result["error"], None)
    if not (isinstance(cls, type) and issubclass(cls, CptError)):
        return RuntimeError(f"training rank {result.get('rank', '?')} failed: {result['error']}: "
                            f"{result['message']} (its traceback is above)")
    exc = cls(result["message"])
    exc.exit_code = result.get("exit_code", 2)
    return exc


def read_results(spec_path: Path, nproc: int) -> dict[int, dict]:
    return {rank: json.loads(path.read_text()) for rank in range(nproc)
            if (path := result_path(spec_path, rank)).exists()}


def write_spec(out_dir: Path, train_kwargs: dict) -> Path:
    """A fresh ``<out_dir>/launch/spec.json`` (results of an earlier launch are removed)."""
    launch_dir = Path(out_dir) / LAUNCH_DIR
    if launch_dir.exists():
        shutil.rmtree(launch_dir)
    launch_dir.mkdir(parents=True)
    spec_path = launch_dir / SPEC_FILE
    spec_path.write_text(json.dumps(encode_spec(train_kwargs), indent=2))
    return spec_path


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
           "MASTER_PORT": str(port), LAUNCHER_PID_ENV: str(os.getpid())}
    if "OMP_NUM_THREADS" not in os.environ:  # the ranks share the node's cores (CPU-side work on a GPU too)
        env["OMP_NUM_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // nproc))
    return env


def launch_ranks(nproc: int, train_kwargs: dict, program: str = RANK_PROGRAM) -> dict:
    """Run ``train`` on ``nproc`` local ranks; returns rank 0's stats or raises the error that stopped them."""
    check_resources(nproc, train_kwargs["train_cfg"])
    spec_path = write_spec(train_kwargs["out_dir"], train_kwargs)
    port = free_port()
    with _ForwardSignals() as ranks:  # handlers first: no window in which a signal kills only us
        for rank in range(nproc):
            ranks.start([sys.executable, "-m", program, str(spec_path)],
                        env=rank_env(rank, nproc, port))
        returncodes = wait_for_ranks(ranks.procs)
    results = read_results(spec_path, nproc)
    shutil.rmtree(spec_path.parent, ignore_errors=True)
    if results.get(0, {}).get("ok"):
        if ranks.received:  # the ranks finished before acting on it: pass it on here, never swallow it
            signal.raise_signal(ranks.received)
        return results[0]["stats"]
    failed = [results[r] for r in sorted(results) if not results[r]["ok"]]
    preempted = [r for r in failed if r["error"] == "TrainingPreempted"]
    if preempted or failed:
        raise error_from_result((preempted or failed)[0])
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


def wait_for_ranks(procs: list[subprocess.Popen], grace_s: float | None = None) -> list[int]:
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
