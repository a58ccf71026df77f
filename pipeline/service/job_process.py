"""The process a worker starts for a job: the leader of the job's process group. It runs ``cpt``,
then records ``cpt``'s exit status in the job's folder, so a worker that re-attaches after a restart
(and so is not its parent) still learns how the job ended. A cancel's SIGTERM is passed on to
``cpt`` alone, which stops as it would for a scheduler (training checkpoints; its ranks and helper
processes, such as the checkpoint writers, must not be signalled behind its back). SIGKILL leaves
no record: the worker then knows the job was killed.

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
    child: subprocess.Popen | None = None

    def forward(signum, _frame):
        if child is not None:
            child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)  # handlers are reset at exec: cpt starts with the default ones
    with open(job_dir / "log.txt", "ab") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        code = child.wait()
    tmp = job_dir / f".{EXIT_FILE}.tmp"
    tmp.write_text(str(code))
    os.replace(tmp, job_dir / EXIT_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
