"""Non-English recipes: the language reaches every filter, with FineWeb-2's settings for it.

Real datatrove steps built by ``filter_steps`` (lid.176 language ID included) over the project's generated
multilingual test set (``tests/multilingual.py``: good articles and junk pages in English, German,
French, Spanish, Chinese and Japanese); configs composed by the real Hydra config tree.
"""

from __future__ import annotations

from collections import Counter

import pytest
from datatrove.data import Document
from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from datatrove.utils.word_tokenizers import load_word_tokenizer

from pipeline.compose import compose_one, hydra_context
from pipeline import languages
from pipeline.curate.fast_filters import FAST_FILTERS
from pipeline.curate.filter_steps import filter_steps
from pipeline.errors import ConfigError, CptError
from multilingual import JUNK_KINDS, build_set

STOCK = (GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter)
KEY = "recipe.filters.language.languages"


def recipe_for(lang: str, *extra: str):
    """The composed, validated recipe: ``fineweb`` for English, ``fineweb2`` for any other language."""
    overrides = [] if lang == "en" else ["recipe=fineweb2", f"{KEY}=[{lang}]"]
    with hydra_context():
        return compose_one([*overrides, *extra]).recipe


def run_steps(steps, docs):
    """datatrove's own ``run`` generators, step after step: {id: reason} ("kept" or '<step>:<reason>'), texts."""
    dropped: dict[str, str] = {}

    class Capture:
        def __init__(self, key):
            self.key = key

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, doc, rank=0):
            dropped[doc.id] = f"{self.key}:{doc.metadata.get('filter_reason')}"

    for key, step in steps:
        step.exclusion_writer = Capture(key)
    gen = (Document(text=d.text, id=d.id) for d in docs)
    for _, step in steps:
        gen = step.run(gen)
    kept = {doc.id: doc.text for doc in gen}
    return {d.id: ("kept" if d.id in kept else dropped[d.id]) for d in docs}, kept


@pytest.fixture(scope="module")
def test_set():
    return build_set(per_language=40, junk_per_kind=5)


def rates(decisions, docs) -> dict[str, float]:
    out = {}
    for kind in ("article", *JUNK_KINDS):
        ids = [d.id for d in docs if d.kind == kind]
        out[kind] = sum(decisions[i] == "kept" for i in ids) / len(ids)
    return out


# ----------------------------------------------------------------------------- the table and the tokenizers
@pytest.mark.parametrize("lang", sorted(languages.FINEWEB2))
def test_every_language_has_an_offline_word_tokenizer(lang):
    """The filters get FineWeb-2's code, which selects the datatrove tokenizer of the language lid.176 labelled,
    and it splits text here, offline (zh: jieba, ja: sudachipy + sudachidict_core, from pyproject.toml)."""
    s = languages.FINEWEB2[lang]
    assert s.lid == lang and languages.word_tokenizer(lang) == s.fineweb2
    by_fw2 = load_word_tokenizer(s.fineweb2)
    assert by_fw2.language == lang
    if lang == "zh":  # datatrove 0.10.1: a bare "zh" selects spaCy's multilingual tokenizer, which cannot segment
        assert load_word_tokenizer("zh").language == "xx"
    else:
        assert load_word_tokenizer(lang).language == lang
    assert languages.missing_packages(lang) == []
    words = by_fw2.word_tokenize(" ".join(s.stop_words[:4]))
    assert len(words) >= 2 and all(w.strip() for w in words)
    assert len(s.top_n_grams) == 3 and len(s.dup_n_grams) == 6 and len(set(s.stop_words)) >= 2


def test_recipe_keys_resolve_to_the_table():
    de = languages.FINEWEB2["de"]
    assert languages.recipe_value("gopher_quality.stop_words", ["de"]) == list(de.stop_words)
    assert languages.recipe_value("gopher_repetition.top_3_gram", ["de"]) == de.top_n_grams[1]
    assert languages.recipe_value("gopher_repetition.dup_10_gram", ["de"]) == de.dup_n_grams[5]
    assert languages.recipe_value("languages") == sorted(languages.FINEWEB2)


# ----------------------------------------------------------------------------- every filter gets the language
@pytest.mark.parametrize("fast", [False, True], ids=["stock", "fast"])
@pytest.mark.parametrize("lang", ["de", "fr", "es", "zh", "ja", "en"])
def test_every_filter_receives_the_language(lang, fast):
    recipe = recipe_for(lang, "recipe.filters.c4.enabled=true")  # C4 too (fineweb2 turns it off)
    steps = dict(filter_steps(recipe.filters, fast=fast))
    assert list(steps) == ["language", "gopher_repetition", "gopher_quality", "c4", "fineweb"]
    assert steps["language"].languages == [lang]
    code = "eng" if lang == "en" else languages.FINEWEB2[lang].fineweb2
    for key in ("gopher_repetition", "gopher_quality", "c4", "fineweb"):
        step = steps[key]
        assert step.language == code, key
        assert isinstance(step, STOCK) and (type(step) in FAST_FILTERS.values()) == fast
    quality, repetition, fineweb = steps["gopher_quality"], steps["gopher_repetition"], steps["fineweb"]
    if lang == "en":  # FineWeb v1, unchanged
        assert quality.stop_words == {"the", "be", "to", "of", "and", "that", "have", "with"}
        assert steps["language"].language_threshold == 0.65 and fineweb.char_duplicates_ratio == 0.01
        return
    s = languages.FINEWEB2[lang]
    assert steps["language"].language_threshold == s.language_score
    assert quality.stop_words == set(s.stop_words) and quality.min_stop_words == 2
    assert (quality.min_avg_word_length, quality.max_avg_word_length) == (s.min_avg_word_length,
                                                                          s.max_avg_word_length)
    assert quality.max_non_alpha_words_ratio == s.max_non_alpha_words_ratio
    assert repetition.dup_line_frac == s.dup_line_frac
    assert [t for _, t in repetition.top_n_grams] == list(s.top_n_grams)
    assert [t for _, t in repetition.dup_n_grams] == list(s.dup_n_grams)
    assert (repetition.dup_para_frac, repetition.dup_line_char_frac, repetition.dup_para_char_frac) == (0, 0, 0)
    assert (fineweb.line_punct_thr, fineweb.new_line_ratio) == (s.line_punct_thr, s.new_line_ratio)
    assert (fineweb.short_line_threshold, fineweb.char_duplicates_ratio) == (1.0, 0.1)


def test_fineweb2_defaults_to_german_and_disables_c4():
    with hydra_context():
        recipe = compose_one(["recipe=fineweb2"]).recipe
    assert recipe.name == "fineweb2" and list(recipe.filters.language.languages) == ["de"]
    assert not recipe.filters.c4.enabled
    assert [k for k, _ in filter_steps(recipe.filters, fast=False)] == ["language", "gopher_repetition",
                                                                       "gopher_quality", "fineweb"]


def test_an_override_wins_over_the_language_table():
    recipe = recipe_for("fr", "recipe.filters.gopher_quality.min_stop_words=3",
                        "recipe.filters.fineweb.line_punct_thr=0.2")
    assert recipe.filters.gopher_quality.min_stop_words == 3 and recipe.filters.fineweb.line_punct_thr == 0.2
    assert recipe.filters.fineweb.new_line_ratio == languages.FINEWEB2["fr"].new_line_ratio


# ----------------------------------------------------------------------------- keep rates
def test_keep_rates_per_language(test_set, capsys):
    """Good generated articles are kept at the English rate in every language (with that language's settings);
    the junk pages are removed in every language."""
    table = {}
    for lang in ("en", "de", "fr", "es", "zh", "ja"):
        docs = [d for d in test_set if d.lang == lang]
        decisions, _ = run_steps(filter_steps(recipe_for(lang).filters, fast=False), docs)
        table[lang] = rates(decisions, docs)
        junk_reasons = Counter(decisions[d.id] for d in docs if not d.good)
        assert "kept" not in junk_reasons, (lang, junk_reasons)
    with capsys.disabled():
        print("\nkeep rate on the generated multilingual test set (article | " + " | ".join(JUNK_KINDS) + "):")
        for lang, r in table.items():
            print(f"  {lang}: " + " | ".join(f"{r[k]:.0%}" for k in ("article", *JUNK_KINDS)))
    assert table["en"]["article"] >= 0.9
    for lang in ("de", "fr", "es", "zh", "ja"):
        assert table[lang]["article"] >= table["en"]["article"] - 0.1, table


def test_german_with_english_settings_loses_most_documents(test_set):
    """What happened before the fix: German text through FineWeb v1's English settings (language ID off, so
    only the quality filters decide) loses nearly every good article, to Gopher's English stop words."""
    with hydra_context():
        english = compose_one(["recipe.filters.language.enabled=false"]).recipe
    articles = [d for d in test_set if d.lang == "de" and d.good]
    decisions, _ = run_steps(filter_steps(english.filters, fast=False), articles)
    reasons = Counter(decisions.values())
    assert reasons["kept"] <= 0.1 * len(articles), reasons
    assert reasons["gopher_quality:gopher_enough_stop_words"] >= 0.8 * len(articles), reasons
    german, _ = run_steps(filter_steps(recipe_for("de").filters, fast=False), articles)
    assert sum(v == "kept" for v in german.values()) >= 0.9 * len(articles)


@pytest.mark.parametrize("lang", ["de", "fr", "zh", "ja"])
def test_stock_and_fast_decisions_are_equal(test_set, lang):
    docs = [d for d in test_set if d.lang == lang]
    recipe = recipe_for(lang, "recipe.filters.c4.enabled=true")
    for filters in (recipe.filters, recipe_for(lang).filters):  # with C4 (rewrites text) and as published
        stock, stock_kept = run_steps(filter_steps(filters, fast=False), docs)
        fast, fast_kept = run_steps(filter_steps(filters, fast=True), docs)
        assert stock == fast and stock_kept == fast_kept


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("overrides, says", [
    (["recipe=fineweb2", f"{KEY}=[sw]"], "recipe 'fineweb2' has no filter settings for 'sw'; languages with settings: "
                                         "de, es, fr, it, ja, nl, pl, pt, ru, zh"),
    (["recipe=fineweb2", f"{KEY}=[xx]"], "no filter settings for 'xx'"),
    (["recipe=fineweb2", f"{KEY}=[en]"], "for English use recipe=fineweb"),
    (["recipe=fineweb2", f"{KEY}=[deu_Latn]"], "lid.176 labels it 'de'"),
    (["recipe=fineweb2", f"{KEY}=[de,fr]"], "for one language, got [de, fr]: curate one language per run"),
    ([f"{KEY}=[de]"], "recipe 'fineweb' has English-only filter settings (stop words, thresholds), not for 'de'; "
                      "for 'de' use recipe=fineweb2"),
    (["recipe=fineweb_no_c4", f"{KEY}=[fr]"], "recipe 'fineweb_no_c4' has English-only filter settings"),
    ([f"{KEY}=[sw]"], "recipe 'fineweb' has English-only filter settings (stop words, thresholds), not for 'sw'"),
    ([f"{KEY}=[]"], "got []"),
])
def test_a_language_without_settings_is_refused(overrides, says):
    with hydra_context(), pytest.raises(CptError) as err:
        compose_one(overrides)
    msg = str(err.value)
    assert msg.startswith(f"invalid value for '{KEY}': ") and says in msg and "\n" not in msg, msg
    assert isinstance(err.value.__cause__, ConfigError)


def test_refusal_on_the_command_line(cpt, tmp_path):
    r = cpt("run", "recipe=fineweb2", f"{KEY}=[sw]")
    assert r.returncode == 2
    err_lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert err_lines == [f"cpt: error: invalid value for '{KEY}': recipe 'fineweb2' has no filter settings for "
                         "'sw'; languages with settings: de, es, fr, it, ja, nl, pl, pt, ru, zh"], r.stderr
    assert not (tmp_path / "work").exists()


def test_cfg_job_composes_fineweb2(cpt):
    r = cpt("run", "--cfg", "job", "--resolve", "recipe=fineweb2", f"{KEY}=[de]")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "name: fineweb2" in out and "languages:\n      - de\n      threshold: 0.821" in out
    assert "stop_words:\n      - der\n      - und" in out and "char_duplicates_ratio: 0.1" in out


def test_doctor_checks_the_word_tokenizer_of_the_recipe_language(cpt):
    r = cpt("doctor", "recipe=fineweb2", "recipe.filters.language.languages=[zh]")
    assert "[ok  ] word tokenizer for 'zh': datatrove 'cmn_Hani', offline" in r.stdout, r.stdout[-2000:]


@pytest.mark.parametrize("lang", ["de", "zh"])
def test_dedup_shingles_use_the_language_word_tokenizer(tmp_path, test_set, lang):
    """The MinHash signature step gets the recipe language's tokenizer (zh: words, not whole sentences);
    fast and stock signatures stay identical."""
    import numpy as np

    from pipeline.config import DedupConfig
    from pipeline.dedup.passes import signature_step

    code = languages.word_tokenizer(lang)
    docs = [d for d in test_set if d.lang == lang and d.kind == "article"][:6]
    sigs = {}
    for impl in ("fast", "stock"):
        step = signature_step(DedupConfig(signature_impl=impl), tmp_path / impl, code)
        assert step.language == code
        sigs[impl] = [np.asarray(step.get_shingles(d.text)) for d in docs]
    assert all(a.shape == b.shape and (a == b).all() for a, b in zip(sigs["fast"], sigs["stock"]))
    english = signature_step(DedupConfig(signature_impl="stock"), tmp_path / "en", "eng")
    if lang == "zh":  # the English tokenizer sees a Chinese sentence as one word: other shingles
        assert any(np.asarray(english.get_shingles(d.text)).shape != s.shape or (np.asarray(english.get_shingles(d.text)) != s).any()
                   for d, s in zip(docs, sigs["stock"]))
