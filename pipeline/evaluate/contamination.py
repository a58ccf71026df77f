"""Contamination check by membership inference: Min-K% (Shi et al., 2023) and Min-K%++ (Zhang et al.,
2024) per eval item, before and after continued pretraining, with an AUROC of the task's items against
a control split.

Both scores are "higher = more likely seen". A text's first token has no prefix to condition on: by
default it is not scored (tokens ``1..n-1``, as in both papers' code); with ``prefix_id`` (e.g. the
end-of-document id the model was trained with) that id is put in front and all ``n`` tokens are scored.
"""

from __future__ import annotations

import math

import numpy as np
import torch

METRICS = ("min_k", "min_k_pp")
CAVEAT = ("Membership inference on same-distribution data (a control split drawn like the test split) is "
          "weak evidence: an AUROC near 0.5 does not prove the items were unseen, and the scores also move "
          "when training on the task's distribution. A high AUROC after training together with a rise from "
          "before suggests the items themselves (not just the task's distribution) were trained on.")


def item_text(item) -> str:
    """The text scored for a :class:`~pipeline.tasks.harness.TaskItem`: the query, a space, the gold answer."""
    return f"{item.query.rstrip()} {item.gold.lstrip()}"


def lowest_mean(values: torch.Tensor, k: float) -> float:
    """Mean of the lowest ``k`` fraction of ``values`` (``int(n * k)`` of them as in the papers, at least 1)."""
    if values.numel() == 0:
        return math.nan
    count = max(1, int(values.numel() * k))
    return float(torch.sort(values.double()).values[:count].mean())


def token_scores(logits: torch.Tensor, ids: list[int], k: float = 0.2) -> dict:
    """Min-K% and Min-K%++ of the tokens ``ids[t + 1]`` under the next-token ``logits[t]`` (``[len(ids) - 1
    or more, vocab]``). Min-K%++ standardises each token's log-prob by the mean and standard deviation of
    log p(z) under the model's own next-token distribution at that step.

    In float64 from the logits: a flat (e.g. barely trained) distribution has sigma ~ 0.05, where the
    ~5e-7 rounding of a float32 log-softmax would already move Min-K%++ by ~1e-5."""
    rows = torch.log_softmax(logits[:len(ids) - 1].double(), dim=-1)
    target = torch.tensor(ids[1:], dtype=torch.long)
    token_logp = rows.gather(-1, target[:, None])[:, 0]
    probs = rows.exp()
    mu = (probs * rows).sum(-1)
    # E[(log p - mu)^2]: E[(log p)^2] - mu^2 in a form that does not cancel (a flat row has mu^2 ~ 70 and
    # a variance ~ 1e-3); floored so a one-hot row does not divide by zero.
    var = (probs * (rows - mu[:, None]).square()).sum(-1).clamp_min(1e-12)
    return {"min_k": lowest_mean(token_logp, k), "min_k_pp": lowest_mean((token_logp - mu) / var.sqrt(), k),
            "n_tokens": int(target.numel())}


def batch_logits(scorer, seqs: list[list[int]]) -> torch.Tensor:
    """``[batch, longest, vocab]`` logits of ``seqs`` right-padded into one batch (causal: the padding
    does not change the rows of the real tokens)."""
    batch = torch.zeros(len(seqs), max(map(len, seqs)), dtype=torch.long)
    for i, seq in enumerate(seqs):
        batch[i, :len(seq)] = torch.tensor(seq)
    return scorer.logits(batch)


def min_k_scores(scorer, tokenizer, texts: list[str], k: float = 0.2, batch_size: int = 8,
                 prefix_id: int | None = None) -> list[dict]:
    """Per text (in order): ``{"min_k", "min_k_pp", "n_tokens"}`` (``n_tokens``: how many were scored;
    NaN scores when none). ``scorer``: a :class:`~pipeline.evaluate.scorer.CheckpointScorer`;
    ``tokenizer``: a ``tokenizers.Tokenizer``. Texts are cut to the model's ``seq_length`` tokens
    (the start kept) and scored in batches of similar length."""
    prefix = [] if prefix_id is None else [prefix_id]
    seqs = [(prefix + tokenizer.encode(t, add_special_tokens=False).ids)[:scorer.seq_length] for t in texts]
    order = sorted((i for i, s in enumerate(seqs) if len(s) > 1), key=lambda i: len(seqs[i]))
    out = [{"min_k": math.nan, "min_k_pp": math.nan, "n_tokens": 0} for _ in seqs]
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        logits = batch_logits(scorer, [seqs[i] for i in chunk])
        for row, i in enumerate(chunk):
            out[i] = token_scores(logits[row], seqs[i], k)
    return out


def auroc(members: list[float], controls: list[float]) -> float:
    """P(member score > control score) + P(equal) / 2: the Mann-Whitney U over ``n1 * n2``. NaN when
    either side is empty."""
    m, c = np.asarray(members, dtype=float), np.sort(np.asarray(controls, dtype=float))
    if m.size == 0 or c.size == 0:
        return math.nan
    below = np.searchsorted(c, m, side="left")
    equal = np.searchsorted(c, m, side="right") - below
    return float((below + 0.5 * equal).sum() / (m.size * c.size))


def _finite(values) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _mean(values) -> float:
    values = _finite(values)
    return sum(values) / len(values) if values else math.nan


def metric_summary(metric: str, items_before: list[dict], items_after: list[dict], control_before: list[dict],
                   control_after: list[dict]) -> dict:
    """One metric's means, paired per-item change (items and controls) and AUROCs before and after."""
    def values(scores):
        return [s[metric] for s in scores]

    return {
        "mean_before": _mean(values(items_before)), "mean_after": _mean(values(items_after)),
        "mean_change": _mean(a - b for a, b in zip(values(items_after), values(items_before), strict=True)),
        "control_mean_change": _mean(a - b for a, b in zip(values(control_after), values(control_before),
                                                           strict=True)),
        "auroc_before": auroc(_finite(values(items_before)), _finite(values(control_before))),
        "auroc_after": auroc(_finite(values(items_after)), _finite(values(control_after))),
    }


def contamination_summary(items_scores_before: list[dict], items_scores_after: list[dict],
                          control_before: list[dict], control_after: list[dict]) -> dict:
    """Per metric (``min_k``, ``min_k_pp``): the items' mean score before and after, their mean per-item
    change, the control items' mean change, and the AUROC of items (members) against the control split
    before and after; plus the item counts and a ``caveat``. Arguments are :func:`min_k_scores` outputs,
    before/after lists in the same item order. Items without a score (NaN) are left out."""
    summary = {m: metric_summary(m, items_scores_before, items_scores_after, control_before, control_after)
               for m in METRICS}
    return {**summary, "n_items": len(items_scores_after), "n_control": len(control_after), "caveat": CAVEAT}


def score_checkpoint(checkpoint, tokenizer_path, texts: list[str], **kwargs) -> list[dict]:
    """:func:`min_k_scores` of ``texts`` under the model in ``checkpoint`` (loaded for this call)."""
    from tokenizers import Tokenizer

    from pipeline.evaluate.scorer import CheckpointScorer

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    with CheckpointScorer(checkpoint) as scorer:
        return min_k_scores(scorer, tokenizer, texts, **kwargs)
