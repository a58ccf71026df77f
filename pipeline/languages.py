"""FineWeb-2's per-language filter settings, keyed by the labels lid.176 emits ("de", "fr", ...).

Source: https://github.com/huggingface/fineweb-2 at commit d0defb24f193bb9a5a11b8b14524a03c4858e1b6
(Apache-2.0). Each entry below is ``configs/<fineweb2 code>.yml`` of that commit (the per-language
values were last changed in d331bee82ee206aebbaba04db4283154291c1c74): ``language_score``,
``dup_line_frac``, ``top_n_grams``, ``dup_n_grams``, ``line_punct_thr``, ``new_line_ratio``,
``min_avg_word_length``, ``max_avg_word_length``, ``max_non_alpha_words_ratio`` and ``stopwords``.
``fineweb-2-pipeline.py`` there applies them and fixes the rest for every language; those fixed
values are written out in ``data_recipes/fineweb2.yaml``.

Language codes: lid.176 labels documents with ISO 639-1 codes ("de"); FineWeb-2 names its configs
(and its GlotLID labels) ISO 639-3 + script ("deu_Latn"). FineWeb-2 passed that code to the filters
as ``language=`` (it selects datatrove's word tokenizer), and so does this project
(``word_tokenizer``): in datatrove 0.10.1's ``load_tokenizer_assignments`` "de" and "deu_Latn" select
the same spaCy tokenizer, but a bare "zh" selects spaCy's multilingual "xx" tokenizer (a later row of
its table overwrites the key), which does not segment Chinese; "cmn_Hani" selects spaCy "zh" with
jieba. English keeps datatrove's default, ``"eng"``.
``language_score`` is a GlotLID score in FineWeb-2; here it is applied to lid.176's score.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import ConfigError

LANGUAGES_KEY = "recipe.filters.language.languages"
ENGLISH_WORD_TOKENIZER = "eng"  # datatrove's Languages.english: what the filters used before any language was passed


@dataclass(frozen=True)
class LanguageSettings:
    lid: str  # the label lid.176 emits
    fineweb2: str  # FineWeb-2's config name (GlotLID label); datatrove's word-tokenizer code
    language_score: float  # minimum language-ID score
    dup_line_frac: float  # Gopher repetition
    top_n_grams: tuple[float, float, float]  # Gopher repetition, n = 2, 3, 4
    dup_n_grams: tuple[float, float, float, float, float, float]  # Gopher repetition, n = 5..10
    line_punct_thr: float  # FineWeb quality
    new_line_ratio: float  # FineWeb quality
    min_avg_word_length: int  # Gopher quality
    max_avg_word_length: int  # Gopher quality
    max_non_alpha_words_ratio: float  # Gopher quality
    stop_words: tuple[str, ...]  # Gopher quality (FineWeb-2 keeps min_stop_words=2)
    packages: tuple[str, ...] = ()  # Python modules datatrove's word tokenizer for it imports (beyond spaCy)

    @property
    def word_tokenizer(self) -> str:
        return self.fineweb2


FINEWEB2_COMMIT = "d0defb24f193bb9a5a11b8b14524a03c4858e1b6"

# configs/<fineweb2>.yml of huggingface/fineweb-2 at FINEWEB2_COMMIT, copied value for value.
FINEWEB2: dict[str, LanguageSettings] = {
    "de": LanguageSettings(
        "de", "deu_Latn", language_score=0.821, dup_line_frac=0.263,
        top_n_grams=(0.169, 0.153, 0.137), dup_n_grams=(0.141, 0.134, 0.126, 0.117, 0.108, 0.098),
        line_punct_thr=0.0, new_line_ratio=0.152, min_avg_word_length=0, max_avg_word_length=15,
        max_non_alpha_words_ratio=0.774,
        stop_words=("der", "und", "die", "in", "von", "im", "den", "des", "mit", "das", "er", "dem", "als", "wurde",
                    "für")),
    "es": LanguageSettings(
        "es", "spa_Latn", language_score=0.84, dup_line_frac=0.252,
        top_n_grams=(0.156, 0.14, 0.125), dup_n_grams=(0.145, 0.136, 0.127, 0.117, 0.108, 0.099),
        line_punct_thr=0.182, new_line_ratio=0.138, min_avg_word_length=3, max_avg_word_length=14,
        max_non_alpha_words_ratio=0.825,
        stop_words=("de", "la", "en", "el", "y", "a", "que", "del", "los", "se", "por", "un", "con", "una", "las",
                    "su")),
    "fr": LanguageSettings(
        "fr", "fra_Latn", language_score=0.824, dup_line_frac=0.264,
        top_n_grams=(0.161, 0.149, 0.134), dup_n_grams=(0.15, 0.141, 0.131, 0.121, 0.111, 0.1),
        line_punct_thr=0.1, new_line_ratio=0.185, min_avg_word_length=2, max_avg_word_length=11,
        max_non_alpha_words_ratio=0.812,
        stop_words=("de", "la", "le", "et", "à", "en", "l'", "des", "du", "les", "est", "d'", "un", "une", "il",
                    "dans", "par", "au")),
    "it": LanguageSettings(
        "it", "ita_Latn", language_score=0.817, dup_line_frac=0.246,
        top_n_grams=(0.198, 0.156, 0.133), dup_n_grams=(0.144, 0.136, 0.127, 0.118, 0.109, 0.1),
        line_punct_thr=0.025, new_line_ratio=0.2, min_avg_word_length=3, max_avg_word_length=21,
        max_non_alpha_words_ratio=0.807,
        stop_words=("di", "e", "il", "la", "in", "a", "del", "che", "è", "della", "un", "per", "nel", "l'", "con",
                    "da", "i", "una")),
    "ja": LanguageSettings(
        "ja", "jpn_Jpan", language_score=0.886, dup_line_frac=0.328,
        top_n_grams=(0.239, 0.196, 0.172), dup_n_grams=(0.243, 0.225, 0.207, 0.19, 0.175, 0.159),
        line_punct_thr=0.096, new_line_ratio=0.13, min_avg_word_length=1, max_avg_word_length=6,
        max_non_alpha_words_ratio=0.759,
        stop_words=("の", "に", "を", "は", "た", "て", "が", "と", "で", "年", "し", "・", "月", "れ", "さ"),
        packages=("sudachipy", "sudachidict_core")),
    "nl": LanguageSettings(
        "nl", "nld_Latn", language_score=0.689, dup_line_frac=0.296,
        top_n_grams=(0.213, 0.182, 0.158), dup_n_grams=(0.156, 0.146, 0.136, 0.126, 0.115, 0.104),
        line_punct_thr=0.102, new_line_ratio=0.154, min_avg_word_length=3, max_avg_word_length=17,
        max_non_alpha_words_ratio=0.828,
        stop_words=("de", "van", "in", "het", "een", "en", "is", "op", "voor", "met", "door", "zijn", "werd", "hij",
                    "uit")),
    "pl": LanguageSettings(
        "pl", "pol_Latn", language_score=0.689, dup_line_frac=0.32,
        top_n_grams=(0.222, 0.198, 0.176), dup_n_grams=(0.172, 0.16, 0.148, 0.136, 0.123, 0.111),
        line_punct_thr=0.087, new_line_ratio=0.158, min_avg_word_length=3, max_avg_word_length=12,
        max_non_alpha_words_ratio=0.726,
        stop_words=("w", "i", "na", "z", "do", "się", "roku", "od", "a", "jest", "przez", "po", "jako", "oraz", "o",
                    "został", "był", "nie")),
    "pt": LanguageSettings(
        "pt", "por_Latn", language_score=0.799, dup_line_frac=0.287,
        top_n_grams=(0.371, 0.191, 0.163), dup_n_grams=(0.163, 0.153, 0.141, 0.13, 0.119, 0.108),
        line_punct_thr=0.077, new_line_ratio=0.186, min_avg_word_length=3, max_avg_word_length=13,
        max_non_alpha_words_ratio=0.814,
        stop_words=("de", "a", "e", "o", "em", "do", "da", "que", "um", "no", "uma", "com", "para", "na", "é",
                    "foi")),
    "ru": LanguageSettings(
        "ru", "rus_Cyrl", language_score=0.9, dup_line_frac=0.322,
        top_n_grams=(0.184, 0.164, 0.146), dup_n_grams=(0.168, 0.156, 0.145, 0.133, 0.121, 0.109),
        line_punct_thr=0.231, new_line_ratio=0.139, min_avg_word_length=3, max_avg_word_length=11,
        max_non_alpha_words_ratio=0.713,
        stop_words=("в", "и", "на", "с", "года", "по", "году", "из", "был", "к", "не", "от", "что", "за", "для",
                    "его", "как", "а", "он", "также", "до", "после")),
    "zh": LanguageSettings(  # lid.176's "zh" covers Simplified and Traditional; FineWeb-2's cmn_Hani too
        "zh", "cmn_Hani", language_score=0.692, dup_line_frac=0.287,
        top_n_grams=(0.256, 0.201, 0.171), dup_n_grams=(0.198, 0.182, 0.167, 0.154, 0.14, 0.127),
        line_punct_thr=0.106, new_line_ratio=0.178, min_avg_word_length=1, max_avg_word_length=5,
        max_non_alpha_words_ratio=0.735,
        stop_words=("的", "年", "在", "月", "是", "和", "日", "了", "於", "·", "為", "有", "被", "人", "中", "为", "他",
                    "與", "後", "也", "而", "由"),
        packages=("jieba",)),
}

# recipe key (under recipe.filters) -> the value of a LanguageSettings, for the `fineweb2` resolver
_RECIPE_KEYS = {
    "language.threshold": lambda s: s.language_score,
    "gopher_repetition.dup_line_frac": lambda s: s.dup_line_frac,
    **{f"gopher_repetition.top_{n}_gram": (lambda s, i=i: s.top_n_grams[i]) for i, n in enumerate((2, 3, 4))},
    **{f"gopher_repetition.dup_{n}_gram": (lambda s, i=i: s.dup_n_grams[i]) for i, n in enumerate(range(5, 11))},
    "gopher_quality.min_avg_word_length": lambda s: s.min_avg_word_length,
    "gopher_quality.max_avg_word_length": lambda s: s.max_avg_word_length,
    "gopher_quality.max_non_alpha_words_ratio": lambda s: s.max_non_alpha_words_ratio,
    "gopher_quality.stop_words": lambda s: list(s.stop_words),
    "fineweb.line_punct_thr": lambda s: s.line_punct_thr,
    "fineweb.new_line_ratio": lambda s: s.new_line_ratio,
}
RECIPE_KEYS = tuple(_RECIPE_KEYS)


def _listing() -> str:
    return ", ".join(sorted(FINEWEB2))


def _alias_hint(code: str) -> str:
    """' (lid.176 labels German "de")' when ``code`` is another spelling of a language in the table."""
    low = code.lower()
    for s in FINEWEB2.values():
        if low in (s.fineweb2.lower(), s.fineweb2[:3]) or (low == "zho" and s.lid == "zh"):
            return f"; lid.176 labels it {s.lid!r} (use languages=[{s.lid}])"
    if low in ("eng", "eng_latn"):
        return "; lid.176 labels English 'en'"
    return ""


def one_language(languages) -> str:
    """The single language of ``recipe.filters.language.languages``; anything else is a ConfigError."""
    langs = [str(x) for x in languages]
    if len(langs) != 1:
        raise ConfigError(
            f"invalid value for '{LANGUAGES_KEY}': the filters split words and count stop words for one language, "
            f"got [{', '.join(langs)}]: curate one language per run (e.g. cpt curate -m "
            f"'{LANGUAGES_KEY}=[de],[fr]') or split the crawl by language first")
    return langs[0]


def settings(languages) -> LanguageSettings:
    """FineWeb-2's settings for the one language in ``languages``; refuses a language it has none for."""
    lang = one_language(languages)
    if lang not in FINEWEB2:
        extra = " (FineWeb-2 covers languages other than English: use recipe=fineweb)" if lang == "en" else ""
        raise ConfigError(
            f"invalid value for '{LANGUAGES_KEY}': no FineWeb-2 filter settings for {lang!r}{_alias_hint(lang)}"
            f"{extra}; languages with settings: {_listing()}")
    return FINEWEB2[lang]


def recipe_value(key: str, languages=None):
    """What ``${fineweb2:KEY,LANGUAGES}`` resolves to in a recipe: the value FineWeb-2 sets for ``KEY``
    (a key under ``recipe.filters``) in that language; ``${fineweb2:languages}``: the languages covered."""
    if key == "languages":
        return sorted(FINEWEB2)
    if key not in _RECIPE_KEYS:
        raise ConfigError(f"fineweb2 resolver: unknown key {key!r} (one of: languages, {', '.join(RECIPE_KEYS)})")
    return _RECIPE_KEYS[key](settings(languages if languages is not None else []))


def check_recipe_languages(recipe: str, languages, settings_for) -> str:
    """Refuse a language the recipe has no filter settings for (else its words would be filtered with another
    language's stop words and thresholds). Returns the one language."""
    lang = one_language(languages)
    have = [str(x) for x in settings_for]
    if lang not in have:
        if set(have) <= {"en"}:
            what = "English-only filter settings (stop words, thresholds)"
            fix = (f"; for {lang!r} use recipe=fineweb2 (settings for {_listing()})" if lang in FINEWEB2
                   else f"; recipe=fineweb2 has settings for {_listing()}")
            raise ConfigError(f"invalid value for '{LANGUAGES_KEY}': recipe {recipe!r} has {what}, not for "
                              f"{lang!r}{_alias_hint(lang)}{fix}")
        english = "; for English use recipe=fineweb" if lang == "en" else ""
        raise ConfigError(f"invalid value for '{LANGUAGES_KEY}': recipe {recipe!r} has no filter settings for "
                          f"{lang!r}{_alias_hint(lang)}; languages with settings: {', '.join(have) or 'none'}{english}")
    return lang


def word_tokenizer(lang: str) -> str:
    """The ``language=`` to give datatrove's filters for documents lid.176 labelled ``lang``."""
    if lang == "en":
        return ENGLISH_WORD_TOKENIZER
    return FINEWEB2[lang].word_tokenizer if lang in FINEWEB2 else lang


def missing_packages(lang: str) -> list[str]:
    """Python modules the word tokenizer of ``lang`` needs that are not installed."""
    import importlib.util

    needed = FINEWEB2[lang].packages if lang in FINEWEB2 else ()
    return [m for m in needed if importlib.util.find_spec(m) is None]
