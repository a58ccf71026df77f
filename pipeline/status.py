"""``cpt status``: per stage run, where its work ran and how far it got.

For each datatrove run of a stage on Slurm or Ray: tasks done / running / pending / failed, and each
failed rank with its log. For a training job on Slurm: its job id, state, restarts, exit reason and
log. Slurm is asked live (``squeue``/``scontrol``) when it is reachable; otherwise the records the
waiting cpt process kept are shown.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import CptError
from pipeline.launch import slurm_cli
from pipeline.launch.slurm_training import JOB_DIR, JOB_RECORD, job_record
from pipeline.launch.task_state import JOB_RECORD as TASKS_RECORD
from pipeline.launch.task_state import completed_ranks, read_record
from pipeline.registry import Registry


def data_lines(logging_dir: Path, run_dir: Path, run_status: str) -> list[str]:
    record = read_record(logging_dir)
    if not record or not record.get("submissions"):
        return []
    sub = record["submissions"][-1]
    tasks = record["tasks"]
    done_all = completed_ranks(logging_dir) & set(range(tasks))
    name = logging_dir.relative_to(run_dir)
    if record["executor"] == "slurm":
        from pipeline.launch.slurm_data import task_log, tally

        try:
            t = tally(logging_dir, sub)
            running, pending, failed = t["running"], t["pending"], t["failed"]
        except CptError:  # Slurm not reachable from here: what the files say
            running, pending = [], []
            failed = [r for r in sub["ranks"] if r not in done_all] if run_status != "running" else []
        where = f"slurm job {','.join(sub['job_ids'])}"
        log_of = lambda r: task_log(sub, r)  # noqa: E731
    else:
        running = pending = []
        left = [r for r in sub["ranks"] if r not in done_all]
        failed = left if run_status != "running" else []
        running = left if run_status == "running" else []
        where = f"ray at {sub.get('address', '?')}"
        log_of = lambda r: logging_dir / "logs" / f"task_{r:05d}.log"  # noqa: E731
    lines = [f"    {str(name):<28} {len(done_all)}/{tasks} done, {len(running)} running, {len(pending)} pending, "
             f"{len(failed)} failed ({where})"]
    lines += [f"      failed rank {r}: {log_of(r)}" for r in failed]
    return lines


def training_lines(run_dir: Path) -> list[str]:
    record = job_record(run_dir)
    if not record:
        return []
    try:
        info = slurm_cli.job_info(record["job_id"])
    except CptError:
        info = None
    if info:
        record.update(state=info.get("JobState", record["state"]), reason=info.get("Reason", ""),
                      exit_code=info.get("ExitCode", ""), restarts=int(info.get("Restarts", 0) or 0))
    reason = record.get("reason") or "-"
    return [f"    slurm job {record['job_id']}: {record['state']} (reason {reason}, exit code "
            f"{record.get('exit_code') or '-'}, requeued {record.get('restarts', 0)}x), "
            f"{record.get('world_size', '?')} rank(s)",
            f"      log {record['log']}"]


def print_status(workdir: str) -> int:
    rows = Registry(workdir).list_runs()
    if not rows:
        print(f"no runs under {workdir}")
        return 0
    for r in rows:
        run_dir = Path(r["path"])
        lines = []
        for rec in sorted(run_dir.rglob(TASKS_RECORD)):
            lines += data_lines(rec.parent, run_dir, r["status"])
        if (run_dir / JOB_DIR / JOB_RECORD).is_file():
            lines += training_lines(run_dir)
        where = "local" if not lines else ""
        print(f"{r['stage']:<9} {r['fingerprint']:<16} {r['status']:<10} {where}")
        for line in lines:
            print(line)
        if r["error"] and r["status"] != "completed":
            print(f"    error: {r['error'].splitlines()[0][:300]}")
    return 0
