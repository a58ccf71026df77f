"""MinHash quality: the measured S-curve against theory, on generated near-duplicate pairs.

Pairs at controlled 5-gram Jaccard (0.30 to 1.00, ``--per-bucket`` pairs per 0.05 bucket, exact J
measured on datatrove's own shingle sets) go through the project's real dedup MinHash pass
(datatrove's signature, bucket, cluster and filter stages, FineWeb settings). A pair is *flagged* when
both documents end up in the same cluster. Per bucket: the flagged rate against the mean of
1 - (1 - J^8)^14 over the bucket's pairs. Also precision and recall when "duplicate" means J >= 0.75.

    .venv/bin/python benchmarks/minhash_scurve.py [--per-bucket 1000] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the pairs and the MinHash run: tests/neardup.py


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-bucket", type=int, default=1000)
    ap.add_argument("--tasks", type=int, default=2)
    ap.add_argument("--impl", choices=("fast", "stock"), default="fast")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from tqdm import tqdm

    from neardup import bucket_edges, bucket_of, generate_pairs, run_minhash, theoretical_flag_probability

    edges = bucket_edges(0.3, 1.0, 0.05)
    t0 = time.perf_counter()
    with tqdm(total=args.per_bucket * (len(edges) - 1), desc="generating pairs", unit="pair") as bar:
        pairs = generate_pairs(args.per_bucket, seed=args.seed, progress=bar.update)
    t_gen = time.perf_counter() - t0
    work = Path(tempfile.mkdtemp(prefix="cpt-scurve-"))
    try:
        t0 = time.perf_counter()
        flagged = run_minhash(pairs, work, args.tasks, args.impl)
        t_mh = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    for k in range(len(edges) - 1):
        ps = [p for p in pairs if bucket_of(p.jaccard, edges) == k]
        rate = sum(flagged[p.key] for p in ps) / len(ps)
        theory = sum(theoretical_flag_probability(p.jaccard) for p in ps) / len(ps)
        se = math.sqrt(max(theory * (1 - theory), 1e-12) / len(ps))
        rows.append((edges[k], edges[k + 1], len(ps), rate, theory, rate - theory, se))
    max_dev = max(abs(r[5]) for r in rows)
    dup = [p for p in pairs if p.jaccard >= 0.75]
    tp = sum(flagged[p.key] for p in dup)
    fp = sum(flagged[p.key] for p in pairs if p.jaccard < 0.75)
    precision, recall = tp / max(1, tp + fp), tp / max(1, len(dup))

    print(f"{len(pairs)} pairs ({args.per_bucket}+ per bucket) generated in {t_gen:.0f} s; "
          f"MinHash ({args.impl} signatures, {args.tasks} tasks) in {t_mh:.0f} s")
    print(f"{'J bucket':>13} {'pairs':>6} {'flagged':>8} {'theory':>8} {'dev':>7} {'1 s.e.':>7}")
    for lo, hi, n, rate, theory, dev, se in rows:
        print(f"[{lo:.2f}, {hi:.2f}{']' if hi == 1.0 else ')'} {n:6d} {rate:8.3f} {theory:8.3f} {dev:+7.3f} {se:7.3f}")
    print(f"max |deviation| = {max_dev:.3f} (target <= 0.03)")
    print(f"duplicate := J >= 0.75: precision {precision:.3f}, recall {recall:.3f} "
          f"({tp} true positives, {fp} false positives, {len(dup) - tp} misses)")

    args.out.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [i / 200 for i in range(60, 201)]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, [theoretical_flag_probability(x) for x in xs], label="theory 1-(1-J^8)^14")
    ax.errorbar([(r[0] + r[1]) / 2 for r in rows], [r[3] for r in rows], yerr=[2 * r[6] for r in rows],
                fmt="o", ms=4, label="measured (±2 s.e.)")
    ax.axvline(0.75, ls=":", c="gray")
    ax.set(xlabel="5-gram Jaccard similarity", ylabel="P(flagged as duplicate)",
           title=f"MinHash S-curve, {len(pairs)} pairs, max dev {max_dev:.3f}")
    ax.legend(loc="upper left")
    fig.tight_layout()
    png = args.out / "minhash_scurve.png"
    fig.savefig(png, dpi=120)
    print(f"plot: {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
