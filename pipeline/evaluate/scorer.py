"""A ``cpt`` checkpoint loaded once, scoring token sequences: the project's own logits path, which the
HF parity checks, the lm-eval wrapper and the contamination check all use."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import torch

from pipeline.config import ModelConfig, PrecisionConfig


class CheckpointScorer:
    """``with CheckpointScorer(ckpt) as s: s.logits(tokens)``; ``checkpoint`` may be a run directory
    (its newest checkpoint). Padded vocabulary columns are dropped from every output."""

    def __init__(self, checkpoint: str | Path, *, dtype: str = "fp32", device: str = "cpu"):
        from pipeline.train.checkpoint import read_meta, resolve_checkpoint

        self.path = resolve_checkpoint(checkpoint)
        self.meta = read_meta(self.path)
        self.model_cfg = ModelConfig(**self.meta["model"])
        self.real_vocab = int(self.meta.get("real_vocab_size") or self.meta["vocab_size"])
        self.seq_length = int(self.model_cfg.seq_length)
        self.dtype, self.device = dtype, torch.device(device)
        self._stack = ExitStack()
        self.model = None

    def __enter__(self) -> "CheckpointScorer":
        from pipeline.train.checkpoint import load_weights
        from pipeline.train.distributed import distributed_session
        from pipeline.train.model import build_model, wrap_for_precision

        self._stack.enter_context(distributed_session(self.device, 0))
        model = build_model(self.model_cfg, int(self.meta["vocab_size"]), PrecisionConfig(dtype=self.dtype),
                            self.device, initialize=False)
        load_weights(self.path, model)
        self.model = wrap_for_precision(model).eval()
        return self

    def __exit__(self, *exc) -> None:
        self.model = None
        self._stack.close()

    @torch.no_grad()
    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """``[batch, seq, real vocab]`` fp32 logits on the CPU for ``[batch, seq]`` token ids."""
        b, s = tokens.shape
        position_ids = torch.arange(s, device=self.device)[None].expand(b, -1)
        causal = torch.triu(torch.ones(1, 1, s, s, dtype=torch.bool, device=self.device), diagonal=1)
        out = self.model(tokens.to(self.device), position_ids, causal)
        return out[..., :self.real_vocab].float().cpu()

    def next_token_logprobs(self, inputs: list[list[int]]) -> list[torch.Tensor]:
        """Per input, ``[len, vocab]`` log-probabilities: row ``t`` is the distribution of the token after
        ``input[:t + 1]``. One right-padded batch (group inputs of similar length for speed)."""
        width = max(len(s) for s in inputs)
        batch = torch.zeros(len(inputs), width, dtype=torch.long)
        for i, seq in enumerate(inputs):
            batch[i, :len(seq)] = torch.tensor(seq)
        logp = torch.log_softmax(self.logits(batch), dim=-1)
        return [logp[i, :len(seq)] for i, seq in enumerate(inputs)]

def checkpoint_logits(checkpoint: str | Path, tokens: torch.Tensor, *, dtype: str = "fp32",
                      device: str = "cpu") -> torch.Tensor:
    """``[batch, seq, real vocab]`` fp32 logits of the model in ``checkpoint`` for ``tokens``."""
    with CheckpointScorer(checkpoint, dtype=dtype, device=device) as scorer:
        return scorer.logits(tokens)
