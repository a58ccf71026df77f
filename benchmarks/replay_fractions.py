"""Realized vs requested replay fractions (by tokens) for a token budget, on megatron's real
blended dataset, plus the replay stream digest for two different new-data variants.

    .venv/bin/python benchmarks/replay_fractions.py [--samples 40000] [--seq 128]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def dataset(prefix: Path, docs: int, seed: int) -> dict:
    import torch
    from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder

    rng = np.random.default_rng(seed)
    b = IndexedDatasetBuilder(f"{prefix}.bin", dtype=np.int32)
    tokens = 0
    for _ in range(docs):
        n = int(rng.integers(50, 800))
        b.add_document(torch.from_numpy(rng.integers(0, 8000, size=n)), [n])
        tokens += n
    b.finalize(f"{prefix}.idx")
    return {"prefix": str(prefix), "tokens": tokens}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=40_000)
    ap.add_argument("--seq", type=int, default=128)
    args = ap.parse_args(argv)
    from pipeline import assets
    from pipeline.mix.realize import realize
    from pipeline.mix.stage import check_realized

    tok = str(assets.resolve_path("pipeline/assets/tokenizer/cpt-sample-bpe.json"))
    with tempfile.TemporaryDirectory(prefix="cpt-replay-") as tmp:
        tmp = Path(tmp)
        replay = dataset(tmp / "replay", 8000, 1)
        variants = {"A": dataset(tmp / "new_a", 6000, 2), "B": dataset(tmp / "new_b", 9000, 3)}
        print(f"budget {args.samples:,} samples x {args.seq} = {args.samples * args.seq:,} tokens; "
              f"replay source {replay['tokens']:,} tokens")
        print(f"{'f':>7} {'variant':>7} {'replay tokens':>13} {'realized':>9} {'rel. err':>9} {'epochs':>7}  stream")
        for f in (0.005, 0.01, 0.05, 0.25):
            for name, new in variants.items():
                r = realize([{"name": "new", "weight": 1 - f, **new}, {"name": "replay", "weight": f, **replay}],
                            num_samples=args.samples, seq_length=args.seq, seed=1234, tokenizer_path=tok,
                            eos_token="<|endoftext|>", cache_dir=tmp / f"cache-{f}-{name}")
                rep = r["sources"]["replay"]
                print(f"{f:7.3f} {name:>7} {rep['tokens']:13,} {rep['realized_fraction']:9.5f} "
                      f"{(rep['realized_fraction'] - f) / f:+9.4%} {rep['epochs']:7.2f}  "
                      f"{r['replay_stream_sha256'][:12]}")
                for w in check_realized(r, f):
                    print(f"{'':>17}warning: {w}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
