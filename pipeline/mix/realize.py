"""Build the training blend for the token budget, exactly as training will, and count what it holds.

Megatron blends by fixed-length samples (``seq_length`` training tokens each), so the realized token
fraction of a source is its share of the budget's samples. The same function also fingerprints the
*replay stream*: the replay samples drawn, in order, and where they sit in the training stream.
With the same replay data, seed and budget, that stream is the same whatever the new data is: the
blend's source order is fixed by the weights alone, and the replay dataset's shuffle by (replay
data, seed, sample count)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from pipeline.train.data import HFTokenizer, build_train_dataset


def realize(sources: list[dict], *, num_samples: int, seq_length: int, seed: int, tokenizer_path: str,
            eos_token: str, cache_dir: Path, replay_name: str = "replay") -> dict:
    """``sources``: ``[{"name", "weight", "prefix" (absolute), "tokens"}]``. Returns per source the
    samples and tokens drawn, the realized fraction and epochs, and the replay stream's digest."""
    import torch

    from pipeline.train.distributed import distributed_session

    tok = HFTokenizer(tokenizer_path, eos_token)
    with distributed_session(torch.device("cpu"), seed):  # megatron's dataset builders ask for the rank
        return _realize(sources, tok, num_samples, seq_length, seed, cache_dir, replay_name)


def _realize(sources, tok, num_samples, seq_length, seed, cache_dir, replay_name) -> dict:
    ds = build_train_dataset([(s["weight"], s["prefix"]) for s in sources], num_samples, tok, seq_length, seed,
                             cache_dir)
    if len(sources) > 1:
        index = np.asarray(ds.dataset_index[:num_samples])
        sample_index = np.asarray(ds.dataset_sample_index[:num_samples])
        counts = np.bincount(index, minlength=len(sources))
    else:
        index = np.zeros(num_samples, dtype=np.int64)
        sample_index = np.arange(num_samples)
        counts = np.array([num_samples])
    total_w = sum(s["weight"] for s in sources)
    out = {"num_samples": num_samples, "seq_length": seq_length, "tokens": num_samples * seq_length, "sources": {}}
    for k, s in enumerate(sources):
        drawn = int(counts[k]) * seq_length
        out["sources"][s["name"]] = {
            "requested_fraction": s["weight"] / total_w,
            "realized_fraction": int(counts[k]) / num_samples,
            "samples": int(counts[k]),
            "tokens": drawn,
            "epochs": drawn / s["tokens"] if s["tokens"] else float("inf"),
        }
    names = [s["name"] for s in sources]
    if replay_name in names:
        r = names.index(replay_name)
        h = hashlib.sha256()
        positions = np.flatnonzero(index == r)
        h.update(positions.astype(np.int64).tobytes())
        inner = ds.datasets[r] if len(sources) > 1 else ds
        for i in sample_index[positions]:
            h.update(np.asarray(inner[int(i)]["tokens"]).astype(np.int64).tobytes())
        out["replay_stream_sha256"] = h.hexdigest()
    return out
