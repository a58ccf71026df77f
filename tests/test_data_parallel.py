"""Data parallelism on real megatron-core: two CPU ranks (gloo) started by pipeline.launch.local_ranks.

Two ranks must train what one does (same samples per global batch, gradients summed), preempt
and resume together bit for bit, and fail cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from train_runner import MEGATRON_NOISE, TRAIN, read_metrics, signal_mid_run, train_tiny, untimed, write_corpus  # noqa: E402,E501

from pipeline.config import TrainConfig  # noqa: E402
from pipeline.errors import ConfigError, InputError  # noqa: E402
from pipeline.train.checkpoint_paths import list_checkpoints  # noqa: E402
from pipeline.train.contract import TrainingPreempted  # noqa: E402

pytestmark = [pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE]

CFG = replace(TRAIN, train_iters=8, micro_batch_size=2, global_batch_size=8, log_interval=1, eval_interval=4)


def test_two_ranks_train_what_one_does(corpus_root, tmp_path):
    corpus = write_corpus(corpus_root)
    one = train_tiny(corpus, tmp_path / "one", train_cfg=CFG)
    two = train_tiny(corpus, tmp_path / "two", train_cfg=replace(CFG, nproc_per_node=2))
    assert one["data_parallel_size"] == 1 and two["data_parallel_size"] == 2
    assert two["tokens_seen"] == one["tokens_seen"] and two["iterations"] == 8
    r1, r2 = read_metrics(tmp_path / "one"), read_metrics(tmp_path / "two")
    assert [(r["kind"], r["step"]) for r in r2] == [(r["kind"], r["step"]) for r in r1]  # rank 0 logs, once
    for a, b in zip(r1, r2):
        if a["kind"] == "train":  # the same samples; only the order of float sums differs
            assert b["loss"] == pytest.approx(a["loss"], rel=1e-5) and b["lr"] == a["lr"]
            assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-4)
        else:
            assert b["eval_loss"] == pytest.approx(a["eval_loss"], rel=1e-5)
    assert [it for it, _ in list_checkpoints(tmp_path / "two" / "checkpoints")] == [8]
    assert not (tmp_path / "two" / "launch").exists()  # spec and results are cleaned up


def test_two_ranks_preempted_together_and_resumed_bitwise(corpus_root, tmp_path):
    """SIGTERM to the launcher reaches both ranks; they checkpoint at the same step, the launcher
    exits 143, and a relaunch resumes to the same records as an uninterrupted two-rank run."""
    corpus = write_corpus(corpus_root)
    cfg = replace(CFG, train_iters=200, log_interval=5, eval_interval=100, nproc_per_node=2)
    straight = tmp_path / "straight"
    train_tiny(corpus, straight, train_cfg=cfg)

    out = tmp_path / "run"
    returncode, stderr = signal_mid_run(corpus_root, out, cfg, signal.SIGTERM)  # the launcher only
    assert returncode == 143, stderr[-3000:]
    assert "stopped by SIGTERM" in stderr
    [(stopped_at, _)] = list_checkpoints(out / "checkpoints")
    assert 5 <= stopped_at < cfg.train_iters

    resumed = train_tiny(corpus, out, train_cfg=cfg)
    assert resumed["resumed"] and resumed["start_iteration"] == stopped_at
    assert untimed(read_metrics(out)) == untimed(read_metrics(straight))
    final = [p for p in (out / "checkpoints" / "iter_0000200").iterdir() if p.suffix == ".distcp"]
    assert final
    for shard in final:
        assert shard.read_bytes() == (straight / "checkpoints" / "iter_0000200" / shard.name).read_bytes()


def test_distributed_optimizer_on_two_ranks_trains_and_resumes_bitwise(corpus_root, tmp_path):
    """Optimizer state sharded over two ranks: the same training as one rank; a relaunch from the
    step-4 checkpoint ends bit-identical to the run that went straight through."""
    import shutil

    corpus = write_corpus(corpus_root)
    cfg = replace(CFG, save_interval=4, keep_checkpoints=0)
    one = train_tiny(corpus, tmp_path / "one", train_cfg=cfg)
    sharded = replace(cfg, nproc_per_node=2, distributed_optimizer=True)
    two = train_tiny(corpus, tmp_path / "two", train_cfg=sharded)
    assert two["final_train_loss"] == pytest.approx(one["final_train_loss"], rel=1e-5)
    assert two["eval_loss"] == pytest.approx(one["eval_loss"], rel=1e-5)

    shutil.copytree(tmp_path / "two", tmp_path / "relaunched")
    shutil.rmtree(tmp_path / "relaunched" / "checkpoints" / "iter_0000008")  # as if killed after step 4's save
    resumed = train_tiny(corpus, tmp_path / "relaunched", train_cfg=sharded)
    assert resumed["start_iteration"] == 4
    assert untimed(read_metrics(tmp_path / "relaunched")) == untimed(read_metrics(tmp_path / "two"))
    a, b = (tmp_path / d / "checkpoints" / "iter_0000008" for d in ("two", "relaunched"))
    shards = sorted(p.name for p in a.iterdir() if p.suffix == ".distcp")
    assert len(shards) == 4  # two ranks write their own files
    for name in shards:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_signal_while_ranks_start_is_a_preemption(corpus_root, tmp_path):
    """SIGTERM while the ranks are still importing megatron: a preemption (exit 143), not a crash."""
    import subprocess
    import time

    from train_runner import RUNNER

    out = tmp_path / "run"
    cfg = replace(CFG, train_iters=200, log_interval=5, eval_interval=100, nproc_per_node=2)
    proc = subprocess.Popen([sys.executable, str(RUNNER), str(corpus_root), str(out),
                             __import__("json").dumps(__import__("dataclasses").asdict(cfg))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 120
        while not (out / "launch" / "spec.json").exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(0.5)  # the ranks are starting: importing torch and megatron
        os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=180)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == 143, stderr[-3000:]
    assert "stopped by SIGTERM" in stderr
    steps = [it for it, _ in list_checkpoints(out / "checkpoints")]
    assert steps == [] or steps[0] < 200  # a checkpoint after the first step(s), or none if never started


def test_rank_errors_come_back_as_one_clear_error(corpus_root, tmp_path):
    corpus = {**write_corpus(corpus_root), "tokenizer": str(tmp_path / "missing-tokenizer.json")}
    with pytest.raises(InputError, match="tokenizer not found"):
        train_tiny(corpus, tmp_path / "bad", train_cfg=replace(CFG, nproc_per_node=2))


def test_resources_are_checked_before_starting_ranks():
    from pipeline.launch.local_ranks import check_resources

    with pytest.raises(ConfigError, match="train.global_batch_size"):
        TrainConfig(micro_batch_size=4, global_batch_size=8, nproc_per_node=3)
    if not __import__("torch").cuda.is_available():
        with pytest.raises(ConfigError, match="nproc_per_node.*0 visible GPU"):
            check_resources(2, replace(CFG, device="cuda"))
    assert check_resources(2, CFG) == "cpu"


def test_a_dead_rank_does_not_leave_the_others_hanging():
    """One rank exits with an error while the other blocks (as in a collective): it is killed after the grace."""
    from pipeline.launch.local_ranks import wait_for_ranks

    crashed = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"], start_new_session=True)
    blocked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    t0 = time.monotonic()
    assert wait_for_ranks([crashed, blocked], grace_s=0.5) == [3, -signal.SIGKILL]
    assert time.monotonic() - t0 < 30


def test_preempted_error_survives_the_process_boundary():
    from pipeline.launch.local_ranks import error_from_result

    exc = error_from_result({"ok": False, "error": "TrainingPreempted", "signum": 10, "iteration": 7,
                       "checkpoint": "/x/iter_0000007", "message": "...", "exit_code": 138})
    assert isinstance(exc, TrainingPreempted) and exc.exit_code == 138 and exc.iteration == 7
    other = error_from_result({"ok": False, "error": "ConfigError", "message": "bad key", "exit_code": 2})
    assert isinstance(other, ConfigError) and str(other) == "bad key"
    bug = error_from_result({"ok": False, "rank": 1, "error": "ValueError", "message": "nan in grads", "exit_code": 1})
    assert isinstance(bug, RuntimeError) and "rank 1 failed: ValueError: nan in grads" in str(bug)
