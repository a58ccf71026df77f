"""Tiny randomly initialised transformers models, one per supported architecture, saved locally
(the reference for the HF converter tests; nothing is downloaded)."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from pipeline.assets import PROJECT_ROOT

TOKENIZER = PROJECT_ROOT / "pipeline" / "assets" / "tokenizer" / "cpt-sample-bpe.json"
COMMON = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=8,
              num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-6)

# name -> (transformers config class name, extra config). Every one has 1 < kv heads < heads.
VARIANTS = {
    # Llama 3.1 form: rope scaling with non-default factors, untied, non-default theta
    "llama3": ("LlamaConfig", dict(rope_theta=500000.0, tie_word_embeddings=False,
                                   rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 2.0,
                                                 "high_freq_factor": 8.0, "original_max_position_embeddings": 64})),
    # TinyLlama / Llama 2 form with tied embeddings
    "llama_tied": ("LlamaConfig", dict(rope_theta=10000.0, tie_word_embeddings=True)),
    "qwen2": ("Qwen2Config", dict(rope_theta=1000000.0, tie_word_embeddings=True)),
    "mistral": ("MistralConfig", dict(rope_theta=10000.0, sliding_window=8, tie_word_embeddings=False)),
    "mixtral": ("MixtralConfig", dict(rope_theta=1000000.0, num_local_experts=4, num_experts_per_tok=2,
                                      tie_word_embeddings=False, sliding_window=None)),
}


def tokenizer_vocab() -> int:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(TOKENIZER)).get_vocab_size(with_added_tokens=True)


def make_hf_model(name: str, dest: Path, *, dtype=torch.float32, vocab_size: int | None = None, seed: int = 0,
                  with_tokenizer: bool = True, max_shard_size: str | None = None) -> Path:
    """Save a tiny random ``name`` model (see VARIANTS) with the embedded tokenizer to ``dest``."""
    import transformers

    cls_name, extra = VARIANTS[name]
    config = getattr(transformers, cls_name)(vocab_size=vocab_size or tokenizer_vocab(), **COMMON, **extra)
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(config).to(dtype)
    with torch.no_grad():  # random norms, so a swapped norm weight cannot pass
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            if n.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
    kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
    model.save_pretrained(dest, **kwargs)
    if with_tokenizer:
        shutil.copy2(TOKENIZER, dest / "tokenizer.json")
    return dest


def hf_logits(model_dir: Path, tokens: torch.Tensor) -> torch.Tensor:
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        return model(input_ids=tokens).logits.float()
