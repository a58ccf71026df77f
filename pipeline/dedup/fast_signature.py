"""MinHash signatures, identical to datatrove's, computed faster.

Where the stock ``MinhashDedupSignature`` spends its time (``benchmarks/minhash_throughput.py``): most
of it in spaCy, which tokenizes every simplified text from scratch; then the text normalization's
per-character diacritics pass, and hashing the " "-joined n-grams one Python call each. Here:

* **Words**: the curation chain's exact, chunk-cached split (``pipeline.curate.word_split``): each
  distinct whitespace-delimited chunk is tokenized once per process (spaCy's own affix rules, replayed
  in Python where spaCy's special cases cannot be involved, else spaCy itself), kept in a bounded LRU
  cache, and texts where spaCy could behave differently across chunks fall back to datatrove's own
  ``word_tokenize``.
* **Normalization**: ``simplify_text``'s steps in its order with datatrove's own patterns, but
  punctuation becomes spaces through one regex character class (datatrove's table maps each of its
  characters to " "; ``str.translate`` with a dict is slow on non-ASCII text), and the diacritics pass
  (NFD, then drop every character of category ``Mn``) asks the category once per distinct character
  and removes the marks found with ``str.replace``; an ASCII NFD text has no ``Mn``. Any other
  normalization config (new fields) goes to ``simplify_text`` itself.
* **Shingles**: n-gram ``i`` is the slice of ``" ".join(words)`` from word ``i`` to word ``i + n - 1``,
  which is exactly ``" ".join(words[i:i + n])``; with sha1 hashing, the UTF-8 bytes of that string are
  sliced the same way (byte offsets from the words' UTF-8 lengths) and hashed inline
  (``int.from_bytes(sha1(b).digest()[:8], "little")`` is the ``struct.unpack("<Q", ...)`` of datatrove's
  ``sha1_hash64``); other hash functions get the string slices. The permutation arithmetic and everything after it is datatrove's own code.

Signatures are bit-identical (``tests/test_dedup_signatures.py``, and the benchmark compares the
signature files byte for byte)."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from hashlib import sha1
from itertools import accumulate

import numpy as np
from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
from datatrove.utils.text import (
    MONTHS_PATTERN,
    NUMBERS_PATTERN,
    PUNCTUATION_TRANS,
    WEEKDAYS_PATTERN,
    WHITESPACE_PATTERN,
    simplify_text,
)

from pipeline.curate.word_split import UnsplittableText, word_splitter

_NORM_FIELDS = {"lowercase", "norm_numbers", "norm_weekdays", "norm_monthnames", "remove_punctuation",
                "norm_whitespace", "norm_unicode_diacritics"}
# PUNCTUATION_TRANS maps each of its characters to " ": one character class does the same substitution
_PUNCT_TO_SPACE = (re.compile("[" + "".join(re.escape(chr(k)) for k in PUNCTUATION_TRANS) + "]")
                   if set(PUNCTUATION_TRANS.values()) == {ord(" ")} else None)


def simplify(text: str, config) -> str:
    """``simplify_text(text, config)``: its steps in its order, with datatrove's own patterns; punctuation
    to spaces with one regex instead of ``str.translate``, and a cheaper diacritics pass."""
    if _PUNCT_TO_SPACE is None or {f.name for f in dataclasses.fields(config)} != _NORM_FIELDS:
        return simplify_text(text, config)
    if config.lowercase:
        text = text.lower()
    if config.norm_numbers:
        text = NUMBERS_PATTERN.sub("0", text)
    if config.norm_weekdays:
        text = WEEKDAYS_PATTERN.sub("WEEKDAY", text)
    if config.norm_monthnames:
        text = MONTHS_PATTERN.sub("MONTH", text)
    if config.remove_punctuation:
        text = _PUNCT_TO_SPACE.sub(" ", text)
    if config.norm_whitespace:
        text = WHITESPACE_PATTERN.sub(" ", text.strip())
    if config.norm_unicode_diacritics:
        text = unicodedata.normalize("NFD", text)
        if not text.isascii():
            for mark in [c for c in set(text) if unicodedata.category(c) == "Mn"]:
                text = text.replace(mark, "")
    return text.strip()


class FastMinhashDedupSignature(MinhashDedupSignature):
    """Drop-in for ``MinhashDedupSignature``: same arguments, same files, same signatures."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hc = self.config.hash_config
        self._sha1_bytes = {64: 8, 32: 4}.get(hc.precision) if hc.hash_fc == "sha1" else None

    def get_shingles(self, text: str) -> np.ndarray:
        simplified = simplify(text, self.config.norm_config)
        try:
            words, _ = word_splitter(self.language).words(simplified)
        except UnsplittableText:  # spaCy failed on it: no signature (never a duplicate), counted, no failed task
            self.stat_update("word_split_error")
            return np.empty((0, 1), dtype=np.uint64)
        n = self.config.n_grams
        n_grams = len(words) - n + 1
        if n <= 0 or n_grams <= 0:  # datatrove's ngrams() gives nothing (or, n <= 0, something odd)
            return super().get_shingles(text) if n <= 0 else np.empty((0, 1), dtype=np.uint64)
        joined = " ".join(words)
        starts = list(accumulate((len(w) + 1 for w in words), initial=0))  # word i at starts[i]
        ends = [s - 1 for s in starts[n:]]  # n-gram i ends where word i + n - 1 does
        k = self._sha1_bytes
        if k is not None:
            data = joined.encode("utf-8")
            if len(data) != len(joined):  # not ASCII: offsets in bytes
                starts = list(accumulate((len(w.encode("utf-8")) + 1 for w in words), initial=0))
                ends = [s - 1 for s in starts[n:]]
            data = [data[a:b] for a, b in zip(starts, ends)]
            from_bytes = int.from_bytes
            hashes = [from_bytes(sha1(g).digest()[:k], "little") for g in data]
        else:
            hash_fc = self._hash_func
            hashes = [hash_fc(joined[a:b]) for a, b in zip(starts, ends)]
        return np.fromiter(hashes, dtype=np.uint64).reshape((-1, 1))
