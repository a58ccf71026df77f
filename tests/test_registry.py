"""The run registry: fingerprints, cache hits, --force, atomic completion."""

import json
from pathlib import Path

import pytest

from pipeline.codeversion import code_version
from pipeline.registry import Registry, fingerprint


def _stage(calls, fail=False):
    def fn(ctx):
        calls.append(ctx.out_dir)
        (ctx.out_dir / "data.txt").write_text("payload")
        if fail:
            raise RuntimeError("boom")
        return {"n": 1}

    return fn


def test_cache_hit_force_and_lineage(tmp_path):
    reg = Registry(tmp_path)
    calls = []
    a = reg.run("alpha", _stage(calls), config={"x": 1}, inputs={})
    assert not a.cached and (a.path / "data.txt").read_text() == "payload"
    m = json.loads((a.path / "manifest.json").read_text())
    assert m["status"] == "completed" and m["config"] == {"x": 1} and m["stats"] == {"n": 1}
    assert m["code_version"] and m["duration_s"] >= 0
    assert "pipeline/registry.py" in m["code_modules"] and "pytest" in m["library_versions"]

    b = reg.run("alpha", _stage(calls), config={"x": 1}, inputs={})
    assert b.cached and len(calls) == 1 and b.path == a.path

    c = reg.run("beta", _stage(calls), config={}, inputs={"alpha": a})
    assert json.loads((c.path / "manifest.json").read_text())["inputs"] == {"alpha": a.ref}

    reg.run("alpha", _stage(calls), config={"x": 1}, inputs={}, force=True)
    assert len(calls) == 3

    d = reg.run("alpha", _stage(calls), config={"x": 2}, inputs={})
    assert d.fingerprint != a.fingerprint

    rows = reg.list_runs()
    assert {(r["stage"], r["status"]) for r in rows} == {("alpha", "completed"), ("beta", "completed")}
    assert any(r["inputs"] == {"alpha": a.ref} for r in rows)


def test_failure_never_leaves_a_completed_manifest(tmp_path):
    reg = Registry(tmp_path)
    with pytest.raises(RuntimeError):
        reg.run("alpha", _stage([], fail=True), config={}, inputs={})
    code = code_version(__name__)  # the stage function's module: this file and what it imports
    fp = fingerprint("alpha", {}, {}, code.digest, code.distributions)
    assert reg.lookup("alpha", fp) is None
    assert not (tmp_path / "alpha" / fp).exists()
    partial = json.loads((tmp_path / "alpha" / f"{fp}.partial" / "manifest.json").read_text())
    assert partial["status"] == "failed" and "boom" in partial["error"]
    assert [r["status"] for r in reg.list_runs()] == ["failed"]


def test_fingerprint_depends_on_everything():
    base = fingerprint("s", {"a": 1}, {"in": "x/1"}, "c1")
    assert base != fingerprint("s", {"a": 2}, {"in": "x/1"}, "c1")
    assert base != fingerprint("s", {"a": 1}, {"in": "x/2"}, "c1")
    assert base != fingerprint("s", {"a": 1}, {"in": "x/1"}, "c2")
    assert base == fingerprint("s", {"a": 1}, {"in": "x/1"}, "c1")
    assert base != fingerprint("s", {"a": 1}, {"in": "x/1"}, "c1", {"torch": "2.0"})


def test_preempted_run_is_marked_resumable(tmp_path):
    """A stage stopped by TrainingPreempted keeps its partial output (the checkpoint) and says so."""
    import signal

    from pipeline.train.contract import TrainingPreempted

    reg = Registry(tmp_path)

    def preempted(ctx):
        (ctx.out_dir / "checkpoints").mkdir()
        raise TrainingPreempted(signal.SIGTERM, 7, ctx.out_dir / "checkpoints" / "iter_0000007")

    with pytest.raises(TrainingPreempted) as info:
        reg.run("train", preempted, config={}, inputs={})
    assert info.value.exit_code == 143 and "SIGTERM after step 7" in str(info.value)
    [row] = reg.list_runs()
    assert row["status"] == "preempted" and (Path(row["path"]) / "checkpoints").is_dir()
