"""Next-token logits of a ``cpt`` checkpoint for given token ids (the HF parity checks use them)."""

from __future__ import annotations

from pathlib import Path

import torch

from pipeline.config import ModelConfig, PrecisionConfig


def checkpoint_logits(checkpoint: str | Path, tokens: torch.Tensor, *, dtype: str = "fp32",
                      device: str = "cpu") -> torch.Tensor:
    """``[batch, seq, real vocab]`` fp32 logits (on the CPU) of the model in ``checkpoint`` (its newest,
    for a run directory), computed on ``device`` in ``dtype``; padded vocabulary columns are dropped."""
    from pipeline.train.checkpoint import load_weights, read_meta, resolve_checkpoint
    from pipeline.train.distributed import distributed_session
    from pipeline.train.model import build_model, wrap_for_precision

    ckpt = resolve_checkpoint(checkpoint)
    meta = read_meta(ckpt)
    model_cfg = ModelConfig(**meta["model"])
    real = int(meta.get("real_vocab_size") or meta["vocab_size"])
    b, s = tokens.shape
    dev = torch.device(device)
    with distributed_session(dev, 0):
        model = build_model(model_cfg, int(meta["vocab_size"]), PrecisionConfig(dtype=dtype), dev,
                            initialize=False)
        load_weights(ckpt, model)
        model = wrap_for_precision(model).eval()
        position_ids = torch.arange(s, device=dev)[None].expand(b, -1)
        causal = torch.triu(torch.ones(1, 1, s, s, dtype=torch.bool, device=dev), diagonal=1)
        with torch.no_grad():
            logits = model(tokens.to(dev), position_ids, causal)
    return logits[..., :real].float().cpu()
