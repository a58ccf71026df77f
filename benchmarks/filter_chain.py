"""Throughput of the FineWeb quality stack: datatrove's filters vs ``pipeline.curate.fast_filters``.

    .venv/bin/python benchmarks/filter_chain.py [--input realistic|sample] [--docs 600] [--seed 0]
                                                [--stream 1500] [--repeats N] [--workdir DIR]
                                                [--web-pages 480] [--original-docs 500] [--profile]

Input (``--input``):

* ``realistic`` (default): ``--docs`` documents from :mod:`benchmarks.realistic_text` (open vocabulary
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
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

FILTER_KEYS = ("gopher_repetition", "gopher_quality", "c4", "fineweb")


# ----------------------------------------------------------------------------- input
def adversarial_docs(seed: int = 7) -> list[dict]:
    """Hand-shaped documents aimed at every drop reason of the four filters, and at tokenizer corners."""
    rng = random.Random(seed)
    vocab = ("orbit comet planet the and of to with that have be galaxy nebula telescope observed light "
             "distance measured astronomers spectrum radiation gravity surface atmosphere moon crater solar "
             "mission probe signal data analysis season evening morning horizon bright faint star cluster "
             "dust ring system sample team report").split()

    def sent(k: int = 12) -> str:
        s = " ".join(rng.choice(vocab) for _ in range(k))
        return s[0].upper() + s[1:] + rng.choice([".", ".", "!", "?"])

    def para(n: int = 4) -> str:
        return " ".join(sent(rng.randint(8, 16)) for _ in range(n))

    def article(n: int = 6) -> str:
        return "\n".join(para() for _ in range(n))

    long_words = ("observatories constellations spectrographs interferometer photographers magnetospheres "
                  "heliocentrism circumstellar protoplanetary gravitational supernovae").split()

    plain = [w for w in vocab if w not in ("the", "be", "to", "of", "and", "that", "have", "with")]

    def repeated_phrase(phrase: str, frac: float) -> str:
        """``phrase`` repeated in random filler so that its occurrences make ``frac`` of the characters."""
        words: list[str] = []
        k = 12
        while len(" ".join(words)) < len(phrase) * k / frac - (len(phrase) + 1) * k:
            words.append(rng.choice(plain))
        step = len(words) // k
        out = []
        for i in range(k):
            out += words[i * step:(i + 1) * step] + [phrase]
        return " ".join(out + words[k * step:]) + "."

    def repeated_passage(n_words: int, frac: float) -> str:
        """One ``n_words`` passage twice in unpunctuated filler: its share of the text is ``frac``."""
        passage = [rng.choice(vocab) for _ in range(n_words)]
        target = len("".join(passage)) / frac
        words = passage[:]
        while len(" ".join(words)) < target - len(" ".join(passage)) - 1:
            words.append(rng.choice(vocab))
        cut = len(words) // 2
        return " ".join(words[:cut] + passage + words[cut:])

    docs: dict[str, str] = {
        "empty": "",
        "whitespace": "  \n\n \t ",
        "one_word": "Hello",
        "dup_para": "\n\n".join([para(3)] * 4 + [para(3)]),
        "dup_para_chars": "\n\n".join([para(8)] * 2 + [para(2) for _ in range(6)]),
        "dup_lines": "\n".join([sent()] * 5 + [sent() for _ in range(6)]),
        "dup_line_chars": "\n".join([para(6)] * 2 + [sent() for _ in range(12)]),
        "top_2gram": " ".join(["dark matter"] * 40 + [sent() for _ in range(8)]),
        "top_3gram": repeated_phrase("the red planet", 0.19),
        "top_4gram": repeated_phrase("one of the brightest", 0.17),
        "dup_5gram": " ".join(para(2) + " " + "the probe reached the outer ring of the system" for _ in range(8)),
        "dup_10gram": " ".join([sent(), "we measured the light of the faint star across the whole night sky",
                                sent()] * 3 + [sent() for _ in range(20)]),
        "short_doc": "The comet is bright tonight. Look up and see it.",
        "short_words": " ".join(rng.choice(["a", "an", "is", "of", "to", "it", "at", "on", "the", "by"])
                                for _ in range(300)) + ".",
        "long_words": " ".join(rng.choice(["spectrophotometrically", "interferometrically", "extraterrestrial",
                                           "magnetohydrodynamics", "astrophotography"]) + rng.choice(["", "s"])
                               for _ in range(120)) + " the and.",
        "hashes": article(2) + "\n" + " ".join(f"#tag{i}" for i in range(60)),
        "ellipsis_count": " ".join(sent(6)[:-1] + "..." for _ in range(30)),
        "bullets": "\n".join(f"- {sent(10)}" for _ in range(30)),
        "bullets_dot": "\n".join(f"  • {sent(10)}" for _ in range(30)),
        "end_ellipsis": "\n".join(sent(14)[:-1] + (" …" if i % 2 else "...") for i in range(20)),
        "numbers": " ".join(str(rng.randint(0, 99999)) for _ in range(300)) + " the comet and the moon.",
        "no_stop_words": " ".join(" ".join(rng.choice(plain) for _ in range(9)) + "." for _ in range(25)),
        "lorem": article(3) + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.\n" + article(2),
        "curly": article(3) + "\nfunction f() { return 1; } is what the code says\n" + article(2),
        "javascript_policy": "\n".join(
            [para(2), "Please enable JavaScript to view the comments powered by Disqus.",
             "By using this site you agree to our Terms of Use and Privacy Policy.", para(2),
             "This website uses cookies to improve your experience.", para(2), "Accept", para(2)]),
        "few_sentences": "\n".join([sent(30) + " " + sent(30), "Menu", "Home", "About us", "Contact"]),
        "too_long_word": article(8) + "\n" + "x" * 1200 + " tail words here.\n" + article(4),
        "citations": "\n".join(f"{sent(12)}[{i}] {sent(9)}[edit] {sent(7)}[citation needed] [2]{sent(5)}"
                               for i in range(8)),
        "no_terminal_punct": "\n".join(" ".join(rng.choice(vocab) for _ in range(12)) for _ in range(20))
                             + "\n" + para(5),
        "short_lines": "\n".join([para(5)] + [" ".join(rng.sample(vocab, 3)) + "." for _ in range(30)]),
        "char_dup": "\n".join([para(3), "Subscribe to our newsletter for weekly updates today.", para(3),
                               "Subscribe to our newsletter for weekly updates today.", para(3)]),
        "list_ratio": "\n".join(rng.sample([f"{a} {s} {b}" for a in long_words for b in long_words if a != b
                                             for s in ("of", "the", "and", "with")], 80)
                                 + rng.sample([f"{a} of {b}." for a in long_words for b in long_words], 12)),
        "dup_7gram": repeated_passage(14, 0.135),
        "dup_10gram_only": repeated_passage(10, 0.105),
        "long_doc": " ".join(rng.choice(vocab) for _ in range(100_050)) + ".",
        "crlf": "\r\n".join(para(2) for _ in range(6)) + "\r\n",
        "trailing_newlines": article(5) + "\n\n\n\n",
        "tabs_nbsp": "\n".join(para(2).replace(" ", rng.choice(["\t", "\u00a0", "  ", " \u2009"]), 3)
                               for _ in range(6)),
        "unicode": "\n".join([para(2), "Die Sterne über München leuchten heute Nacht besonders hell, sagte sie.",
                              "火星の表面は赤い。彗星が見えます！ 今夜は晴れ。", "Ça marche très bien — n'est-ce pas ? Oui !",
                              "Emoji 🚀🌕✨ and the moon 🌙 with dust.", "\u2028line sep\x1cfile sep\x85nel " + sent(),
                              para(2)]),
        "tokenizer_corners": "\n".join([article(3),
            "We'll see what they're doing: don't worry, it's fine :) ( : ) : - ) ;-) <3 (: and :( too.",
            "Meet at 10 a.m . or 5 p.m. tomorrow ' s a lot of ' em and ' cause we can .",
            "Visit https://example.org/path?q=1&x=2 or mail me at someone@example.com for the data.",
            "Hyphen-ated well-known state-of-the-art e.g. i.e. U.S.A. etc. vs. Dr. Smith 's notes.",
            "Numbers 3.14 1,000,000 50% $20 #1 @user... ... .. ?! !! ?? '' `` \"quoted\" (parens) [brackets].",
            article(3)]),
        "is_alpha_trap": article(2) + "\nThe IS_ALPHA flag and x IS_ALPHA and IS_ALPHA.\n" + article(2),
        "only_punct": "... !!! ??? --- *** ### ,,, ;;; :::",
        "spam": "\n".join(" - ".join(rng.choice(["best price", "buy now", "cheap deals", "free shipping"])
                                     for _ in range(15)) + "!!" for _ in range(8)),
    }
    return [{"id": f"adv-{k}", "text": v} for k, v in docs.items()]


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
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from realistic_text import realistic_docs

    return realistic_docs(n, seed)


def load_sample_dir(sample_dir: Path) -> list[dict]:
    """Docs of a ``generate_sample`` output dir: extracted WARC pages + ``original/original.jsonl.gz``."""
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader

    extractor = Trafilatura(favour_precision=True, timeout=10)
    rows = []
    for doc in WarcReader(str(sample_dir / "crawl"), glob_pattern="*.warc.gz").run():
        text = extractor.extract(doc.text) or ""
        if text:
            rows.append({"id": doc.id, "text": text})
    with gzip.open(sample_dir / "original" / "original.jsonl.gz", "rt", encoding="utf-8") as f:
        rows += [{"id": d["id"], "text": d["text"]} for d in map(json.loads, f)]
    return rows


# ----------------------------------------------------------------------------- chains
def make_chains():
    """``(stock, fast)``: lists of ``(key, filter)`` built by ``filter_steps`` from the default recipe."""
    from pipeline.config import FiltersConfig, RecipeConfig
    from pipeline.curate.filter_steps import filter_steps

    recipe = RecipeConfig()
    recipe.filters = FiltersConfig()
    recipe.filters.url.enabled = False
    recipe.filters.language.enabled = False

    def chain(fast: bool):
        steps = [(k, s) for k, s in filter_steps(recipe.filters, fast=fast) if k in FILTER_KEYS]
        assert [k for k, _ in steps] == list(FILTER_KEYS), steps
        return steps

    return chain(False), chain(True)


def run_chain(steps, docs: list[dict]):
    """Each doc through the filters, datatrove-style (stop at the first drop).

    Returns ``(decisions, seconds_per_filter)``; a decision is ``(per-filter results, final text or None)``
    where a per-filter result is ``True`` or the drop reason."""
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import get_filter_result

    per = [0.0] * len(steps)
    decisions = []
    clock = time.perf_counter
    for d in docs:
        doc = Document(text=d["text"], id=d["id"])
        row = []
        kept = True
        for i, (_, f) in enumerate(steps):
            t0 = clock()
            res = f.filter(doc)
            per[i] += clock() - t0
            ok, reason = get_filter_result(res)
            row.append(True if ok else reason)
            if not ok:
                kept = False
                break
        decisions.append((tuple(row), doc.text if kept else None))
    return decisions, per


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


def compare(docs, stock, fast) -> list[str]:
    problems = []
    for d, a, b in zip(docs, stock, fast):
        if a != b:
            problems.append(f"{d['id']}: stock={a[0]} fast={b[0]} same_text={a[1] == b[1]}")
    return problems


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
        where = f"benchmarks/realistic_text.py, seed {args.seed}"
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
