"""MinHash signature stage throughput: datatrove's ``MinhashDedupSignature`` against the project's
``FastMinhashDedupSignature``, same documents, same process, one core, alternating runs (best of
``--repeats``). Each run is the whole step (signatures, per-bucket files, sorting), and the files the
two write are compared byte for byte.

    .venv/bin/python benchmarks/minhash_throughput.py [--docs 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    import random

    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.utils.logging import logger

    from pipeline.config import DedupConfig
    from pipeline.curate.fast_filters import clear_caches
    from pipeline.dedup.fast_signature import FastMinhashDedupSignature
    from pipeline.dedup.passes import minhash_config
    from pipeline.sample.generate import _english_article

    logger.remove()
    rng = random.Random(0)
    texts = ["\n\n".join(_english_article(rng)[1]) for _ in range(args.docs)]
    words = sum(len(t.split()) for t in texts) / len(texts)
    cfg = minhash_config(DedupConfig())  # FineWeb: 5-grams, 14 x 8, 64-bit sha1
    tmp = Path(tempfile.mkdtemp(prefix="cpt-mhbench-"))
    best = {"stock": float("inf"), "fast": float("inf")}
    try:
        for rep in range(args.repeats):
            for name, cls in (("stock", MinhashDedupSignature), ("fast", FastMinhashDedupSignature)):
                clear_caches()  # every fast run starts cold: no word splits cached from the previous run
                out = tmp / name
                shutil.rmtree(out, ignore_errors=True)
                step = cls(output_folder=str(out), config=cfg)
                docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
                t0 = time.perf_counter()
                step.run(iter(docs), rank=0, world_size=1)
                best[name] = min(best[name], time.perf_counter() - t0)
        sig_files = sorted(p.relative_to(tmp / "stock") for p in (tmp / "stock").rglob("*.sig"))
        same = bool(sig_files) and all(filecmp.cmp(tmp / "stock" / f, tmp / "fast" / f, shallow=False)
                                       for f in sig_files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(texts)
    print(f"{n} generated articles, {words:.0f} words each on average; {cfg}")
    print(f"  stock MinhashDedupSignature: {n / best['stock']:8.1f} docs/s/core ({best['stock']:.2f} s)")
    print(f"  fast (project):              {n / best['fast']:8.1f} docs/s/core ({best['fast']:.2f} s)")
    print(f"  speedup: {best['stock'] / best['fast']:.2f}x; signature files identical: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
