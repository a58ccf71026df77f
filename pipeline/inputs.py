"""Resolve user input paths (files, directories, globs) to a checked list of local files."""

from __future__ import annotations

import glob as globlib
import gzip
import hashlib
import os
from pathlib import Path
from typing import Iterable, Optional

from pipeline.errors import InputError

DEFAULT_PATTERNS = {
    "warc": ("*.warc", "*.warc.gz", "*.arc.gz"),
    "jsonl": ("*.jsonl", "*.jsonl.gz", "*.json", "*.json.gz"),
    "parquet": ("*.parquet",),
}


def expand(paths: Iterable[str], fmt: str, pattern: Optional[str] = None) -> list[Path]:
    """Every input file, sorted. A missing path is an error that names it."""
    files: list[Path] = []
    for raw in paths:
        p = os.path.expanduser(str(raw))
        if any(ch in p for ch in "*?["):
            matches = [Path(m) for m in globlib.glob(p, recursive=True) if os.path.isfile(m)]
            if not matches:
                raise InputError(f"input glob matched no files: {raw}")
            files.extend(matches)
        elif os.path.isdir(p):
            patterns = (pattern,) if pattern else DEFAULT_PATTERNS[fmt]
            found = sorted({f for pat in patterns for f in Path(p).rglob(pat) if f.is_file()})
            if not found:
                raise InputError(f"no {fmt} files under input directory: {raw} (patterns {', '.join(patterns)})")
            files.extend(found)
        elif os.path.isfile(p):
            files.append(Path(p))
        else:
            raise InputError(f"input path not found: {raw}")
    return sorted({f.resolve() for f in files})


def fingerprint_files(files: list[Path]) -> str:
    """Cheap identity of an input set: path, size and mtime of each file."""
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def check_warc_readable(path: Path) -> None:
    """Fail up front, naming the file, when it is not a WARC/WET at all (unreadable, not gzip when
    named .gz, no ``WARC/`` header). Damage further in is the reader's job: it counts what it loses."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(5)
    except Exception as exc:  # OSError, gzip.BadGzipFile, EOFError
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise InputError(f"unreadable WARC file {path}: {type(exc).__name__}: {detail}") from None
    if not head:
        raise InputError(f"WARC file is empty: {path}")
    if head != b"WARC/":
        raise InputError(f"unreadable WARC file {path}: it does not start with a 'WARC/' record header")


def common_root(files: list[Path]) -> Path:
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    return root


def write_paths_file(files: list[Path], root: Path, dest: Path) -> None:
    dest.write_text("".join(f"{f.relative_to(root)}\n" for f in files))
