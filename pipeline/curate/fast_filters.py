"""Drop-in, faster versions of datatrove's FineWeb quality filters (same decisions, same stats).

``FastGopherRepetitionFilter``, ``FastGopherQualityFilter``, ``FastC4QualityFilter`` and
``FastFineWebQualityFilter`` subclass the stock datatrove filters: same constructor arguments, same
``name``, same stats keys and drop reasons, same rewritten text for C4. Only ``filter`` is replaced.

Where the time goes in the stock filters, and what is done instead:

* **Word splitting.** Every stock filter calls ``split_into_words`` (spaCy over the whole text, plus the
  sentencizer) and C4 calls ``split_into_sentences`` (spaCy again) once per kept line. Here both come
  from :mod:`pipeline.curate.word_split`, exact and cached per whitespace-delimited chunk.
* **Sharing.** The word list of a text is computed once and shared by the filters through a small
  per-process cache keyed by the exact text (C4 rewrites the text, so FineWeb gets a new key).
* **Sentences in C4.** C4 only compares the sentence total with ``min_num_sentences``, so counting stops
  once the minimum is reached.
* **N-grams.** Gopher repetition's top and duplicated n-gram measures come from
  :mod:`pipeline.curate.ngram_repeats`.
* **Word tests in Gopher quality.** The per-word tests are memoised per word.

The filters keep the stock constructors, so ``language`` is any value datatrove accepts (``"de"``,
``"fr"``, ``"deu"``, a ``WordTokenizer`` ...). Languages the word splitter cannot replay (ja, NLTK /
Stanza / other tokenizers) fall back to datatrove's own splitting functions (still shared between the
filters), so they decide — and fail, e.g. on a missing optional dependency — exactly as the stock
filters do.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from operator import itemgetter

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.pipeline.filters.c4_filters import CITATION_REGEX, ELLIPSIS, END_PUNCTUATION, POLICY_SUBSTRINGS
from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate, find_duplicates
from datatrove.utils.text import PUNCTUATION_SET, split_into_sentences

from pipeline.curate import word_split
from pipeline.curate.ngram_repeats import RepeatedNgrams, top_ngram_chars

__all__ = [
    "FastGopherRepetitionFilter",
    "FastGopherQualityFilter",
    "FastC4QualityFilter",
    "FastFineWebQualityFilter",
    "FAST_FILTERS",
    "clear_caches",
]

WORD_SPLIT_ERROR = "word_split_error"  # drop reason of a document datatrove's word split raises on
_MAX_WORD_PROPS = 200_000  # per-process word -> Gopher quality properties; oldest evicted
_MAX_TEXTS = 8  # texts whose analysis is kept (one document passes all four filters in a row)


class _TextInfo:
    """What the filters share about one exact text."""

    __slots__ = ("text", "language", "_words", "space_free")

    def __init__(self, text: str, language: str):
        self.text = text
        self.language = language
        self._words: list[str] | None = None
        self.space_free = False

    @property
    def words(self) -> list[str]:
        if self._words is None:
            self._words, self.space_free = word_split.word_splitter(self.language).words(self.text)
        return self._words


_TEXTS: dict[tuple[str, str], _TextInfo] = {}


def _info(text: str, language: str) -> _TextInfo:
    key = (text, language)
    info = _TEXTS.get(key)
    if info is None:
        if len(_TEXTS) >= _MAX_TEXTS:
            del _TEXTS[next(iter(_TEXTS))]
        info = _TEXTS[key] = _TextInfo(text, language)
    return info


def clear_caches() -> None:
    """Forget cached texts, chunk tokenizations and word properties (e.g. between benchmark runs)."""
    _TEXTS.clear()
    word_split.clear_caches()
    _WORD_PROPS.clear()


def _drops_unsplittable(filter_fn):
    """A document datatrove's own word split raises on is removed as ``word_split_error``, never a failed task."""

    @functools.wraps(filter_fn)
    def guarded(self, doc):
        try:
            return filter_fn(self, doc)
        except word_split.UnsplittableText:
            return False, WORD_SPLIT_ERROR

    return guarded


# ---------------------------------------------------------------------------- Gopher repetition
class FastGopherRepetitionFilter(GopherRepetitionFilter):
    """:class:`GopherRepetitionFilter` with shared word splitting and cheaper n-gram counting."""

    @_drops_unsplittable
    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text
        if not text:
            return False, "empty"

        paragraphs = self.paragraph_exp.split(text.strip())
        paragraphs_duplicates, char_duplicates = find_duplicates(paragraphs)
        if self.dup_para_frac and paragraphs_duplicates / len(paragraphs) > self.dup_para_frac:
            return False, "dup_para_frac"
        if self.dup_para_char_frac and char_duplicates / len(text) > self.dup_para_char_frac:
            return False, "dup_para_char_frac"

        lines = self._line_splitter.split(text)
        line_duplicates, char_duplicates = find_duplicates(lines)
        if self.dup_line_frac and line_duplicates / len(lines) > self.dup_line_frac:
            return False, "dup_line_frac"
        if self.dup_line_char_frac and char_duplicates / len(text) > self.dup_line_char_frac:
            return False, "dup_line_char_frac"

        info = _info(text, self.language)
        words = info.words

        for n, n_frac in self.top_n_grams:
            top_char_length = top_ngram_chars(words, n, info.space_free)
            if top_char_length is None:
                continue
            if top_char_length / len(text) > n_frac:
                return False, f"top_{n}_gram"

        if self.dup_n_grams:
            repeats = RepeatedNgrams(words)
            for n, n_frac in self.dup_n_grams:
                if n <= 0:  # degenerate configs: datatrove's own function
                    n_duplicates_char = find_all_duplicate(words, n)
                else:
                    n_duplicates_char = repeats.chars(n, len(text), n_frac)
                if n_duplicates_char / len(text) > n_frac:
                    return False, f"duplicated_{n}_n_grams"

        return True


# ---------------------------------------------------------------------------- Gopher quality
class _WordProps(OrderedDict):
    """word -> (is_non_symbol, length_if_non_symbol_else_0, has_alpha), as GopherQualityFilter tests them.

    Bounded at ``_MAX_WORD_PROPS`` words; when full the oldest entry is evicted (never the whole cache)."""

    def __missing__(self, w: str) -> tuple[int, int, int]:
        if len(self) >= _MAX_WORD_PROPS:
            self.popitem(last=False)
        non_symbol = any(ch not in PUNCTUATION_SET for ch in w)
        props = (1 if non_symbol else 0, len(w) if non_symbol else 0, 1 if any(c.isalpha() for c in w) else 0)
        self[w] = props
        return props


_WORD_PROPS = _WordProps()
_get_ns, _get_ns_len, _get_alpha = itemgetter(0), itemgetter(1), itemgetter(2)


class FastGopherQualityFilter(GopherQualityFilter):
    """:class:`GopherQualityFilter` with shared word splitting and memoised per-word tests."""

    @_drops_unsplittable
    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text
        words = _info(text, self.language).words
        n_words = len(words)
        props = list(map(_WORD_PROPS.__getitem__, words))

        n_non_symbol_words_words = sum(map(_get_ns, props))

        if self.min_doc_words and n_non_symbol_words_words < self.min_doc_words:
            return False, "gopher_short_doc"
        if self.max_doc_words and n_non_symbol_words_words > self.max_doc_words:
            return False, "gopher_long_doc"

        if n_non_symbol_words_words:
            # np.mean of ints: float64 sum (exact for ints) divided by the count == int / int
            avg_n_words = sum(map(_get_ns_len, props)) / n_non_symbol_words_words
        else:
            avg_n_words = np.mean([])  # nan (and numpy's warning), like the stock filter
        if self.min_avg_word_length and avg_n_words < self.min_avg_word_length:
            return False, "gopher_below_avg_threshold"
        if self.max_avg_word_length and avg_n_words > self.max_avg_word_length:
            return False, "gopher_above_avg_threshold"

        if self.max_symbol_word_ratio and text.count("#") / n_words > self.max_symbol_word_ratio:
            return False, "gopher_too_many_hashes"
        if self.max_symbol_word_ratio and (text.count("...") + text.count("…")) / n_words > self.max_symbol_word_ratio:
            return False, "gopher_too_many_ellipsis"

        lines = text.splitlines()
        if (
            self.max_bullet_lines_ratio
            and sum(s.lstrip().startswith(("•", "-")) for s in lines) / len(lines) > self.max_bullet_lines_ratio
        ):
            return False, "gopher_too_many_bullets"
        if (
            self.max_ellipsis_lines_ratio
            and sum(s.rstrip().endswith(("...", "…")) for s in lines) / len(lines) > self.max_ellipsis_lines_ratio
        ):
            return False, "gopher_too_many_end_ellipsis"

        if self.max_non_alpha_words_ratio and sum(map(_get_alpha, props)) / n_words < self.max_non_alpha_words_ratio:
            return False, "gopher_below_alpha_threshold"

        if self.min_stop_words and len(self.stop_words.intersection(words)) < self.min_stop_words:
            return False, "gopher_enough_stop_words"

        return True


# ---------------------------------------------------------------------------- C4
class FastC4QualityFilter(C4QualityFilter):
    """:class:`C4QualityFilter` counting sentences over cached tokens, only until the minimum is reached."""

    @_drops_unsplittable
    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if self.split_paragraph:
            lines = doc.text.splitlines()
        else:
            try:
                lines = split_into_sentences(doc.text, self.language)
            except Exception as e:  # noqa: BLE001 - spaCy failed on this text: a reason, not a failed task
                raise word_split.UnsplittableText(f"datatrove's sentence split failed: {e!r}") from e
        splitter = word_split.word_splitter(self.language)

        num_sentences = 0
        kept_lines = []

        for line in lines:
            line = line.strip()
            words = line.split()
            self.stat_update("line-total")
            if self.max_word_length != -1 and words and max(map(len, words)) > self.max_word_length:
                self.stat_update("line-filter-too_long_word")
                continue
            if self.remove_citations:
                line = CITATION_REGEX.sub("", line)
            if self.filter_no_terminal_punct and (not line.endswith(END_PUNCTUATION) or line.endswith(ELLIPSIS)):
                self.stat_update("line-filter-no_terminal_punc")
                continue
            if len(words) < self.min_words_per_line:
                self.stat_update("line-filter-too_few_words")
                continue
            line_l = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in line_l:
                return False, "lorem_ipsum"
            if self.filter_javascript and "javascript" in line_l:
                self.stat_update("line-filter-javascript")
                continue
            if self.filter_curly_bracket and "{" in line:
                return False, "curly_bracket"
            if self.filter_policy and any(p in line_l for p in POLICY_SUBSTRINGS):
                self.stat_update("line-filter-policy")
                continue
            # only the comparison with min_num_sentences matters: stop counting once it is reached
            if self.min_num_sentences != -1 and num_sentences < self.min_num_sentences:
                num_sentences += splitter.count_sentences(line) if self.split_paragraph else 1
            kept_lines.append(line)
            self.stat_update("line-kept")
        if num_sentences < self.min_num_sentences:
            return False, "too_few_sentences"

        doc.text = ("\n" if self.split_paragraph else " ").join(kept_lines).strip()
        return True


# ---------------------------------------------------------------------------- FineWeb
class FastFineWebQualityFilter(FineWebQualityFilter):
    """:class:`FineWebQualityFilter` with shared word splitting."""

    @_drops_unsplittable
    def filter(self, doc) -> bool | tuple[bool, str]:
        text = doc.text
        lines = text.split("\n")
        lines = [line for line in lines if line.strip() != ""]
        if len(lines) == 0:
            return False, "empty"
        ratio = sum(1 for line in lines if line.endswith(self.stop_chars)) / len(lines)
        if ratio < self.line_punct_thr and not (ratio == 0 and self.line_punct_exclude_zero):
            return False, "line_punct_ratio"

        ratio = sum(1 for line in lines if len(line) <= self.short_line_length) / len(lines)
        if ratio > self.short_line_threshold:
            return False, "short_line_ratio"

        ratio = find_duplicates(lines)[1] / len(text.replace("\n", ""))
        if ratio > self.char_duplicates_ratio:
            return False, "char_dup_ratio"

        n_words = len(_info(text, self.language).words)
        new_line = text.count("\n")
        if new_line / n_words > self.new_line_ratio:
            return False, "list_ratio"

        return True


FAST_FILTERS = {
    GopherRepetitionFilter: FastGopherRepetitionFilter,
    GopherQualityFilter: FastGopherQualityFilter,
    C4QualityFilter: FastC4QualityFilter,
    FineWebQualityFilter: FastFineWebQualityFilter,
}
