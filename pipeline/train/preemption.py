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

from pipeline.train.contract import PREEMPTION_SIGNALS


class PreemptionGuard:
    """``with PreemptionGuard() as guard:`` records SIGTERM/SIGUSR1 in ``guard.received`` (None = none yet).

    Handlers can only be installed from the main thread; elsewhere the guard does nothing (and
    signals keep their default effect). Guards nest: an inner guard takes over a signal the outer
    one already holds (a rank signalled while it was still importing stops after its first step),
    and hands back one it did not act on. The outermost guard restores the previous handlers and
    delivers a signal nobody acted on (the block ended normally) to them again, so a scheduler's
    stop request is never swallowed.
    """

    _active: list["PreemptionGuard"] = []  # the guards open on the main thread, outermost first

    def __init__(self, signals=PREEMPTION_SIGNALS):
        self.signals = tuple(signals)
        self.received: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        if self.received is None:
            self.received = signum

    def __enter__(self) -> "PreemptionGuard":
        if threading.current_thread() is threading.main_thread():
            if self._active:  # take over what the enclosing guard holds
                self.received, self._active[-1].received = self._active[-1].received, None
            for sig in self.signals:
                self._previous[sig] = signal.signal(sig, self._handle)
            self._active.append(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if not self._previous:  # not installed (not the main thread)
            return False
        for sig, handler in self._previous.items():
            # None: the handler was not set from Python and cannot be restored; use the default.
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}
        self._active.remove(self)
        if exc_type is None and self.received is not None:  # not acted on
            if self._active:
                self._active[-1].received = self._active[-1].received or self.received
            else:
                signal.raise_signal(self.received)
        return False
