"""The quality filters of a recipe as datatrove steps, in FineWeb's order: language ID, Gopher repetition,
Gopher quality, C4, FineWeb (the ``curate`` stage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

from pipeline import assets, languages
from pipeline.curate.offline_steps import LocalLanguageFilter
from pipeline.errors import ConfigError

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import LanguageFilterConfig


def language_model(language: LanguageFilterConfig):
    """The verified language-ID model file (checked before extraction too, so a bad one fails before any work)."""
    return assets.verify(assets.lid_model(language.model_path, language.model_sha256))


def word_tokenizer_language(language: LanguageFilterConfig) -> str:
    """The ``language=`` every filter after language ID gets: datatrove's word-tokenizer code for the one
    lid.176 label in ``language.languages`` (``"eng"`` for English, FineWeb-2's ``"deu_Latn"`` for German...).

    Fails here, before any work, when datatrove has no word tokenizer for it or one it needs is missing."""
    lang = languages.one_language(language.languages)
    code = languages.word_tokenizer(lang)
    from datatrove.utils.word_tokenizers import load_tokenizer_assignments

    if code not in load_tokenizer_assignments():
        raise ConfigError(f"invalid value for '{languages.LANGUAGES_KEY}': datatrove has no word tokenizer for "
                          f"{lang!r} (tried {code!r})")
    missing = languages.missing_packages(lang)
    if missing:
        raise ConfigError(f"the {lang!r} word tokenizer needs {', '.join(missing)}: pip install "
                          f"{' '.join(m.replace('_', '-') for m in missing)} (listed in pyproject.toml)")
    return code


def filter_steps(f, *, fast: bool = True) -> list[tuple[str, object]]:
    """The quality filters after extraction, from ``f.language``, ``f.gopher_repetition``,
    ``f.gopher_quality``, ``f.c4`` and ``f.fineweb`` (a :class:`FiltersConfig` or a stage's config).

    ``fast`` selects the drop-in subclasses of :mod:`pipeline.curate.fast_filters` for the Gopher, C4 and
    FineWeb filters (shared word splitting, same decisions, names and stats); ``False``: datatrove's own.
    Each of them gets the language of ``f.language.languages`` (its word tokenizer, see
    :func:`word_tokenizer_language`), and Gopher quality the recipe's stop words.
    """
    lang = word_tokenizer_language(f.language)
    from pipeline.curate.word_split import pin_language

    pin_language(lang)  # before any text is split in this process: "IS_ALPHA" stays a word (see pin_symbol_1)
    gopher_repetition_cls, gopher_quality_cls, c4_cls, fineweb_cls = (
        GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter)
    if fast:
        from pipeline.curate.fast_filters import FAST_FILTERS

        gopher_repetition_cls, gopher_quality_cls, c4_cls, fineweb_cls = (
            FAST_FILTERS[c] for c in (gopher_repetition_cls, gopher_quality_cls, c4_cls, fineweb_cls))
    steps: list[tuple[str, object]] = []
    if f.language.enabled:
        steps.append(("language", LocalLanguageFilter(str(language_model(f.language)), list(f.language.languages),
                                                      f.language.threshold)))
    if f.gopher_repetition.enabled:
        g = f.gopher_repetition
        steps.append(("gopher_repetition", gopher_repetition_cls(
            dup_line_frac=g.dup_line_frac, dup_para_frac=g.dup_para_frac,
            dup_line_char_frac=g.dup_line_char_frac, dup_para_char_frac=g.dup_para_char_frac,
            top_n_grams=((2, g.top_2_gram), (3, g.top_3_gram), (4, g.top_4_gram)),
            dup_n_grams=((5, g.dup_5_gram), (6, g.dup_6_gram), (7, g.dup_7_gram),
                         (8, g.dup_8_gram), (9, g.dup_9_gram), (10, g.dup_10_gram)),
            language=lang,
        )))
    if f.gopher_quality.enabled:
        q = f.gopher_quality
        steps.append(("gopher_quality", gopher_quality_cls(
            min_doc_words=q.min_doc_words, max_doc_words=q.max_doc_words,
            min_avg_word_length=q.min_avg_word_length, max_avg_word_length=q.max_avg_word_length,
            max_symbol_word_ratio=q.max_symbol_word_ratio, max_bullet_lines_ratio=q.max_bullet_lines_ratio,
            max_ellipsis_lines_ratio=q.max_ellipsis_lines_ratio,
            max_non_alpha_words_ratio=q.max_non_alpha_words_ratio, min_stop_words=q.min_stop_words,
            stop_words=list(q.stop_words), language=lang,
        )))
    if f.c4.enabled:
        c = f.c4
        steps.append(("c4", c4_cls(
            split_paragraph=c.split_paragraph, remove_citations=c.remove_citations,
            filter_no_terminal_punct=c.filter_no_terminal_punct, min_num_sentences=c.min_num_sentences,
            min_words_per_line=c.min_words_per_line, max_word_length=c.max_word_length,
            filter_lorem_ipsum=c.filter_lorem_ipsum, filter_javascript=c.filter_javascript,
            filter_curly_bracket=c.filter_curly_bracket, filter_policy=c.filter_policy, language=lang,
        )))
    if f.fineweb.enabled:
        w = f.fineweb
        steps.append(("fineweb", fineweb_cls(
            line_punct_thr=w.line_punct_thr, line_punct_exclude_zero=w.line_punct_exclude_zero,
            short_line_thr=w.short_line_thr, short_line_length=w.short_line_length,
            char_duplicates_ratio=w.char_duplicates_ratio, new_line_ratio=w.new_line_ratio, language=lang,
        )))
    return steps
