"""Reading and writing sharded safetensors checkpoints, one tensor at a time.

Reading memory-maps each shard (``safe_open``), so only the tensor being converted is resident.
Writing fills a shard up to ``max_shard_bytes``, writes it, and frees it; with several shards an
``model.safetensors.index.json`` maps each tensor to its file, as transformers expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from pipeline.errors import InputError

INDEX_NAME = "model.safetensors.index.json"


class SafetensorsReader:
    """The tensors of an HF checkpoint directory: ``model.safetensors``, or the shards its index names."""

    def __init__(self, src: Path):
        src = Path(src)
        index = src / INDEX_NAME
        if index.is_file():
            weight_map = json.loads(index.read_text()).get("weight_map", {})
            files = sorted(set(weight_map.values()))
            missing = [f for f in files if not (src / f).is_file()]
            if missing:
                raise InputError(f"{src}: shard(s) named in {INDEX_NAME} missing: {', '.join(missing)}")
        else:
            files = sorted(p.name for p in src.glob("*.safetensors"))
            if not files:
                raise InputError(f"{src}: no *.safetensors weights (PyTorch .bin checkpoints are not read; "
                                 f"resave with save_pretrained(safe_serialization=True))")
            weight_map = None
        self._handles = {}
        self._where: dict[str, str] = {}
        for name in files:
            try:
                handle = safe_open(str(src / name), framework="pt")
            except Exception as exc:  # truncated or not a safetensors file
                raise InputError(f"{src / name}: unreadable safetensors file ({exc})") from None
            self._handles[name] = handle
            for key in handle.keys():
                self._where[key] = name
        if weight_map is not None:
            absent = [k for k, f in weight_map.items() if self._where.get(k) != f]
            if absent:
                raise InputError(f"{src}: {len(absent)} tensor(s) of {INDEX_NAME} not in their shard, "
                                 f"e.g. {absent[0]}")

    def keys(self) -> list[str]:
        return list(self._where)

    def __contains__(self, key: str) -> bool:
        return key in self._where

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self._handles[self._where[key]].get_slice(key).get_shape())

    def get(self, key: str) -> torch.Tensor:
        return self._handles[self._where[key]].get_tensor(key)

    def dtype(self) -> torch.dtype | None:
        """The dtype of the first tensor (None for an empty checkpoint)."""
        for key in self._where:
            return self.get(key).dtype
        return None


class ShardedWriter:
    """Writes tensors into ``model-0000i-of-0000n.safetensors`` shards of at most ``max_shard_bytes``
    (one oversized tensor gets a shard of its own), or ``model.safetensors`` when one suffices."""

    def __init__(self, dest: Path, max_shard_bytes: int):
        self.dest = Path(dest)
        self.max_bytes = max_shard_bytes
        self._pending: dict[str, torch.Tensor] = {}
        self._pending_bytes = 0
        self._shards: list[list[str]] = []

    def add(self, name: str, tensor: torch.Tensor) -> None:
        size = tensor.numel() * tensor.element_size()
        if self._pending and self._pending_bytes + size > self.max_bytes:
            self._flush()
        self._pending[name] = tensor.contiguous()
        self._pending_bytes += size

    def _flush(self) -> None:
        number = len(self._shards) + 1
        save_file(self._pending, str(self.dest / f"shard-{number:05d}.tmp"), metadata={"format": "pt"})
        self._shards.append(list(self._pending))
        self._pending, self._pending_bytes = {}, 0

    def close(self) -> list[str]:
        """Write what is pending, name the shards, write the index; returns the file names."""
        if self._pending or not self._shards:
            self._flush()
        n = len(self._shards)
        if n == 1:
            (self.dest / "shard-00001.tmp").rename(self.dest / "model.safetensors")
            return ["model.safetensors"]
        names, weight_map = [], {}
        for i, keys in enumerate(self._shards, start=1):
            name = f"model-{i:05d}-of-{n:05d}.safetensors"
            (self.dest / f"shard-{i:05d}.tmp").rename(self.dest / name)
            names.append(name)
            weight_map.update({k: name for k in keys})
        total = sum((self.dest / f).stat().st_size for f in names)
        (self.dest / INDEX_NAME).write_text(json.dumps(
            {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, indent=2))
        return names
