"""Wall time of the main job: a cold ``cpt run`` on the embedded default, then a warm one (all cache hits).

    .venv/bin/python benchmarks/e2e_wall_time.py [--workdir DIR] [hydra overrides...]

Prints the wall time of each run and of each stage in the cold run (from the manifests).
The issue's targets on the 2-core CPU machine: cold <= 600 s, warm <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_run(workdir: Path, overrides: list[str]) -> float:
    env = {**os.environ, "CPT_WORKDIR": str(workdir)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "run", *overrides], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=None)
    args, overrides = ap.parse_known_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cpt-bench-"))
    if workdir.exists():
        shutil.rmtree(workdir)
    cold = timed_run(workdir, overrides)
    warm = timed_run(workdir, overrides)
    print(f"cold cpt run: {cold:7.1f} s  (target <= 600 s)")
    print(f"warm cpt run: {warm:7.1f} s  (target <= 30 s; all cache hits)")
    print("cold run, per stage:")
    rows = [json.loads(p.read_text()) for p in workdir.glob("*/*/manifest.json")]
    for m in sorted(rows, key=lambda m: m["started_at"]):
        print(f"  {m['stage']:<9} {m['duration_s']:7.1f} s")


if __name__ == "__main__":
    main()
