"""A job's artifacts: the files of each stage it completed or reused (report, results tables, funnel,
metrics, the exported model) and its own ``outputs/`` folder, addressed as ``<stage>/<relative path>``.
Nothing outside those folders is reachable: no ``..``, no symlink out, no absolute path."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Optional

from pipeline.service.worker import job_dir

STAGE_NAME = re.compile(r"^[a-z_]{1,32}$")
FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
MAX_LISTED_FILES = 5000


def roots(workdir: str | Path, job: dict) -> dict[str, Path]:
    out = {"outputs": job_dir(workdir, job["id"]) / "outputs"}
    for st in json.loads(job["stages"] or "[]"):
        if st.get("status") in ("completed", "cached") and STAGE_NAME.match(st.get("name") or "") \
                and FINGERPRINT.match(st.get("fingerprint") or ""):
            out[st["name"]] = Path(workdir) / st["name"] / st["fingerprint"]
    return out


def listing(workdir: str | Path, job: dict) -> tuple[list[dict], bool]:
    """([{path, size}], truncated): regular files only; symlinked folders are not followed."""
    files = []
    for name, root in roots(workdir, job).items():
        for dirpath, _dirnames, filenames in os.walk(root):
            for fn in sorted(filenames):
                p = Path(dirpath) / fn
                if p.is_symlink() or not p.is_file():
                    continue
                files.append({"path": f"{name}/{p.relative_to(root)}", "size": p.stat().st_size})
                if len(files) >= MAX_LISTED_FILES:
                    return files, True
    return files, False


def resolve(workdir: str | Path, job: dict, path: str) -> Optional[Path]:
    """The file ``<stage>/<rest>`` names, or None if it is not one of the job's artifacts."""
    name, _, rest = path.partition("/")
    found = roots(workdir, job)
    if name not in found or not rest or rest.startswith("/") or ".." in Path(rest).parts or "\x00" in rest:
        return None
    root = Path(os.path.realpath(found[name]))
    target = Path(os.path.realpath(root / rest))
    return target if root in target.parents and target.is_file() else None
