"""Near-duplicate document pairs at a controlled 5-gram Jaccard similarity, from the project's own
generated text (the embedded sample's article grammar). Used to measure MinHash's S-curve
(``tests/test_dedup_signatures.py``, ``benchmarks/minhash_scurve.py``); :func:`run_minhash` puts pairs
through the project's real dedup MinHash pass.

A pair is a generated article ``a`` and a copy ``b`` in which ``r`` words, spaced at least ``n`` words
apart, are replaced by fresh made-up words. Each replacement removes ``n`` of ``a``'s shingles from
``b`` and adds ``n`` new ones, so with ``S`` distinct shingles ``J = (S - n r) / (S + n r)``; ``r`` is
chosen for the target. The *exact* Jaccard of every pair is then measured on the shingle sets that
datatrove's MinHash itself builds (same text normalization, word split and n-gram hashing), so the
comparison with theory does not depend on the construction being exact."""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass
from pathlib import Path

from pipeline.sample.generate import english_article


@dataclass
class Pair:
    key: int
    a: str
    b: str
    target: float
    jaccard: float = float("nan")


def theoretical_flag_probability(j: float, bands: int = 14, rows: int = 8) -> float:
    """P(two documents share at least one band) = 1 - (1 - J^rows)^bands."""
    return 1.0 - (1.0 - j**rows) ** bands


def _article(rng: random.Random, min_words: int) -> list[str]:
    words: list[str] = []
    while len(words) < min_words:
        _, paragraphs, _, _ = english_article(rng)
        words.extend(" ".join(paragraphs).split())
    return words[: min_words + rng.randint(0, min_words // 2)]


def _fresh_word(rng: random.Random) -> str:
    # 10 random letters after a "q": not an English word, not produced by the grammar
    return "q" + "".join(rng.choices(string.ascii_lowercase, k=10))


def replacements_for(target: float, n_shingles: int, n: int) -> int:
    return max(0, round(n_shingles * (1 - target) / (n * (1 + target))))


def make_pair(rng: random.Random, key: int, target: float, n: int = 5, min_words: int = 300) -> Pair:
    words = _article(rng, min_words)
    n_shingles = len({tuple(words[i:i + n]) for i in range(len(words) - n + 1)})
    r = replacements_for(target, n_shingles, n)
    slots = len(words) - 2 * (n - 1) - (n - 1) * max(r - 1, 0)
    r = min(r, max(slots, 0))
    picks = sorted(rng.sample(range(slots), r)) if r else []
    b = list(words)
    for i, s in enumerate(picks):  # positions at least n apart, away from the edges
        b[(n - 1) + s + (n - 1) * i] = _fresh_word(rng)
    return Pair(key, " ".join(words), " ".join(b), target)


def generate_pairs(per_bucket: int, lo: float = 0.3, hi: float = 1.0, width: float = 0.05, seed: int = 0,
                   n: int = 5, jaccard_of=None, progress=None) -> list[Pair]:
    """At least ``per_bucket`` pairs whose exact Jaccard falls in each ``width`` bucket of [lo, hi].

    ``jaccard_of(a, b)`` measures the exact similarity (default: datatrove's MinHash shingle sets)."""
    jaccard_of = jaccard_of or datatrove_jaccard(n)
    rng = random.Random(seed)
    edges = bucket_edges(lo, hi, width)
    counts = [0] * (len(edges) - 1)
    pairs: list[Pair] = []
    while min(counts) < per_bucket:
        b = min(range(len(counts)), key=counts.__getitem__)  # fill the emptiest bucket next
        target = rng.uniform(edges[b], edges[b + 1]) if b < len(counts) - 1 or rng.random() < 0.5 else 1.0
        p = make_pair(rng, len(pairs), target, n)
        p.jaccard = jaccard_of(p.a, p.b)
        k = bucket_of(p.jaccard, edges)
        if k is None or counts[k] >= per_bucket:
            continue
        counts[k] += 1
        pairs.append(p)
        if progress:
            progress(1)
    for i, p in enumerate(pairs):
        p.key = i
    return pairs


def bucket_edges(lo: float, hi: float, width: float) -> list[float]:
    k = round((hi - lo) / width)
    return [round(lo + i * width, 6) for i in range(k + 1)]


def bucket_of(j: float, edges: list[float]):
    """Index of the bucket holding ``j``; the last bucket is closed on the right (holds J = 1.0)."""
    if j < edges[0] or j > edges[-1]:
        return None
    for i in range(len(edges) - 1):
        if j < edges[i + 1]:
            return i
    return len(edges) - 2


def datatrove_jaccard(n: int = 5):
    """Exact Jaccard over the shingle sets datatrove's MinHash builds (normalized, hashed n-grams)."""
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig

    from pipeline.dedup.fast_signature import FastMinhashDedupSignature

    sig = FastMinhashDedupSignature("/tmp/unused-cpt-neardup", config=MinhashConfig(
        n_grams=n, hash_config=HashConfig(precision=64, hash_fc="sha1")))

    def jaccard(a: str, b: str) -> float:
        sa, sb = set(sig.get_shingles(a).ravel().tolist()), set(sig.get_shingles(b).ravel().tolist())
        return len(sa & sb) / max(1, len(sa | sb))

    return jaccard


def run_minhash(pairs, work: Path, tasks: int, impl: str) -> dict[int, bool]:
    """Write the pairs as Parquet, dedup them, return {pair key: flagged}."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.config import DedupConfig
    from pipeline.dedup.memory import default_memory_limit
    from pipeline.dedup.passes import minhash_pass
    from pipeline.launch.executors import executor_for

    src = work / "in"
    src.mkdir(parents=True)
    rows = [{"text": t, "id": f"{p.key}-{side}", "metadata": {"dump": "bench"}}
            for p in pairs for side, t in (("a", p.a), ("b", p.b))]
    per = math.ceil(len(rows) / tasks)
    for k in range(tasks):
        pq.write_table(pa.Table.from_pylist(rows[k * per:(k + 1) * per]), src / f"{k:03d}.parquet")
    cfg = DedupConfig(tasks=tasks, signature_impl=impl)
    minhash_pass(executor_for(None), src, work / "kept", work / "mh", "", cfg, tasks, tasks, default_memory_limit())
    cluster: dict[str, int] = {}
    for folder in (work / "kept", work / "mh" / "removed"):
        for f in folder.glob("*.parquet"):
            t = pq.read_table(f, columns=["id", "metadata"]).to_pylist()
            for r in t:
                cluster[r["id"]] = r["metadata"]["minhash_cluster_id"]
    assert len(cluster) == len(rows), f"lost documents: {len(rows) - len(cluster)}"
    return {p.key: cluster[f"{p.key}-a"] >= 0 and cluster[f"{p.key}-a"] == cluster[f"{p.key}-b"] for p in pairs}
