"""The lm-evaluation-harness model for ``cpt`` checkpoints: lm-eval's own request handling
(:class:`TemplateLM` splits context and continuation as its HF model does) over the project's logits."""

from __future__ import annotations

import torch
from lm_eval.api.model import TemplateLM
from tqdm import tqdm

from pipeline.errors import InputError
from pipeline.evaluate.scorer import CheckpointScorer


class CheckpointLM(TemplateLM):
    """Log-likelihoods from a loaded :class:`CheckpointScorer`; contexts are cut on the left to the
    model's sequence length, as lm-eval's HF model does."""

    def __init__(self, scorer: CheckpointScorer, tokenizer_path: str, eos_token: str, batch_size: int = 8,
                 progress: bool = True):
        super().__init__()
        from tokenizers import Tokenizer

        self.scorer, self.batch_size, self.progress = scorer, batch_size, progress
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        eot = self.tokenizer.token_to_id(eos_token)
        if eot is None:
            raise InputError(f"tokenizer.eos_token {eos_token!r} is not in {tokenizer_path}")
        self._eot = eot

    @property
    def eot_token_id(self) -> int:
        return self._eot

    @property
    def max_length(self) -> int:
        return self.scorer.seq_length

    def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs) -> list[int]:
        return self.tokenizer.encode(string, add_special_tokens=False).ids

    def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, **kwargs) -> list[tuple[float, bool]]:
        rows = []
        for _, context, continuation in requests:
            whole = (context + continuation)[-(self.max_length + 1):]
            n = min(len(continuation), len(whole) - 1)  # a continuation longer than the window is cut too
            rows.append((whole[:-1], whole[-n:]))
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i][0]))
        results: list[tuple[float, bool] | None] = [None] * len(rows)
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        for batch in tqdm(batches, desc="log-likelihoods", unit="batch", disable=disable_tqdm or not self.progress,
                          mininterval=5):
            logps = self.scorer.next_token_logprobs([rows[i][0] for i in batch])
            for i, logp in zip(batch, logps):
                cont = torch.tensor(rows[i][1])
                scored = logp[-len(cont):]
                results[i] = (float(scored.gather(1, cont[:, None]).sum()), bool((scored.argmax(-1) == cont).all()))
        return results

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

        out = []
        for (text,) in (r.args for r in requests):
            windows = map(make_disjoint_window, get_rolling_token_windows(
                token_list=self.tok_encode(text), prefix_token=self.prefix_token_id, max_seq_len=self.max_length,
                context_len=1))
            scored = self._loglikelihood_tokens([(None, ctx, cont) for ctx, cont in windows], disable_tqdm=True)
            out.append(sum(lp for lp, _ in scored))
        return out

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        raise InputError("evaluate.tasks: generation tasks are not supported (multiple_choice and "
                         "loglikelihood tasks only)")
