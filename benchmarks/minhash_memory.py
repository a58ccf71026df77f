"""MinHash clustering RAM per million documents.

Writes synthetic ``.dups`` files (what datatrove's bucket stage emits: one (file, doc, file, doc)
record per match, per bucket) for ``--docs`` documents of which ``--dup-fraction`` sit in clusters of
2-4 near-duplicates that match in every one of the 14 buckets (the worst case for file size), then
runs the project's clustering step (datatrove's ``MinhashDedupCluster`` with the memory bound) in a
fresh process and reports its peak RSS above the process's baseline.

    .venv/bin/python benchmarks/minhash_memory.py [--docs 1000000] [--dup-fraction 1.0 0.3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUCKETS = 14
FILES = 8


def write_dups(folder: Path, docs: int, dup_fraction: float, seed: int = 0) -> tuple[int, int]:
    """Returns (documents in clusters, records written)."""
    rng = np.random.default_rng(seed)
    n_dup = int(docs * dup_fraction)
    members = rng.permutation(docs)[:n_dup]
    sizes = rng.integers(2, 5, size=n_dup)  # cluster sizes 2..4, consumed until members run out
    edges, i, k = [], 0, 0
    while i + 1 < n_dup:
        size = min(int(sizes[k]), n_dup - i)
        k += 1
        c = members[i:i + size]
        i += size
        for other in c[1:]:
            edges.append((c[0], other))
    e = np.array(edges, dtype=np.int64)
    per_file = -(-docs // FILES)
    rec = np.stack([e[:, 0] // per_file, e[:, 0] % per_file, e[:, 1] // per_file, e[:, 1] % per_file],
                   axis=1).astype("<u4")
    folder.mkdir(parents=True, exist_ok=True)
    for b in range(BUCKETS):
        (folder / f"{b:05d}.dups").write_bytes(rec.tobytes())
    return i, len(rec) * BUCKETS


CHILD = r"""
import json, resource, sys, psutil
sys.path.insert(0, sys.argv[1])
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.utils.hashing import HashConfig
from pipeline.dedup.memory import BoundedMinhashDedupCluster
step = BoundedMinhashDedupCluster(input_folder=sys.argv[2], output_folder=sys.argv[3],
    config=MinhashConfig(hash_config=HashConfig(64, "sha1")), save_cluster_id=True, save_cluster_size=True,
    memory_limit_bytes=int(sys.argv[4]), documents=int(sys.argv[5]))
base = psutil.Process().memory_info().rss
import time; t = time.perf_counter(); step.run(); dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": peak, "seconds": dt}))
"""


def measure(docs: int, dup_fraction: float, limit: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="cpt-mhmem-") as tmp:
        in_clusters, records = write_dups(Path(tmp) / "buckets", docs, dup_fraction)
        out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(Path(tmp) / "buckets"),
                              str(Path(tmp) / "out"), str(limit), str(docs)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(out.stderr[-3000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
    r.update(docs=docs, in_clusters=in_clusters, records=records)
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--dup-fraction", type=float, nargs="+", default=[1.0, 0.3])
    args = ap.parse_args(argv)
    from pipeline.dedup.memory import BYTES_PER_NODE, default_memory_limit, estimate_clustering_bytes

    print(f"{'docs':>9} {'in clusters':>11} {'records':>11} {'peak-base MB':>12} {'B/clustered doc':>15} "
          f"{'MB per 1M docs':>14} {'estimate MB':>11} {'s':>6}")
    for f in args.dup_fraction:
        r = measure(args.docs, f, default_memory_limit())
        grow = r["peak"] - r["base"]
        est = estimate_clustering_bytes(r["records"] * 16, r["docs"])
        print(f"{r['docs']:9d} {r['in_clusters']:11d} {r['records']:11d} {grow / 2**20:12.0f} "
              f"{grow / max(1, r['in_clusters']):15.0f} {grow / 2**20 * 1e6 / r['docs']:14.0f} "
              f"{est / 2**20:11.0f} {r['seconds']:6.1f}")
    print(f"(the memory bound's estimate uses {BYTES_PER_NODE} B per document that can be in a cluster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
