"""Whole curate stage per core: the project's extraction + filter chain on raw HTML, single process.

    .venv/bin/python benchmarks/curate_throughput.py [--pages 400] [--seed 0]
                                                     [--extractors trafilatura,resiliparse]
                                                     [--filters fast|stock] [--no-language]

The steps are the real datatrove steps that ``pipeline.curate.extract_steps`` and ``filter_steps`` make from the
default recipe (URL filter, extraction, language ID, GopherRepetition, GopherQuality, C4, FineWeb; the
fast filter subclasses unless ``--filters stock``), once per extractor (``recipe.extraction.extractor``).
Input: ``--pages`` HTML pages from ``tests/realistic_text.py`` (head, header and navigation,
breadcrumbs, an article with headings, paragraphs, lists and inline links, sidebar, footer, cookie
banner, scripts) whose main text is open-vocabulary, web-like prose and page furniture.

Each step runs over the whole output of the step before it (``step.run`` of the list, materialised), so
its wall time is its own; extraction runs in datatrove's sandbox process (one core busy at a time: the
parent waits on it). Prints, per extractor, pages/s/core of the whole chain and of every step (on the
documents that reach it), the survivors of each step, and CPU-hours per million pages, for sizing a
Common Crawl dump. A timed run is preceded by an untimed warm-up of the same step objects on a few
other pages (library imports, the URL block lists, spaCy and fastText loading, the sandbox's fork: what
a worker pays once per task, not per page); the fast filters' chunk cache is then cleared, so it starts
cold.

The language step (fastText lid.176 on made-up words) keeps only some of these pages; the filters after
it then see fewer documents, as they do on a real crawl. ``--no-language`` drops the step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the realistic input, tests/realistic_text.py


def make_steps(extractor: str, fast: bool, language: bool):
    from pipeline.config import FiltersConfig, RecipeConfig
    from pipeline.curate.extract_steps import extract_steps
    from pipeline.curate.filter_steps import filter_steps

    recipe = RecipeConfig()
    recipe.filters = FiltersConfig()
    recipe.extraction.extractor = extractor
    recipe.filters.language.enabled = language
    return (extract_steps(recipe.filters.url, recipe.extraction, extract=True)
            + filter_steps(recipe.filters, fast=fast))


def run_steps(steps, pages: list[dict]) -> list[tuple[str, int, int, float]]:
    """``[(step key, docs in, docs out, seconds)]``, each step over the materialised output of the last."""
    from datatrove.data import Document

    docs = [Document(text=p["html"], id=p["id"], metadata={"url": p["url"]}) for p in pages]
    out = []
    for key, step in steps:
        t0 = time.perf_counter()
        kept = list(step.run(iter(docs), rank=0, world_size=1))
        out.append((key, len(docs), len(kept), time.perf_counter() - t0))
        docs = kept
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--extractors", default="trafilatura,resiliparse")
    ap.add_argument("--filters", choices=("fast", "stock"), default="fast")
    ap.add_argument("--no-language", action="store_true")
    args = ap.parse_args(argv)

    from datatrove.utils.logging import logger

    from pipeline.curate import fast_filters
    from realistic_text import realistic_html_pages

    logger.remove()
    t0 = time.perf_counter()
    pages = realistic_html_pages(args.pages, args.seed)
    warm = realistic_html_pages(10, args.seed + 99)
    size = sum(len(p["html"].encode()) for p in pages) / len(pages)
    print(f"input: {len(pages)} realistic HTML pages (tests/realistic_text.py, seed {args.seed}), "
          f"{size / 1000:.1f} kB of HTML per page on average (made in {time.perf_counter() - t0:.1f} s)")
    print(f"filters: {args.filters}; language step: {'off' if args.no_language else 'on'}; single process")
    for extractor in args.extractors.split(","):
        steps = make_steps(extractor, args.filters == "fast", not args.no_language)
        run_steps(steps, warm)  # imports, block lists and models loaded by these very steps, the fork
        fast_filters.clear_caches()  # the chunk cache starts cold, as in a fresh worker
        rows = run_steps(steps, pages)
        total = sum(r[3] for r in rows)
        rate = len(pages) / total
        print(f"\n{extractor}: whole chain {rate:.1f} pages/s/core ({total:.1f} s for {len(pages)} pages) "
              f"= {1e6 / rate / 3600:.1f} CPU-hours per 1M pages; {rows[-1][2]} pages kept")
        print(f"  {'step':<20}{'in':>6}{'out':>6}{'seconds':>9}{'docs/s/core':>13}{'share':>8}"
              f"{'CPU-h/1M pages':>16}")
        for key, n_in, n_out, dt in rows:
            per = n_in / dt if dt > 0 else float("inf")
            print(f"  {key:<20}{n_in:>6}{n_out:>6}{dt:>9.2f}{per:>13.1f}{dt / total:>8.1%}"
                  f"{dt / len(pages) * 1e6 / 3600:>16.2f}")
    print("\nCPU-hours per 1M pages of a step: its seconds per input page of the chain (so a step that sees "
          "fewer pages costs less) x 1M / 3600.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
