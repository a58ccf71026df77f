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
