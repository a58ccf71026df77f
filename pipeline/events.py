"""Job events for the service: when ``CPT_EVENTS_FILE`` is set (the service sets it for each job), the
chain and the long stages append one JSON line per event (stage started / cached / completed /
failed, training progress, Slurm submissions); the service's worker reads them into the job's event
log. Outside the service this does nothing."""

from __future__ import annotations

import json
import os
import time

EVENTS_FILE_ENV = "CPT_EVENTS_FILE"


def emit(kind: str, /, **data) -> None:
    path = os.environ.get(EVENTS_FILE_ENV)
    if not path:
        return
    line = json.dumps({"ts": round(time.time(), 3), "kind": kind, **data}, default=str) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())  # one write per line: O_APPEND keeps lines whole
        finally:
            os.close(fd)
    except OSError:
        pass  # events are a view of the run; a full disk must not fail the run itself


def forward_warnings(limit: int = 20) -> None:
    """Python warnings become ``warning`` events too (each distinct message once, at most ``limit``),
    still shown as before. Only when the service collects events."""
    if not os.environ.get(EVENTS_FILE_ENV):
        return
    import warnings

    seen: set = set()
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        key = (category.__name__, str(message))
        if key not in seen and len(seen) < limit:
            seen.add(key)
            emit("warning", category=category.__name__, message=str(message)[:1000], where=f"{filename}:{lineno}")
        shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
