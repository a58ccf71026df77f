"""Throughput of the FineWeb quality stack: datatrove's filters vs ``pipeline.curate.fast_filters``.

    .venv/bin/python benchmarks/filter_chain.py [--input realistic|sample] [--docs 600] [--seed 0]
                                                [--stream 1500] [--repeats N] [--workdir DIR]
                                                [--web-pages 480] [--original-docs 500] [--profile]

Input (``--input``):

* ``realistic`` (default): ``--docs`` documents from ``tests/realistic_text.py`` (open vocabulary
  with a Zipfian tail, web-page furniture, page kinds that every filter keeps and drops; about as hard
  for a per-chunk cache as real Common Crawl text).
* ``sample``: the embedded synthetic sample (article HTML extracted once with datatrove's
  ``Trafilatura(favour_precision=True, timeout=10)``, cached as JSONL under the work dir), the original
  corpus documents and the adversarial documents. Its vocabulary is closed (a few thousand words), so the
  fast chain's chunk cache almost always hits: an optimistic figure.

Both chains (GopherRepetition -> GopherQuality -> C4 -> FineWeb, configured by ``filter_steps`` from the
default recipe) run in this one process, single-threaded, alternating stock / fast, best of
``--repeats``; the fast chain's caches are cleared before each of its runs, so every timed run starts
cold. Prints docs/s/core for each, the ratio, the time per filter, the fast splitter's chunk-cache hit
rate and evictions, and checks that every document gets the same decision and reason at every filter,
the same final text and the same per-filter stats (through datatrove's own ``run``). With
``--stream N`` (realistic input), the fast chain then carries on, cache warm, over N further documents
(another seed): the steady-state rate, hit rate and evictions of a long-running worker whose cache is
full. Exits non-zero if anything differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the shared fixtures

from filter_bench import FILTER_KEYS, adversarial_docs, compare, make_chains, run_chain  # noqa: E402


# ----------------------------------------------------------------------------- input
def load_input(workdir: Path, web_pages: int, original_docs: int, seed: int = 1234) -> list[dict]:
    """Extracted sample pages + original corpus docs (cached as JSONL) + :func:`adversarial_docs`."""
    cache = workdir / f"filter_chain_input-{seed}-{web_pages}-{original_docs}.jsonl"
    if not cache.exists():
        from datatrove.pipeline.extractors import Trafilatura

        from pipeline.sample.generate import build_sample

        sample = build_sample(seed=seed, web_pages=web_pages, original_docs=original_docs)
        extractor = Trafilatura(favour_precision=True, timeout=10)
        rows = []
        for p in sample.pages:
            text = extractor.extract(p.html) or ""
            if text:
                rows.append({"id": f"web-{p.record_id}", "text": text, "kind": p.kind})
        rows += [{"id": d["id"], "text": d["text"], "kind": "original"} for d in sample.original]
        workdir.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        tmp.replace(cache)
    with open(cache, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return rows + adversarial_docs()


def load_realistic(n: int, seed: int = 0) -> list[dict]:
    """:func:`realistic_text.realistic_docs` (the adversarial documents, one of them 680 k characters long,
    would weigh more than real pages do; the tests run them)."""
    from realistic_text import realistic_docs

    return realistic_docs(n, seed)


def pipeline_stats(steps, docs: list[dict]) -> tuple[list[str], list[dict]]:
    """Run the steps through datatrove's own ``run`` generators; returns kept texts and each step's stats."""
    from datatrove.data import Document

    gen = (Document(text=d["text"], id=d["id"]) for d in docs)
    for _, s in steps:
        gen = s.run(gen)
    kept = [doc.text for doc in gen]
    stats = []
    for _, s in steps:
        st = {k: v for k, v in s.stats.to_dict().items() if "time" not in k}
        stats.append(json.loads(json.dumps(st, default=str)))
    return kept, stats


# ----------------------------------------------------------------------------- main
def _cache_line(st: dict) -> str:
    return (f"chunk cache: {st['lookups']:,} chunk lookups, hit rate {st['hit_rate']:.1%}, "
            f"{st['misses']:,} chunks tokenized ({st['python']:,} by the Python replay of spaCy's affix rules, "
            f"{st['spacy']:,} by spaCy), {st['evictions']:,} LRU evictions "
            f"(the caches evict; none is ever wiped); "
            f"size {st['size']:,} / {st['max_size']:,}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", choices=("realistic", "sample"), default="realistic")
    ap.add_argument("--docs", type=int, default=600, help="realistic documents (--input realistic)")
    ap.add_argument("--seed", type=int, default=0, help="realistic text seed")
    ap.add_argument("--stream", type=int, default=1500,
                    help="realistic docs for the warm-cache fast-only run after the comparison (0: none)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cpt-filter-chain-bench")
    ap.add_argument("--web-pages", type=int, default=480)
    ap.add_argument("--original-docs", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=None, help="default: 1 for realistic, 3 for sample")
    ap.add_argument("--profile", action="store_true", help="also cProfile one fast run")
    args = ap.parse_args()
    repeats = args.repeats or (1 if args.input == "realistic" else 3)

    from pipeline.curate import fast_filters, word_split

    t0 = time.perf_counter()
    if args.input == "realistic":
        docs = load_realistic(args.docs, args.seed)
        where = f"tests/realistic_text.py, seed {args.seed}"
    else:
        docs = load_input(args.workdir, args.web_pages, args.original_docs)
        where = f"embedded sample, cache under {args.workdir}"
    n_chars = sum(len(d["text"]) for d in docs)
    print(f"input: {args.input}, {len(docs)} docs, {n_chars / len(docs) / 1000:.1f} k chars/doc on average "
          f"({where}; made in {time.perf_counter() - t0:.1f} s)")
    if args.input == "realistic":
        from realistic_text import format_stats, vocab_stats

        print("  " + format_stats(vocab_stats([d["text"] for d in docs]), len(docs)).replace("\n", "\n  "))

    stock_steps, fast_steps = make_chains()
    # warm-up (spaCy load, first-call costs) outside the timed runs
    run_chain(stock_steps, docs[:20])
    run_chain(fast_steps, docs[:20])

    best = {"stock": float("inf"), "fast": float("inf")}
    per_best = {}
    results = {}
    for r in range(repeats):
        for name, steps in (("stock", stock_steps), ("fast", fast_steps)) if r % 2 == 0 else \
                (("fast", fast_steps), ("stock", stock_steps)):
            if name == "fast":
                fast_filters.clear_caches()  # every timed fast run starts cold
            t = time.perf_counter()
            decisions, per = run_chain(steps, docs)
            dt = time.perf_counter() - t
            if name == "fast":
                counts = word_split.split_counts()
                cache = word_split.cache_stats()
            results[name] = decisions
            if dt < best[name]:
                best[name], per_best[name] = dt, per
    problems = compare(docs, results["stock"], results["fast"])

    # the real datatrove run() path: same kept texts and same per-filter stats (drop reasons, line stats)
    fast_filters.clear_caches()
    stock_kept, stock_stats = pipeline_stats(make_chains()[0], docs)
    fast_kept, fast_stats = pipeline_stats(make_chains()[1], docs)
    if stock_kept != fast_kept:
        problems.append("run(): kept documents differ")
    for key, a, b in zip(FILTER_KEYS, stock_stats, fast_stats):
        if a != b:
            problems.append(f"run(): stats of {key} differ: {sorted(set(a.items()) ^ set(b.items()))[:6]}")

    n = len(docs)
    stock_rate, fast_rate = n / best["stock"], n / best["fast"]
    print(f"\nsingle process, best of {repeats} (alternating), {n} docs:")
    print(f"  stock datatrove chain: {stock_rate:8.1f} docs/s/core  ({best['stock']:.2f} s)")
    print(f"  fast chain:            {fast_rate:8.1f} docs/s/core  ({best['fast']:.2f} s)")
    print(f"  speedup:               {fast_rate / stock_rate:8.2f}x")
    print(f"  word/sentence splits in the fast chain: {counts['fast']} from cached chunks, "
          f"{counts['stock']} by datatrove (cross-chunk special cases / IS_ALPHA)")
    print(f"  {_cache_line(cache)} (cold start)")
    print("\ntime per filter (s, best run):     stock      fast")
    for i, key in enumerate(FILTER_KEYS):
        print(f"  {key:<28} {per_best['stock'][i]:8.3f}  {per_best['fast'][i]:8.3f}")

    reasons: dict[str, int] = {}
    for row, _ in results["stock"]:
        for key, res in zip(FILTER_KEYS, row):
            if res is not True:
                reasons[f"{key}:{res}"] = reasons.get(f"{key}:{res}", 0) + 1
    kept = sum(1 for _, text in results["stock"] if text is not None)
    print(f"\nkept {kept}/{n}; drop reasons seen: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))

    if args.input == "realistic" and args.stream > 0:
        from realistic_text import realistic_docs

        more = realistic_docs(args.stream, args.seed + 1)
        fast_filters.clear_caches()
        run_chain(fast_steps, docs)  # fill the cache, as a worker that has been running a while
        before = word_split.cache_stats()
        t = time.perf_counter()
        run_chain(fast_steps, more)
        dt = time.perf_counter() - t
        after = word_split.cache_stats()
        delta = {k: after[k] - before[k] for k in ("lookups", "misses", "evictions", "python", "spacy")}
        delta["hit_rate"] = 1 - delta["misses"] / max(delta["lookups"], 1)
        delta["size"], delta["max_size"] = after["size"], after["max_size"]
        rate = args.stream / dt
        print(f"\nwarm cache, fast chain only, {args.stream} further realistic docs (seed {args.seed + 1}): "
              f"{rate:.1f} docs/s/core = {rate / stock_rate:.2f}x the stock rate above")
        print(f"  {_cache_line(delta)}")

    if fast_rate / stock_rate < 2 or args.profile:
        import cProfile
        import pstats

        fast_filters.clear_caches()
        prof = cProfile.Profile()
        prof.enable()
        run_chain(fast_steps, docs)
        prof.disable()
        print("\nprofile of one fast run (top functions by internal time):")
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(15)

    if problems:
        print(f"\nDECISIONS DIFFER on {len(problems)} item(s):")
        for p in problems[:30]:
            print("  " + p)
        return 1
    print(f"\ndecisions identical: yes (keep/drop and reason at every filter, final text, run() stats; {n} docs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
