"""Where a training run's checkpoints live, and which one is current (no torch or megatron imports,
so the chain can resolve checkpoints without loading them).

``<run>/checkpoints/iter_<NNNNNNN>/`` is one checkpoint; it is complete once its
``checkpoint_meta.json`` exists (written last, inside a ``.tmp`` directory renamed into place).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.errors import InputError

META_NAME = "checkpoint_meta.json"
CHECKPOINTS_DIR = "checkpoints"  # inside a training run's output directory
_ITER_DIR = re.compile(r"^iter_(\d{7,})$")


def iteration_dir(root: str | Path, iteration: int) -> Path:
    return Path(root) / f"iter_{iteration:07d}"


def is_checkpoint(path: str | Path) -> bool:
    """True when ``path`` is one complete checkpoint (its meta file is written last)."""
    return (Path(path) / META_NAME).is_file()


def list_checkpoints(root: str | Path) -> list[tuple[int, Path]]:
    """The complete checkpoints under ``root``, oldest first, as ``(iteration, path)``."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _ITER_DIR.match(p.name)) and is_checkpoint(p)]
    return sorted(found)


def latest_checkpoint(root: str | Path) -> Path | None:
    """The newest complete checkpoint under ``root``, or None."""
    found = list_checkpoints(root)
    return found[-1][1] if found else None


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint itself, or the newest one in a ``checkpoints/`` directory or a training run's directory."""
    path = Path(path)
    if is_checkpoint(path):
        return path
    for root in (path, path / CHECKPOINTS_DIR):
        if (latest := latest_checkpoint(root)) is not None:
            return latest
    raise InputError(f"no checkpoint at {path} (no {META_NAME} in it, nor any complete iter_*/ under it "
                     f"or under {CHECKPOINTS_DIR}/)")


def read_meta(path: str | Path) -> dict:
    path = Path(path)
    if not is_checkpoint(path):
        raise InputError(f"no checkpoint at {path} (missing {META_NAME})")
    return json.loads((path / META_NAME).read_text())


def recorded_tokenizer(ckpt: Path, meta: dict) -> Path | None:
    """The tokenizer.json a checkpoint's metadata names: a folder inside the checkpoint (an imported model's
    ``tokenizer_dir``, a plain name) or the file a run trained with (``tokenizer_path``)."""
    folder = meta.get("tokenizer_dir")
    if folder:
        if not isinstance(folder, str) or Path(folder).name != folder or folder in (".", ".."):
            raise InputError(f"{ckpt}: tokenizer_dir {folder!r} in {META_NAME} is not a folder name inside it")
        return ckpt / folder / "tokenizer.json"
    path = meta.get("tokenizer_path")
    return Path(path) if isinstance(path, str) and path else None
