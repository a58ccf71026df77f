"""The per-page extraction limit is a CPU-time budget (pipeline/curate/extractors.py): a loaded machine keeps
the same pages as a quiet one, and a page is over budget because of the CPU it uses, not the time it waits."""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import sys
import time

import pytest
from datatrove.data import Document
from datatrove.pipeline.extractors.base import BaseExtractor

from pipeline.curate.extractors import ExtractionStalled, PatientSandbox, SandboxedExtraction

BUDGET = 0.25  # CPU seconds per page in these tests


def burn(cpu_seconds: float) -> None:
    """Spin until this process has used ``cpu_seconds`` more CPU time (the sandbox's warm-up passes "")."""
    end = time.process_time() + (cpu_seconds or 0)
    while time.process_time() < end:
        pass


def work(kind: str = "", seconds: float = 0.0) -> str:
    """The sandbox's function (one per sandbox process): ``("burn", s)`` uses s CPU seconds, ``("nap", s)``
    waits s seconds on no CPU; the warm-up call passes ``""``."""
    if kind == "burn":
        burn(seconds)
    elif kind == "nap":
        time.sleep(seconds)
    return kind


class BurnExtractor(SandboxedExtraction, BaseExtractor):
    """Test double: a page ``burn=<ms> sleep=<ms>`` costs exactly that much CPU and waits that long (no CPU);
    the text out says how much CPU and wall time the sandbox spent on it."""

    name = "burn"
    library = "time"

    def __init__(self, timeout: float = BUDGET):
        super().__init__(timeout)

    def extract(self, text: str) -> str:
        if not text:  # the sandbox's warm-up call
            return ""
        t0, c0 = time.monotonic(), time.process_time()
        burn(int(re.search(r"burn=(\d+)", text).group(1)) / 1000)
        time.sleep(int(re.search(r"sleep=(\d+)", text).group(1)) / 1000)
        return f"{text} cpu={time.process_time() - c0:.3f} wall={time.monotonic() - t0:.3f}"


# (id, CPU ms, sleep ms): far under the 250 ms budget, near it (150 ms: on a loaded machine these take longer
# than the budget in wall time), far over it (must time out), and one that waits 3x the budget on no CPU
PAGES = ([(f"fast{i}", 2 + 3 * i, 0) for i in range(10)]
         + [(f"near{i}", 150, 0) for i in range(3)]
         + [(f"over{i}", 1500, 0) for i in range(2)]
         + [("sleeper", 0, 750)])
EXPECTED_KEPT = [p for p, ms, _ in PAGES if not p.startswith("over")]


def _docs():
    return [Document(text=f"{p} burn={ms} sleep={sl}", id=p) for p, ms, sl in PAGES]


def _run():
    ex = BurnExtractor()
    t0 = time.monotonic()
    out = list(ex.run(iter(_docs())))
    walls = {d.id: float(re.search(r"wall=([\d.]+)", d.text).group(1)) for d in out}
    return {
        "kept": [d.id for d in out],
        "timeout": ex.stats["timeout"].total,
        "extracted": ex.stats["extracted"].total,
        "wall_s": time.monotonic() - t0,
        "page_wall": walls,
    }


def _spin_forever():
    while True:
        pass


def test_a_loaded_machine_keeps_the_same_pages_as_a_quiet_one():
    quiet = _run()
    n = 2 * (os.cpu_count() or 1)
    hogs = [mp.Process(target=_spin_forever, daemon=True) for _ in range(n)]
    try:
        for h in hogs:
            h.start()
        time.sleep(0.3)  # let the load settle
        loaded = _run()
        assert all(h.is_alive() for h in hogs)
    finally:
        for h in hogs:
            h.kill()
        for h in hogs:
            h.join(5)
    print(f"\nquiet:  {quiet}\nloaded: {loaded} ({n} busy-loop processes)", file=sys.stderr)

    assert quiet["kept"] == EXPECTED_KEPT
    assert loaded["kept"] == quiet["kept"]
    assert quiet["timeout"] == loaded["timeout"] == 2  # the two over-budget pages, and only they
    assert quiet["extracted"] == loaded["extracted"] == len(EXPECTED_KEPT)
    # the load was real: some page well under the CPU budget took longer than the budget in wall time,
    # so a wall-clock limit (datatrove's) would have dropped it on the loaded run only
    assert max(loaded["page_wall"][f"near{i}"] for i in range(3)) > BUDGET


def test_waiting_is_not_spending_the_budget():
    """A page that sleeps 3x the budget (no CPU) is extracted; one that spins past the budget times out."""
    ex = BurnExtractor()
    out = list(ex.run(iter([Document(text="a burn=0 sleep=750", id="a"),
                            Document(text="b burn=2000 sleep=0", id="b"),
                            Document(text="c burn=10 sleep=0", id="c")])))
    assert [d.id for d in out] == ["a", "c"]
    assert float(re.search(r"wall=([\d.]+)", out[0].text).group(1)) > 3 * BUDGET * 0.9
    assert ex.stats["timeout"].total == 1 and ex.stats["extracted"].total == 2


def test_sandbox_budget_is_cpu_time():
    with PatientSandbox(timeout=BUDGET) as sandbox:
        t0 = time.monotonic()
        assert sandbox.process_document(("nap", 0.75), work) == "nap"  # 3x the budget asleep
        assert time.monotonic() - t0 >= 0.75
        if sys.platform.startswith("linux"):
            assert sandbox.cpu_clock.kind == "posix"
        pid = sandbox.process.pid
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            sandbox.process_document(("burn", 5.0), work)
        assert time.monotonic() - t0 < 5.0  # killed once over budget, not after the page's 5 s of work
        assert sandbox.process is None  # the over-budget child was killed ...
        assert sandbox.process_document(("burn", 0.01), work) == "burn"  # ... and a new one takes the next page
        assert sandbox.process.pid != pid


def test_a_stalled_child_is_cut_off_by_the_wall_cap():
    with PatientSandbox(timeout=BUDGET, wall_limit=0.5) as sandbox:
        t0 = time.monotonic()
        with pytest.raises(ExtractionStalled):
            sandbox.process_document(("nap", 30.0), work)
        assert time.monotonic() - t0 < 5.0
        assert sandbox.process_document(("nap", 0.0), work) == "nap"


def test_default_wall_cap_is_far_above_the_budget():
    assert PatientSandbox(timeout=1.0).wall_limit == 60.0
    assert PatientSandbox(timeout=5.0).wall_limit == 300.0
