"""GPU checks (marker ``gpu``: CI does not select them; run ``benchmarks/gpu_check.sh`` on a lent GPU).

They train the tiny setup through the same loop as on CPU, with the TransformerEngine layer spec:
BF16, and FP8 with each recipe, checking that the loss falls and that FP8 keeps the edge layers in
BF16 where the recipe allows it.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from train_runner import MODEL, TRAIN, train_tiny, write_corpus  # noqa: E402

from pipeline.config import PrecisionConfig  # noqa: E402

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]

# FP8 GEMMs need dimensions divisible by 16: a wider tiny model, 4 layers so edge layers can stay BF16.
GPU_MODEL = replace(MODEL, num_layers=4, hidden_size=256, ffn_hidden_size=768, num_attention_heads=4,
                    num_query_groups=2, seq_length=128)
GPU_TRAIN = replace(TRAIN, train_iters=40, micro_batch_size=8, global_batch_size=16, eval_interval=20,
                    device="cuda")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    if not torch.cuda.is_available():
        pytest.fail("the gpu tests need a CUDA GPU (deselect them with -m 'not gpu')")
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def test_bf16_uses_transformer_engine_and_learns(corpus, tmp_path):
    from pipeline.train.model import have_transformer_engine

    assert have_transformer_engine(), "TransformerEngine is not importable"
    stats = train_tiny(corpus, tmp_path, model_cfg=GPU_MODEL, train_cfg=GPU_TRAIN,
                       precision_cfg=PrecisionConfig(dtype="bf16"))
    assert stats["device"] == "cuda" and stats["mfu"] is not None and stats["mfu"] > 0
    assert stats["final_train_loss"] < 5.0, stats  # from ~6.2 at random init


@pytest.mark.parametrize("recipe", ["delayed", "tensorwise", "blockwise"])
def test_fp8_recipes_train(recipe, corpus, tmp_path):
    from megatron.core.fp8_utils import is_first_last_bf16_layer

    from pipeline.train.distributed import distributed_session
    from pipeline.train.model import build_model

    precision = PrecisionConfig(dtype="fp8", fp8_recipe=recipe, fp8_bf16_edge_layers=1)
    with pytest.warns(UserWarning, match="FP8 at hidden_size 256"):
        stats = train_tiny(corpus, tmp_path, model_cfg=GPU_MODEL, train_cfg=GPU_TRAIN, precision_cfg=precision)
    assert stats["final_train_loss"] < 5.0, stats
    with distributed_session(torch.device("cuda"), seed=1), pytest.warns(UserWarning):
        config = build_model(GPU_MODEL, 512, precision, "cuda").config
    edge = [is_first_last_bf16_layer(config, i) for i in range(GPU_MODEL.num_layers)]
    assert edge == ([False] * 4 if recipe == "delayed" else [True, False, False, True])


@pytest.mark.parametrize("name", ["llama3", "mistral", "mixtral"])
def test_imported_hf_model_on_gpu_matches_cpu(name, tmp_path):
    """An HF import (converted on the CPU, local spec) loads into the GPU model (TE spec when
    installed) and, in bf16, predicts the same next tokens as fp32 on the CPU (cosine >= 0.99)."""
    pytest.importorskip("transformers", reason="the reference that writes the tiny HF model")
    from hf_models import make_hf_model

    from pipeline.evaluate.scorer import checkpoint_logits
    from pipeline.hf.convert import import_hf

    src = make_hf_model(name, tmp_path / "hf")
    import_hf(src, tmp_path / "cpt", progress=False)
    tokens = torch.randint(0, 3000, (2, 64), generator=torch.Generator().manual_seed(5))
    cpu = checkpoint_logits(tmp_path / "cpt", tokens)
    gpu = checkpoint_logits(tmp_path / "cpt", tokens, dtype="bf16", device="cuda")
    cosine = torch.nn.functional.cosine_similarity(cpu.flatten(1), gpu.flatten(1)).min().item()
    agree = (cpu.argmax(-1) == gpu.argmax(-1)).float().mean().item()
    print(f"{name}: cosine {cosine:.4f}, next-token agreement {agree:.3f}")
    assert cosine >= 0.99 and agree >= 0.95
