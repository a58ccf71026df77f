"""Slurm's command-line tools, as the few calls cpt needs (sbatch, squeue, scontrol, scancel).

Everything talks to the real scheduler; a missing tool or an unreachable controller is a one-line
:class:`~pipeline.errors.CptError` that says so.
"""

from __future__ import annotations

import shutil
import subprocess

from pipeline.errors import CptError

TERMINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
                   "DEADLINE", "PREEMPTED", "SPECIAL_EXIT"}


def _run(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    if shutil.which(cmd[0]) is None:
        raise CptError(f"cluster.executor=slurm but `{cmd[0]}` is not on PATH (run cpt on a Slurm login node)")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise CptError(f"`{' '.join(cmd[:2])}` failed: {msg[-1] if msg else f'exit code {proc.returncode}'}")
    return proc


def parse_key_values(line: str) -> dict[str, str]:
    """``scontrol show ... -o`` output: ``Key=Value`` pairs separated by spaces (values without spaces)."""
    out = {}
    for item in line.split():
        key, sep, value = item.partition("=")
        if sep:
            out[key] = value
    return out


def partitions() -> list[dict[str, str]]:
    return [parse_key_values(line) for line in _run(["scontrol", "show", "partition", "-o"]).stdout.splitlines()
            if line.strip()]


def nodes() -> list[dict[str, str]]:
    return [parse_key_values(line) for line in _run(["scontrol", "show", "node", "-o"]).stdout.splitlines()
            if line.strip()]


def hostnames(nodelist: str) -> list[str]:
    return _run(["scontrol", "show", "hostnames", nodelist]).stdout.split()


def submit(script: str, *args: str) -> str:
    """``sbatch --parsable`` a script file; returns the job id."""
    out = _run(["sbatch", "--parsable", *args, script]).stdout.strip()
    return out.split(";")[0]


# Job states of a job that has not ended. squeue also lists, for MinJobAge after the end, jobs that
# finished (COMPLETED, FAILED, CANCELLED, TIMEOUT, ...): those are not in the queue.
LIVE_STATES = frozenset({"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED",
                         "REQUEUE_HOLD", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD", "SPECIAL_EXIT",
                         "STOPPED"})
NOT_STARTED_OR_RUNNING = frozenset({"PENDING", "CONFIGURING", "RUNNING", "SUSPENDED", "REQUEUED", "REQUEUE_FED",
                                    "REQUEUE_HOLD", "RESIZING"})


def queue_states(job_ids: list[str]) -> dict[str, str]:
    """``{"<job>_<index>" or "<job>": state}`` for the jobs (array tasks one per entry) still in the queue
    (a job that has ended is not, though squeue lists it for a while)."""
    if not job_ids:
        return {}
    proc = _run(["squeue", "-h", "-r", "-j", ",".join(job_ids), "-o", "%i|%T"], check=False)
    if proc.returncode != 0 and "Invalid job id" not in proc.stderr:
        raise CptError(f"`squeue` failed: {proc.stderr.strip()}")
    states = {}
    for line in proc.stdout.splitlines():
        job, _, state = line.strip().partition("|")
        if job and state in LIVE_STATES:
            states[job] = state
    return states


def job_info(job_id: str) -> dict[str, str] | None:
    """``scontrol show job`` as a dict (JobState, Reason, ExitCode, Restarts, ...); None once Slurm has
    forgotten the job (MinJobAge after it ended)."""
    proc = _run(["scontrol", "show", "job", "-o", str(job_id)], check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return parse_key_values(proc.stdout.splitlines()[0])


def cancel(job_ids: list[str], signal: str | None = None) -> None:
    if job_ids:
        _run(["scancel", *([f"--signal={signal}"] if signal else []), *job_ids], check=False)
