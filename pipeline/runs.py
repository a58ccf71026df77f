"""``cpt runs``: what ran, what was cached, what failed, and each run's inputs (lineage)."""

from __future__ import annotations

from pathlib import Path

from pipeline.launch.slurm_training import job_record
from pipeline.registry import Registry


def print_runs(workdir: str) -> int:
    rows = Registry(workdir).list_runs()
    if not rows:
        print(f"no runs under {workdir}")
        return 0
    print(f"{'stage':<9} {'fingerprint':<16} {'status':<10} {'started (UTC)':<25} {'time':>8}  inputs")
    for r in rows:
        took = f"{r['duration_s']:.1f}s" if isinstance(r["duration_s"], (int, float)) else "-"
        lineage = ", ".join(r["inputs"].values()) or "-"
        print(f"{r['stage']:<9} {r['fingerprint']:<16} {r['status']:<10} {r['started_at']:<25} {took:>8}  {lineage}")
        if job := job_record(Path(r["path"])):  # a training run submitted to Slurm (live state: cpt status)
            print(f"{'':<9} slurm job {job['job_id']}: {job['state']} (reason {job.get('reason') or '-'}, exit code "
                  f"{job.get('exit_code') or '-'}, requeued {job.get('restarts', 0)}x), log {job['log']}")
        if r["error"]:
            print(f"{'':<9} error: {r['error'].splitlines()[0][:160]}")
    print(f"\n{len(rows)} run(s) under {workdir}")
    return 0
