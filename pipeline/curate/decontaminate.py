"""Decontamination, the last filter of ``curate``: remove every document that shares an n-gram (13 words
by default) with an item of ``evaluate.tasks`` (question plus gold answer), with datatrove's own filter
(:class:`~datatrove.pipeline.decont.n_grams.NGramsDecontFilter`) and normalisation.

datatrove's indexer needs lighteval and the hub, so the index is built here, offline, in its format
(``decont_index/<task>.index.hashes``, one uint64 per n-gram) with its n-grams: those of the gold
answer and those spanning the query (the task's decontamination query) and the gold
(``find_overlap_ngrams``), never the query's alone. ``decont_index/items.json`` maps each hash to the
items it came from, so ``decont_report.json`` can say which items were hit and show what matched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter, NGramsDecontIndexer
from datatrove.utils.hashing import create_hash_func
from datatrove.utils.text import ngrams, simplify_text
from datatrove.utils.word_tokenizers import load_word_tokenizer

from pipeline.curate.filter_steps import word_tokenizer_language
from pipeline.curate.funnel import DECONT_REASON, DECONT_STEP
from pipeline.tasks.harness import load_tasks, task_items
from pipeline.tasks.spec import stage_task_specs

INDEX_DIR = "decont_index"
ITEMS_FILE = "items.json"  # hash -> [[task, item index], ...]
REPORT_FILE = "decont_report.json"  # what the evaluate stage reads (per task ``items_hit``)
DOCS_PER_TASK = 50  # removed documents listed per task in the report (all are in rejects/decontaminate/)
CONTEXT_CHARS = 80


def ngram_config(n_grams: int) -> NGramsDecontConfig:
    """Question plus gold answer: the gold's n-grams and those spanning query and gold, not the query's alone."""
    return NGramsDecontConfig(n_grams=n_grams, find_query_ngrams=False, find_overlap_ngrams=True)


def _hasher(n_grams: int, language: str) -> SimpleNamespace:
    """What :meth:`NGramsDecontIndexer.compute_hashes` reads of its indexer (which needs lighteval to be built)."""
    config = ngram_config(n_grams)
    return SimpleNamespace(config=config, tokenizer=load_word_tokenizer(language),
                           hash_func=create_hash_func(config.hash_config))


def item_hashes(hasher: SimpleNamespace, item) -> set[int]:
    """datatrove's own n-gram hashes of one item (none when query plus gold has fewer than n words)."""
    return set(NGramsDecontIndexer.compute_hashes(hasher, item.gold, item.query))


def index_name(task: str) -> str:
    """The task's name in the filter's stats and metadata (its index file's stem, as datatrove's indexer names it)."""
    return task.replace(" ", "_")


def build_index(specs, index_dir: Path, n_grams: int, language: str) -> dict[str, dict]:
    """Writes one ``<task>.index.hashes`` per task and ``items.json`` under ``index_dir``; per task, what was indexed."""
    import tempfile

    index_dir.mkdir(parents=True, exist_ok=True)
    hasher = _hasher(n_grams, language)
    owners: dict[int, list] = {}
    summary = {}
    with tempfile.TemporaryDirectory(prefix="cpt-decont-datasets-") as cache:
        for name, task in load_tasks(specs, Path(cache)).items():
            summary[name] = _index_task(name, task_items(name, task), hasher, owners, index_dir)
    (index_dir / ITEMS_FILE).write_text(json.dumps({str(h): v for h, v in owners.items()}))
    return summary


def _index_task(name: str, items: list, hasher: SimpleNamespace, owners: dict, index_dir: Path) -> dict:
    hashes: set[int] = set()
    short = []
    for item in items:
        mine = item_hashes(hasher, item)
        if not mine:
            short.append(item.index)
        for h in sorted(mine):
            owners.setdefault(h, []).append([name, item.index])
        hashes |= mine
    np.array(sorted(hashes), dtype=hasher.config.hash_config.np_descr).tofile(
        index_dir / f"{index_name(name)}.index.hashes")
    return {"items": len(items), "items_indexed": len(items) - len(short), "items_too_short": len(short),
            "too_short": short, "hashes": len(hashes)}


@dataclass
class Decontamination:
    """The decontamination filter of a curate run and what its report needs."""

    filter: NGramsDecontFilter
    index: dict[str, dict]  # per task: what was indexed
    config: object  # curate.decontaminate
    language: str  # datatrove's word-tokenizer code

    @classmethod
    def build(cls, cfg, inputs: dict, out_dir: Path) -> "Decontamination":
        """From a curate stage's config (``decontaminate``, ``eval_tasks``, ``language``): the index of the
        tasks' items under ``out_dir`` (built first: a missing or bad task file fails before any work)."""
        language = word_tokenizer_language(cfg.language)  # the recipe's: what the other filters split words with
        n = cfg.decontaminate.n_grams
        index = build_index(stage_task_specs(cfg.eval_tasks, inputs), out_dir / INDEX_DIR, n, language)
        step = NGramsDecontFilter(str(out_dir / INDEX_DIR), config=ngram_config(n), language=language)
        return cls(step, index, cfg.decontaminate, language)

    def report(self, out_dir: Path, funnel: dict, log) -> dict:
        """Writes ``decont_report.json`` after the run; the stage's ``decontamination`` summary."""
        return write_report(out_dir, self.index, funnel, self.config, self.language, log)


# ----------------------------------------------------------------------------- the report
def write_report(out_dir: Path, index: dict, funnel: dict, decont, language: str, log) -> dict:
    """``decont_report.json`` from the funnel's row and the (unsampled) rejects; the stage's summary."""
    row = next(r for r in funnel["steps"] if r["step"] == DECONT_STEP)
    tasks = _task_hits(out_dir, index, decont.n_grams, language)
    for name, t in tasks.items():
        t["documents_removed"] = row["reasons"].get(f"{DECONT_REASON}{index_name(name)}", 0)
    frac = row["removed"] / row["in"] if row["in"] else 0.0
    warning = None
    if frac > decont.warn_fraction:
        warning = (f"decontamination removed {row['removed']} of {row['in']} documents ({frac:.3%}), more than "
                   f"curate.decontaminate.warn_fraction ({decont.warn_fraction:.3%}): check {REPORT_FILE} for "
                   "false positives (the matched text of each removed document)")
        log(f"warning: {warning}")
    report = {"n_grams": decont.n_grams, "language": language, "indexed": "gold answer + question/gold overlap",
              "documents_in": row["in"], "documents_removed": row["removed"], "removed_fraction": frac,
              "warn_fraction": decont.warn_fraction, "warning": warning, "tasks": tasks}
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=1))
    log(f"decontamination: {row['removed']} of {row['in']} documents removed; items hit: "
        + (", ".join(f"{n} {len(t['items_hit'])}/{t['items']}" for n, t in tasks.items()) or "-"))
    return {"n_grams": decont.n_grams, "documents_in": row["in"], "removed": row["removed"],
            "removed_fraction": frac, "warning": warning,
            "removed_by_task": {n: t["documents_removed"] for n, t in tasks.items()},
            "items_hit_by_task": {n: len(t["items_hit"]) for n, t in tasks.items()}, "report": REPORT_FILE}


def _task_hits(out_dir: Path, index: dict, n_grams: int, language: str) -> dict[str, dict]:
    """Per task: the items any removed document contains (all its n-grams, not only the filter's first hit)
    and the first :data:`DOCS_PER_TASK` removed documents with what matched."""
    hasher = _hasher(n_grams, language)
    owners = json.loads((out_dir / INDEX_DIR / ITEMS_FILE).read_text())
    by_index_name = {index_name(n): n for n in index}
    hit: dict[str, set] = {n: set() for n in index}
    listed: dict[str, list] = {n: [] for n in index}
    for doc in _rejects(out_dir / "rejects" / DECONT_STEP):
        meta = doc.get("metadata") or {}
        norm = simplify_text(doc["text"], hasher.config.norm_config)
        items = _items_in(hasher, owners, norm)
        for task, i in items:
            hit[task].add(i)
        task = by_index_name.get(meta.get("contaminated_task"))
        if task is not None and len(listed[task]) < DOCS_PER_TASK:
            ngram = meta.get("contaminated_ngram") or ""
            listed[task].append({"id": doc.get("id"), "ngram": ngram, "items": items,
                                 "context": match_context(norm, ngram)})
    return {n: {**index[n], "items_hit": sorted(hit[n]), "documents": listed[n]} for n in index}


def _rejects(folder: Path):
    import pyarrow.parquet as pq

    for path in sorted(folder.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
            yield from batch.to_pylist()


def _items_in(hasher: SimpleNamespace, owners: dict, norm: str) -> list[list]:
    """Every ``[task, item index]`` one of whose n-grams the normalised text holds, in order."""
    found: dict[tuple, None] = {}
    for gram in ngrams(hasher.tokenizer.word_tokenize(norm), hasher.config.n_grams):
        for task, i in owners.get(str(hasher.hash_func(" ".join(gram))), ()):
            found[(task, i)] = None
    return [list(k) for k in found]


def match_context(norm: str, ngram: str, width: int = CONTEXT_CHARS) -> str:
    """The matched n-gram in the normalised text, ``[[marked]]``, with ``width`` characters either side."""
    words = ngram.split()
    m = re.search(r"\b" + r"\s*".join(map(re.escape, words)) + r"\b", norm) if words else None
    if m is None:
        return ""
    start, end = m.span()
    return f"{norm[max(0, start - width):start]}[[{norm[start:end]}]]{norm[end:end + width]}"
