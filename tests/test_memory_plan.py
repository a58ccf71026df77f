"""The memory estimate per GPU (pipeline/train/memory.py), the fit check before launch, and
activation recomputation on real megatron-core (CPU)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml

from pipeline.config import ModelConfig, PrecisionConfig, TrainConfig
from pipeline.errors import ConfigError
from pipeline.train.memory import GiB, check_fits, estimate, parameter_count

sys.path.insert(0, str(Path(__file__).parent))
from train_runner import MEGATRON_NOISE, MODEL, TRAIN, read_metrics, train_tiny, untimed  # noqa: E402

pytestmark = [pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE]
ROOT = Path(__file__).resolve().parent.parent
BF16 = PrecisionConfig(dtype="bf16")


def preset(name: str) -> ModelConfig:
    data = yaml.safe_load((ROOT / "conf" / "model" / f"{name}.yaml").read_text())
    return ModelConfig(**data.get("model", data))  # GPU presets are global: model, train and precision


@pytest.mark.parametrize("extra", [{}, {"num_experts": 4, "moe_router_topk": 2}, {"add_qkv_bias": True,
                                   "untie_embeddings_and_output_weights": True, "kv_channels": 24}])
def test_parameter_count_equals_megatrons_model(extra):
    from pipeline.train.distributed import distributed_session
    from pipeline.train.model import build_model

    cfg = replace(MODEL, **extra)
    with distributed_session(torch.device("cpu"), 0):
        model = build_model(cfg, 384, PrecisionConfig(), "cpu")
        assert parameter_count(cfg, 384) == sum(p.numel() for p in model.parameters())


def test_llama3_8b_on_8_gpus_by_arithmetic():
    m = preset("llama3-8b")
    n = parameter_count(m, 128256)
    assert 8.02e9 < n < 8.04e9
    plain = TrainConfig(micro_batch_size=1, global_batch_size=64, nproc_per_node=8)
    sharded = replace(plain, distributed_optimizer=True)
    e, s = estimate(m, 128256, plain, BF16), estimate(m, 128256, sharded, BF16)
    static = lambda x: x.weights + x.gradients + x.master_weights + x.adam_moments  # noqa: E731
    assert static(e) == pytest.approx(18 * n)  # bf16 2 + fp32 grads 4 + master 4 + Adam 8
    assert static(s) == pytest.approx((6 + 12 / 8) * n)  # megatron's distributed-optimizer figure
    full = estimate(m, 128256, replace(sharded, recompute="full"), BF16)
    assert full.activations < s.activations / 8
    assert estimate(m, 128256, replace(sharded, recompute="selective"), BF16).total == s.total
    with pytest.raises(ConfigError) as info:
        check_fits(m, 128256, plain, BF16, 80 * GiB, "8 x 80 GiB")
    msg = str(info.value)
    assert "\n" not in msg and "does not fit" in msg
    assert "train.distributed_optimizer=true train.recompute=full" in msg
    assert check_fits(m, 128256, replace(sharded, recompute="full"), BF16, 80 * GiB, "x").total < 80 * GiB


def test_a_plan_that_cannot_fit_stops_before_launch(tmp_path, corpus_root):
    from train_runner import write_corpus

    corpus = write_corpus(corpus_root)
    with pytest.raises(ConfigError, match="does not fit train.gpu_memory_gb=0.001"):
        train_tiny(corpus, tmp_path / "run", train_cfg=replace(TRAIN, gpu_memory_gb=0.001))
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_doctor_prints_the_estimate_and_the_fit(cpt):
    args = ["doctor", "model=llama3-8b", "train.micro_batch_size=1", "train.global_batch_size=64",
            "train.nproc_per_node=8", "train.gpu_memory_gb=80", "precision=bf16"]
    r = cpt(*args, "train.distributed_optimizer=false", "train.recompute=none")  # the preset's levers off
    assert "Adam moments" in r.stdout and "8.03B parameters" in r.stdout
    assert "memory fit" in r.stdout and "does not fit" in r.stdout
    r = cpt(*args)  # the preset as shipped
    assert "of 80 GiB (train.gpu_memory_gb=80)" in r.stdout


@pytest.mark.parametrize("recompute", ["selective", "full"])
def test_recompute_trains_the_same(recompute, tmp_path, corpus_root):
    """Recomputed activations give the losses of a run that stores them (fp32, CPU)."""
    from train_runner import write_corpus

    corpus = write_corpus(corpus_root)
    short = replace(TRAIN, train_iters=6, eval_interval=6, log_interval=2)
    train_tiny(corpus, tmp_path / "plain", train_cfg=short)
    train_tiny(corpus, tmp_path / "rc", train_cfg=replace(short, recompute=recompute))
    a, b = untimed(read_metrics(tmp_path / "plain")), untimed(read_metrics(tmp_path / "rc"))
    for x, y in zip(a, b):
        if "loss" in x:
            assert x["loss"] == pytest.approx(y["loss"], rel=1e-6, abs=1e-6)
