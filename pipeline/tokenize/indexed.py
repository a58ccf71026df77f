"""Helpers over Megatron indexed datasets (.bin/.idx): find, count, split."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import ConfigError, InputError


def prefixes(folder: Path) -> list[Path]:
    """Dataset prefixes (path without .bin/.idx) under ``folder``, sorted."""
    return sorted(p.with_suffix("") for p in folder.glob("*.idx") if p.with_suffix(".bin").is_file())


def sequence_count(prefix: Path) -> int:
    """The sequences an index's header counts (0 for an empty or unreadable index), without megatron,
    which cannot open the empty .bin of a tokenizer task that got no documents."""
    header = _header(Path(f"{prefix}.idx"))
    return header[2] if header else 0


def count(prefix: Path) -> dict:
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    ds = IndexedDataset(str(prefix))
    return {"documents": len(ds), "tokens": int(ds.sequence_lengths.sum())}


def held_out(tokens: np.ndarray, *, valid_fraction: float, seed: int) -> bool:
    """Whether a document belongs to the validation side: decided by a hash of its own tokens, so the
    same document lands on the same side in every run that keeps it (filtering ablations can then
    evaluate every variant on one variant's held-out documents without training on any of them)."""
    import hashlib

    digest = hashlib.blake2b(tokens.astype(np.int64).tobytes(), digest_size=8, key=str(seed).encode()).digest()
    return int.from_bytes(digest, "big") / 2**64 < valid_fraction


def split(prefix: Path, out_dir: Path, *, valid_fraction: float, seed: int) -> dict:
    """Split documents into ``out_dir/train`` and ``out_dir/valid`` datasets: a document-level hold-out
    keyed by each document's content (:func:`held_out`). At least one document goes to each side."""
    import torch
    from megatron.core.datasets.indexed_dataset import IndexedDataset, IndexedDatasetBuilder

    ds = IndexedDataset(str(prefix))
    n = len(ds)
    if n < 2:
        raise InputError(f"{prefix}: {n} document(s); need at least 2, one to train on and one held out "
                         "to measure forgetting")
    valid = [held_out(ds[i], valid_fraction=valid_fraction, seed=seed) for i in range(n)]
    if not any(valid):  # tiny corpora: hold out the first document rather than nothing
        valid[0] = True
    if all(valid):
        valid[-1] = False
    out_dir.mkdir(parents=True, exist_ok=True)
    dtype = ds.index.dtype
    builders = {name: IndexedDatasetBuilder(str(out_dir / f"{name}.bin"), dtype=dtype) for name in ("train", "valid")}
    tokens = {"train": 0, "valid": 0}
    docs = {"train": 0, "valid": 0}
    for i in range(n):
        name = "valid" if valid[i] else "train"
        seq = ds[i]
        builders[name].add_document(torch.from_numpy(seq.astype(np.int64)), [len(seq)])
        tokens[name] += len(seq)
        docs[name] += 1
    for name, b in builders.items():
        b.finalize(str(out_dir / f"{name}.idx"))
    return {name: {"documents": docs[name], "tokens": tokens[name]} for name in ("train", "valid")}


def check_prefix(prefix: Path, *, vocab_size: int, what: str) -> dict:
    """An existing Megatron dataset: both files present, every token id inside the tokenizer's
    vocabulary (a larger id means the data was tokenized with another tokenizer)."""
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    for ext in (".bin", ".idx"):
        if not Path(f"{prefix}{ext}").is_file():
            raise InputError(f"{what}: Megatron dataset file missing: {prefix}{ext}")
    _check_files(Path(prefix), what)
    ds = IndexedDataset(str(prefix))
    used = int(ds.sequence_lengths.sum())  # trailing bytes after the last sequence are not tokens
    tokens = np.memmap(f"{prefix}.bin", dtype=ds.index.dtype, mode="r", shape=(used,))  # paged in, not copied
    top = int(tokens.max()) if tokens.size else -1
    if top >= vocab_size:
        raise ConfigError(f"{what}: {prefix} holds token id {top}, outside the tokenizer's vocabulary of "
                          f"{vocab_size}: it was tokenized with a different tokenizer")
    if tokens.size and np.issubdtype(tokens.dtype, np.signedinteger) and int(tokens.min()) < 0:
        raise InputError(f"{what}: {prefix} holds a negative token id ({int(tokens.min())}): not token data")
    return {"documents": len(ds), "tokens": used, "max_token_id": top}


INDEX_MAGIC = b"MMIDIDX\x00\x00"  # megatron's .idx header, then version 1, dtype code, sequence and document counts
_DTYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 8, 7: 4, 8: 2}  # megatron's DType codes -> bytes per token


def _check_files(prefix: Path, what: str) -> None:
    """The .idx parses as megatron writes it and the .bin holds every sequence it points at (a truncated
    copy, or files of another format, fail here in one line instead of deep in training)."""
    idx, bin_ = Path(f"{prefix}.idx"), Path(f"{prefix}.bin")
    header = _header(idx)
    if header is None:
        raise InputError(f"{what}: {idx} is not a Megatron indexed dataset index (no MMIDIDX header)")
    version, code, sequences, documents = header
    if version != 1 or code not in _DTYPE_SIZES:
        raise InputError(f"{what}: {idx}: unsupported index version {version} or token type code {code}")
    if idx.stat().st_size < 34 + sequences * 12 + documents * 8:
        raise InputError(f"{what}: {idx} is truncated: its header counts {sequences} sequences")
    if not sequences:
        raise InputError(f"{what}: {idx} holds no sequences (an empty dataset)")
    end = _check_pointers(idx, sequences, _DTYPE_SIZES[code], what)
    if bin_.stat().st_size < end:
        raise InputError(f"{what}: {bin_} is truncated: {bin_.stat().st_size} bytes, its index points up to "
                         f"byte {end}")


def _header(idx: Path) -> tuple[int, int, int, int] | None:
    """(version, token type code, sequences, documents) of a megatron .idx, or None without its header."""
    import struct

    with open(idx, "rb") as f:
        head = f.read(34)
    if len(head) < 34 or head[:9] != INDEX_MAGIC:
        return None
    return struct.unpack("<QBQQ", head[9:34])


def _check_pointers(idx: Path, sequences: int, size: int, what: str, chunk: int = 1 << 20) -> int:
    """Every sequence length >= 0 and each pointer where the one before it ends (megatron writes them
    back to back from byte 0): an index that points anywhere else would read the wrong tokens. Returns
    the end of the last sequence, in bytes. Read in chunks: an index can hold billions of sequences."""
    lengths = np.memmap(idx, dtype=np.int32, mode="r", offset=34, shape=(sequences,))
    pointers = np.memmap(idx, dtype=np.int64, mode="r", offset=34 + sequences * 4, shape=(sequences,))
    expected = 0
    for start in range(0, sequences, chunk):
        n = lengths[start:start + chunk].astype(np.int64)
        p = pointers[start:start + chunk]
        if (n < 0).any():
            raise InputError(f"{what}: {idx}: sequence {start + int(np.argmax(n < 0))} has a negative length")
        ends = expected + np.cumsum(n * size)
        starts = np.concatenate(([expected], ends[:-1]))
        if (p != starts).any():
            raise InputError(f"{what}: {idx}: sequence {start + int(np.argmax(p != starts))} does not start where "
                             "the one before it ends (a damaged or foreign index)")
        expected = int(ends[-1])
    return expected


def merge(prefixes: list[Path], out_prefix: Path) -> dict:
    """Concatenate shards (in order) into one dataset with megatron's builder."""
    from megatron.core.datasets.indexed_dataset import IndexedDataset, IndexedDatasetBuilder

    dtypes = {str(p): IndexedDataset(str(p)).index.dtype for p in prefixes}
    dtype = dtypes[str(prefixes[0])]
    other = next((p for p, d in dtypes.items() if d != dtype), None)
    if other is not None:
        raise InputError(f"cannot merge {prefixes[0]} ({np.dtype(dtype).name} tokens) with {other} "
                         f"({np.dtype(dtypes[other]).name} tokens): write them with one token type")
    builder = IndexedDatasetBuilder(f"{out_prefix}.bin", dtype=dtype)
    for p in prefixes:
        builder.add_index(str(p))
    builder.finalize(f"{out_prefix}.idx")
    return count(out_prefix)
