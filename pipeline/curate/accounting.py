"""Per-dump accounting and audit samples for the curation chain.

:class:`DumpTally` is a pass-through step placed after every step of the chain. It counts the
documents that got through, per dump, in documents, words and characters, into datatrove's own
stats (so they are merged across tasks like every other stat). The difference between two
consecutive tallies is what the step between them removed, per dump.
:class:`SampledParquetWriter` keeps a deterministic sample of a filter's rejects for audit.
"""

from __future__ import annotations

import hashlib

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers import ParquetWriter

EXTRACTED_TEXT_DIR = "text"  # where extraction writes the documents with text (Parquet), which curation reads
TALLY_PREFIX = "📊 tally: "


class DumpTally(PipelineStep):
    type = "📊 - ACCOUNTING"

    def __init__(self, after: str):
        super().__init__()
        self.after = after
        self.name = f"{TALLY_PREFIX}{after}"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            dump = doc.metadata.get("dump") or "unknown"
            self.stat_update(f"docs[{dump}]")
            self.stat_update(f"words[{dump}]", value=len(doc.text.split()))
            self.stat_update(f"chars[{dump}]", value=len(doc.text))
            yield doc


def sampled(doc_id: str, rate: float) -> bool:
    """Deterministic per document: the same rejects are sampled on every rerun."""
    if rate >= 1.0:
        return True
    h = int.from_bytes(hashlib.blake2b(str(doc_id).encode(), digest_size=8).digest(), "big")
    return h < rate * 2**64


class SampledParquetWriter(ParquetWriter):
    """A filter's exclusion writer that keeps only a sample of the rejects."""

    def __init__(self, output_folder: str, rate: float):
        super().__init__(output_folder=output_folder, output_filename="${rank}.parquet")
        self.rate = rate

    def write(self, document, rank: int = 0, **kwargs):
        if sampled(document.id, self.rate):
            super().write(document, rank, **kwargs)


def tally_by_dump(step: dict) -> dict[str, dict[str, int]]:
    """``{dump: {"docs": n, "words": n, "chars": n}}`` from a DumpTally's merged stats."""
    out: dict[str, dict[str, int]] = {}
    for key, value in step.get("stats", {}).items():
        if "[" not in key:
            continue
        measure, dump = key[:-1].split("[", 1)
        total = value.get("total", 0) if isinstance(value, dict) else value
        out.setdefault(dump, {"docs": 0, "words": 0, "chars": 0})[measure] = int(total)
    return out


def with_tallies(reader, steps: list[tuple[str, object]], writer) -> list:
    """reader -> tally -> (step -> tally) for each step -> writer: every step's documents in and out, by dump."""
    pipeline = [reader, DumpTally("read")]
    for key, step in steps:
        pipeline += [step, DumpTally(key)]
    return pipeline + [writer]
