"""The training stack on real megatron-core, on CPU, with tiny synthetic data (``train_runner.py``)."""

from __future__ import annotations

import json
import math
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from pipeline.config import PrecisionConfig, ScheduleConfig
from pipeline.errors import ConfigError

sys.path.insert(0, str(Path(__file__).parent))
from train_runner import (  # noqa: E402
    FP32, MEGATRON_NOISE, MODEL, SCHEDULE, TRAIN, read_metrics, train_tiny, untimed, write_corpus)

pytestmark = [pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


_train = train_tiny


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory) -> tuple[Path, dict]:
    """One 30-step run shared by the tests that only read its outputs."""
    out_dir = tmp_path_factory.mktemp("run")
    return out_dir, _train(corpus, out_dir)


# ----------------------------------------------------------------------------- tests
def test_loss_decreases_and_outputs_are_written(trained):
    out_dir, stats = trained
    train_records = read_metrics(out_dir, "train")
    assert [r["step"] for r in train_records] == [5, 10, 15, 20, 25, 30]
    first, last = train_records[0]["loss"], train_records[-1]["loss"]
    assert first > 5.0 and last < first - 1.0, (first, last)  # seen: 6.07 -> 4.36
    assert stats["final_train_loss"] == pytest.approx(last)
    for r in train_records:
        assert r["lr"] > 0 and math.isfinite(r["grad_norm"]) and r["tokens_per_s"] > 0
        assert r["tflops"] > 0 and r["mfu"] is None  # no peak known for a CPU
    evals = read_metrics(out_dir, "eval")
    assert [r["step"] for r in evals] == [15, 30]
    for domain in ("a", "b"):
        assert evals[1]["eval_loss"][domain] < evals[0]["eval_loss"][domain], evals
    assert set(stats["eval_loss"]) == {"a", "b"}
    assert stats["eval_loss"] == evals[-1]["eval_loss"]
    assert stats["tokens_seen"] == 30 * 8 * 64
    assert stats["vocab_size"] == 512  # 512 tokens, already a multiple of 128
    assert [p.name for p in (out_dir / "checkpoints").iterdir()] == ["iter_0000030"]  # saved at the end only
    meta = json.loads((out_dir / "checkpoints" / "iter_0000030" / "checkpoint_meta.json").read_text())
    assert meta["iteration"] == 30 and meta["vocab_size"] == 512 and meta["model"]["hidden_size"] == 64
    assert len(meta["tokenizer_sha256"]) == 64
    assert any((out_dir / "tb").iterdir())
    assert stats["checkpoint"] == "checkpoints/iter_0000030"  # relative: the stage directory is renamed


def test_schedule_matches_closed_form():
    from pipeline.train.schedule import build_scheduler, lr_at

    class _Opt:  # the scheduler only writes lr/weight_decay into param groups
        param_groups = [{"max_lr": 3e-3, "min_lr": 3e-4}]

    cfg = ScheduleConfig(name="rewarm_cosine", peak_lr=3e-3, min_lr_ratio=0.1, warmup_fraction=0.1)
    total, gbs = 100, 16
    # Closed form at chosen steps.
    assert lr_at(cfg, 0, total) == 0.0
    assert lr_at(cfg, 5, total) == pytest.approx(1.5e-3)
    assert lr_at(cfg, 10, total) == pytest.approx(3e-3)
    assert lr_at(cfg, 55, total) == pytest.approx(3e-4 + 2.7e-3 * 0.5)  # half-way through the cosine
    assert lr_at(cfg, 100, total) == pytest.approx(3e-4)
    # megatron's scheduler, advanced one global batch (in samples) per update, agrees everywhere.
    opt = _Opt()
    sched = build_scheduler(opt, cfg, total, gbs, weight_decay=0.1)
    for step in range(1, total + 1):
        sched.step(increment=gbs)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr_at(cfg, step, total), rel=1e-12, abs=1e-15), step
    const = ScheduleConfig(name="constant", peak_lr=1e-3, warmup_fraction=0.0)
    opt = _Opt()
    opt.param_groups = [{"max_lr": 1e-3, "min_lr": 1e-4}]
    sched = build_scheduler(opt, const, 20, gbs, weight_decay=0.0)
    for step in (1, 7, 20):
        sched.num_steps = 0
        sched.step(increment=step * gbs)
        assert opt.param_groups[0]["lr"] == pytest.approx(1e-3) == lr_at(const, step, 20)


def test_weights_only_start(trained, corpus, tmp_path):
    """A weights-only start: the base weights, but iteration 0, fresh Adam state and a re-warmed LR."""
    from megatron.core import dist_checkpointing

    from pipeline.train.checkpoint import load_weights
    from pipeline.train.distributed import distributed_session
    from pipeline.train.model import build_model
    from pipeline.train.flops import training_flops_per_token
    from pipeline.train.schedule import lr_at

    base_ckpt = trained[0] / "checkpoints" / "iter_0000030"
    with distributed_session(torch.device("cpu"), seed=99):  # a different seed: random init differs
        model = build_model(MODEL, 512, FP32, "cpu")
        load_weights(base_ckpt, model)
        loaded = {k: v.clone() for k, v in model.state_dict().items() if "_extra_state" not in k}
        saved = dist_checkpointing.load({"model": model.sharded_state_dict()}, str(base_ckpt))["model"]
    for key, value in loaded.items():
        assert torch.equal(value, saved[key]), key

    # One step from the base: starts at iteration 0 with the warmup LR, Adam step 1.
    stats = _train(corpus, tmp_path / "cpt", init_from=trained[0], train_iters=1,  # a run dir: its newest
                   train_cfg=replace(TRAIN, eval_interval=0, peak_tflops=0.5))
    assert stats["start_iteration"] == 0 and not stats["resumed"] and stats["init_from"] == str(base_ckpt)
    first = read_metrics(tmp_path / "cpt", "train")[0]
    assert first["step"] == 1
    assert first["mfu"] == pytest.approx(first["tflops"] / 0.5)  # train.peak_tflops given
    assert first["tflops"] == pytest.approx(training_flops_per_token(MODEL, 512) * first["tokens_per_s"] / 1e12)
    assert first["lr"] == pytest.approx(lr_at(SCHEDULE, 1, 1))  # the new run's own schedule
    scratch_first = read_metrics(trained[0], "train")[0]["loss"]  # mean of steps 1-5 from random init
    assert first["loss"] < scratch_first - 1.0  # the trained base model, not a random one
    with distributed_session(torch.device("cpu"), seed=1):
        model = build_model(MODEL, 512, FP32, "cpu")
        common = dist_checkpointing.load_common_state_dict(str(tmp_path / "cpt" / "checkpoints" / "iter_0000001"))
    assert common["iteration"] == 1 and common["adam_step"] == 1
    assert common["scheduler"]["num_steps"] == TRAIN.global_batch_size


def test_rewarm_schedule_takes_the_base_models_peak(trained, corpus, tmp_path):
    from pipeline.train.stage import rewarm_schedule

    ckpt = trained[0] / "checkpoints" / "iter_0000030"
    assert rewarm_schedule(ScheduleConfig(name="wsd"), ckpt).peak_lr == SCHEDULE.peak_lr  # the run's own peak
    assert rewarm_schedule(ScheduleConfig(peak_lr=1e-4), ckpt).peak_lr == 1e-4  # an explicit value wins
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "checkpoint_meta.json").write_text(json.dumps({"vocab_size": 512}))
    with pytest.raises(ConfigError, match="schedule.peak_lr.*does not record one"):
        rewarm_schedule(ScheduleConfig(), foreign)
    with pytest.raises(ConfigError, match="schedule.peak_lr"):
        _train(corpus, tmp_path / "unresolved", schedule_cfg=ScheduleConfig())


def test_vocab_larger_than_model_raises(corpus, tmp_path):
    with pytest.raises(ConfigError, match="vocab_size"):
        _train(corpus, tmp_path / "small_vocab", model_cfg=replace(MODEL, vocab_size=256))


def test_fp8_needs_transformer_engine_and_warns_when_narrow(corpus, tmp_path):
    from pipeline.train.model import check_precision

    fp8 = PrecisionConfig(dtype="fp8")
    with pytest.raises(ConfigError, match="fp8 needs TransformerEngine"):
        _train(corpus, tmp_path / "fp8", precision_cfg=fp8)  # on CPU
    with pytest.raises(ConfigError, match="transformer_engine is not installed"):
        check_precision(MODEL, fp8, torch.device("cuda"), te_available=False)
    with pytest.warns(UserWarning, match="0.94x"):
        check_precision(MODEL, fp8, torch.device("cuda"), te_available=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # wide enough: no warning
        check_precision(replace(MODEL, hidden_size=4096, num_attention_heads=32, num_query_groups=8), fp8,
                        torch.device("cuda"), te_available=True)


def test_fp8_keeps_edge_layers_in_bf16_where_the_recipe_allows():
    """The TransformerConfig megatron gets: HYBRID FP8, and BF16 first/last layers for tensorwise and
    blockwise (megatron's own ``is_first_last_bf16_layer`` decides per layer), none for delayed."""
    from megatron.core.fp8_utils import is_first_last_bf16_layer
    from megatron.core.transformer.transformer_config import TransformerConfig

    from pipeline.train.model import fp8_settings

    deep = replace(MODEL, num_layers=6)
    for recipe in ("tensorwise", "blockwise"):
        settings = fp8_settings(deep, PrecisionConfig(dtype="fp8", fp8_recipe=recipe, fp8_bf16_edge_layers=2))
        assert settings["fp8"] == "hybrid" and settings["fp8_recipe"] == recipe
        config = TransformerConfig(num_layers=6, hidden_size=64, num_attention_heads=4, bf16=True,
                                   params_dtype=torch.bfloat16, **settings)
        assert [is_first_last_bf16_layer(config, i) for i in range(6)] == [True, True, False, False, True, True]
    delayed = fp8_settings(deep, PrecisionConfig(dtype="fp8", fp8_recipe="delayed"))
    assert delayed == {"fp8": "hybrid", "fp8_recipe": "delayed"}
    TransformerConfig(num_layers=6, hidden_size=64, num_attention_heads=4, bf16=True, **delayed)  # accepted
    assert fp8_settings(deep, PrecisionConfig(dtype="bf16")) == {}
    assert "first_last_layers_bf16" not in fp8_settings(
        deep, PrecisionConfig(dtype="fp8", fp8_recipe="tensorwise", fp8_bf16_edge_layers=0))
    with pytest.raises(ConfigError, match="fp8_bf16_edge_layers.*all 2 layers"):
        fp8_settings(MODEL, PrecisionConfig(dtype="fp8", fp8_recipe="tensorwise", fp8_bf16_edge_layers=1))


def test_evaluate_loss(trained, corpus, tmp_path):
    from pipeline.train.loop import evaluate_loss

    losses = evaluate_loss(trained[0] / "checkpoints" / "iter_0000030", MODEL, FP32, corpus["valid"], corpus["tokenizer"],
                           max_samples=8, out_dir=tmp_path / "eval")
    assert set(losses) == {"a", "b"}
    assert all(math.isfinite(v) and 0 < v < 6.0 for v in losses.values()), losses
    # Same samples as the run's own final eval (eval_iters=1 x global batch 8).
    assert losses == pytest.approx(trained[1]["eval_loss"], rel=1e-5)


def test_train_twice_in_one_process(corpus, tmp_path):
    """Teardown works: two runs back to back in one process, the second resuming the first."""
    short = replace(TRAIN, train_iters=4, eval_interval=0, log_interval=1)
    first = _train(corpus, tmp_path / "twice", train_cfg=short, train_iters=2)
    assert first["start_iteration"] == 0
    with pytest.raises(ConfigError, match="train_iters"):  # a resume must keep the schedule
        _train(corpus, tmp_path / "twice", train_cfg=short)
    with pytest.raises(ConfigError, match="optimizer changed"):  # its state is laid out differently
        _train(corpus, tmp_path / "twice", train_cfg=replace(short, train_iters=2, distributed_optimizer=True),
               train_iters=2)
    assert sorted(p.name for p in (tmp_path / "twice" / "checkpoints").iterdir()) == ["iter_0000002"]  # untouched
    second = _train(corpus, tmp_path / "again", train_cfg=short)
    assert second["start_iteration"] == 0 and math.isfinite(second["final_train_loss"])
    import torch.distributed as dist

    from pipeline.train.cpu_compat import cpu_mode_enabled
    assert not dist.is_initialized() and not cpu_mode_enabled()
    assert torch.zeros(1).type() == "torch.FloatTensor"  # torch is unpatched again


@pytest.mark.parametrize("dtype,distributed_optimizer", [("fp32", False), ("bf16", False), ("fp32", True),
                                                         ("bf16", True)])
def test_resume_is_bitwise_identical(dtype, distributed_optimizer, corpus, tmp_path, monkeypatch):
    """Interrupted after step 4 (checkpoint every 3), resumed: same weights, Adam state and metrics as straight through.

    bf16 also checks megatron's Float16 optimizer on CPU: its fp32 master weights must come back;
    the DistributedOptimizer its sharded state and its Adam step (one tensor per parameter).
    """
    from megatron.core import dist_checkpointing

    import pipeline.train.loop as loop

    cfg = replace(TRAIN, train_iters=6, save_interval=3, eval_interval=3, log_interval=1,
                  distributed_optimizer=distributed_optimizer)
    precision = PrecisionConfig(dtype=dtype)
    straight = _train(corpus, tmp_path / "straight", train_cfg=cfg, precision_cfg=precision)

    real_step = loop._train_step

    def crash_at_4(*args, **kwargs):
        if args[4] == 4:  # iteration index (0-based) 4 = the 5th update
            raise KeyboardInterrupt("simulated crash")
        return real_step(*args, **kwargs)

    monkeypatch.setattr(loop, "_train_step", crash_at_4)
    with pytest.raises(KeyboardInterrupt):
        _train(corpus, tmp_path / "resumed", train_cfg=cfg, precision_cfg=precision)
    monkeypatch.setattr(loop, "_train_step", real_step)
    resumed = _train(corpus, tmp_path / "resumed", train_cfg=cfg, precision_cfg=precision)
    assert resumed["resumed"] and resumed["start_iteration"] == 3

    assert untimed(read_metrics(tmp_path / "resumed", "train")) == untimed(read_metrics(tmp_path / "straight", "train"))
    assert resumed["eval_loss"] == straight["eval_loss"]
    a = dist_checkpointing.load_common_state_dict(str(tmp_path / "straight" / "checkpoints" / "iter_0000006"))
    b = dist_checkpointing.load_common_state_dict(str(tmp_path / "resumed" / "checkpoints" / "iter_0000006"))
    assert a["iteration"] == b["iteration"] == 6 and a["adam_step"] == b["adam_step"] == 6
    assert a["scheduler"] == b["scheduler"]
    # Once finished, a rerun trains nothing and reports the finished run.
    again = _train(corpus, tmp_path / "resumed", train_cfg=cfg, precision_cfg=precision)
    assert again["start_iteration"] == 6 and again["tokens_this_run"] == 0
    assert again["final_train_loss"] == resumed["final_train_loss"]
    assert again["eval_loss"] == resumed["eval_loss"]
    straight_ckpt, resumed_ckpt = (tmp_path / d / "checkpoints" / "iter_0000006" for d in ("straight", "resumed"))
    for f in sorted(p.name for p in straight_ckpt.iterdir()):
        if f.endswith(".distcp"):
            assert (straight_ckpt / f).read_bytes() == (resumed_ckpt / f).read_bytes(), f


def test_sdpa_attention_matches_megatron_local_attention():
    """The SDPA core attention computes what megatron's DotProductAttention does (GQA, causal)."""
    from megatron.core.models.gpt import GPTModel
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec

    from pipeline.train.distributed import distributed_session
    from pipeline.train.model import build_model, transformer_config

    with distributed_session(torch.device("cpu"), seed=3):
        ours = build_model(MODEL, 512, FP32, "cpu")
        reference = GPTModel(config=transformer_config(MODEL, FP32, torch.device("cpu")),
                             transformer_layer_spec=get_gpt_layer_local_spec(normalization="RMSNorm"),
                             vocab_size=512, max_sequence_length=MODEL.seq_length,
                             share_embeddings_and_output_weights=True, position_embedding_type="rope")
        reference.load_state_dict(ours.state_dict())
        attention = [type(m.decoder.layers[0].self_attention.core_attention).__name__ for m in (ours, reference)]
        assert attention == ["SDPACoreAttention", "DotProductAttention"]
        b, s = 2, MODEL.seq_length
        tokens = torch.randint(0, 512, (b, s))
        positions = torch.arange(s).expand(b, s)
        mask = ~torch.tril(torch.ones(s, s, dtype=torch.bool)).expand(1, 1, s, s)  # as get_batch sends it
        with torch.no_grad():
            torch.testing.assert_close(ours(tokens, positions, mask), reference(tokens, positions, mask),
                                       rtol=1e-4, atol=1e-4)
