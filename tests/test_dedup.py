"""Dedup stage on real datatrove: scope per dump vs global, exact and URL dedup, cluster metadata,
accounting, the memory bound, and resume after kill -9."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from dedup_runner import articles, read_docs, run_dedup, write_curated  # noqa: E402

from pipeline.errors import CptError  # noqa: E402

RUNNER = Path(__file__).parent / "dedup_runner.py"


def _doc(text, id_, dump, url):
    return {"text": text, "id": id_, "metadata": {"dump": dump, "url": url}}


@pytest.fixture(scope="module")
def texts():
    return articles(30, seed=7)


@pytest.fixture
def two_dumps(tmp_path, texts):
    """Every article in two dumps (same URL), plus a near-duplicate of article 0 in dump A."""
    rows = [_doc(t, f"{d}-{i}", d, f"https://site.example/{i}") for i, t in enumerate(texts) for d in ("A", "B")]
    rows.append(_doc(texts[0] + " One extra closing sentence.", "A-near", "A", "https://site.example/near"))
    write_curated(tmp_path, rows, files=3)
    return tmp_path, rows


def _final(art):
    return read_docs(art.path / "docs")


def test_per_dump_scope_keeps_cross_dump_copies(two_dumps, texts):
    root, rows = two_dumps
    art = run_dedup(root, {"tasks": 2})
    kept = _final(art)
    assert len(kept) == 2 * len(texts)  # only the near-duplicate in A goes
    s = art.stats
    assert s["by_dump"]["A"] == {"in": len(texts) + 1, "removed": {"minhash": 1}, "kept": len(texts)}
    assert s["by_dump"]["B"] == {"in": len(texts), "removed": {"minhash": 0}, "kept": len(texts)}
    # the kept member of the near-duplicate cluster carries the cluster id and size
    pair = [d for d in kept if d["id"] in ("A-0", "A-near")]
    assert len(pair) == 1 and pair[0]["metadata"]["minhash_cluster_size"] == 2
    assert pair[0]["metadata"]["minhash_cluster_id"] >= 0
    removed = read_docs(next(art.path.glob("passes/A/minhash")) / "removed")
    assert len(removed) == 1 and removed[0]["metadata"]["minhash_cluster_id"] == pair[0]["metadata"]["minhash_cluster_id"]
    funnel = pq.read_table(art.path / "funnel.parquet").to_pylist()
    assert {(r["step"], r["dump"], r["in"], r["removed"], r["kept"]) for r in funnel} == {
        ("minhash", "A", len(texts) + 1, 1, len(texts)), ("minhash", "B", len(texts), 0, len(texts))}


def test_global_scope_with_url_and_exact(two_dumps, texts):
    root, rows = two_dumps
    art = run_dedup(root, {"tasks": 2, "scope": "global", "url": True, "exact": True})
    s = art.stats
    steps = {p["step"]: (p["in"], p["removed"], p["kept"]) for p in s["passes"]}
    n = len(texts)
    assert steps["url"] == (2 * n + 1, n, n + 1)  # each URL kept once across the two dumps
    assert steps["exact"] == (n + 1, 0, n + 1)  # URL dedup already took the exact copies
    assert steps["minhash"] == (n + 1, 1, n)
    for d, acc in s["by_dump"].items():
        assert acc["in"] == acc["kept"] + sum(acc["removed"].values()), d
    assert s["documents_in"] == len(rows) and s["kept"] == n == len(_final(art))
    assert len({d["text"] for d in _final(art)}) == n


def test_exact_dedup_removes_byte_identical_texts(tmp_path, texts):
    rows = [_doc(t, f"x-{i}-{k}", "A", f"https://u.example/{i}/{k}") for i, t in enumerate(texts[:10]) for k in range(3)]
    write_curated(tmp_path, rows, files=2)
    art = run_dedup(tmp_path, {"method": "none", "exact": True})
    assert art.stats["passes"] == [{"step": "exact", "in": 30, "removed": 20, "kept": 10,
                                    "by_dump": {"A": {"in": 30, "removed": 20}}}]
    assert sorted(d["text"] for d in _final(art)) == sorted(texts[:10])


def test_url_normalization():
    from datatrove.data import Document

    from pipeline.dedup.passes import normalized_url

    def u(x):
        return normalized_url(Document(text="", id="i", metadata={"url": x}))

    assert u("HTTPS://Example.COM:443/a?b=1#frag") == u("https://example.com/a?b=1") != u("https://example.com/a?b=2")
    assert u("http://example.com") == u("http://example.com/")
    assert normalized_url(Document(text="", id="i1", metadata={})) != normalized_url(Document(text="", id="i2", metadata={}))


def test_memory_bound_refuses_clearly(two_dumps):
    root, _ = two_dumps
    with pytest.raises(CptError, match=r"dedup clustering needs about .* over the bound of 0\.00 GB"):
        run_dedup(root, {"tasks": 1, "memory_limit_gb": 0.001})
    manifest = json.loads(next((root / "work" / "dedup").glob("*.partial/manifest.json")).read_text())
    assert manifest["status"] == "failed" and "memory_limit_gb" in manifest["error"]


def test_rss_watchdog_stops_a_growing_step():
    import psutil

    from pipeline.dedup.memory import MemoryBoundExceeded, RssWatchdog

    limit = psutil.Process().memory_info().rss + 64 * 2**20
    hoard = []
    with pytest.raises(MemoryBoundExceeded):
        with RssWatchdog(limit, interval=0.01):
            for _ in range(100_000):  # would reach ~6 GB without the watchdog
                hoard.append(bytearray(2**16))
                sum(range(50))
    grown = len(hoard) * 2**16
    hoard.clear()
    assert 48 * 2**20 < grown < 1024 * 2**20


def test_resume_after_kill9(tmp_path, texts):
    """kill -9 after two of four signature tasks; the rerun skips them and loses or doubles nothing."""
    rows = [_doc(t, f"d-{i}", "A", f"https://k.example/{i}") for i, t in enumerate(texts)]
    rows += [_doc(t + " Tail words.", f"near-{i}", "A", f"https://k.example/n{i}") for i, t in enumerate(texts[:8])]
    overrides = {"tasks": 4, "workers": 1}
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    for root in (crashed, clean):
        write_curated(root, rows, files=4)

    def run(root, env=None):
        """The runner in its own session; like a scheduler ending a job, the whole process group is
        killed afterwards (datatrove's helper processes outlive a SIGKILLed parent)."""
        out, err = root / "stdout.txt", root / "stderr.txt"
        with open(out, "w") as fo, open(err, "w") as fe:
            proc = subprocess.Popen([sys.executable, str(RUNNER), str(root), json.dumps(overrides)],
                                    env={**os.environ, **(env or {})}, stdout=fo, stderr=fe,
                                    start_new_session=True)
            try:
                rc = proc.wait(timeout=600)
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return subprocess.CompletedProcess(proc.args, rc, out.read_text(), err.read_text())

    first = run(crashed, {"CPT_FAULT_KILL_AFTER": "1_signatures:2"})
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    partial = next((crashed / "work" / "dedup").glob("*.partial"))
    assert json.loads((partial / "manifest.json").read_text())["status"] == "running"
    sig_logs = next(partial.glob("passes/*/minhash/logs/1_signatures"))
    done = sorted(p.name for p in (sig_logs / "completions").iterdir())
    assert done == ["00000", "00001"]
    before = {r: (sig_logs / "stats" / f"{r}.json").stat().st_mtime_ns for r in done}

    second = run(crashed)
    assert second.returncode == 0, second.stderr[-2000:]
    final = next(p for p in (crashed / "work" / "dedup").iterdir() if p.is_dir() and not p.name.endswith(".partial"))
    logs = next(final.glob("passes/*/minhash/logs/1_signatures"))
    assert {r: (logs / "stats" / f"{r}.json").stat().st_mtime_ns for r in done} == before  # not redone
    assert sorted(p.name for p in (logs / "completions").iterdir()) == ["00000", "00001", "00002", "00003"]

    reference = run(clean)
    assert reference.returncode == 0, reference.stderr[-2000:]
    got = [d["id"] for d in read_docs(final / "docs")]
    want = [d["id"] for d in read_docs(next(p for p in (clean / "work" / "dedup").iterdir() if p.is_dir()) / "docs")]
    assert len(got) == len(set(got)) and sorted(got) == sorted(want)
    stats = json.loads(second.stdout)
    assert stats["documents_in"] == len(rows) == stats["kept"] + stats["removed_duplicates"]
    assert stats["removed_duplicates"] == 8
