"""Reading and writing sharded safetensors checkpoints, one tensor at a time.

Reading opens the shard for each tensor (``safe_open`` memory-maps it) and closes it again, so the
pages already read do not stay mapped: only the tensor being converted is resident. Writing plans
the shards from the tensors' shapes first, then streams each tensor's bytes into its file behind a
header written up front (the safetensors layout: 8-byte header length, JSON header, raw data), so
no shard is ever held in memory. With several shards ``model.safetensors.index.json`` maps each
tensor to its file, as transformers expects.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import torch
from safetensors import safe_open

from pipeline.errors import InputError
from pipeline.hf.json_file import json_object

INDEX_NAME = "model.safetensors.index.json"


class SafetensorsReader:
    """The tensors of an HF checkpoint directory: ``model.safetensors``, or the shards its index names."""

    def __init__(self, src: Path):
        src = Path(src)
        index = src / INDEX_NAME
        if index.is_file():
            weight_map = json_object(index).get("weight_map")
            if not isinstance(weight_map, dict) or not weight_map:
                raise InputError(f"{index}: no weight_map (an object of tensor name -> shard file)")
            bad = [f for f in weight_map.values() if not isinstance(f, str) or Path(f).name != f
                   or f in (".", "..") or not f.endswith(".safetensors")]
            if bad:
                raise InputError(f"{index}: weight_map names {bad[0]!r}, not a .safetensors file in {src}")
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
        self.src = src
        self._where: dict[str, str] = {}
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._dtypes: dict[str, str] = {}
        for name in files:
            try:
                with safe_open(str(src / name), framework="pt") as handle:
                    for key in handle.keys():
                        self._where[key] = name
                        info = handle.get_slice(key)
                        self._shapes[key] = tuple(info.get_shape())
                        self._dtypes[key] = info.get_dtype()
            except Exception as exc:  # truncated or not a safetensors file
                raise InputError(f"{src / name}: unreadable safetensors file ({exc})") from None
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
        return self._shapes[key]

    def get(self, key: str) -> torch.Tensor:
        with safe_open(str(self.src / self._where[key]), framework="pt") as handle:
            return handle.get_tensor(key)

    def dtype(self) -> torch.dtype | None:
        """The dtype of the first tensor, from the header (None for an empty checkpoint)."""
        for key in self._where:
            return _TORCH_DTYPES.get(self._dtypes[key], torch.float32)
        return None


_ST_DTYPES = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32"}
_TORCH_DTYPES = {name: dtype for dtype, name in _ST_DTYPES.items()}


def plan_shards(entries: list[tuple[list[tuple[str, tuple[int, ...]]], object]], element_size: int,
                max_shard_bytes: int) -> list[list]:
    """Group ``(tensors, item)`` entries (the tensors of one item stay together) into shards of at
    most ``max_shard_bytes`` (an item larger than that gets a shard of its own)."""
    shards, current, size = [], [], 0
    for tensors, item in entries:
        nbytes = sum(math.prod(shape) for _, shape in tensors) * element_size
        if current and size + nbytes > max_shard_bytes:
            shards.append(current)
            current, size = [], 0
        current.append((tensors, item))
        size += nbytes
    if current or not shards:
        shards.append(current)
    return shards


def write_shard(path: Path, entries: list, dtype: torch.dtype, produce) -> int:
    """Write one safetensors file: the header from the planned shapes, then ``produce(item)``'s
    tensors (in the planned order and shapes) one item at a time. Returns the data bytes."""
    element = torch.empty((), dtype=dtype).element_size()
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for tensors, _ in entries:
        for name, shape in tensors:
            end = offset + math.prod(shape) * element
            header[name] = {"dtype": _ST_DTYPES[dtype], "shape": list(shape), "data_offsets": [offset, end]}
            offset = end
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for tensors, item in entries:
            produced = produce(item)
            for (name, shape), t in zip(tensors, produced):
                if tuple(t.shape) != tuple(shape):
                    raise AssertionError(f"{name}: produced {tuple(t.shape)}, planned {shape}")
                f.write(t.to(dtype).contiguous().view(torch.uint8).numpy().tobytes())
        f.flush()
        os.fsync(f.fileno())
    return offset


def write_sharded(dest: Path, entries: list, dtype: torch.dtype, produce, max_shard_bytes: int) -> list[str]:
    """``model.safetensors``, or ``model-0000i-of-0000n.safetensors`` plus the index; returns the names."""
    element = torch.empty((), dtype=dtype).element_size()
    shards = plan_shards(entries, element, max_shard_bytes)
    n = len(shards)
    names = ["model.safetensors"] if n == 1 else [f"model-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)]
    total, weight_map = 0, {}
    for name, shard in zip(names, shards):
        total += write_shard(Path(dest) / name, shard, dtype, produce)
        weight_map.update({t: name for tensors, _ in shard for t, _ in tensors})
    if n > 1:
        (Path(dest) / INDEX_NAME).write_text(json.dumps(
            {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, indent=2))
    return names
