"""The fast MinHash signature path equals datatrove's, and the near-duplicate generator hits its
targets; a small S-curve check on the real pipeline (banding, hashing and shingling together)."""

import random
import sys
from pathlib import Path

import pytest
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.utils.hashing import HashConfig

from pipeline.dedup.fast_signature import FastMinhashDedupSignature

sys.path.insert(0, str(Path(__file__).parent))
from dedup_runner import articles  # noqa: E402
from neardup import datatrove_jaccard, make_pair, run_minhash, theoretical_flag_probability  # noqa: E402

TRICKY = [
    "Don't stop: it's 9:45 on Monday, 3 March 2024 — café, naïve, Ångström, résumé!",
    "cannot gonna dont im youre wont lets e.g. i.e. U.S.A. Mr. St. vs. etc.",
    "Prices: $1,299.99 (US) / €1.099,00 — 50% off!!! #deal @shop <b>bold</b> a+b=c x*y",
    "emails a.b@example.com and https://example.com/path?q=1 plus www.example.org",
    "   leading and trailing\t\ttabs\n\n\nnewlines   ",
    "ÉCOLE Straße İstanbul ﬁne ligatures and fullwidth ＡＢＣ１２３ and Ω≈ç√∫",
    "IS_ALPHA is a string spaCy trips over; IS_ALPHA again.",
    "short",
    "",
    "日本語のテキストと English words mixed 中文 한국어",
    "one two three four five six seven eight nine ten " * 20,
]


@pytest.fixture(scope="module")
def corpus():
    from realistic_text import realistic_docs

    # closed-vocabulary articles, hand-made corner cases, open-vocabulary web-like text (accents, CJK, ...)
    return articles(60, seed=3) + TRICKY + [d["text"] for d in realistic_docs(80, seed=9)]


@pytest.mark.parametrize("flags", [{}, {"norm_weekdays": True, "norm_monthnames": True},
                                   {"norm_whitespace": False}, {"remove_punctuation": False, "lowercase": False},
                                   {"norm_unicode_diacritics": False, "norm_numbers": False}])
def test_simplify_matches_datatrove(corpus, flags):
    from datatrove.utils.text import TextNormConfig, simplify_text

    from pipeline.dedup.fast_signature import simplify

    cfg = TextNormConfig(**flags)
    extra = ["Cafe\u0301 cre\u0300me bru\u0302le\u0301e — Ångström, naïve; Ωmega\u0308 ﬁ", " \u0301a\u0301 ",
             "Monday 3 March 2024, 1.299,50 €!", "\t\u00a0x\u2028y\u3000z "]
    for text in corpus + extra:
        assert simplify(text, cfg) == simplify_text(text, cfg), text[:80]


@pytest.mark.parametrize("precision,hash_fc,n_grams", [(64, "sha1", 5), (32, "sha1", 5), (64, "xxhash", 3)])
def test_fast_signatures_identical(corpus, tmp_path, precision, hash_fc, n_grams):
    cfg = MinhashConfig(n_grams=n_grams, hash_config=HashConfig(precision=precision, hash_fc=hash_fc))
    stock = MinhashDedupSignature(str(tmp_path / "s"), config=cfg)
    fast = FastMinhashDedupSignature(str(tmp_path / "f"), config=cfg)
    for text in corpus:
        s, f = stock.get_shingles(text), fast.get_shingles(text)
        assert s.dtype == f.dtype and s.shape == f.shape and (s == f).all(), text[:60]
        if s.size:
            assert stock.get_signature(s) == fast.get_signature(f)


def test_generated_pairs_hit_their_target_similarity():
    rng = random.Random(5)
    jac = datatrove_jaccard()
    for target in (0.3, 0.5, 0.75, 0.9, 1.0):
        errs = []
        for k in range(5):
            p = make_pair(rng, k, target)
            errs.append(abs(jac(p.a, p.b) - target))
        assert max(errs) < 0.06, (target, errs)
    p = make_pair(rng, 0, 1.0)
    assert p.a == p.b and jac(p.a, p.b) == 1.0


def test_theory_curve():
    assert theoretical_flag_probability(1.0) == 1.0
    assert theoretical_flag_probability(0.0) == 0.0
    assert abs(theoretical_flag_probability(0.8) - 0.924) < 1e-3  # datatrove's own docstring figure


def test_small_s_curve_on_the_real_pipeline(tmp_path):
    """200 pairs at J ~ 0.95 and 200 at J ~ 0.35 through the four datatrove stages: the first are
    (almost) all flagged and the second (almost) none, as 1-(1-J^8)^14 predicts."""
    rng = random.Random(11)
    jac = datatrove_jaccard()
    pairs = [make_pair(rng, k, 0.95 if k < 200 else 0.35) for k in range(400)]
    flagged = run_minhash(pairs, tmp_path, tasks=2, impl="fast")
    for lo, hi in ((0, 200), (200, 400)):
        rate = sum(flagged[k] for k in range(lo, hi)) / 200
        theory = sum(theoretical_flag_probability(jac(p.a, p.b)) for p in pairs[lo:hi]) / 200
        assert abs(rate - theory) < 0.04, (lo, rate, theory)
