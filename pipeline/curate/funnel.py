"""The filter funnel: documents in, removed per step (and per reason), kept.

Invariant checked on every run: documents in = kept + Σ removed.
"""

from __future__ import annotations

from pipeline.datatrove_run import stat
from pipeline.errors import CptError


def build_funnel(step_stats: list[dict], step_keys: list[str]) -> dict:
    """``step_stats`` is datatrove's merged stats for [reader, *steps, writer]; ``step_keys``
    names the steps between reader and writer."""
    reader, *middle, writer = step_stats
    if len(middle) != len(step_keys):
        raise CptError(f"stats have {len(middle)} steps, expected {len(step_keys)} ({step_keys})")
    docs_in = stat(reader, "documents")
    rows, current = [], docs_in
    for key, step in zip(step_keys, middle):
        total, kept = stat(step, "total"), stat(step, "forwarded")
        if total != current:
            raise CptError(f"accounting broke at '{key}': it saw {total} documents, the step before kept {current}")
        reasons = {k[len("dropped_"):]: stat(step, k) for k in step.get("stats", {}) if k.startswith("dropped_")}
        if key == "language" and not reasons and total - kept:
            reasons = {"not_target_language_or_low_score": total - kept}  # datatrove gives no reason
        if key == "extraction":
            errors = {r: stat(step, r) for r in ("timeout", "broken_process", "clean_error") if stat(step, r)}
            reasons = {**errors, "empty": total - kept - sum(errors.values())}
        rows.append({"step": key, "in": total, "removed": total - kept, "kept": kept,
                     "reasons": {k: v for k, v in reasons.items() if v}})
        current = kept
    written = stat(writer, "total")
    if written != current:
        raise CptError(f"accounting broke at the writer: wrote {written} documents, the last step kept {current}")
    removed = sum(r["removed"] for r in rows)
    assert docs_in == current + removed
    return {"documents_in": docs_in, "kept": current, "removed": removed, "steps": rows}
