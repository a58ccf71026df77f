"""MinHash signature stage throughput: datatrove's ``MinhashDedupSignature`` against the project's
``FastMinhashDedupSignature``, same documents, same process, one core, alternating runs (best of
``--repeats``). Each run is the whole step (signatures, per-bucket files, sorting), and the files the
two write are compared byte for byte; the process exits non-zero if any differs.

    .venv/bin/python benchmarks/minhash_throughput.py [--input realistic|sample] [--docs 1500] [--seed 0]
                                                      [--repeats 2]

Input: ``realistic`` (default), documents from ``tests/realistic_text.py`` (open vocabulary with a
Zipfian tail, about as hard for the fast path's chunk cache as real web text); ``sample``, the sample
generator's English articles (a closed vocabulary of a few thousand words: the cache almost always
hits, an optimistic figure). Also prints the fast path's chunk-cache hit rate and LRU evictions.
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
    ap.add_argument("--input", choices=("realistic", "sample"), default="realistic")
    ap.add_argument("--docs", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)

    import random

    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.utils.logging import logger

    from pipeline.config import DedupConfig
    from pipeline.curate.word_split import cache_stats, clear_caches
    from pipeline.dedup.fast_signature import FastMinhashDedupSignature
    from pipeline.dedup.passes import minhash_config
    from pipeline.sample.generate import english_article

    logger.remove()
    if args.input == "realistic":
        sys.path.insert(0, str(ROOT / "tests"))
        from realistic_text import format_stats, realistic_docs, vocab_stats

        texts = [d["text"] for d in realistic_docs(args.docs, args.seed)]
        print("input: tests/realistic_text.py, " + format_stats(vocab_stats(texts), len(texts)))
    else:
        rng = random.Random(0)
        texts = ["\n\n".join(english_article(rng)[1]) for _ in range(args.docs)]
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
                if name == "fast":
                    cache = cache_stats(step.language)
        sig_files = sorted(p.relative_to(tmp / "stock") for p in (tmp / "stock").rglob("*.sig"))
        same = bool(sig_files) and all(filecmp.cmp(tmp / "stock" / f, tmp / "fast" / f, shallow=False)
                                       for f in sig_files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(texts)
    print(f"{n} {args.input} docs, {words:.0f} words each on average; {cfg}")
    print(f"  stock MinhashDedupSignature: {n / best['stock']:8.1f} docs/s/core ({best['stock']:.2f} s)")
    print(f"  fast (project):              {n / best['fast']:8.1f} docs/s/core ({best['fast']:.2f} s)")
    print(f"  speedup: {best['stock'] / best['fast']:.2f}x; signature files identical: {'yes' if same else 'NO'}")
    print(f"  fast path chunk cache (one cold run): {cache['lookups']:,} lookups, hit rate {cache['hit_rate']:.1%}, "
          f"{cache['misses']:,} chunks tokenized ({cache['python']:,} by the Python replay of spaCy's affix "
          f"rules, {cache['spacy']:,} by spaCy), {cache['evictions']:,} LRU "
          f"evictions (the caches evict; none is ever wiped); "
          f"size {cache['size']:,} / {cache['max_size']:,}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
