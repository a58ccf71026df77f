"""The GPU model presets compose through Hydra's schema and describe the published architectures
(checked through their parameter counts)."""

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
