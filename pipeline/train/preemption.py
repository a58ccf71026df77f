"""Preemption: SIGTERM and SIGUSR1 ask the training loop to checkpoint and stop.

Schedulers warn before they kill: Slurm sends SIGTERM at preemption and at the time limit (and
SIGUSR1 ahead of it with ``--signal=USR1@<seconds>``), Kubernetes and most clouds send SIGTERM.
The handler only records the signal; the loop checks :attr:`PreemptionGuard.received` after each
step, writes a checkpoint and raises :class:`TrainingPreempted`. So a signal never interrupts a
step or a checkpoint save halfway, and the next launch of the same run resumes from it.
"""

from __future__ import annotations

import signal
import threading

from pipeline.errors import CptError

PREEMPTION_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class TrainingPreempted(CptError):
    """Training stopped on a signal after saving a checkpoint; rerunning the same command resumes."""

    manifest_status = "preempted"

    def __init__(self, signum: int, iteration: int, checkpoint):
        self.signum, self.iteration, self.checkpoint = signum, iteration, checkpoint
        self.exit_code = 128 + signum  # what a process killed by the signal would report
        super().__init__(f"training stopped by {signal.Signals(signum).name} after step {iteration}; "
                         f"checkpoint saved to {checkpoint}; rerun the same command to resume")


class PreemptionGuard:
    """``with PreemptionGuard() as guard:`` records SIGTERM/SIGUSR1 in ``guard.received`` (None = none yet).

    Handlers can only be installed from the main thread; elsewhere the guard does nothing (and
    signals keep their default effect). The previous handlers are restored on exit, and a signal
    that arrived but was not acted on (the block ended normally) is delivered again to them, so a
    scheduler's stop request is never swallowed.
    """

    def __init__(self, signals=PREEMPTION_SIGNALS):
        self.signals = tuple(signals)
        self.received: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        if self.received is None:
            self.received = signum

    def __enter__(self) -> "PreemptionGuard":
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        for sig, handler in self._previous.items():
            # None: the handler was not set from Python and cannot be restored; use the default.
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        installed, self._previous = bool(self._previous), {}
        if installed and exc_type is None and self.received is not None:
            signal.raise_signal(self.received)
        return False
