"""The fast word splitter's two shortcuts are exact, over generated chunk sequences that hit every family of
spaCy special cases (emoticons, contractions, abbreviations, rules that hold a space, whitespace rules,
fragments of multi-token rules on either side of a space) in languages with and without rules that
hold a space:

* a chunk of letters is one token without running the affix regexes (proved from the regexes);
* two pure chunks joined by one space are not re-split by datatrove unless a rule that holds a space
  could match across them.
"""

from __future__ import annotations

import random
import re

import pytest
from datatrove.utils.text import split_into_sentences, split_into_words

from pipeline.curate import word_split
from pipeline.curate.regex_reach import reach_in_letters

LANGS = ["en", "es", "ru", "de", "fr"]  # es and ru have rules that hold a space ("EE. UU.", "в т.ч.")
SEPARATORS = [" "] * 8 + ["", "", "  ", "\n", "\t", "\u00a0", " \n"]
LETTER_WORDS = ["word", "Straße", "été", "ªº", "ſtraße", "\u212aelvin", "ǅemal", "мир", "ΑΒΓ", "日本語", "ﬁne",
                "e\u0301te\u0301", "IJssel", "a", "I", "s", "t", "ll", "ve", "re", "d", "m"]
OTHER_PIECES = [":", ")", "(", "-", "'", "'s", "10", "10:30", "3.5", "(0)", "--", "...", ".", ",", "!", "?",
                "\"", "<3", "=", ";", "/", "@x", "http://x.org/a?b=c", "#tag", "😀", "1,000", "km", "°C"]


def _pieces(sp: word_split.WordSplitter, rng: random.Random) -> list[str]:
    """Rules, their first-pass tokens (the matcher's pattern tokens) and cuts of rules, letters, punctuation."""
    rules = sorted(sp._tok.rules)
    pattern_tokens = sorted(sp._pattern_tokens)
    cuts = []
    for rule in rng.sample(rules, min(300, len(rules))):
        if len(rule) > 1:
            k = rng.randrange(1, len(rule))
            cuts += [rule[:k], rule[k:]]
    return rules + pattern_tokens + cuts + LETTER_WORDS + OTHER_PIECES


def _texts(sp: word_split.WordSplitter, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces = _pieces(sp, rng)
    space_rules = [r for r in sp._tok.rules if " " in r.strip()]
    texts = []
    for i in range(n):
        k = rng.randint(1, 14)
        if i % 2:  # web-like chunks: words with the edge pieces of emoticon rules ("Time: 10:30", "(see) - x")
            parts = [rng.choice(["", "(", "'", "-", "10", ":"]) + rng.choice(LETTER_WORDS + ["10", "30"])
                     + rng.choice(["", ":", ")", ",", ".", ":", "'"]) for _ in range(k)]
        else:
            parts = [rng.choice(pieces) for _ in range(k)]
        if space_rules and i % 5 == 0:  # a rule that holds a space, whole, inside the sequence
            parts.insert(rng.randrange(k + 1), rng.choice(space_rules))
        texts.append("".join(p + rng.choice(SEPARATORS) for p in parts))
    return texts


def _old_risk(sp: word_split.WordSplitter, text: str) -> bool:
    """The check before narrowing: any pattern pair across a single space, whatever the chunks."""
    parts = re.split(r"(\s+)", text)
    entries = [sp._cache[c] for c in parts[0::2]]
    return any(left is not None and sep == " " and entries[k + 1][3] is not None
               and any((a, b) in sp._pairs for a in left for b in entries[k + 1][3])
               for k, (left, sep) in enumerate(zip([e[4] for e in entries], parts[1::2])))


@pytest.mark.parametrize("lang", LANGS)
def test_shortcuts_match_spacy_on_special_case_sequences(lang):
    sp = word_split.WordSplitter(lang)
    assert sp.fast and sp._letters_one_token, lang  # the regexes of these languages cannot touch letters
    narrowed = letters = 0
    for text in _texts(sp, 2500, seed=LANGS.index(lang)):
        words, _ = sp.words(text)
        assert words == split_into_words(text, lang), (lang, text)
        if sp.counts["stock"] == 0 and "IS_ALPHA" not in text and _old_risk(sp, text):
            narrowed += 1
        sp.counts = {"fast": 0, "stock": 0}
        for line in text.splitlines():
            if line:
                assert sp.count_sentences(line) == len(split_into_sentences(line, lang)), (lang, line)
        letters += sum(1 for c in text.split() if c.isalpha())
    assert narrowed > 50, narrowed  # texts the old check sent to datatrove, now split from the cache
    assert letters > 1000, letters
    # the letters shortcut kept its tokens
    for c in LETTER_WORDS:
        if c.isalpha() and c not in sp._tok.rules:
            assert sp._py_tokens(c) == [c]


def test_emoticon_fragments_across_a_space_are_split_from_the_cache():
    sp = word_split.WordSplitter("en")
    text = "Tel: 'zexchirk and Category: (see above) - next. Time: 10:30, Note: 'quoted' (x) -y :)"
    assert sp.words(text)[0] == split_into_words(text, "en")
    assert sp.count_sentences(text) == len(split_into_sentences(text, "en"))
    assert sp.counts == {"fast": 2, "stock": 0}


def test_space_rules_still_go_to_spacy():
    sp = word_split.WordSplitter("es")
    assert ("EE", ".") in sp._pairs and sp._space_pairs
    text = "Viven en EE. UU. desde 2010."
    assert sp.words(text)[0] == split_into_words(text, "es")
    assert sp.counts["stock"] == 1  # "EE." + "UU." may form the rule "EE. UU." across the space


@pytest.mark.parametrize("pattern, expected", [
    (r"^(?:\$|ab)", (False, True)),         # a letters-only branch
    (r"(?<=[0-9])(?:km|m)$", (False, False)),  # units after a digit: the lookbehind cannot see one
    (r"^\.", (False, False)),
    (r"(?=[a-z])", (True, False)),           # only empty matches
    (r"x*$", (True, True)),
    (r"[^.]", (False, True)),                # a negated class may match a letter
    (r"(?<!\d)\d+", (False, False)),
    (r"(\.)?\1", (True, True)),              # a back reference: not modelled, so "may match"
    (r"(?i)\.", (True, True)),               # case folding: not modelled
])
def test_regex_reach(pattern, expected):
    assert reach_in_letters(re.compile(pattern)) == expected


def test_regex_reach_agrees_with_search_on_letters():
    rng = random.Random(0)
    alphabet = "abcKſªºßéЖΩ日ǅ"
    for lang in LANGS:
        tok = word_split.WordSplitter(lang)._tok
        for fn in (tok.prefix_search, tok.suffix_search, tok.infix_finditer):
            empty, letters = reach_in_letters(fn.__self__)
            for _ in range(300):
                s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
                found = [m.group() for m in fn.__self__.finditer(s)]
                if not letters:
                    assert all(m == "" for m in found), (lang, s, found)
                if not (empty or letters):
                    assert not found, (lang, s, found)


def test_a_document_full_of_spacy_symbol_names_keeps_its_words():
    """"IS_ALPHA" (spaCy's symbol 1) used to vanish from datatrove's split, or raise, after the first text
    that held it; every other symbol name always split as a word. Now all do, fast and stock alike."""
    from spacy.symbols import IDS

    from pipeline.curate.fast_filters import FAST_FILTERS

    names = [n for n in IDS if n]
    text = "\n".join(" ".join(names[i:i + 12]) + "." for i in range(0, len(names), 12)) + "\nThe IS_ALPHA flag."
    sp = word_split.word_splitter("eng")
    for _ in range(3):  # the failure came on the second and later texts
        stock = split_into_words(text, "eng")
        assert sp.words(text)[0] == stock
        assert stock.count("IS_ALPHA") == 2 and set(names) <= set(stock)
    from test_fast_filters import STOCK, _outcome

    for stock_cls in STOCK.values():
        assert _outcome(FAST_FILTERS[stock_cls](), text) == _outcome(stock_cls(), text)


def test_a_text_datatrove_cannot_split_is_removed_with_a_reason(monkeypatch):
    """Whatever spaCy raises on a text (simulated here: the failure is spaCy's, not the project's) removes that
    document as ``word_split_error``; the task goes on and the other documents are decided as before."""
    from datatrove.data import Document

    from pipeline.curate.fast_filters import FastGopherQualityFilter

    real = word_split.split_into_words

    def fails_on_marker(text, language):
        if "MARKER" in text:
            raise KeyError("[E018] Can't retrieve string for hash '1'.")
        return real(text, language)

    monkeypatch.setattr(word_split, "split_into_words", fails_on_marker)
    good = "The cat sat on the mat and the dog ran to the park with all of its friends. " * 10
    bad = good + " IS_ALPHA MARKER"  # IS_ALPHA sends the text to datatrove's own split
    step = FastGopherQualityFilter()
    kept = [d.id for d in step.run(iter([Document(text=good, id="a"), Document(text=bad, id="b"),
                                          Document(text=good + " more", id="c")]))]
    assert kept == ["a", "c"]
    assert step.stats.to_dict()["stats"]["dropped_word_split_error"] == 1
