"""MinHash signature stage throughput: datatrove's ``MinhashDedupSignature`` against the project's
``FastMinhashDedupSignature``, same documents, same process, one core, alternating runs (best of
``--repeats``). Each run is the whole step (signatures, per-bucket files, sorting), and the files the
two write are compared byte for byte; the process exits non-zero if any differs.

    .venv/bin/python benchmarks/minhash_throughput.py [--input realistic|sample] [--languages en,mixed]
                                                      [--docs 1500] [--seed 0] [--repeats 3]

Input: ``realistic`` (default), documents from ``tests/realistic_text.py`` for each ``--languages`` mode
(``en``: English pages, ``mixed``: a Common-Crawl-like mix, 54% not English; calibrated on real crawl
statistics; the dedup stage splits words as English either way, as it does by default); ``sample``, the sample
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


def measure(texts: list[str], repeats: int) -> dict:
    """Best-of-``repeats`` seconds of the stock and fast signature steps over ``texts``, cache figures, and
    whether every signature file is byte-identical."""
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature

    from pipeline.config import DedupConfig
    from pipeline.curate.word_split import cache_stats, clear_caches
    from pipeline.dedup.fast_signature import FastMinhashDedupSignature
    from pipeline.dedup.passes import minhash_config

    cfg = minhash_config(DedupConfig())  # FineWeb: 5-grams, 14 x 8, 64-bit sha1
    tmp = Path(tempfile.mkdtemp(prefix="cpt-mhbench-"))
    best = {"stock": float("inf"), "fast": float("inf")}
    try:
        for rep in range(repeats):
            order = (("stock", MinhashDedupSignature), ("fast", FastMinhashDedupSignature))
            for name, cls in order if rep % 2 == 0 else order[::-1]:
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
    return {"cfg": cfg, "stock_s": best["stock"], "fast_s": best["fast"], "cache": cache, "identical": same}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", choices=("realistic", "sample"), default="realistic")
    ap.add_argument("--languages", default="en,mixed", help="realistic_text language modes, comma list")
    ap.add_argument("--docs", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    import random

    from datatrove.utils.logging import logger

    from pipeline.sample.generate import english_article

    logger.remove()
    inputs = {}
    if args.input == "realistic":
        sys.path.insert(0, str(ROOT / "tests"))
        from realistic_text import realistic_docs

        for mode in args.languages.split(","):
            inputs[mode] = [d["text"] for d in realistic_docs(args.docs, args.seed, languages=mode)]
    else:
        rng = random.Random(0)
        inputs["sample"] = ["\n\n".join(english_article(rng)[1]) for _ in range(args.docs)]
    ok = True
    rows = []
    for mode, texts in inputs.items():
        m = measure(texts, args.repeats)
        cache, n = m["cache"], len(texts)
        words = sum(len(t.split()) for t in texts) / n
        print(f"\n{mode}: {n} docs ({'tests/realistic_text.py, languages=' + mode if mode != 'sample' else 'sample articles'}"
              f", seed {args.seed}), {words:.0f} words each on average; {m['cfg']}")
        print(f"  stock MinhashDedupSignature: {n / m['stock_s']:8.1f} docs/s/core ({m['stock_s']:.2f} s)")
        print(f"  fast (project):              {n / m['fast_s']:8.1f} docs/s/core ({m['fast_s']:.2f} s)")
        print(f"  speedup: {m['stock_s'] / m['fast_s']:.2f}x; signature files identical: "
              f"{'yes' if m['identical'] else 'NO'}")
        print(f"  fast path chunk cache (one cold run): {cache['lookups']:,} lookups, hit rate "
              f"{cache['hit_rate']:.1%}, {cache['misses']:,} chunks tokenized ({cache['python']:,} by the Python "
              f"replay of spaCy's affix rules, {cache['spacy']:,} by spaCy), {cache['evictions']:,} LRU evictions; "
              f"size {cache['size']:,} / {cache['max_size']:,}")
        ok = ok and m["identical"]
        rows.append((mode, n / m["stock_s"], n / m["fast_s"], m["stock_s"] / m["fast_s"], cache["hit_rate"],
                     m["identical"]))
    print(f"\nbest of {args.repeats} (alternating), one core, docs/s/core:")
    print(f"{'input':<8} {'stock':>8} {'fast':>8} {'ratio':>7} {'hit rate':>9}  identical")
    for mode, a, b, r, h, same in rows:
        print(f"{mode:<8} {a:8.1f} {b:8.1f} {r:6.2f}x {h:9.1%}  {'yes' if same else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
