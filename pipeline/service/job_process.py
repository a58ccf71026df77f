"""The process a worker starts for a job: the leader of the job's process group. It runs ``cpt``,
then records ``cpt``'s exit status in the job's folder, so a worker that re-attaches after a restart
(and so is not its parent) still learns how the job ended. A cancel signals the whole group: this
leader outlives ``cpt`` to record it; SIGKILL leaves no record (the worker then knows it was killed).

    python -m pipeline.service.job_process JOB_DIR -- python -m pipeline.cli run ...
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

EXIT_FILE = "exit_code"


def main(argv: list[str]) -> int:
    job_dir = Path(argv[0])
    command = argv[argv.index("--") + 1:]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)  # cpt gets the group's signal and decides; reset for it at exec
    with open(job_dir / "log.txt", "ab") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    tmp = job_dir / f".{EXIT_FILE}.tmp"
    tmp.write_text(str(code))
    os.replace(tmp, job_dir / EXIT_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
