"""Helpers over Megatron indexed datasets (.bin/.idx): find, count, split."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def prefixes(folder: Path) -> list[Path]:
    """Dataset prefixes (path without .bin/.idx) under ``folder``, sorted."""
    return sorted(p.with_suffix("") for p in folder.glob("*.idx") if p.with_suffix(".bin").is_file())


def count(prefix: Path) -> dict:
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    ds = IndexedDataset(str(prefix))
    return {"documents": len(ds), "tokens": int(ds.sequence_lengths.sum())}


def split(prefix: Path, out_dir: Path, *, valid_fraction: float, seed: int) -> dict:
    """Split documents into ``out_dir/train`` and ``out_dir/valid`` datasets (a seeded, document-level
    hold-out). At least one document goes to each side."""
    import torch
    from megatron.core.datasets.indexed_dataset import IndexedDataset, IndexedDatasetBuilder

    ds = IndexedDataset(str(prefix))
    n = len(ds)
    if n < 2:
        raise ValueError(f"{prefix}: {n} document(s); need at least 2 to hold out validation data")
    n_valid = min(n - 1, max(1, round(n * valid_fraction)))
    valid_ids = set(np.random.default_rng(seed).permutation(n)[:n_valid].tolist())
    out_dir.mkdir(parents=True, exist_ok=True)
    dtype = ds.index.dtype
    builders = {name: IndexedDatasetBuilder(str(out_dir / f"{name}.bin"), dtype=dtype) for name in ("train", "valid")}
    tokens = {"train": 0, "valid": 0}
    docs = {"train": 0, "valid": 0}
    for i in range(n):
        name = "valid" if i in valid_ids else "train"
        seq = ds[i]
        builders[name].add_document(torch.from_numpy(seq.astype(np.int64)), [len(seq)])
        tokens[name] += len(seq)
        docs[name] += 1
    for name, b in builders.items():
        b.finalize(str(out_dir / f"{name}.idx"))
    return {name: {"documents": docs[name], "tokens": tokens[name]} for name in ("train", "valid")}
