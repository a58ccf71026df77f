"""The contamination check (Min-K%, Min-K%++, AUROC) on CPU, offline: the scores against a direct
computation, the AUROC on known inputs, and contamination planted by the project's own training."""

from __future__ import annotations

import math
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from pipeline.evaluate.contamination import (
    auroc, contamination_summary, item_text, min_k_scores, score_checkpoint)
from pipeline.tasks.harness import TaskItem

sys.path.insert(0, str(Path(__file__).parent))
from hf_models import TOKENIZER, make_hf_model  # noqa: E402
from offline import network_blocked  # noqa: E402
from train_runner import MEGATRON_NOISE, SCHEDULE, TRAIN, write_indexed, train_tiny  # noqa: E402

pytestmark = [pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE]

SEQ = 64
EOS = 0  # <|endoftext|> in the embedded tokenizer: the document separator of the training data


@pytest.fixture(scope="module", autouse=True)
def offline():
    with network_blocked():
        yield


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(TOKENIZER))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, dict]:
    """A tiny random Llama (tied embeddings) imported as a cpt checkpoint at seq_length 64."""
    from pipeline.hf.convert import import_hf

    root = tmp_path_factory.mktemp("contamination")
    src = make_hf_model("llama_tied", root / "hf")
    return root / "base.cpt", import_hf(src, root / "base.cpt", seq_length=SEQ, progress=False)


def _words(tokenizer, n: int = 150) -> list[str]:
    """``n`` lowercase words that are one token each (with their leading space) in the tokenizer."""
    vocab = tokenizer.get_vocab()
    return sorted(t[1:] for t in vocab if t.startswith("Ġ") and t[1:].isalpha() and t[1:].islower()
                  and len(t) > 3)[:n]


def _items(n: int, words: list[str], rng: random.Random, task: str) -> list[TaskItem]:
    """Random sentences of 8-10 words: the query is all but the last word, the gold answer the last."""
    items = []
    for i in range(n):
        sentence = [rng.choice(words) for _ in range(rng.randint(8, 10))]
        other = rng.choice([w for w in words if w != sentence[-1]])
        items.append(TaskItem(task, i, " ".join(sentence[:-1]), sentence[-1], (sentence[-1], other), 0))
    return items


# ----------------------------------------------------------------------------- the numbers by hand
def _direct(scorer, ids: list[int], k: float) -> tuple[float, float]:
    """Min-K% and Min-K%++ straight from the logits, one text at a time, the papers' way."""
    logits = scorer.logits(torch.tensor([ids]))[0, :-1].double()
    logp = torch.log_softmax(logits, -1)
    probs = torch.softmax(logits, -1)
    token = logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]
    mu = (probs * logp).sum(-1)
    sigma = ((probs * logp ** 2).sum(-1) - mu ** 2).sqrt()
    count = max(1, int((len(ids) - 1) * k))
    lowest = lambda x: float(x.sort().values[:count].mean())  # noqa: E731
    return lowest(token), lowest((token - mu) / sigma)


def test_scores_match_a_direct_computation(base, tokenizer):
    from pipeline.evaluate.scorer import CheckpointScorer

    texts = ["the cat sat on the mat", "a", "water over fire " * 30, "Stone city, 42 moons!", "old man"]
    with CheckpointScorer(base[0]) as scorer:
        assert scorer.seq_length == SEQ
        scores = min_k_scores(scorer, tokenizer, texts, k=0.2, batch_size=2)
        prefixed = min_k_scores(scorer, tokenizer, texts, k=0.5, batch_size=8, prefix_id=EOS)
        for text, got, pre in zip(texts, scores, prefixed):
            ids = tokenizer.encode(text, add_special_tokens=False).ids[:SEQ]
            if len(ids) < 2:  # nothing to score without a prefix
                assert got["n_tokens"] == 0 and math.isnan(got["min_k"]) and math.isnan(got["min_k_pp"])
            else:
                assert got["n_tokens"] == len(ids) - 1
                assert (got["min_k"], got["min_k_pp"]) == pytest.approx(_direct(scorer, ids, 0.2), abs=1e-5)
            with_eos = ([EOS] + tokenizer.encode(text, add_special_tokens=False).ids)[:SEQ]
            assert pre["n_tokens"] == len(with_eos) - 1
            assert (pre["min_k"], pre["min_k_pp"]) == pytest.approx(_direct(scorer, with_eos, 0.5), abs=1e-5)
    assert scores[2]["n_tokens"] == SEQ - 1  # cut to the model's sequence length


def test_item_text():
    item = TaskItem("t", 0, "What is 2 + 2? ", "four", ("three", "four"), 1)
    assert item_text(item) == "What is 2 + 2? four"


# ----------------------------------------------------------------------------- AUROC
def test_auroc_known_inputs():
    assert auroc([3, 4, 5], [0, 1, 2]) == 1.0
    assert auroc([0, 1, 2], [3, 4, 5]) == 0.0
    assert auroc([1, 1, 1], [1, 1]) == 0.5
    assert auroc([1, 2], [1, 2]) == 0.5
    # pairs (m, c): (2,1) win, (2,2) tie, (2,3) loss, (4,*) 3 wins -> (1 + 0.5 + 3) / 6
    assert auroc([2, 4], [1, 2, 3]) == pytest.approx(4.5 / 6)
    assert math.isnan(auroc([], [1.0]))
    rng = random.Random(1)
    m, c = [rng.randint(0, 5) for _ in range(30)], [rng.randint(0, 5) for _ in range(25)]
    pairs = sum((x > y) + 0.5 * (x == y) for x in m for y in c) / (30 * 25)
    assert auroc(m, c) == pytest.approx(pairs)


def test_summary_shape_and_nan_items():
    before = [{"min_k": -5.0, "min_k_pp": -1.0}, {"min_k": math.nan, "min_k_pp": math.nan}]
    after = [{"min_k": -3.0, "min_k_pp": 0.0}, {"min_k": math.nan, "min_k_pp": math.nan}]
    control = [{"min_k": -4.0, "min_k_pp": -0.5}]
    s = contamination_summary(before, after, control, control)
    assert s["min_k"] == {"mean_before": -5.0, "mean_after": -3.0, "mean_change": 2.0, "control_mean_change": 0.0,
                          "auroc_before": 0.0, "auroc_after": 1.0}
    assert s["min_k_pp"]["mean_change"] == 1.0 and (s["n_items"], s["n_control"]) == (2, 1)
    assert "weak evidence" in s["caveat"]


# ----------------------------------------------------------------------------- planted contamination
def test_planted_contamination_raises_the_auroc(base, tokenizer, tmp_path):
    """Continued pretraining (the project's training loop, weights-only start from the imported model)
    on 40 "member" items (~450 tokens) for 60 steps of 8 x 64 tokens (~70 epochs); 40 control items are
    drawn from the same distribution."""
    from pipeline.config import ModelConfig

    rng, words = random.Random(0), _words(tokenizer)
    members, controls = _items(40, words, rng, "planted"), _items(40, words, rng, "control")
    member_texts, control_texts = [item_text(i) for i in members], [item_text(i) for i in controls]

    def docs(texts):
        return [tokenizer.encode(t, add_special_tokens=False).ids + [EOS] for t in texts]

    corpus = {"tokenizer": str(TOKENIZER), "blend": [(1.0, write_indexed(tmp_path / "members", docs(member_texts)))],
              "valid": {"control": write_indexed(tmp_path / "control", docs(control_texts))}}
    ckpt, meta = base

    def scores(checkpoint):  # members, controls: one load of the model for both
        out = score_checkpoint(checkpoint, TOKENIZER, member_texts + control_texts)
        return out[:len(members)], out[len(members):]

    (members_before, controls_before), run = scores(ckpt), tmp_path / "run"
    train_tiny(corpus, run, model_cfg=ModelConfig(**meta["model"]), init_from=ckpt,
               train_cfg=replace(TRAIN, train_iters=60, eval_interval=0), schedule_cfg=replace(SCHEDULE, peak_lr=1e-2))
    members_after, controls_after = scores(run)
    summary = contamination_summary(members_before, members_after, controls_before, controls_after)
    print({m: {k: round(v, 3) for k, v in summary[m].items()} for m in ("min_k", "min_k_pp")})
    for metric in ("min_k", "min_k_pp"):
        s = summary[metric]
        assert abs(s["auroc_before"] - 0.5) <= 0.2, (metric, s)
        assert s["auroc_after"] > 0.9, (metric, s)
        assert s["mean_change"] > s["control_mean_change"], (metric, s)
