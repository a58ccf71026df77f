"""A digest of what a stage wrote, stable across runs and machines, and the record of it per declared
output version (``tests/stage_outputs.json``).

CI runs every stage on a fixed input (``tests/test_e2e.py``) and compares each stage's digest with the
one recorded for the version the stage declares (``@output_version(N)``): an output that changes
without a version bump fails CI, so no stale cache can ship; a refactor that changes no output passes
and keeps every user's cache.

What is digested: the stage's stats and every file under its directory except its manifest, logs,
launch files, lock files, caches, TensorBoard events, plots and checkpoints (binary formats that embed library metadata); Parquet
as its rows, JSON and JSONL as data without timings, host names, absolute paths and other runs'
fingerprints (``mix/<fp>``), anything else as bytes. Floats are rounded: data stages to 6 significant digits; the training side (``FLOAT_COARSE``:
losses depend on float summation order) to 2, so there the digest covers what is written, its counts
and its magnitudes, not the last bits of a loss.

Record after a deliberate change (and a version bump): ``CPT_RECORD_STAGE_OUTPUTS=1 pytest tests/test_e2e.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

RECORD = Path(__file__).with_name("stage_outputs.json")
SKIP_DIRS = {"logs", "launch", "tb", "checkpoints", "slurm", "realize_cache", "data_cache", "__pycache__"}
SKIP_SUFFIXES = {".png", ".lock", ".tmp", ".pt", ".distcp", ".safetensors"}
SKIP_FILES = {"manifest.json", "report.html", "report.md"}  # the report pages quote measured throughput
VOLATILE = ("time", "wall", "duration", "_s", "per_s", "per_core", "per_step", "host", "started", "finished", "date_run",
            "tflops", "mfu", "throughput", "elapsed", "path", "dir", "rss", "memory")
# Stages whose digest is checked: every stage of the e2e run (three runs reproduced each digest).
ENFORCED = ("sample", "extract", "curate", "dedup", "tokenize", "replay", "mix", "pretrain", "train", "evaluate", "report")
FINGERPRINT_REF = re.compile(r"\b([a-z_]+)/[0-9a-f]{16}\b")
FLOAT_COARSE = {"pretrain", "train", "evaluate", "report", "export", "hf_import"}


def _round(x: float, digits: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def _volatile(key: str) -> bool:
    k = key.lower()
    return any(k == v or k.endswith(v) or k.startswith(v) for v in VOLATILE)


def normalize(value, digits: int, workdir: str):
    if isinstance(value, dict):
        return {str(k): normalize(v, digits, workdir) for k, v in sorted(value.items()) if not _volatile(str(k))}
    if isinstance(value, (list, tuple)):
        return [normalize(v, digits, workdir) for v in value]
    if isinstance(value, float):
        return _round(value, digits)
    if isinstance(value, str):  # another run's place: its fingerprint also covers library versions
        return FINGERPRINT_REF.sub(r"\1/<fp>", value.replace(workdir, "<workdir>") if workdir else value)
    return value


def _file_digest(f: Path, digits: int, workdir: str) -> str:
    if f.suffix == ".parquet":
        import pyarrow.parquet as pq

        data = normalize(pq.read_table(f).to_pylist(), digits, workdir)
    elif f.suffix == ".json":
        data = normalize(json.loads(f.read_text()), digits, workdir)
    elif f.suffix == ".jsonl":
        data = [normalize(json.loads(line), digits, workdir) for line in f.read_text().splitlines() if line.strip()]
    else:
        return hashlib.sha256(f.read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def stage_digest(stage: str, stage_dir: Path) -> str:
    """The digest of the outputs of ``stage`` in ``stage_dir`` (``<workdir>/<stage>/<fingerprint>``)."""
    digits = 2 if stage in FLOAT_COARSE else 6
    workdir = str(stage_dir.parent.parent)
    h = hashlib.sha256()
    stats = json.loads((stage_dir / "manifest.json").read_text()).get("stats", {})
    h.update(json.dumps(normalize(stats, digits, workdir), sort_keys=True, default=str).encode() + b"\0")
    for f in sorted(stage_dir.rglob("*")):
        rel = f.relative_to(stage_dir)
        if (not f.is_file() or SKIP_DIRS.intersection(rel.parts) or f.suffix in SKIP_SUFFIXES
                or f.name in SKIP_FILES or f.name.startswith(".")):
            continue
        h.update(f"{rel}\0{_file_digest(f, digits, workdir)}\0".encode())
    return h.hexdigest()[:16]


def load_record() -> dict:
    return json.loads(RECORD.read_text()) if RECORD.is_file() else {}


def save_record(record: dict) -> None:
    RECORD.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
