"""How much of a word list repeats as n-grams: datatrove's Gopher repetition measures, same answers, faster.

:func:`top_ngram_chars` is ``find_top_duplicate(get_n_grams(words, n))``: ``Counter`` over word tuples
(the " "-joined string is injective when words never contain a space) keeping ``most_common``'s tie order
(first seen). :class:`RepeatedNgrams` is ``find_all_duplicate(words, n)``: substrings of the joined words
are hashed with numpy to find the positions whose n-gram occurred before (checked as strings), and
datatrove's greedy walk is replayed over those alone.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from itertools import accumulate
from operator import itemgetter

import numpy as np

__all__ = ["top_ngram_chars", "RepeatedNgrams"]


def top_ngram_chars(words: list[str], n: int, space_free: bool) -> int | None:
    """``find_top_duplicate(get_n_grams(words, n))``, or None when there are no n-grams.

    ``space_free``: no word contains a space (then n-grams are counted as word tuples)."""
    if not space_free or n <= 0:  # " ".join may not be injective: count the strings themselves
        grams = [" ".join(words[i: i + n]) for i in range(len(words) - n + 1)]
        if not grams:
            return None
        top, count = max(Counter(grams).items(), key=itemgetter(1))
        return len(top) * count
    if len(words) < n:
        return None
    counts = Counter(zip(*(words[i:] for i in range(n))))
    # most_common(1) is max() over items in insertion (first seen) order: same tie-break
    top, count = max(counts.items(), key=itemgetter(1))
    return (sum(map(len, top)) + n - 1) * count


def _dup_ngram_chars(joined: str, offsets: list[int], n: int, text_len: int, n_frac: float) -> int:
    """``find_all_duplicate(words, n)``, or a partial sum already past the filter's threshold
    (``repeated / text_len > n_frac``, monotone in ``repeated``)."""
    grams = [joined[a:b] for a, b in zip(offsets, offsets[n:])]
    if len(set(grams)) == len(grams):
        return 0
    seen: set[str] = set()
    repeated, idx, end = 0, 0, len(grams)
    while idx < end:
        g = grams[idx]
        if g in seen:
            repeated += len(g)
            if repeated / text_len > n_frac:
                return repeated
            idx += n
        else:
            seen.add(g)
            idx += 1
    return repeated


# Polynomial hashing of substrings of the joined words, mod 2**64 (numpy uint64 arithmetic wraps):
# H[k] = sum_{t<k} c_t * B**t, and the hash of J[a:b] is (H[b] - H[a]) * B**-a. Equal strings always get
# equal hashes; hashes are only used to find candidate repeats, which are then compared as strings.
_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible mod 2**64
_HASH_BASE_INV = np.uint64(pow(0x9E3779B97F4A7C15, -1, 2**64))
_HASH_LEN_MIX = np.uint64(0xC2B2AE3D27D4EB4F)
_POWERS = np.ones(1, dtype=np.uint64)
_INV_POWERS = np.ones(1, dtype=np.uint64)


_MAX_KEPT_POWERS = 1 << 21  # longer texts get their own, unkept tables


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(B**t, B**-t)`` for t < n (at least), mod 2**64."""
    global _POWERS, _INV_POWERS
    if len(_POWERS) >= n:
        return _POWERS, _INV_POWERS
    size = max(n, min(2 * len(_POWERS), _MAX_KEPT_POWERS), 4096)
    powers = np.concatenate(([np.uint64(1)], np.cumprod(np.full(size - 1, _HASH_BASE, dtype=np.uint64))))
    inv_powers = np.concatenate(([np.uint64(1)], np.cumprod(np.full(size - 1, _HASH_BASE_INV, dtype=np.uint64))))
    if size <= _MAX_KEPT_POWERS:
        _POWERS, _INV_POWERS = powers, inv_powers
    return powers, inv_powers


class RepeatedNgrams:
    """``find_all_duplicate(words, n)`` for several n over one word list.

    datatrove's greedy walk: at position i, if the "".join of the n-gram was seen at a visited position,
    count its characters and jump n positions, else remember it and step 1. Only positions whose n-gram
    occurred earlier (``candidates``, found by hashing and checked as strings) can count, so the walk is
    replayed over them alone: a candidate counts iff its n-gram's first occurrence was visited (not inside
    a jump) or an earlier candidate with the same n-gram was visited without counting.
    """

    def __init__(self, words: list[str]):
        self.words = words
        self.joined = "".join(words)
        self.offsets = list(accumulate(map(len, words), initial=0))
        self._offs = np.array(self.offsets, dtype=np.int64)
        size = len(self.joined)
        pw, ipw = _powers(size + 1)
        codes = np.frombuffer(self.joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        prefix = np.zeros(size + 1, dtype=np.uint64)
        np.cumsum(codes * pw[:size], out=prefix[1:])
        self._prefix, self._ipw = prefix, ipw

    def chars(self, n: int, text_len: int, n_frac: float) -> int:
        """The repeated characters, or a partial sum already past ``repeated / text_len > n_frac``."""
        n_grams = len(self.words) - n + 1
        if n_grams <= 1:
            return 0
        offs = self._offs
        starts, ends = offs[:n_grams], offs[n:]
        keys = (self._prefix[ends] - self._prefix[starts]) * self._ipw[starts]
        keys ^= (ends - starts).astype(np.uint64) * _HASH_LEN_MIX
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        if len(uniq) == n_grams:  # all hashes distinct: no n-gram repeats
            return 0
        firsts = first[inverse.reshape(-1)]
        candidates = np.flatnonzero(firsts != np.arange(n_grams)).tolist()
        firsts = firsts.tolist()
        joined, o = self.joined, self.offsets
        for p in candidates:  # hash groups must be string classes, else use the plain walk
            f = firsts[p]
            if joined[o[p]:o[p + n]] != joined[o[f]:o[f + n]]:
                return _dup_ngram_chars(joined, o, n, text_len, n_frac)
        repeated = 0
        next_free = 0  # positions before it lie inside the last jump
        jumps: list[int] = []  # positions that counted (each skips the n - 1 positions after it)
        visited_repeat: set[int] = set()  # first positions of n-grams seen again at a visited position
        for p in candidates:
            if p < next_free:
                continue
            f = firsts[p]
            if f not in visited_repeat:
                k = bisect_left(jumps, f) - 1
                first_visited = k < 0 or jumps[k] + n <= f
                if not first_visited:
                    visited_repeat.add(f)  # this occurrence is the first one remembered
                    continue
            repeated += o[p + n] - o[p]
            if repeated / text_len > n_frac:
                return repeated
            jumps.append(p)
            next_free = p + n
        return repeated
