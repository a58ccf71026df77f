"""Decode a web page's bytes the way a browser would, and detect the charset when the declared one is wrong.

Order (as in the HTML standard's encoding sniffing): a byte-order mark, then the charset declared in the
HTTP ``Content-Type`` header, then one declared in the page's own ``<meta>`` tag, then UTF-8. Labels are
mapped as browsers map them (``iso-8859-1``, ``latin1`` and ``ascii`` mean windows-1252).

A declared charset is *implausible* when decoding with it fails, or when the bytes are valid UTF-8 with
multi-byte sequences while a single-byte charset was declared (decoding them as declared would give
"Ã©"-style mojibake; valid multi-byte UTF-8 by chance is vanishingly rare). Then the charset is detected
with ``charset_normalizer`` (a maintained detector that scores candidate decodings by how "messy" the text
comes out) and the outcome is ``fallback``. A page whose bytes no candidate decodes cleanly is
``undecodable``: the reader drops it with the reason ``charset``; it is never kept as mojibake.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple, Optional

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# browsers decode these labels as windows-1252 (WHATWG Encoding Standard)
_AS_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii", "iso_8859-1",
                    "cp819", "ibm819", "windows-1252", "cp1252", "x-cp1252"}
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_SCAN_BYTES = 4096  # the HTML standard prescans the first 1024 bytes; real pages put <meta> later
# Python codecs that decode bytes to text but are no web page's charset (a page declaring one is wrong)
_NOT_PAGE_CHARSETS = {"undefined", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "mbcs", "oem",
                      "base64", "hex", "quopri", "uu", "zlib", "bz2", "rot-13"}  # the last: bytes to bytes
_MULTIBYTE_UTF8 = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


class Decoded(NamedTuple):
    text: Optional[str]  # None when undecodable
    encoding: Optional[str]  # the codec used
    how: str  # "bom" | "declared" | "utf-8" | "fallback" | "undecodable"


def normalize_label(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when the label names no known codec."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _AS_WINDOWS_1252:
        return "cp1252"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return None if name in _NOT_PAGE_CHARSETS else name


def declared_charset(content_type: str | None, head: bytes) -> tuple[str | None, bool]:
    """(codec name of the declared charset, whether anything was declared at all).

    The HTTP header wins over the page's ``<meta>``. An unknown label counts as declared (and wrong)."""
    label = None
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        label = m.group(1) if m else None
    if label is None:
        m = _META_CHARSET.search(head[:_META_SCAN_BYTES])
        label = m.group(1).decode("ascii", "replace") if m else None
    return normalize_label(label), label is not None


def _strict(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except (UnicodeError, LookupError):  # UnicodeError: a codec such as punycode failing its own way
        return None


def _single_byte(encoding: str) -> bool:
    return codecs.lookup(encoding).name not in ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "big5",
                                                "gb2312", "gbk", "gb18030", "shift_jis", "euc_jp", "euc_kr",
                                                "iso2022_jp", "cp932", "cp949", "cp950", "big5hkscs")


def detect(content: bytes) -> Decoded:
    """The detector's best decoding, or ``undecodable`` when no candidate decodes cleanly.

    Where candidates tie (same messiness and language coherence, e.g. windows-1250 and windows-1252 on
    German text), windows-1252 wins: it is by far the most common legacy charset of the web, and the
    detector's own tie order would turn "è" into "č"."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(content))
    if not matches:
        return Decoded(None, None, "undecodable")
    best = matches[0]
    tied = [m for m in matches if m.chaos <= best.chaos and m.coherence >= best.coherence]
    encoding = "cp1252" if any("cp1252" in m.could_be_from_charset for m in tied) else best.encoding
    text = _strict(content, encoding)
    if text is None:
        return Decoded(None, None, "undecodable")
    return Decoded(text, encoding, "fallback")


def decode_page(content: bytes, content_type: str | None = None) -> Decoded:
    """Text of a page's payload bytes; ``content_type`` is the HTTP (or WARC record's) Content-Type value."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            text = _strict(content[len(bom):], encoding)
            return Decoded(text, encoding, "bom") if text is not None else detect(content)
    encoding, declared = declared_charset(content_type, content)
    if encoding is not None and encoding != "utf-8":
        text = _strict(content, encoding)
        # UTF-8 is only tried where it could be the truth: the declared charset failed, or the bytes hold
        # multi-byte UTF-8 sequences that a single-byte charset would turn into mojibake
        maybe_utf8 = text is None or (_single_byte(encoding) and _MULTIBYTE_UTF8.search(content) is not None)
        utf8 = _strict(content, "utf-8") if maybe_utf8 else None
        if utf8 is not None:
            return Decoded(utf8, "utf-8", "fallback")
        return Decoded(text, encoding, "declared") if text is not None else detect(content)
    utf8 = _strict(content, "utf-8")
    if utf8 is not None:
        return Decoded(utf8, "utf-8", "declared" if declared else "utf-8")
    return detect(content)
