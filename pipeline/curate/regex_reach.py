"""Whether a compiled regex can ever match inside a string made only of letters (``str.isalpha``).

The fast word splitter (:mod:`pipeline.curate.word_split`) tokenizes a chunk of letters as one token
without running spaCy's prefix / suffix / infix regexes, but only where this module proves, from the
regexes themselves, that none of them can match there. The proof reads the pattern's parse tree
(``re._parser``, the tree ``re.compile`` builds) and over-approximates: negative lookarounds, back
references and anything unknown count as "may match", so a ``False`` answer is a proof and a ``True``
answer may be a false alarm (the splitter then just takes its slow path).
"""

from __future__ import annotations

import re
from functools import lru_cache

try:  # Python >= 3.11
    from re import _constants as _c, _parser as _p
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

__all__ = ["reach_in_letters"]


@lru_cache(maxsize=4096)
def _alpha_in_range(lo: int, hi: int) -> bool:
    return any(chr(i).isalpha() for i in range(lo, hi + 1))


# a class category -> can it match a letter? (letters are \w, never \d, \s or a line break)
_CATEGORY_HAS_LETTER = {
    _c.CATEGORY_DIGIT: False, _c.CATEGORY_NOT_DIGIT: True,
    _c.CATEGORY_SPACE: False, _c.CATEGORY_NOT_SPACE: True,
    _c.CATEGORY_WORD: True, _c.CATEGORY_NOT_WORD: False,
    _c.CATEGORY_LINEBREAK: False, _c.CATEGORY_NOT_LINEBREAK: True,
    _c.CATEGORY_UNI_DIGIT: False, _c.CATEGORY_UNI_NOT_DIGIT: True,
    _c.CATEGORY_UNI_SPACE: False, _c.CATEGORY_UNI_NOT_SPACE: True,
    _c.CATEGORY_UNI_WORD: True, _c.CATEGORY_UNI_NOT_WORD: False,
    _c.CATEGORY_UNI_LINEBREAK: False, _c.CATEGORY_UNI_NOT_LINEBREAK: True,
}


def _class_has_letter(items) -> bool:
    for op, av in items:
        if op is _c.NEGATE:
            return True  # a negated class matches nearly everything: may match
        if op is _c.LITERAL and chr(av).isalpha():
            return True
        if op is _c.RANGE and _alpha_in_range(*av):
            return True
        if op is _c.CATEGORY and _CATEGORY_HAS_LETTER.get(av, True):
            return True
        if op not in (_c.LITERAL, _c.RANGE, _c.CATEGORY):
            return True
    return False


def _seq(items) -> tuple[bool, bool]:
    """``(may match "", may match a non-empty run of letters)`` for a sequence of parse-tree nodes."""
    empty, nonempty = True, False
    for op, av in items:
        e, n = _node(op, av)
        if not (e or n):
            return False, False
        nonempty = (nonempty and (e or n)) or (empty and n)
        empty = empty and e
    return empty, nonempty


def _node(op, av) -> tuple[bool, bool]:
    if op is _c.LITERAL:
        return False, chr(av).isalpha()
    if op is _c.NOT_LITERAL or op is _c.ANY:
        return False, True
    if op is _c.IN:
        return False, _class_has_letter(av)
    if op is _c.AT:
        return True, False
    if op is _c.BRANCH:
        results = [_seq(branch) for branch in av[1]]
        return any(e for e, _ in results), any(n for _, n in results)
    if op is _c.SUBPATTERN:
        return _seq(av[-1])
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        lo, hi, sub = av
        e, n = _seq(sub)
        return lo == 0 or e, bool(hi) and n
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return _seq(av)
    if op is _c.ASSERT:
        # a positive lookaround inside a string of letters only sees letters (or nothing, at an end)
        e, n = _seq(av[1])
        return (e or n), False
    if op is _c.ASSERT_NOT:
        return True, False
    return True, True  # back references, conditionals, anything new: may match


def reach_in_letters(pattern: re.Pattern) -> tuple[bool, bool]:
    """``(may match "", may match a non-empty run of letters)``, at any position of a string made only of
    letters. ``(False, False)``: ``search`` / ``finditer`` on such a string find nothing; ``(True, False)``:
    only empty matches."""
    if pattern.flags & re.IGNORECASE:
        return True, True  # keep the proof simple: case folding is not modelled
    try:
        tree = _p.parse(pattern.pattern, pattern.flags)
    except Exception:
        return True, True
    return _seq(list(tree))
