"""Resolve user input paths (local paths or fsspec URLs; files, directories, globs) to a checked,
sorted list of input files. Local files come back as absolute paths, remote ones as URLs."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
from pathlib import Path
from typing import Iterable, Optional

from pipeline.errors import InputError

WARC_FIRST_LINES = (b"WARC/", b"filedesc://")  # how a WARC file, an ARC file begins
DEFAULT_PATTERNS = {
    "warc": ("*.warc", "*.warc.gz", "*.wet", "*.wet.gz", "*.arc.gz"),
    "jsonl": tuple(f"*.{ext}{z}" for ext in ("jsonl", "json") for z in ("", ".gz", ".bz2", ".xz", ".zst")),
    "parquet": ("*.parquet",),
}


def _fs(raw: str):
    import fsspec

    try:
        return fsspec.core.url_to_fs(os.path.expanduser(str(raw)))
    except (ImportError, ValueError) as exc:  # unknown protocol, missing fsspec backend
        raise InputError(f"cannot open input {raw}: {exc}") from None


def _name(fs, path: str) -> str:
    """Local files by their path, remote ones by their full URL."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return path if "file" in protocols else fs.unstrip_protocol(path)


def expand(paths: Iterable[str], fmt: str, pattern: Optional[str] = None) -> list[str]:
    """Every input file, sorted. A missing path is an error that names it."""
    files: set[str] = set()
    for raw in paths:
        fs, p = _fs(raw)
        if any(ch in p for ch in "*?["):
            matches = [m for m in fs.glob(p) if fs.isfile(m)]
            if not matches:
                raise InputError(f"input glob matched no files: {raw}")
            files.update(_name(fs, m) for m in matches)
        elif fs.isdir(p):
            patterns = (pattern,) if pattern else DEFAULT_PATTERNS[fmt]
            found = [m for m in fs.find(p) if any(fnmatch.fnmatch(posixpath.basename(m), pat) for pat in patterns)]
            if not found:
                raise InputError(f"no {fmt} files under input directory: {raw} (patterns {', '.join(patterns)})")
            files.update(_name(fs, m) for m in found)
        elif fs.isfile(p):
            files.add(_name(fs, p))
        else:
            raise InputError(f"input path not found: {raw}")
    return sorted(files)


def fingerprint_files(files: list[str]) -> str:
    """Cheap identity of an input set: path, size and modification stamp of each file."""
    h = hashlib.sha256()
    for f in files:
        fs, p = _fs(f)
        info = fs.info(p)
        stamp = info.get("mtime") or info.get("LastModified") or info.get("ETag") or info.get("created")
        h.update(f"{f}\0{info.get('size')}\0{stamp}\n".encode())
    return h.hexdigest()[:16]


def warc_file_problem(path: str | Path) -> str | None:
    """Why a WARC/WET input file holds no readable record at its start ("empty", "not gzip", "not a WARC"),
    or None. Sniffs the content, as warcio does, not the name: an uncompressed WARC named ``.warc.gz`` is fine.

    Such a file is not an error: the reader counts it in the read funnel (``empty_file``, ``not_warc``,
    ``corrupt_file``) and the job goes on. A file the filesystem will not let us read is an error."""
    import fsspec
    import zlib

    try:
        with fsspec.open(str(path), "rb") as f:
            raw = f.read(1 << 16)
    except OSError as exc:
        raise InputError(f"cannot read input file {path}: {exc.strerror or exc}") from None
    if raw.startswith(b"\x1f\x8b"):
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, 64)
        except zlib.error:
            return "its gzip data is corrupt"
    head = raw.lstrip()  # the reader skips blank lines before the first record too
    if not head:
        return "it is empty"
    if not head.startswith(WARC_FIRST_LINES):
        return "it does not start with a 'WARC/' record header"
    return None


def check_some_usable(files: list, problem, what: str, log, hint=lambda why: "") -> None:
    """Fails when every file has a ``problem`` (a reason, or None), naming the first and ``what`` it should
    be; otherwise warns of each that has one: the reader counts its records and the other files go on."""
    problems = {f: p for f in files if (p := problem(f))}
    if problems and len(problems) == len(files):
        first, why = next(iter(problems.items()))
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"no {what} file in the input: {first}: {why}{more}{hint(why)}")
    for f, why in problems.items():
        log(f"warning: {f}: {why}; counted in the read funnel, the other files go on")


def common_root(files: list[str | Path]) -> str:
    """The deepest folder holding every file (one filesystem per input set)."""
    fs, first = _fs(str(files[0]))
    stripped = [_fs(str(f))[1] for f in files]
    root = posixpath.commonpath([posixpath.dirname(p) for p in stripped])
    return _name(fs, root)


def write_paths_file(files: list[str | Path], root: str, dest: Path) -> None:
    """datatrove's ``paths_file``: one path per line, relative to the data folder."""
    _, root_path = _fs(root)
    rel = [posixpath.relpath(_fs(str(f))[1], root_path) for f in files]
    dest.write_text("".join(f"{r}\n" for r in rel))
