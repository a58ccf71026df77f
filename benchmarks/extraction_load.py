"""Does machine load change which pages extraction keeps? The project's extractor (per-page limit in CPU
time of the sandbox) against datatrove's own (wall time), quiet and loaded, same pages, same limit.

    .venv/bin/python benchmarks/extraction_load.py [--pages 300] [--budget 0.02] [--load 0] [--seed 0]
    .venv/bin/python benchmarks/extraction_load.py --pages 120 --grow 40 --budget 0.1   # a wide spread

Pages: ``tests/realistic_text.py``'s ``realistic_html_pages`` (full HTML pages: head, nav, article, aside,
footer, scripts), trafilatura with FineWeb's settings. ``--budget`` is the per-page limit in seconds; the
default is set low (20 ms) so that a share of these small generated pages lie near it, as real pages lie
near FineWeb's 1 s (a large real page takes 0.1-1 s of CPU). "Loaded" runs ``--load`` busy-loop processes
(default: 2 per core) beside the extraction. Prints, for each extractor and condition, the pages kept,
timed out, and the wall time, and whether the loaded run kept exactly the quiet run's pages; and how
many pages lie within 25% of the limit in CPU time. CPU time is not perfectly independent of load
(another process on the core evicts caches, so the same page costs somewhat more CPU), so pages that
close to the limit can still flip; wall time flips every page that load slows past it. datatrove's
sandbox also adds 0.1 s of slack to its wall limit, so the two keep different pages even quiet.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _spin() -> None:
    while True:
        pass


def run(step, pages: list[dict]) -> tuple[set[str], int, float]:
    """Kept page ids, timeouts and wall seconds of one extractor over ``pages``."""
    from datatrove.data import Document

    docs = (Document(text=p["html"], id=p["id"]) for p in pages)
    t = time.perf_counter()
    kept = {d.id for d in step.run(docs)}
    wall = time.perf_counter() - t
    return kept, int(step.stats.to_dict().get("stats", {}).get("timeout", 0)), wall


def grow(pages: list[dict], most: int, seed: int) -> list[dict]:
    """Each page with its body content repeated 1..``most`` times (log-uniform, seeded)."""
    if most <= 1:
        return pages
    import random

    rng = random.Random(seed)
    out = []
    for p in pages:
        k = int(round(math.exp(rng.uniform(0, math.log(most)))))
        head, sep, rest = p["html"].partition("<body")
        open_end = rest.index(">") + 1
        body, close, tail = rest[open_end:].rpartition("</body>")
        out.append({**p, "html": head + sep + rest[:open_end] + body * k + close + tail})
    return out


def cpu_per_page(pages: list[dict]) -> list[float]:
    """Each page's extraction CPU seconds, in this process, quiet (trafilatura, FineWeb's settings)."""
    from datatrove.pipeline.extractors import Trafilatura

    extractor = Trafilatura(favour_precision=True)
    extractor.extract(pages[0]["html"])  # warm-up
    out = []
    for p in pages:
        t = time.process_time()
        extractor.extract(p["html"])
        out.append(time.process_time() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--budget", type=float, default=0.02, help="per-page limit, seconds")
    ap.add_argument("--load", type=int, default=0, help="busy processes in the loaded runs (0: 2 per core)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grow", type=int, default=1,
                    help="repeat each page's <body> up to this many times (log-uniform), for a wide spread of "
                         "page costs (real pages span 1 ms to over 1 s); 1: the pages as generated")
    args = ap.parse_args()

    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.utils.logging import logger

    from pipeline.curate.extractors import TrafilaturaExtractor
    from realistic_text import realistic_html_pages

    logger.remove()
    pages = grow(realistic_html_pages(args.pages, args.seed), args.grow, args.seed)
    load = args.load or 2 * (os.cpu_count() or 1)
    makers = {
        "project (CPU time)": lambda: TrafilaturaExtractor(favour_precision=True, timeout=args.budget),
        "datatrove (wall time)": lambda: Trafilatura(favour_precision=True, timeout=args.budget),
    }
    print(f"{len(pages)} realistic HTML pages (seed {args.seed}), trafilatura, per-page limit {args.budget} s; "
          f"loaded = {load} busy processes on {os.cpu_count()} cores")
    cpu = sorted(cpu_per_page(pages))
    near = sum(1 for c in cpu if 0.75 * args.budget <= c <= 1.25 * args.budget)
    print(f"per-page extraction CPU (quiet, in process): median {cpu[len(cpu) // 2] * 1000:.1f} ms, "
          f"p90 {cpu[int(len(cpu) * 0.9)] * 1000:.1f} ms, max {cpu[-1] * 1000:.1f} ms; over the limit: "
          f"{sum(1 for c in cpu if c > args.budget)}; within 25% of it (where contention for caches can still "
          f"tip a CPU-time decision): {near}")
    results = {}
    for condition in ("quiet", "loaded"):
        spinners = [mp.Process(target=_spin, daemon=True) for _ in range(load if condition == "loaded" else 0)]
        for p in spinners:
            p.start()
        try:
            for name, make in makers.items():
                results[name, condition] = run(make(), pages)
        finally:
            for p in spinners:
                p.terminate()
            for p in spinners:
                p.join()
    print(f"\n{'extractor':<24} {'condition':<8} {'kept':>5} {'timeouts':>9} {'wall s':>7}  same pages as quiet")
    ok = True
    for name in makers:
        quiet_kept = results[name, "quiet"][0]
        for condition in ("quiet", "loaded"):
            kept, timeouts, wall = results[name, condition]
            same = "" if condition == "quiet" else ("yes" if kept == quiet_kept else
                                                    f"NO ({len(quiet_kept - kept)} lost, {len(kept - quiet_kept)} gained)")
            print(f"{name:<24} {condition:<8} {len(kept):>5} {timeouts:>9} {wall:7.1f}  {same}")
        if name.startswith("project") and results[name, "loaded"][0] != quiet_kept:
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
