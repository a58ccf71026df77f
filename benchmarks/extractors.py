"""Speed and word-level accuracy of the HTML extractors (trafilatura vs resiliparse) on generated pages.

    .venv/bin/python benchmarks/extractors.py [--seed 7] [--web-pages 560] [--kinds article,boilerplate]
                                             [--repeats 3] [--no-pin] [--show 5]

Pages come from the project's generator (``pipeline.sample.generate.build_sample``), so the main text
of each page is known:

* ``article`` (and ``non_english``, ``spam``, ``near_duplicate`` ... when asked for): the title plus the
  paragraphs the generator rendered into ``<article>`` (``Page.title`` / ``Page.paragraphs``); the byline,
  navigation, related-stories box and footer are boilerplate;
* ``boilerplate`` (a tag/listing page of widgets): the small real content, i.e. the ``<main>`` heading and
  the intro paragraph, read back from the HTML with lxml; the cookie banner, toolbar, tag / archive /
  headline widgets, newsletter form, navigation and footer are boilerplate.

Each extractor's ``extract(html)`` is called in-process (no datatrove sandbox), pinned to one CPU unless
``--no-pin``; docs/s is the best of ``--repeats`` passes over all pages. Accuracy is a bag-of-words
(multiset) overlap of lower-cased ``\\w+`` tokens: precision = |out ∩ truth| / |out|, recall =
|out ∩ truth| / |truth|. Precision is averaged over pages with non-empty output; recall and F1 over all
pages (an empty output scores 0). "empty" is the fraction of pages where the extractor returned nothing.
``--show N`` prints the N most frequent lines each extractor emitted that are not main text, and the N
most frequent main-text lines it dropped.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datatrove.pipeline.extractors import Trafilatura  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from pipeline.curate.extractors import ResiliparseExtractor  # noqa: E402
from pipeline.sample.generate import build_sample  # noqa: E402

_WORD = re.compile(r"\w+")


def words(text: str) -> Counter:
    return Counter(_WORD.findall(text.lower()))


def prf(out: str, truth: str) -> tuple[float, float, float]:
    o, t = words(out), words(truth)
    hit = sum((o & t).values())
    p = hit / sum(o.values()) if o else 0.0
    r = hit / sum(t.values()) if t else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def boilerplate_truth(page_html: str) -> str:
    """The real content of a generated listing page: its <main> heading and intro paragraph."""
    root = lxml_html.fromstring(page_html)
    parts = [e.text_content().strip() for e in root.xpath("//main/h1 | //main/div[@class='intro']/p")]
    return "\n".join(p for p in parts if p)


def main_text(page) -> str:
    if page.kind == "boilerplate":
        return boilerplate_truth(page.html)
    return page.title + "\n" + "\n".join(page.paragraphs)


@dataclass
class Row:
    kind: str
    n: int = 0
    p_sum: float = 0.0
    p_n: int = 0
    r_sum: float = 0.0
    f_sum: float = 0.0
    empty: int = 0
    extra: Counter = field(default_factory=Counter)
    missed: Counter = field(default_factory=Counter)

    def add(self, out: str, truth: str) -> None:
        self.n += 1
        p, r, f = prf(out, truth)
        if out.strip():
            self.p_sum += p
            self.p_n += 1
        else:
            self.empty += 1
        self.r_sum += r
        self.f_sum += f
        out_lines = {ln.strip() for ln in out.splitlines() if ln.strip()}
        truth_lines = {ln.strip() for ln in truth.splitlines() if ln.strip()}
        truth_words = words(truth)
        for ln in out_lines - truth_lines:
            if not (words(ln) - truth_words):  # a line made only of main-text words is not boilerplate
                continue
            self.extra[ln] += 1
        for ln in truth_lines - out_lines:
            if words(ln) - words(out):  # some of its words are really missing
                self.missed[ln[:80]] += 1


def reset_state() -> None:
    """Forget trafilatura's module-level caches, among them the LRU store behind ``deduplicate=True``:
    without this, the second pass over the same pages drops every paragraph as already seen."""
    from trafilatura.meta import reset_caches

    reset_caches()


def time_extractor(extract, htmls: list[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        reset_state()
        t0 = time.perf_counter()
        for h in htmls:
            extract(h)
        best = min(best, time.perf_counter() - t0)
    return len(htmls) / best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--web-pages", type=int, default=560, help="560 pages -> 308 articles, 56 boilerplate")
    ap.add_argument("--kinds", default="article,boilerplate")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    ap.add_argument("--show", type=int, default=0)
    a = ap.parse_args(argv)

    if not a.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]
    sample = build_sample(seed=a.seed, web_pages=a.web_pages, original_docs=20)
    pages = [p for p in sample.pages if p.kind in kinds]
    truths = [main_text(p) for p in pages]
    htmls = [p.html for p in pages]
    by_kind = Counter(p.kind for p in pages)
    print(f"seed {a.seed}, {len(pages)} pages: " + ", ".join(f"{by_kind[k]} {k}" for k in kinds)
          + f"; timing best of {a.repeats}, " + ("1 pinned CPU" if not a.no_pin else "unpinned"))

    extractors = {
        "trafilatura": Trafilatura(favour_precision=True),
        "resiliparse": ResiliparseExtractor(),
    }
    header = f"| {'extractor':<12} | {'pages':<20} | {'docs/s':>8} | {'precision':>9} | {'recall':>6} | " \
             f"{'F1':>5} | {'empty':>5} |"
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    rows_by_name: dict[str, dict[str, Row]] = {}
    for name, ex in extractors.items():
        def extract(h: str, _ex=ex) -> str:
            return _ex.extract(h) or ""  # trafilatura returns None when it finds nothing

        speed = time_extractor(extract, htmls, a.repeats)
        rows = {k: Row(k) for k in kinds}
        total = Row("all")
        reset_state()  # one fresh pass, as a datatrove task sees its documents
        for page, h, truth in zip(pages, htmls, truths):
            out = extract(h)
            rows[page.kind].add(out, truth)
            total.add(out, truth)
        rows_by_name[name] = rows
        shown = [*rows.values(), total] if len(kinds) > 1 else list(rows.values())
        for i, r in enumerate(shown):
            prec = f"{r.p_sum / r.p_n:.3f}" if r.p_n else "n/a"
            label = f"{r.kind} ({r.n})"
            sp = f"{speed:8.1f}" if i == 0 else " " * 8
            print(f"| {name if i == 0 else '':<12} | {label:<20} | {sp} | {prec:>9} | {r.r_sum / r.n:6.3f} | "
                  f"{r.f_sum / r.n:5.3f} | {r.empty / r.n:5.1%} |")
    if a.show:
        for name, rows in rows_by_name.items():
            for k, r in rows.items():
                print(f"\n{name} / {k}: most frequent non-main-text lines emitted (pages):")
                for ln, c in r.extra.most_common(a.show):
                    print(f"  {c:4d}  {ln[:100]!r}")
                print(f"{name} / {k}: most frequent main-text lines dropped (pages):")
                for ln, c in r.missed.most_common(a.show):
                    print(f"  {c:4d}  {ln!r}")


if __name__ == "__main__":
    main()
