"""datatrove's ``split_into_words`` / ``len(split_into_sentences)``, exactly, from a per-process chunk cache.

The curation filters (:mod:`pipeline.curate.fast_filters`) and dedup's MinHash shingles
(:mod:`pipeline.dedup.fast_signature`) split words through :func:`word_splitter`; both must agree with
datatrove to the token.

Why a chunk cache is exact: spaCy's tokenizer is context-free per whitespace-delimited chunk: it cuts the
text where ``str.isspace`` changes, drops a single ``' '`` separator, and tokenizes each chunk on its own
(prefix/suffix/infix rules, special cases, token/url matchers all look at the chunk only). The one
exception is its special-case *matcher*, a PhraseMatcher over the first-pass tokens that can see two
chunks separated by one space. Here each distinct chunk is tokenized once and kept in a per-process LRU
cache (``_MAX_CHUNKS`` chunks; the least recently used is evicted, so frequent chunks stay while the
one-off ones of real web text stream through); a text is then split with one regex and the cached tokens
concatenated. A new chunk is tokenized by replaying spaCy's own first pass in Python
(``Tokenizer._split_affixes`` then ``_attach_tokens``: the tokenizer's own prefix / suffix / infix /
token_match / url_match functions, in its order; a suffix-stripped rest that is already cached, tokenized
this way, supplies its tokens), ``is_punct`` from the token's lexeme or the flag spaCy's lexeme getter
would give it. Where a special case is involved (the chunk or a part of it is a rule string) or some run
of the resulting tokens is a special-case pattern (the matcher could act), the chunk goes to the very
same spaCy tokenizer object instead (inside a memory zone, as datatrove does; such chunks of a text in
one call, one per line, since a "\n" token isolates them). On real-like text
(``tests/realistic_text.py``) about 99% of new chunks take the Python replay, which skips spaCy's
Doc and lexeme creation (most of its cost). A chunk made only of letters (``str.isalpha``) that is no
rule is one token without running the affix regexes at all, where :mod:`pipeline.curate.regex_reach`
proves from the tokenizer's own regexes that no prefix, suffix or infix can match inside letters (true of
every spaCy language datatrove uses; more than half of the new chunks of real text).

A special-case match across two chunks joined by one space spans the space, so spaCy applies it only if
that text, space included, is a rule ("EE. UU.", "в т.ч."); otherwise it can only matter by winning spaCy's
overlap filter against a match inside a chunk, and the chunks the Python replay tokenized have none (a
rule that leaves its one token as it is, like "'", is no match here: applied or not, it changes nothing). So
datatrove's own function splits a text only where two chunks joined by a single space have first-pass
boundary tokens consecutive in the pattern of a rule that holds whitespace, or in any pattern when one of
the two chunks was tokenized by spaCy, or where the text contains ``IS_ALPHA`` (spaCy trips on that
string and datatrove has a retry path for it).

Sentences are counted by replaying spaCy's Sentencizer rule over the cached tokens (token text in its
``punct_chars``, token ``is_punct`` flag from spaCy itself).

``language`` is any value datatrove accepts (``"de"``, ``"fr"``, ``"deu"``, a ``WordTokenizer`` ...), with
one splitter and cache per language. Languages whose datatrove tokenizer is spaCy's standard
``Tokenizer`` + sentencizer (de, fr, es, it, nl, pl, pt, ru, zh here, ...) take the cached path; the
others (ja, NLTK / Stanza / other tokenizers) fall back to datatrove's own splitting functions, so they
split — and fail, e.g. on a missing optional dependency — exactly as datatrove does.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from itertools import chain
from operator import itemgetter

from datatrove.utils.text import split_into_sentences, split_into_words
from datatrove.utils.typeshelper import Languages

__all__ = ["WordSplitter", "UnsplittableText", "word_splitter", "split_counts", "cache_stats", "clear_caches",
           "pin_symbol_1", "pin_language"]

# re's \s and str.isspace() both use Py_UNICODE_ISSPACE, the predicate spaCy's tokenizer splits on.
_WS_SPLIT = re.compile(r"(\s+)")
_ALPHA_TRAP = "IS_ALPHA"  # spaCy raises on it inside a memory zone; datatrove retries without it (see pin_symbol_1)

_MAX_CHUNKS = 100_000  # per-process chunk -> tokens cache (~50 MB at most); least recently used evicted

_CACHE_STAT_KEYS = ("lookups", "misses", "evictions", "python", "spacy")
_consume = deque(maxlen=0).extend

_get_words = itemgetter(0)
_get_last = itemgetter(4)
# (words, token_texts, token_is_punct, risky_firsts, risky_lasts, first_pass_is_final)
_EMPTY_ENTRY = ((), (), (), None, None, True)


class UnsplittableText(ValueError):
    """datatrove's own word or sentence split raised on this text (a spaCy failure, not a decision)."""


def pin_symbol_1(nlp) -> bool:
    """Make ``"IS_ALPHA"`` an ordinary word for ``nlp``'s tokenizer.

    spaCy's string store gives its symbol names small fixed IDs, and "IS_ALPHA" is ID 1, which the hash
    map holding the vocabulary's lexemes (preshed) reserves as its "deleted" key. A lexeme for it made
    inside a ``memory_zone`` (as datatrove tokenizes) cannot be removed from that map when the zone ends,
    so the map keeps a pointer into freed memory: the next text with that word fails an assertion in
    ``Vocab.get`` (or raises a ``KeyError``, E018/E064, depending on what the freed memory holds).
    datatrove then retries with the word deleted, so it vanishes from the words. Made once outside any
    zone, the lexeme is permanent and every later lookup finds it: the word is kept, nothing raises.
    Other symbol names have IDs the map treats as ordinary keys and were never affected.

    It must run before the first text holding the word is tokenized in a zone (after that the map already
    holds the dangling pointer): :func:`pin_language` is called when the curate stage builds its filters and
    when a splitter is set up. Returns whether the word is now safe."""
    if nlp.vocab.in_memory_zone:
        return False
    try:
        nlp.vocab[_ALPHA_TRAP]  # noqa: B018 - creates the permanent lexeme (or finds it)
    except Exception:  # noqa: BLE001 - too late: a zone already left the pointer; datatrove's behaviour stays
        return False
    return True


def pin_language(language) -> bool:
    """:func:`pin_symbol_1` for datatrove's word tokenizer of ``language``, when it is a spaCy one."""
    from datatrove.utils.word_tokenizers import SpaCyTokenizer, load_word_tokenizer

    try:
        wt = load_word_tokenizer(language)
    except Exception:  # noqa: BLE001 - a language datatrove cannot load fails where it is used, as before
        return False
    return isinstance(wt, SpaCyTokenizer) and pin_symbol_1(wt.tokenizer)


def _stock_words(text: str, language) -> list[str]:
    try:
        return split_into_words(text, language)
    except Exception as e:  # noqa: BLE001 - whatever spaCy raised, the document must not kill the task
        raise UnsplittableText(f"datatrove's word split failed: {e!r}") from e


def _stock_sentences(line: str, language) -> int:
    try:
        return len(split_into_sentences(line, language))
    except Exception as e:  # noqa: BLE001
        raise UnsplittableText(f"datatrove's sentence split failed: {e!r}") from e


def _orth(substring: dict) -> str | None:
    from spacy.attrs import ORTH

    return substring.get(ORTH, substring.get("ORTH"))


class WordSplitter:
    """Exact ``split_into_words`` / ``len(split_into_sentences)`` for one language, with a chunk cache.

    A cache entry for a chunk is ``(words, token_texts, token_is_punct, risky_firsts, risky_lasts, pure)``;
    ``words`` is datatrove's ``strip_strings`` of the token texts; ``risky_firsts`` / ``risky_lasts``: the
    possible first-pass first / last tokens of the chunk that occur in a special-case pattern pair
    (None if there are none); ``pure``: the tokens are spaCy's first pass, known untouched by its
    special-case matcher (only then may they stand for a suffix-stripped part of a longer chunk).

    The cache is an LRU of at most ``max_chunks`` chunks (an ``OrderedDict``: every lookup moves the
    chunk to the end, the front is evicted), so frequent chunks survive a stream of one-off ones.
    """

    def __init__(self, language, max_chunks: int = _MAX_CHUNKS):
        self.language = language
        self.fast = False
        self.max_chunks = max_chunks
        self._cache: OrderedDict[str, tuple] = OrderedDict({"": _EMPTY_ENTRY})
        # texts / lines split from cached chunks vs. handed to datatrove's own functions
        self.counts = {"fast": 0, "stock": 0}
        self.cache_stats = dict.fromkeys(_CACHE_STAT_KEYS, 0)
        try:
            self._setup()
        except Exception:  # anything unexpected (a tokenizer that cannot load, ...): stock splitting only
            self.fast = False

    def _setup(self) -> None:
        from datatrove.utils.word_tokenizers import SpaCyTokenizer, load_word_tokenizer

        wt = load_word_tokenizer(self.language)
        if not isinstance(wt, SpaCyTokenizer):
            return
        pin_symbol_1(wt.tokenizer)
        if wt.language == "ja":  # ja: datatrove chunks by bytes
            return
        import spacy.tokenizer
        from spacy.attrs import IS_PUNCT
        from spacy.pipeline import Sentencizer

        nlp = wt.tokenizer  # the very object datatrove's word_tokenize uses
        tok = nlp.tokenizer
        if type(tok) is not spacy.tokenizer.Tokenizer or nlp.pipe_names != ["sentencizer"]:
            return
        senter = nlp.get_pipe("sentencizer")
        if not isinstance(senter, Sentencizer):
            return
        self._nlp, self._tok = nlp, tok
        self._vocab = nlp.vocab
        self._punct_getter = (nlp.vocab.lex_attr_getters or {}).get(IS_PUNCT)
        self._punct_chars = frozenset(senter.punct_chars)
        self._punct_memo: dict[str, bool] = {}
        self._prefix_search, self._suffix_search = tok.prefix_search, tok.suffix_search
        self._infix_finditer, self._token_match, self._url_match = tok.infix_finditer, tok.token_match, tok.url_match
        self._specials = frozenset(tok.rules)
        # The special-case matcher runs over the first-pass tokens (affix rules + special cases) of the whole
        # text; its patterns are the rule strings tokenized without special cases. Record them (all rules but
        # those whose match cannot change a token: a superset of the matcher's that matter), the token pairs
        # that are consecutive in some pattern, and the multi-token rules by prefix / suffix string.
        bare = spacy.tokenizer.Tokenizer(nlp.vocab, rules={}, prefix_search=tok.prefix_search,
                                         suffix_search=tok.suffix_search, infix_finditer=tok.infix_finditer,
                                         token_match=tok.token_match, url_match=tok.url_match)
        pairs: set[tuple[str, str]] = set()
        space_pairs: set[tuple[str, str]] = set()
        patterns: set[tuple[str, ...]] = set()
        by_start: dict[str, list[str]] = {}
        by_end: dict[str, list[str]] = {}
        with nlp.memory_zone():
            for rule, substrings in tok.rules.items():
                texts = tuple(t.text for t in bare(rule))
                if len(texts) == 1 and [_orth(s) for s in substrings] == [rule]:
                    # one token that the rule leaves as it is (same text, same lexeme): a match of it changes
                    # nothing and, one token long, loses spaCy's overlap filter to any other match there
                    continue
                patterns.add(texts)
                if len(texts) > 1:
                    pairs.update(zip(texts, texts[1:]))
                    if any(ch.isspace() for ch in rule):
                        # a match across two chunks spans their separator, so it changes tokens only where
                        # a rule holds that whitespace ("EE. UU.", "в т.ч.")
                        space_pairs.update(zip(texts, texts[1:]))
                    by_start.setdefault(rule, []).append(texts[0])
                    by_end.setdefault(rule, []).append(texts[-1])
        self._pairs = frozenset(pairs)
        self._lefts = frozenset(a for a, _ in pairs)
        self._rights = frozenset(b for _, b in pairs)
        self._patterns = frozenset(patterns)
        self._pattern_tokens = frozenset(chain.from_iterable(patterns))
        self._max_pattern = max(map(len, patterns), default=0)
        self._rules_by_start, self._rules_by_end = by_start, by_end
        self._rule_heads = frozenset(r[:n] for r in by_start for n in range(1, len(r) + 1))
        self._rule_tails = frozenset(r[-n:] for r in by_end for n in range(1, len(r) + 1))
        self._space_pairs = frozenset(space_pairs)
        self._letters_one_token = self._affixes_miss_letters(tok)
        self.fast = True

    @staticmethod
    def _affixes_miss_letters(tok) -> bool:
        """True if no prefix / suffix (non-empty) or infix match can occur inside a chunk of letters, proved
        from the tokenizer's regexes (:mod:`pipeline.curate.regex_reach`): such a chunk is then one token."""
        from pipeline.curate.regex_reach import reach_in_letters

        needs = ((tok.prefix_search, False), (tok.suffix_search, False), (tok.infix_finditer, True))
        for fn, empty_splits in needs:
            if fn is None:
                continue
            pattern = getattr(fn, "__self__", None)
            if not isinstance(pattern, re.Pattern):
                return False  # a custom callable: nothing to prove it with
            empty, letters = reach_in_letters(pattern)
            if letters or (empty and empty_splits):
                return False
        return True

    # ------------------------------------------------------------------ spaCy's first pass, in Python
    def _py_tokens(self, c: str) -> list[str] | None:
        """spaCy's tokenization of the non-space chunk ``c`` (``Tokenizer._split_affixes`` and
        ``_attach_tokens``, same regexes, same order), or None where spaCy itself is needed: ``c`` or a
        part of it is a special case, or the result could be touched by the special-case matcher."""
        specials = self._specials
        if c in specials:
            return None
        token_match, prefix_search, suffix_search = self._token_match, self._prefix_search, self._suffix_search
        cache = self._cache
        prefixes: list[str] = []
        suffixes: list[str] = []
        string = c
        core = None  # tokens of the remaining string, known from the cache
        last_size = 0
        while string and len(string) != last_size:
            if string is not c:
                e = cache.get(string)
                if e is not None and e[5]:  # a pure cached chunk: the rest of the loop would give its tokens
                    core = e[1]
                    break
            if token_match and token_match(string):
                break
            if string in specials:
                return None
            last_size = len(string)
            m = prefix_search(string) if prefix_search is not None else None
            pre_len = (m.end() - m.start()) if m is not None else 0
            if pre_len != 0:
                prefix = string[:pre_len]
                minus_pre = string[pre_len:]
                if minus_pre and minus_pre in specials:
                    return None
            m = suffix_search(string[pre_len:]) if suffix_search is not None else None
            suf_len = (m.end() - m.start()) if m is not None else 0
            if suf_len != 0:
                suffix = string[-suf_len:]
                minus_suf = string[:-suf_len]
                if minus_suf and minus_suf in specials:
                    return None
            if pre_len and suf_len and (pre_len + suf_len) <= len(string):
                string = string[pre_len:-suf_len]
                prefixes.append(prefix)
                suffixes.append(suffix)
            elif pre_len:
                string = minus_pre
                prefixes.append(prefix)
            elif suf_len:
                string = minus_suf
                suffixes.append(suffix)
        tokens = prefixes
        if core is not None:
            tokens.extend(core)
        elif string:
            if string in specials:
                return None
            if (token_match and token_match(string)) or (self._url_match and self._url_match(string)):
                tokens.append(string)
            else:
                matches = list(self._infix_finditer(string)) if self._infix_finditer is not None else ()
                if not matches:
                    tokens.append(string)
                else:
                    start = 0
                    for match in matches:
                        infix_start, infix_end = match.start(), match.end()
                        if infix_start == 0:
                            continue
                        if infix_start != start:
                            tokens.append(string[start:infix_start])
                        if infix_start != infix_end:
                            tokens.append(string[infix_start:infix_end])
                        start = infix_end
                    if string[start:]:
                        tokens.append(string[start:])
        tokens.extend(reversed(suffixes))
        # the special-case matcher changes nothing unless some run of these tokens is a pattern
        pattern_tokens = self._pattern_tokens
        if any(t in pattern_tokens for t in tokens):
            patterns, k = self._patterns, len(tokens)
            for i in range(k):
                for j in range(i + 1, min(k, i + self._max_pattern) + 1):
                    if tuple(tokens[i:j]) in patterns:
                        return None
        return tokens

    def _is_punct(self, t: str) -> bool:
        """``Token.is_punct`` of a token with text ``t``: its lexeme's flag, or the flag a new lexeme gets.

        Memoized: a lexeme's flag never changes, and one made later gets the getter's flag, as here."""
        memo = self._punct_memo
        flag = memo.get(t)
        if flag is None:
            vocab = self._vocab
            if t in vocab:
                flag = vocab[t].is_punct
            else:
                flag = bool(self._punct_getter(t)) if self._punct_getter is not None else False
            if len(memo) >= _MAX_CHUNKS:
                memo.clear()
            memo[t] = flag
        return flag

    # ------------------------------------------------------------------ chunk cache
    def _fill(self, chunks) -> None:
        cache = self._cache
        missing = list(dict.fromkeys(c for c in chunks if c not in cache))
        if not missing:
            return
        stats = self.cache_stats
        stats["misses"] += len(missing)
        by_spacy = []
        # chunks of letters (most new chunks of real text): one token, as no affix can match (proved at setup)
        # and token_match / url_match keep a chunk whole; stored inline (the pure case of _store)
        letters = self._letters_one_token
        specials, patterns, memo = self._specials, self._patterns, self._punct_memo
        rights, lefts = self._rights, self._lefts
        for c in missing:
            if letters and c.isalpha() and c not in specials and (c,) not in patterns:
                flag = memo.get(c)
                if flag is None:
                    flag = self._is_punct(c)
                one = (c,)
                cache[c] = (one, one, (flag,), frozenset(one) if c in rights else None,
                            frozenset(one) if c in lefts else None, True)
            elif not c:
                cache[c] = _EMPTY_ENTRY
            elif c[0].isspace():
                by_spacy.append(c)
            else:
                texts = self._py_tokens(c)
                if texts is None:
                    by_spacy.append(c)
                else:
                    self._store(c, texts, [self._is_punct(t) for t in texts], True)
        stats["python"] += len(missing) - len(by_spacy)
        stats["spacy"] += len(by_spacy)
        if not by_spacy:
            return
        words_only = [c for c in by_spacy if not c[0].isspace()]
        with self._nlp.memory_zone():
            # Non-space chunks in one call, one per line: a "\n" between two chunks is a token of its own,
            # and no special-case pattern contains one, so each chunk is tokenized as if alone.
            tokens = [(t.idx, t.text, t.is_punct) for t in self._tok("\n".join(words_only))] if words_only else []
            per_chunk, k, pos = [], 0, 0
            for c in words_only:
                end, stop = k, pos + len(c)
                while end < len(tokens) and tokens[end][0] < stop:
                    end += 1
                if end == k or tokens[k][0] != pos or (end < len(tokens) and tokens[end][:2] != (stop, "\n")):
                    per_chunk = None  # not laid out as expected: tokenize the chunks one by one
                    break
                per_chunk.append(tokens[k:end])
                k, pos = end + 1, stop + 1
            if per_chunk is None:
                per_chunk = [[(t.idx, t.text, t.is_punct) for t in self._tok(c)] for c in words_only]
            for c, toks in zip(words_only, per_chunk):
                self._store(c, [t[1] for t in toks], [t[2] for t in toks], False)
            for c in by_spacy:  # space chunks (only used when counting sentences): one call each
                if c[0].isspace():
                    toks = [(t.text, t.is_punct) for t in self._tok(c)]
                    self._store(c, [t[0] for t in toks], [t[1] for t in toks], False)

    def _store(self, c: str, token_texts: list[str], token_flags: list[bool], pure: bool) -> None:
        texts = tuple(token_texts)
        flags = tuple(token_flags)
        if pure:
            # the Python replay's tokens of a non-space chunk: space-free, non-empty, and final (no special case
            # in or around them), so they are the words and their ends are the first-pass ends
            first, last = texts[0], texts[-1]
            self._cache[c] = (texts, texts, flags, frozenset((first,)) if first in self._rights else None,
                              frozenset((last,)) if last in self._lefts else None, True)
            return
        words = tuple(s for s in (t.strip() for t in texts) if len(s) > 0)
        if words == texts:
            texts = words  # one tuple for both (the usual case for a non-space chunk)
        first = last = None
        if texts:
            # the first-pass first/last token is the final one, unless the matcher merged tokens at the
            # chunk's edge into a special case R: then it is the edge token of R's pattern
            firsts = {texts[0]}
            lasts = {texts[-1]}
            # rules that are a prefix / suffix of c: walk c's prefixes while they are prefixes of some rule
            by_start, by_end = self._rules_by_start, self._rules_by_end
            heads, tails = self._rule_heads, self._rule_tails
            for n in range(1, len(c) + 1):
                h = c[:n]
                if h not in heads:
                    break
                p = by_start.get(h)
                if p:
                    firsts.update(p)
            for n in range(1, len(c) + 1):
                t = c[-n:]
                if t not in tails:
                    break
                p = by_end.get(t)
                if p:
                    lasts.update(p)
            first = frozenset(firsts & self._rights) or None
            last = frozenset(lasts & self._lefts) or None
        self._cache[c] = (words, texts, flags, first, last, pure)

    def _entries(self, chunks: list[str]) -> list[tuple]:
        cache = self._cache
        try:
            entries = list(map(cache.__getitem__, chunks))
        except KeyError:
            self._fill(chunks)
            entries = list(map(cache.__getitem__, chunks))
        self.cache_stats["lookups"] += len(chunks)
        _consume(map(cache.move_to_end, chunks))  # most recently used at the end
        excess = len(cache) - self.max_chunks
        if excess > 0:  # evict the least recently used (never this text's chunks: they were just moved)
            self.cache_stats["evictions"] += excess
            popitem = cache.popitem
            for _ in range(excess):
                popitem(last=False)
        return entries

    def _cross_chunk_risk(self, entries: list[tuple], seps: list[str]) -> bool:
        """True when two chunks joined by one space may form a special-case match across them."""
        lasts = list(map(_get_last, entries))
        if not any(lasts):
            return False
        pairs, space_pairs = self._pairs, self._space_pairs
        for k, left in enumerate(lasts):
            if left is not None and k < len(seps) and seps[k] == " ":
                after = entries[k + 1]
                right = after[3]
                if right is None:
                    continue
                # Between two pure chunks (no match inside either), a match across the space is a no-op unless
                # its text, space included, is a rule; next to a chunk spaCy tokenized, it could also win
                # spaCy's overlap filter against a match inside that chunk and so undo it.
                risky = space_pairs if entries[k][5] and after[5] else pairs
                if risky and any((a, b) in risky for a in left for b in right):
                    return True
        return False

    # ------------------------------------------------------------------ public
    def words(self, text: str) -> tuple[list[str], bool]:
        """``(split_into_words(text, language), words_are_space_free)``."""
        if self.fast and _ALPHA_TRAP not in text:
            parts = _WS_SPLIT.split(text)
            entries = self._entries(parts[0::2])
            if not self._cross_chunk_risk(entries, parts[1::2]):
                self.counts["fast"] += 1
                return list(chain.from_iterable(map(_get_words, entries))), True
        self.counts["stock"] += 1
        return _stock_words(text, self.language), False

    def count_sentences(self, line: str) -> int:
        """``len(split_into_sentences(line, language))``."""
        if not self.fast or not line or _ALPHA_TRAP in line:
            self.counts["stock"] += 1
            return _stock_sentences(line, self.language)
        parts = _WS_SPLIT.split(line)
        seps = parts[1::2]
        # spaCy's chunks: non-space runs, and space runs minus the one ' ' that follows a token.
        chunks = []
        for i, p in enumerate(parts):
            # a space run right after a token loses its first ' '; one at the very start is kept whole
            if i & 1 and p[0] == " " and (i > 1 or parts[0]):
                p = p[1:]
            chunks.append(p)
        entries = self._entries(chunks)
        if self._cross_chunk_risk(entries[0::2], seps):
            self.counts["stock"] += 1
            return _stock_sentences(line, self.language)
        # spaCy's Sentencizer.predict, counting sentence starts
        punct_chars = self._punct_chars
        n_tokens = 0
        starts = 1
        seen_period = False
        for e in entries:
            n_tokens += len(e[1])
            for text, is_punct in zip(e[1], e[2]):
                in_punct_chars = text in punct_chars
                if seen_period and not is_punct and not in_punct_chars:
                    starts += 1
                    seen_period = False
                elif in_punct_chars:
                    seen_period = True
        if n_tokens == 0:  # not reached for a non-empty line; keep datatrove's own answer
            self.counts["stock"] += 1
            return _stock_sentences(line, self.language)
        self.counts["fast"] += 1
        return starts


_SPLITTERS: dict[str, WordSplitter] = {}


def word_splitter(language: str) -> WordSplitter:
    """The process's splitter for ``language`` (one chunk cache per language, created on first use)."""
    sp = _SPLITTERS.get(language)
    if sp is None:
        sp = _SPLITTERS[language] = WordSplitter(language)
    return sp


def split_counts(language: str = Languages.english) -> dict[str, int]:
    """How many texts / lines were split from the chunk cache (``fast``) or by datatrove (``stock``)."""
    return dict(word_splitter(language).counts)


def cache_stats(language: str = Languages.english) -> dict[str, float]:
    """The chunk cache of ``language`` since the last :func:`clear_caches`: ``lookups`` (chunk occurrences
    looked up), ``misses`` (chunks tokenized), ``hit_rate`` (1 - misses / lookups), ``evictions`` (least
    recently used chunks dropped at the size bound), ``python`` / ``spacy`` (missed chunks tokenized by
    the Python replay of spaCy's affix rules / by spaCy itself), ``size`` and ``max_size``."""
    sp = word_splitter(language)
    st: dict[str, float] = dict(sp.cache_stats)
    st["hit_rate"] = 1.0 - st["misses"] / st["lookups"] if st["lookups"] else 0.0
    st["size"], st["max_size"] = len(sp._cache), sp.max_chunks
    return st


def clear_caches() -> None:
    """Forget every language's chunk tokenizations and counts (e.g. between benchmark runs)."""
    for sp in _SPLITTERS.values():
        sp.counts = {"fast": 0, "stock": 0}
        sp.cache_stats = dict.fromkeys(_CACHE_STAT_KEYS, 0)
        sp._cache.clear()
        sp._cache[""] = _EMPTY_ENTRY

