"""Throughput of the FineWeb quality stack: datatrove's filters vs ``pipeline.curate.fast_filters``.

    .venv/bin/python benchmarks/filter_chain.py [--languages en,mixed] [--lid off,on] [--docs 600] [--seed 0]
                                                [--repeats 3] [--stream 1500] [--json PATH] [--profile]
    .venv/bin/python benchmarks/filter_chain.py --languages de,fr,zh,ja     # FineWeb-2 languages
    .venv/bin/python benchmarks/filter_chain.py --input sample              # the embedded sample

Input (``--input``):

* ``realistic`` (default): ``--docs`` documents of ``tests/realistic_text.py`` per ``--languages`` entry,
  calibrated on real Common Crawl statistics (chunk types, accented and non-ASCII tokens, attached
  punctuation, lines per page, length tail, spaCy emoticon fragments across a space). ``en``: English
  pages; ``mixed``: a Common-Crawl-like mix, 54% not English, through the English chain (what a
  chain without language ID sees); ``de``, ``fr``, ``zh``, ``ja``...: pages in that language through
  FineWeb-2's chain for it (``recipe=fineweb2``: its thresholds and word tokenizer: spaCy, spaCy +
  jieba, Sudachi).
* ``sample``: the embedded synthetic sample (article HTML extracted once with datatrove's
  ``Trafilatura(favour_precision=True, timeout=10)``, cached as JSONL under the work dir), the original
  corpus documents and the adversarial documents: a closed vocabulary, an optimistic figure.

``--lid on`` first runs the recipe's language ID (lid.176, as ``curate`` does) and times the chains on the
documents it keeps; the "per input doc" rates then include language ID's own time, as production runs it.

Both chains (GopherRepetition -> GopherQuality -> C4 (English) -> FineWeb, built by ``filter_steps`` from
the recipe) run in this one process, single-threaded, alternating stock / fast, best of ``--repeats``;
the fast chain's caches are cleared before each of its runs, so every timed run starts cold. For each
case it prints docs/s/core for each chain, the ratio, the time per filter, the chunk-cache hit rate and
how many texts went back to datatrove's own splitting, and checks that every document gets the same
decision and reason at every filter, the same final text and the same per-filter stats (through
datatrove's own ``run``). With ``--stream N``, the fast chain of the first case then carries on, cache
warm, over N further documents (another seed): a long-running worker's steady state. Ends with a table of
all cases; exits non-zero if any decision differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the shared fixtures

from filter_bench import adversarial_docs, compare, language_filter, make_chains, run_chain  # noqa: E402


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


def chain_language(mode: str) -> str:
    """The chain a ``--languages`` entry runs through: English for ``en`` and ``mixed``."""
    return "en" if mode in ("en", "mixed") else mode


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


def run_lid(lang: str, docs: list[dict]) -> tuple[list[dict], float]:
    """The documents the recipe's language ID keeps for ``lang``, and its seconds over all of ``docs``."""
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import get_filter_result

    lid = language_filter(lang)
    lid.filter(Document(text="warm up the model", id="w"))
    t = time.perf_counter()
    kept = [d for d in docs if get_filter_result(lid.filter(Document(text=d["text"], id=d["id"])))[0]]
    return kept, time.perf_counter() - t


# ----------------------------------------------------------------------------- one case
def measure(lang: str, docs: list[dict], repeats: int) -> dict:
    """Stock and fast chains for ``lang`` over ``docs``: best-of-``repeats`` seconds, cache figures, checks."""
    from pipeline.curate import fast_filters, word_split

    stock_steps, fast_steps = make_chains(lang)
    splitter_lang = dict(fast_steps)["gopher_quality"].language
    run_chain(stock_steps, docs[:20])  # warm-up (spaCy load, first-call costs) outside the timed runs
    run_chain(fast_steps, docs[:20])
    best = {"stock": float("inf"), "fast": float("inf")}
    per_best, results = {}, {}
    for r in range(repeats):
        order = (("stock", stock_steps), ("fast", fast_steps))
        for name, steps in order if r % 2 == 0 else order[::-1]:
            if name == "fast":
                fast_filters.clear_caches()  # every timed fast run starts cold
            t = time.perf_counter()
            decisions, per = run_chain(steps, docs)
            dt = time.perf_counter() - t
            if name == "fast":
                counts = word_split.split_counts(splitter_lang)
                cache = word_split.cache_stats(splitter_lang)
            results[name] = decisions
            if dt < best[name]:
                best[name], per_best[name] = dt, per
    problems = compare(docs, results["stock"], results["fast"])
    # the real datatrove run() path: same kept texts and same per-filter stats (drop reasons, line stats)
    fast_filters.clear_caches()
    stock_kept, stock_stats = pipeline_stats(make_chains(lang)[0], docs)
    fast_kept, fast_stats = pipeline_stats(make_chains(lang)[1], docs)
    if stock_kept != fast_kept:
        problems.append("run(): kept documents differ")
    for (key, _), a, b in zip(stock_steps, stock_stats, fast_stats):
        if a != b:
            problems.append(f"run(): stats of {key} differ: {sorted(set(a.items()) ^ set(b.items()))[:6]}")
    reasons: dict[str, int] = {}
    for row, _ in results["stock"]:
        for (key, _), res in zip(stock_steps, row):
            if res is not True:
                reasons[f"{key}:{res}"] = reasons.get(f"{key}:{res}", 0) + 1
    return {"docs": len(docs), "stock_s": best["stock"], "fast_s": best["fast"], "counts": counts, "cache": cache,
            "keys": [k for k, _ in stock_steps], "per_filter": per_best, "problems": problems, "reasons": reasons,
            "kept": sum(1 for _, text in results["stock"] if text is not None), "fast_steps": fast_steps}


def _cache_line(st: dict) -> str:
    return (f"chunk cache: {st['lookups']:,} chunk lookups, hit rate {st['hit_rate']:.1%}, "
            f"{st['misses']:,} chunks tokenized ({st['python']:,} by the Python replay of spaCy's affix rules, "
            f"{st['spacy']:,} by spaCy), {st['evictions']:,} LRU evictions; size {st['size']:,} / {st['max_size']:,}")


def print_case(title: str, m: dict) -> None:
    n = m["docs"]
    stock_rate, fast_rate = n / m["stock_s"], n / m["fast_s"]
    print(f"\n== {title}: {n} docs into the chain")
    print(f"  stock datatrove chain: {stock_rate:8.1f} docs/s/core  ({m['stock_s']:.2f} s)")
    print(f"  fast chain:            {fast_rate:8.1f} docs/s/core  ({m['fast_s']:.2f} s)")
    print(f"  speedup:               {fast_rate / stock_rate:8.2f}x")
    if m["cache"]["lookups"]:
        print(f"  word/sentence splits in the fast chain: {m['counts']['fast']} from cached chunks, "
              f"{m['counts']['stock']} by datatrove (cross-chunk special cases / IS_ALPHA / no cached path)")
        print(f"  {_cache_line(m['cache'])} (cold start)")
    else:
        print(f"  no chunk cache for this language: words split by datatrove's own tokenizer "
              f"({m['counts']['stock']} texts / lines)")
    print("  time per filter (s, best run):  stock      fast")
    for i, key in enumerate(m["keys"]):
        print(f"    {key:<26} {m['per_filter']['stock'][i]:8.3f}  {m['per_filter']['fast'][i]:8.3f}")
    print(f"  kept {m['kept']}/{n}; drop reasons: " + ", ".join(f"{k}={v}" for k, v in sorted(m["reasons"].items())))
    print("  decisions identical: " + ("yes" if not m["problems"] else f"NO ({len(m['problems'])} differ)"))


# ----------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", choices=("realistic", "sample"), default="realistic")
    ap.add_argument("--languages", default="en,mixed",
                    help="comma list of realistic_text language modes: en, mixed, de, fr, zh, ja, ...")
    ap.add_argument("--lid", default="off,on", help="comma list: off (no language ID), on (language ID first)")
    ap.add_argument("--docs", type=int, default=600, help="realistic documents per language mode")
    ap.add_argument("--seed", type=int, default=0, help="realistic text seed")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--stream", type=int, default=0,
                    help="further docs for a warm-cache fast-only run after the first case (0: none)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cpt-filter-chain-bench")
    ap.add_argument("--web-pages", type=int, default=480)
    ap.add_argument("--original-docs", type=int, default=500)
    ap.add_argument("--json", type=Path, help="also write the table as JSON here")
    ap.add_argument("--profile", action="store_true", help="also cProfile one fast run of the first case")
    args = ap.parse_args()

    from pipeline.curate import fast_filters, word_split

    if args.input == "sample":
        cases = [("sample", "off")]
    else:
        cases = [(mode, lid) for mode in args.languages.split(",") for lid in args.lid.split(",")]
    inputs: dict[str, list[dict]] = {}
    rows, problems = [], []
    for mode, lid in cases:
        if mode not in inputs:
            t0 = time.perf_counter()
            if mode == "sample":
                docs = load_input(args.workdir, args.web_pages, args.original_docs)
                where = f"embedded sample, cache under {args.workdir}"
            else:
                from realistic_text import calibration_stats, calibration_table, realistic_docs

                docs = realistic_docs(args.docs, args.seed, languages=mode)
                where = f"tests/realistic_text.py, languages={mode}, seed {args.seed}"
            n_chars = sum(len(d["text"]) for d in docs)
            print(f"\ninput {mode}: {len(docs)} docs, {n_chars / len(docs) / 1000:.1f} k chars/doc on average "
                  f"({where}; made in {time.perf_counter() - t0:.1f} s)")
            if mode != "sample":
                head = "target (en)" if mode == "en" else "real CC-2019"
                print(f"  {'statistic':<54}{head:>14}{'generated':>12}{'ratio':>8}")
                for t, got, want, ratio, _ in calibration_table(calibration_stats([d["text"] for d in docs]), mode):
                    print(f"  {t.label:<54}{t.fmt.format(want):>14}{t.fmt.format(got):>12}{ratio:>8.2f}")
            inputs[mode] = docs
        lang = chain_language(mode) if mode != "sample" else "en"
        docs_in = inputs[mode]
        lid_s = 0.0
        chain_docs = docs_in
        if lid == "on":
            chain_docs, lid_s = run_lid(lang, docs_in)
        m = measure(lang, chain_docs, args.repeats)
        title = f"{mode} -> {lang} chain, language ID {lid}"
        if lid == "on":
            title += f" ({len(chain_docs)}/{len(docs_in)} kept, lid.176 {len(docs_in) / lid_s:.0f} docs/s)"
        print_case(title, m)
        problems += [f"{mode}/{lid}: {p}" for p in m["problems"]]
        n_in = len(docs_in)
        rows.append({"input": mode, "chain": lang, "lid": lid, "docs_in": n_in, "docs_chain": len(chain_docs),
                     "stock_docs_s": len(chain_docs) / m["stock_s"], "fast_docs_s": len(chain_docs) / m["fast_s"],
                     "ratio": m["stock_s"] / m["fast_s"],
                     "stock_per_input_docs_s": n_in / (lid_s + m["stock_s"]),
                     "fast_per_input_docs_s": n_in / (lid_s + m["fast_s"]),
                     "ratio_per_input": (lid_s + m["stock_s"]) / (lid_s + m["fast_s"]),
                     "hit_rate": m["cache"]["hit_rate"], "resplit_by_datatrove": m["counts"]["stock"],
                     "identical": not m["problems"]})
        if len(rows) == 1 and args.stream > 0 and mode != "sample":
            from realistic_text import realistic_docs

            more = realistic_docs(args.stream, args.seed + 1, languages=mode)
            steps = m["fast_steps"]
            fast_filters.clear_caches()
            run_chain(steps, chain_docs)  # fill the cache, as a worker that has been running a while
            before = word_split.cache_stats(dict(steps)["gopher_quality"].language)
            t = time.perf_counter()
            run_chain(steps, more)
            dt = time.perf_counter() - t
            after = word_split.cache_stats(dict(steps)["gopher_quality"].language)
            delta = {k: after[k] - before[k] for k in ("lookups", "misses", "evictions", "python", "spacy")}
            delta["hit_rate"] = 1 - delta["misses"] / max(delta["lookups"], 1)
            delta["size"], delta["max_size"] = after["size"], after["max_size"]
            rate = args.stream / dt
            print(f"  warm cache, fast chain only, {args.stream} further docs (seed {args.seed + 1}): {rate:.1f} "
                  f"docs/s/core = {rate * m['stock_s'] / len(chain_docs):.2f}x the stock rate above")
            print(f"  {_cache_line(delta)}")
        if len(rows) == 1 and args.profile:
            import cProfile
            import pstats

            fast_filters.clear_caches()
            prof = cProfile.Profile()
            prof.enable()
            run_chain(m["fast_steps"], chain_docs)
            prof.disable()
            print("\n  profile of one fast run (top functions by internal time):")
            pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(15)

    print(f"\nsingle process, best of {args.repeats} (alternating), docs/s/core:")
    head = (f"{'input':<8} {'chain':<5} {'LID':<4} {'docs':>9} {'stock':>8} {'fast':>8} {'ratio':>6} "
            f"{'per input doc: stock':>21} {'fast':>8} {'ratio':>6} {'hit rate':>9} {'re-split':>9}")
    print(head)
    for r in rows:
        print(f"{r['input']:<8} {r['chain']:<5} {r['lid']:<4} {r['docs_chain']:>4}/{r['docs_in']:<4} "
              f"{r['stock_docs_s']:8.1f} {r['fast_docs_s']:8.1f} {r['ratio']:5.2f}x "
              f"{r['stock_per_input_docs_s']:21.1f} {r['fast_per_input_docs_s']:8.1f} {r['ratio_per_input']:5.2f}x "
              f"{r['hit_rate']:9.1%} {r['resplit_by_datatrove']:>9}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    if problems:
        print(f"\nDECISIONS DIFFER on {len(problems)} item(s):")
        for p in problems[:30]:
            print("  " + p)
        return 1
    print("\ndecisions identical: yes (keep/drop and reason at every filter, final text, run() stats; every case)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
