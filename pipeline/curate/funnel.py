"""The filter funnel: documents in, removed per step (per reason, per dump), kept.

The chain is ``[reader, tally, step_1, tally, ..., step_n, tally, writer]`` (see
:mod:`pipeline.curate.accounting`). Invariant checked on every run, per dump and in total:
documents in = kept + Σ removed, where read errors count as removals.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.curate.accounting import tally_by_dump
from pipeline.executor import stat
from pipeline.errors import CptError
from pipeline.records import SURROGATES_NOTE

EXTRACTION_ERRORS = ("timeout", "broken_process", "clean_error")
READ_NOTES = ("charset_fallback", SURROGATES_NOTE)  # reader stats that are not removals: kept, worth knowing
STEP_NOTES = {"url": ("no_url",)}  # the same for a step: the URL filter keeps documents that have no URL
MEASURES = ("docs", "words", "chars")
DECONT_STEP = "decontaminate"  # the decontamination filter's row: its removals counted per task
DECONT_REASON = "contaminated_"  # + the task: datatrove's NGramsDecontFilter's stat per removed document


def _reasons(key: str, step: dict, removed: int) -> dict[str, int]:
    stats = step.get("stats", {})
    if key == "extraction":
        errors = {r: stat(step, r) for r in EXTRACTION_ERRORS if stat(step, r)}
        return {**errors, "empty": removed - sum(errors.values())}
    if key == DECONT_STEP:  # contaminated_<task> (not datatrove's contaminated_tg_<group>, also counted)
        per_task = {k: stat(step, k) for k in stats
                    if k.startswith(DECONT_REASON) and not k.startswith(f"{DECONT_REASON}tg_")}
        if sum(per_task.values()) == removed:
            return per_task
    reasons = {k[len("dropped_"):]: stat(step, k) for k in stats if k.startswith("dropped_")}
    if removed and not reasons:
        reasons = {"not_target_language_or_low_score" if key == "language" else "filtered": removed}
    return reasons


def build_funnel(step_stats: list[dict], step_keys: list[str], dump: str) -> dict:
    reader, *middle, writer = step_stats
    if len(middle) != 2 * len(step_keys) + 1:
        raise CptError(f"stats have {len(middle)} inner steps, expected {2 * len(step_keys) + 1}")
    errors = {k[len("error_"):]: stat(reader, k) for k in reader.get("stats", {}) if k.startswith("error_")}
    read_tally = tally_by_dump(middle[0])
    docs_read = stat(reader, "documents")
    if sum(t["docs"] for t in read_tally.values()) != docs_read:
        raise CptError(f"accounting broke at the reader: read {docs_read}, tallied {read_tally}")
    docs_in = docs_read + sum(errors.values())

    zero = {m: 0 for m in MEASURES}
    prev = {d: dict(t) for d, t in read_tally.items()}
    if errors:
        prev.setdefault(dump, dict(zero))
    rows = [{"step": "read", "in": docs_in, "removed": sum(errors.values()), "kept": docs_read,
             "reasons": {k: v for k, v in errors.items() if v},
             "notes": {k: stat(reader, k) for k in READ_NOTES if stat(reader, k)},
             "by_dump": {d: {"in": t["docs"] + (sum(errors.values()) if d == dump else 0),
                             "removed": {"docs": sum(errors.values()) if d == dump else 0, "words": None,
                                         "chars": None}} for d, t in prev.items()}}]
    current = docs_read
    for i, key in enumerate(step_keys):
        step, tally = middle[1 + 2 * i], tally_by_dump(middle[2 + 2 * i])
        total = stat(step, "total")
        if total != current:
            raise CptError(f"accounting broke at '{key}': it saw {total} documents, the step before kept {current}")
        kept = sum(t["docs"] for t in tally.values())
        by_dump = {d: {"in": p["docs"],
                       "removed": {m: p[m] - tally.get(d, zero)[m] for m in MEASURES}} for d, p in prev.items()}
        row = {"step": key, "in": total, "removed": total - kept, "kept": kept,
               "reasons": {k: v for k, v in _reasons(key, step, total - kept).items() if v}, "by_dump": by_dump}
        notes = {k: stat(step, k) for k in STEP_NOTES.get(key, ()) if stat(step, k)}
        if notes:
            row["notes"] = notes
        rows.append(row)
        prev, current = tally, kept
    written = stat(writer, "total")
    if written != current:
        raise CptError(f"accounting broke at the writer: wrote {written} documents, the last step kept {current}")
    removed = sum(r["removed"] for r in rows)
    if docs_in != current + removed:
        raise CptError(f"accounting broke: {docs_in} in != {current} kept + {removed} removed")
    return {"documents_in": docs_in, "kept": current, "removed": removed, "steps": rows,
            "kept_by_dump": {d: t["docs"] for d, t in prev.items()}}


def write_funnel_parquet(funnel: dict, stage: str, path: Path) -> None:
    """One row per (step, dump): documents in, removed (documents, words, characters), kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for r in funnel["steps"]:
        for dump, d in r["by_dump"].items():
            rem = d["removed"]
            rows.append({"stage": stage, "step": r["step"], "dump": dump, "docs_in": d["in"],
                         "docs_removed": rem["docs"], "words_removed": rem["words"], "chars_removed": rem["chars"],
                         "docs_kept": d["in"] - rem["docs"]})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, path)


def combine(extract: dict, curate: dict) -> dict:
    """The whole funnel: extraction-stage steps, then filter-stage steps (minus its 'read' row)."""
    steps = extract["steps"] + [r for r in curate["steps"] if r["step"] != "read"]
    return {"documents_in": extract["documents_in"], "kept": curate["kept"],
            "removed": extract["removed"] + curate["removed"], "steps": steps}
