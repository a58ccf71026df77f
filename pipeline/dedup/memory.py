"""A memory bound for MinHash clustering, the one dedup step whose RAM grows with the whole dataset.

datatrove's ``MinhashDedupCluster`` holds a union-find over every document that has a duplicate, in
one process. Before it starts, the step bounds the number of documents in that union-find by
min(2 x matched records in the ``.dups`` files, documents signed), multiplies by the measured cost
per document, and refuses, with the figures, when the estimate exceeds the bound.
While it runs, a watchdog samples the process RSS and stops the step with a clear error before the
bound is crossed by more than one sampling interval, so the kernel's OOM killer never has to.
``benchmarks/minhash_memory.py`` measures the per-pair cost used here."""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import psutil
from datatrove.pipeline.dedup import MinhashDedupCluster

from pipeline.errors import CptError

DUP_RECORD_BYTES = 16  # (file, doc, file, doc) as 4 x uint32
# Peak clustering RSS per document in a duplicate cluster, measured by benchmarks/minhash_memory.py
# on CPython 3.11, rounded up for headroom.
BYTES_PER_NODE = 400
GB = 1024**3


def default_memory_limit() -> int:
    """75% of the memory this process may use (the cgroup limit when one is set, else physical RAM)."""
    total = psutil.virtual_memory().total
    try:
        raw = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if raw != "max":
            total = min(total, int(raw))
    except (OSError, ValueError):
        pass
    return int(total * 0.75)


def estimate_clustering_bytes(dup_bytes: int, documents: int | None = None) -> int:
    nodes = 2 * (dup_bytes // DUP_RECORD_BYTES)
    if documents is not None:
        nodes = min(nodes, documents)
    return nodes * BYTES_PER_NODE


class MemoryBoundExceeded(MemoryError):
    """Raised asynchronously in the clustering thread by the RSS watchdog."""


class RssWatchdog:
    """Raise ``MemoryBoundExceeded`` in the calling thread when the process RSS passes ``limit``."""

    def __init__(self, limit: int, interval: float = 0.05):
        self.limit, self.interval = limit, interval
        self.peak = 0
        self.tripped = False
        self._target = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cpt-rss-watchdog", daemon=True)

    def _watch(self) -> None:
        proc = psutil.Process()
        while not self._stop.wait(self.interval):
            rss = proc.memory_info().rss
            self.peak = max(self.peak, rss)
            if rss > self.limit and not self.tripped:
                self.tripped = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._target),
                                                           ctypes.py_object(MemoryBoundExceeded))
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


class BoundedMinhashDedupCluster(MinhashDedupCluster):
    """``MinhashDedupCluster`` that refuses, or stops cleanly, instead of being OOM-killed."""

    def __init__(self, *args, memory_limit_bytes: int, documents: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.memory_limit_bytes = memory_limit_bytes
        self.documents = documents  # documents that got a signature (an upper bound on cluster members)

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        files = self.input_folder.list_files(glob_pattern="*.dups")
        dup_bytes = sum(self.input_folder.size(f) for f in files)
        pairs = dup_bytes // DUP_RECORD_BYTES
        base = psutil.Process().memory_info().rss
        need = estimate_clustering_bytes(dup_bytes, self.documents)
        limit = self.memory_limit_bytes
        self.stat_update("matched_pairs", value=pairs)
        if base + need > limit:
            raise CptError(
                f"dedup clustering needs about {need / GB:.2f} GB for {pairs:,} matched pairs "
                f"(+{base / GB:.2f} GB already used), over the bound of {limit / GB:.2f} GB "
                f"(dedup.memory_limit_gb). Raise the bound on a larger machine, or use dedup.scope=per_dump "
                f"to cluster each dump on its own.")
        try:
            with RssWatchdog(limit) as dog:
                super().run(data, rank, world_size)
        except MemoryBoundExceeded:
            raise CptError(
                f"dedup clustering stopped: the process reached {dog.peak / GB:.2f} GB, over the bound of "
                f"{limit / GB:.2f} GB (dedup.memory_limit_gb); {pairs:,} matched pairs. The step did "
                f"not complete; raise the bound or use dedup.scope=per_dump.") from None
        self.stat_update("peak_rss_bytes", value=dog.peak)
