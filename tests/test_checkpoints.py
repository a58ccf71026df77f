"""Checkpoint lifecycle on real megatron-core (CPU): keep-last-K, a crash mid-save, and
preemption by SIGTERM/SIGUSR1 in a real subprocess, each followed by a bitwise-identical resume."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from train_runner import MEGATRON_NOISE, TRAIN, read_metrics, signal_mid_run, train_tiny, untimed, write_corpus  # noqa: E402,E501

from pipeline.train.checkpoint_paths import latest_checkpoint, list_checkpoints  # noqa: E402

pytestmark = [pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE]

# log_interval 5: interruptions fall inside a logging window, whose losses must survive the resume.
CFG = replace(TRAIN, train_iters=12, save_interval=0, eval_interval=6, log_interval=5, keep_checkpoints=2)


@pytest.fixture(scope="module")
def straight(corpus_root, tmp_path_factory) -> Path:
    """The uninterrupted reference run."""
    out = tmp_path_factory.mktemp("straight")
    train_tiny(write_corpus(corpus_root), out, train_cfg=CFG)
    return out


def _metrics(out: Path) -> list[dict]:
    return untimed(read_metrics(out))


def _same_final_weights(a: Path, b: Path) -> None:
    ca, cb = latest_checkpoint(a / "checkpoints"), latest_checkpoint(b / "checkpoints")
    assert ca.name == cb.name == f"iter_{CFG.train_iters:07d}"
    shards = sorted(p.name for p in ca.iterdir() if p.suffix == ".distcp")
    assert shards
    for name in shards:
        assert (ca / name).read_bytes() == (cb / name).read_bytes(), name


def test_keep_last_k(corpus_root, tmp_path):
    cfg = replace(CFG, train_iters=5, save_interval=1, eval_interval=0, keep_checkpoints=2)
    train_tiny(write_corpus(corpus_root), tmp_path, train_cfg=cfg)
    assert [p.name for p in sorted((tmp_path / "checkpoints").iterdir())] == ["iter_0000004", "iter_0000005"]
    keep_all = replace(cfg, keep_checkpoints=0)
    train_tiny(write_corpus(corpus_root), tmp_path / "all", train_cfg=keep_all)
    assert [it for it, _ in list_checkpoints(tmp_path / "all" / "checkpoints")] == [1, 2, 3, 4, 5]


def test_crash_mid_save_leaves_previous_checkpoint(corpus_root, straight, tmp_path, monkeypatch):
    """The save at step 8 dies after megatron wrote its files but before the meta: step 4's checkpoint
    stays the current one, and resuming from it reproduces the uninterrupted run bit for bit."""
    import pipeline.train.checkpoint as checkpoint

    corpus = write_corpus(corpus_root)
    cfg = replace(CFG, save_interval=4)
    real_save = checkpoint.dist_checkpointing.save

    def save_then_die(state, path, *args, **kwargs):
        real_save(state, path, *args, **kwargs)
        if state["iteration"] == 8:
            raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(checkpoint.dist_checkpointing, "save", save_then_die)
    with pytest.raises(OSError, match="No space left"):
        train_tiny(corpus, tmp_path, train_cfg=cfg)
    monkeypatch.setattr(checkpoint.dist_checkpointing, "save", real_save)

    root = tmp_path / "checkpoints"
    assert (root / "iter_0000008.tmp").is_dir()  # the half-written save
    assert latest_checkpoint(root).name == "iter_0000004"
    (root / "iter_0000012").mkdir()  # an iter_N without its meta (e.g. copied by hand): not a checkpoint
    (root / "iter_0000012" / "junk.distcp").write_bytes(b"x")
    assert latest_checkpoint(root).name == "iter_0000004"
    resumed = train_tiny(corpus, tmp_path, train_cfg=cfg)
    assert resumed["resumed"] and resumed["start_iteration"] == 4
    assert not list(root.glob("*.tmp"))  # cleaned up by the next save
    assert [it for it, _ in list_checkpoints(root)] == [8, 12]  # keep 2
    assert _metrics(tmp_path) == _metrics(straight)
    _same_final_weights(tmp_path, straight)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1])
def test_signal_checkpoints_and_resume_is_bitwise(sig, corpus_root, straight, tmp_path):
    """A real process gets the signal mid-run: it finishes the step, checkpoints, exits 128+signal;
    the next launch resumes there and ends bit-identical to the uninterrupted run."""
    out = tmp_path / "run"
    returncode, stderr = signal_mid_run(corpus_root, out, CFG, sig, slow_step_s=0.25)
    assert returncode == 128 + sig, stderr
    assert f"stopped by {signal.Signals(sig).name}" in stderr and "rerun the same command to resume" in stderr
    checkpoints = list_checkpoints(out / "checkpoints")
    assert len(checkpoints) == 1  # save_interval=0: the preemption checkpoint only
    stopped_at = checkpoints[0][0]
    assert 5 <= stopped_at < CFG.train_iters
    assert max(r["step"] for r in _metrics(out)) <= stopped_at  # nothing logged past the checkpoint

    resumed = train_tiny(write_corpus(corpus_root), out, train_cfg=CFG)
    assert resumed["resumed"] and resumed["start_iteration"] == stopped_at
    assert _metrics(out) == _metrics(straight)
    _same_final_weights(out, straight)


def test_kill9_resumes_from_last_periodic_checkpoint(corpus_root, straight, tmp_path):
    """SIGKILL cannot be caught: the run restarts from its last periodic checkpoint, drops the metrics
    logged after it, and still ends bit-identical to the uninterrupted run."""
    out = tmp_path / "run"
    cfg = replace(CFG, save_interval=3)
    returncode, _ = signal_mid_run(corpus_root, out, cfg, signal.SIGKILL, slow_step_s=0.25)
    assert returncode == -signal.SIGKILL
    last = list_checkpoints(out / "checkpoints")[-1][0]
    assert last % 3 == 0 and 3 <= last < cfg.train_iters
    resumed = train_tiny(write_corpus(corpus_root), out, train_cfg=cfg)
    assert resumed["start_iteration"] == last
    assert _metrics(out) == _metrics(straight)
    _same_final_weights(out, straight)


def test_signal_during_the_last_step_is_not_swallowed(corpus_root, straight, tmp_path, monkeypatch):
    """A stop request in the last step: the run finishes and saves, then still reports the preemption."""
    import pipeline.train.loop as loop
    from pipeline.train.contract import TrainingPreempted

    real_step = loop._train_step

    def signal_in_last_step(*args, **kwargs):
        if args[4] == CFG.train_iters - 1:
            os.kill(os.getpid(), signal.SIGTERM)  # recorded by the guard's handler, in this process
        return real_step(*args, **kwargs)

    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(loop, "_train_step", signal_in_last_step)
    with pytest.raises(TrainingPreempted) as info:
        train_tiny(write_corpus(corpus_root), tmp_path, train_cfg=CFG)
    assert info.value.iteration == CFG.train_iters and info.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is previous  # handlers restored
    monkeypatch.setattr(loop, "_train_step", real_step)
    again = train_tiny(write_corpus(corpus_root), tmp_path, train_cfg=CFG)  # the rerun just reports
    assert again["start_iteration"] == CFG.train_iters and again["tokens_this_run"] == 0
    assert _metrics(tmp_path) == _metrics(straight)


def test_guard_redelivers_a_signal_it_did_not_act_on():
    from pipeline.train.preemption import PreemptionGuard

    seen = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    try:
        with PreemptionGuard() as guard:
            os.kill(os.getpid(), signal.SIGUSR1)
            assert guard.received == signal.SIGUSR1 and seen == []  # held by the guard
        assert seen == [signal.SIGUSR1]  # handed on to the previous handler at exit
        with pytest.raises(RuntimeError):
            with PreemptionGuard():
                os.kill(os.getpid(), signal.SIGUSR1)
                raise RuntimeError("the block failed")
        assert seen == [signal.SIGUSR1]  # not re-delivered when the block raised
        with PreemptionGuard() as outer:  # a rank signalled while still importing
            os.kill(os.getpid(), signal.SIGUSR1)
            with PreemptionGuard() as inner:
                assert inner.received == signal.SIGUSR1 and outer.received is None  # taken over
            assert outer.received == signal.SIGUSR1  # not acted on: handed back
            with pytest.raises(RuntimeError), PreemptionGuard():  # acted on (the loop raised)
                raise RuntimeError("preempted")
            assert outer.received is None
        assert seen == [signal.SIGUSR1]  # consumed: nothing re-delivered
    finally:
        signal.signal(signal.SIGUSR1, previous)
