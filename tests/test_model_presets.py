"""The GPU model presets compose through Hydra's schema and describe the published architectures
(checked through their parameter counts)."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from pipeline.compose import conf_dir
from pipeline.config import ModelConfig


def parameters(m: ModelConfig) -> int:
    h, hd = m.hidden_size, m.hidden_size // m.num_attention_heads
    kv = m.num_query_groups * hd
    attn = h * h + 2 * h * kv + h * h + (h + 2 * kv if m.add_qkv_bias else 0)
    layer = attn + 3 * h * m.ffn_hidden_size + 2 * h
    emb = m.vocab_size * h * (2 if m.untie_embeddings_and_output_weights else 1)
    return emb + m.num_layers * layer + h


@pytest.mark.parametrize("preset,billions", [("tinyllama-1.1b", 1.10), ("llama3-8b", 8.03), ("mistral-7b", 7.24),
                                             ("qwen2.5-1.5b", 1.54), ("tiny", 0.00088)])
def test_preset(preset, billions):
    from pipeline.config import register_configs

    register_configs()
    with initialize_config_dir(config_dir=conf_dir(), version_base=None):
        cfg = compose(config_name="config", overrides=[f"model={preset}"])
    m = OmegaConf.to_object(cfg).model
    assert isinstance(m, ModelConfig) and m.name == preset
    if m.vocab_size is None:
        m.vocab_size = 4096
    assert parameters(m) / 1e9 == pytest.approx(billions, rel=0.02)


GPU_PRESETS = {"llama3-8b": 8, "mistral-7b": 8, "qwen2.5-1.5b": 1, "tinyllama-1.1b": 1}  # the GPUs each names


@pytest.mark.parametrize("preset,gpus", GPU_PRESETS.items())
def test_doctor_plans_every_gpu_preset_to_fit_80gb(cpt, preset, gpus):
    """Out of the box, on the GPU count its comment names, each preset validates and its plan fits 80 GB."""
    import re

    from pipeline.compose import conf_dir

    comment = (Path(conf_dir()) / "model" / f"{preset}.yaml").read_text()
    named = f"cpt doctor model={preset}" + (f" train.nproc_per_node={gpus}" if gpus > 1 else "")
    assert named in comment
    r = cpt("doctor", f"model={preset}", f"train.nproc_per_node={gpus}", "train.gpu_memory_gb=80")
    fit = re.search(r"\[ok  \] memory fit: ([\d.]+) of 80 GiB", r.stdout)
    assert fit and float(fit.group(1)) <= 80, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"bf16, {gpus} rank(s)" in r.stdout


def test_a_batch_that_does_not_divide_is_explained_with_the_nearest_values():
    from pipeline.config import TrainConfig
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match=r"64 is not a multiple of train.micro_batch_size \(3\) x "
                                          r"train.nproc_per_node \(8\) = 24; use train.global_batch_size=48 or 72, "
                                          r"or train.micro_batch_size=2"):
        TrainConfig(micro_batch_size=3, global_batch_size=64, nproc_per_node=8)
    with pytest.raises(ConfigError, match=r"use train.global_batch_size=8$"):
        TrainConfig(micro_batch_size=1, global_batch_size=4, nproc_per_node=8)
