"""``pipeline.curate.fast_filters`` against datatrove's own filters: same decisions, reasons, text and stats.

Real datatrove filters and spaCy throughout (no mocks): the embedded sample (WARC pages extracted with
datatrove's Trafilatura, plus the original corpus) and adversarial documents go through both chains,
then hand-made edge cases go through each filter alone under the default and some unusual configs.
"""

from __future__ import annotations

import pickle
import random
import warnings

import pytest
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate
from datatrove.utils.text import split_into_sentences, split_into_words

from pipeline.curate import fast_filters, word_split
from pipeline.curate.fast_filters import (
    FAST_FILTERS,
    FastC4QualityFilter,
    FastFineWebQualityFilter,
    FastGopherQualityFilter,
    FastGopherRepetitionFilter,
)
from pipeline.curate.ngram_repeats import RepeatedNgrams

import filter_bench as bench  # the chains and inputs benchmarks/filter_chain.py times


class _Capture:
    """Stands in for an exclusion writer: records (doc id, reason) of what a filter drops."""

    def __init__(self):
        self.dropped: list[tuple[str, str]] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, doc, rank=0):
        self.dropped.append((doc.id, doc.metadata.get("filter_reason")))


def _run_pipeline(steps, docs):
    """datatrove's own ``run`` generators: kept {id: text}, per-step drops, per-step stats (no timings)."""
    captures = []
    for _, step in steps:
        step.exclusion_writer = captures.append(_Capture()) or captures[-1]
    gen = (Document(text=d["text"], id=d["id"]) for d in docs)
    for _, step in steps:
        gen = step.run(gen)
    kept = {doc.id: doc.text for doc in gen}
    stats = [{k: v for k, v in step.stats.to_dict().items() if "time" not in k} for _, step in steps]
    return kept, [c.dropped for c in captures], stats


@pytest.fixture(scope="module")
def sample_docs(tmp_path_factory):
    from pipeline.sample.generate import generate_sample

    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, web_pages=120, original_docs=150)
    return bench.load_sample_dir(out) + bench.adversarial_docs()


def test_same_decisions_on_sample(sample_docs):
    stock_steps, fast_steps = bench.make_chains()
    assert all(type(s) in FAST_FILTERS for _, s in stock_steps)
    assert [type(s) for _, s in fast_steps] == [FAST_FILTERS[type(s)] for _, s in stock_steps]
    fast_filters.clear_caches()

    stock_kept, stock_dropped, stock_stats = _run_pipeline(stock_steps, sample_docs)
    fast_kept, fast_dropped, fast_stats = _run_pipeline(fast_steps, sample_docs)

    for (key, _), a, b in zip(stock_steps, stock_dropped, fast_dropped):
        assert a == b, f"{key}: drops differ: {sorted(set(a) ^ set(b))[:10]}"
    assert stock_kept == fast_kept  # same survivors, same (C4-rewritten) text
    for (key, _), a, b in zip(stock_steps, stock_stats, fast_stats):
        assert a == b, f"{key}: stats differ"

    # the input exercises every reason of every filter (FineWeb's "empty" cannot follow C4)
    reasons = {(key, r) for (key, _), dropped in zip(stock_steps, stock_dropped) for _, r in dropped}
    expected = {("gopher_repetition", r) for r in (
        "empty", "dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac",
        "top_2_gram", "top_3_gram", "top_4_gram", "duplicated_5_n_grams", "duplicated_7_n_grams",
        "duplicated_10_n_grams")}
    expected |= {("gopher_quality", r) for r in (
        "gopher_short_doc", "gopher_long_doc", "gopher_below_avg_threshold", "gopher_above_avg_threshold",
        "gopher_too_many_hashes", "gopher_too_many_ellipsis", "gopher_too_many_bullets",
        "gopher_too_many_end_ellipsis", "gopher_below_alpha_threshold", "gopher_enough_stop_words")}
    expected |= {("c4", r) for r in ("lorem_ipsum", "curly_bracket", "too_few_sentences")}
    expected |= {("fineweb", r) for r in ("line_punct_ratio", "short_line_ratio", "char_dup_ratio", "list_ratio")}
    assert expected <= reasons, sorted(expected - reasons)
    c4_stats = stock_stats[2]["stats"]
    for line_stat in ("line-filter-javascript", "line-filter-policy", "line-filter-too_long_word",
                      "line-filter-too_few_words", "line-kept"):
        assert line_stat in c4_stats

    counts = word_split.split_counts()
    assert counts["fast"] > 10 * counts["stock"]  # the chunk cache did the work...
    assert counts["stock"] >= 1  # ...and the fall-backs (IS_ALPHA, cross-chunk special cases) were taken


# ----------------------------------------------------------------------------- hand-made edge cases
EDGE_TEXTS = [
    "", " ", "\n", "\n\n\n", "\t \r\n", "a", "Word", "Hello world.", "...", "!!!", "—", "#", "{", "}", "…",
    "lorem ipsum", "[1]", "[edit] [citation needed]", "\u00a0", "\u2028", "\x0c", "\x1c", "\x85",
    "x\r\ny\r\n", "a\rb\rc", "line\n" * 5, "The end.\n\n\n", "  leading spaces. And more.  ",
    "日本語のテキストです。東京は晴れ。", "🚀🌕✨", "e\u0301te\u0301", "ﬁne ﬂow", "ß İ ǅ",
    "IS_ALPHA", "x IS_ALPHA", "The IS_ALPHA flag. It is set. Really. Yes. Done.",
    "' s", ": )", "( :", ": - )", "10 a.m .", "it ' s", "x] =)y", "[1] =)'--", "don't won't y'all 'em 'cause",
    "the " * 60, ("the cat sat on the mat. " * 3 + "\n") * 4,
    " ".join(f"word{i}" for i in range(80)) + ".",
    "- item one\n- item two\n• item three\n  - item four",
    "Wait...\nReally…\nNo...\nYes.",
    "# Title\n## Subtitle\n" + "Some text here and there with the words of it. " * 8,
    "Please enable JavaScript.\nWe use cookies.\nRead the privacy policy and terms of use.\n"
    + "\n".join(f"This is line {i} of the article, and it ends here." for i in range(8)),
    "\r\n".join(f"Line {i} has the words of a sentence. And a second one!" for i in range(10)) + "\r\n\r\n",
    "Short.\nLines.\nEverywhere.\nThe end of it all.\nNope.\nYes.",
    "A sentence with a citation[1] and another[edit]. " * 10 + "\n" + "More text with the end. " * 10,
    "x" * 1500 + " and then the words of the line.\nThe second line has enough words. " * 6,
    "Curly { brace } inside a line with the words.\n" * 6,
    "Lorem ipsum dolor sit amet, the consectetur adipiscing elit.\n" * 3,
]


def _edge_texts() -> list[str]:
    rng = random.Random(3)
    texts = list(EDGE_TEXTS)
    pieces = [" ", "  ", "\n", "\r\n", "\t", "\u00a0", ".", "!", "?", "...", "'", '"', "(", ")", ":", "-", ":)",
              "a.m.", "U.S.", "e.g.", "'s", "n't", "http://x.org/a?b=c", "#", "{", "•", "…", "[1]", "the", "and",
              "of", "word", "Word", "comet", "火星", "😀", "ß", "1,000", "3.14"]
    for _ in range(60):
        texts.append("".join(rng.choice(pieces) + rng.choice(["", " ", " ", "\n"]) for _ in range(rng.randint(1, 80))))
    return texts


CONFIGS = [
    {},
    {"gopher_repetition": dict(top_n_grams=((1, 0.3), (2, 0.05)), dup_n_grams=((1, 0.2), (2, 0.1), (11, 0.01)),
                               dup_para_frac=0, dup_line_frac=None),
     "gopher_quality": dict(min_doc_words=0, max_doc_words=40, min_avg_word_length=None, min_stop_words=None),
     "c4": dict(filter_no_terminal_punct=True, min_words_per_line=-1, max_word_length=6, remove_citations=False),
     "fineweb": dict(line_punct_exclude_zero=True, short_line_length=5, new_line_ratio=0.05)},
    {"gopher_quality": dict(min_doc_words=None, max_avg_word_length=None, max_symbol_word_ratio=None),
     "c4": dict(split_paragraph=False, min_num_sentences=-1, filter_lorem_ipsum=False, filter_curly_bracket=False),
     "fineweb": dict(line_punct_thr=0.0, char_duplicates_ratio=1.0)},
    {"c4": dict(min_num_sentences=1, min_words_per_line=0, max_word_length=-1, filter_javascript=False,
                filter_policy=False)},
]
STOCK = {"gopher_repetition": GopherRepetitionFilter, "gopher_quality": GopherQualityFilter,
         "c4": C4QualityFilter, "fineweb": FineWebQualityFilter}


def _outcome(flt, text: str):
    doc = Document(text=text, id="x")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = flt.filter(doc)
    except Exception as e:  # the same inputs must fail the same way
        return ("raised", type(e).__name__)
    return (res, doc.text)


@pytest.mark.parametrize("config", range(len(CONFIGS)))
def test_same_decisions_on_edge_cases(config):
    texts = _edge_texts()
    for key, stock_cls in STOCK.items():
        kwargs = CONFIGS[config].get(key, {})
        stock, fast = stock_cls(**kwargs), FAST_FILTERS[stock_cls](**kwargs)
        assert fast.name == stock.name
        for text in texts:
            assert _outcome(fast, text) == _outcome(stock, text), (key, kwargs, text)
        stock_stats = {k: v for k, v in stock.stats.to_dict().items() if "time" not in k}
        fast_stats = {k: v for k, v in fast.stats.to_dict().items() if "time" not in k}
        assert fast_stats == stock_stats, key


def test_word_and_sentence_splitting_matches_spacy():
    splitter = word_split.word_splitter(GopherQualityFilter().language)
    assert splitter.fast
    texts = _edge_texts()
    rng = random.Random(11)
    rules = sorted(splitter._tok.rules)
    for _ in range(300):  # tokenizer special cases (emoticons, contractions, abbreviations) side by side
        texts.append("".join(rng.choice(rules) + rng.choice([" ", " ", "", "  ", "\n", "\t"])
                             for _ in range(rng.randint(1, 25))))
    for text in texts:
        assert splitter.words(text)[0] == split_into_words(text, splitter.language), text
        for line in text.splitlines():
            for line in (line, line.strip()):
                if line:
                    assert splitter.count_sentences(line) == len(split_into_sentences(line, splitter.language)), line


def test_repeated_ngrams_match_datatrove():
    rng = random.Random(5)
    alphabets = [["a", "b", "ab", "ba", "c"], ["x", "xx", "xxx"], ["the", "cat", "thecat", "sat", "on"],
                 ["é", "e\u0301", "𝔸", "a"]]
    for _ in range(1500):
        alphabet = rng.choice(alphabets)
        words = [rng.choice(alphabet) for _ in range(rng.randint(0, 80))]
        if words and rng.random() < 0.4:
            words = words + words[: rng.randint(1, len(words))] * 2
        repeats = RepeatedNgrams(words)
        for n in range(1, 12):
            assert repeats.chars(n, 10**9, 1.0) == find_all_duplicate(words, n), (words, n)


def test_picklable_and_same_names():
    for stock_cls, fast_cls in FAST_FILTERS.items():
        f = pickle.loads(pickle.dumps(fast_cls()))
        assert isinstance(f, stock_cls) and f.name == stock_cls.name
    assert {FastGopherRepetitionFilter, FastGopherQualityFilter, FastC4QualityFilter,
            FastFineWebQualityFilter} == set(FAST_FILTERS.values())


def test_word_property_cache_evicts_the_oldest_instead_of_wiping(monkeypatch):
    monkeypatch.setattr(fast_filters, "_MAX_WORD_PROPS", 3)
    props = fast_filters._WordProps()
    for w in ("alpha", "b2", "...", "delta"):
        props[w]
    assert list(props) == ["b2", "...", "delta"]  # "alpha", the oldest, evicted; nothing else lost
    assert props["..."] == (0, 0, 0) and props["b2"] == (1, 2, 1)
