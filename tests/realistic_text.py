"""Generated documents about as hard as real web text, for throughput benchmarks and the tests of the fast
filters and signatures (no downloads, no third-party text: every word is made here from random syllables).

    .venv/bin/python tests/realistic_text.py [--docs 1200] [--seed 0] [--show 2]

A fixture shared by ``tests/`` and ``benchmarks/`` (benchmarks put ``tests/`` on ``sys.path`` to import it).

Why: the embedded sample draws its words from a closed vocabulary of a few thousand types, so anything
that caches per word (the fast filters' chunk tokenizations) hits almost always; real Common Crawl text
does not. Here:

* **Open vocabulary, Zipfian tail.** Content words are drawn by rank from a power law (``P(r) ~ r ** -1.12``
  over 2 million ranks), and rank -> word is a fixed scramble of the rank into 1-4 syllables; with
  inflections, capitalisation, attached punctuation, accents and the odd Cyrillic word, about 1,000 docs
  hold well over 100,000 distinct whitespace-delimited chunks, about half of them seen once.
* **A core of function words** (about 45% of running words, their own Zipf law) so that the Gopher
  stop-word check passes for ordinary pages, as on real English pages.
* **Web-page furniture:** numbers, prices, percentages, dates and times in several formats, URLs, e-mail
  addresses, @handles, hashtags, abbreviations and contractions (spaCy special cases), ALL-CAPS, emoji,
  CJK runs, bullet lines, navigation / footer / cookie lines, bylines, "read more" lines.
* **Page kinds** (articles, articles with navigation and footer, listings, forums, spam, duplicated
  templates, short pages, code tutorials, foreign-script pages, number tables, lorem ipsum, tag clouds),
  so that every one of GopherRepetition, GopherQuality, C4 and FineWeb keeps some pages and drops some,
  for several reasons.
* **Lengths like real pages:** log-normal character targets, median ~2.5 KB, long tail to ~60 KB.

:func:`realistic_docs` gives extracted-text documents (what the quality filters see);
:func:`realistic_html_pages` wraps the same kind of text in full HTML pages (head, header and nav,
article with headings, paragraphs and lists, aside, footer, scripts) for extraction benchmarks.
Everything is a pure function of ``(n, seed)``.
"""

from __future__ import annotations

import argparse
import html as html_lib
import math
import random
import re
from collections import Counter

import numpy as np

# ----------------------------------------------------------------------------- vocabulary
# Ordered roughly by frequency in English prose; the first ones carry most of the mass.
FUNCTION_WORDS = (
    "the of and to a in is that for it with as was on be by at this are from or have an not but they which "
    "you we his her their has had were been will would can there all more one if so about also what when "
    "out up who its other into than them some could these only new time our may like over such no most "
    "after first any two just how where then do does did my your me him those through many because should "
    "very well even being while each between both under same before still now made must here off down "
    "during without again against around much however another since few why own us upon per among within "
    "until whether although often though yet always never every himself itself"
).split()
CONTRACTIONS = ("don't", "it's", "can't", "isn't", "won't", "didn't", "you're", "we're", "they're", "I'm",
                "I've", "that's", "there's", "doesn't", "wasn't", "let's", "we'll", "you'll", "he's", "she's")
ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "Dr.", "Mr.", "Mrs.", "St.", "vs.", "approx.", "No.", "Jan.", "Feb.",
                 "U.S.", "a.m.", "p.m.", "Inc.", "Ltd.", "Co.", "Fig.", "cf.")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")

_ONSETS = ("", "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
           "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sc", "sh", "sl", "sp", "st", "str",
           "th", "tr", "wh", "qu", "sn", "bl", "kr")
_NUCLEI = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "io", "ou", "y", "oo", "ie", "au")
_CODAS = ("", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "nt", "st", "ck", "ng", "rt", "x", "ll", "ss",
          "th", "sh", "mp", "rk", "ft")
_SUFFIXES = ("s", "s", "ed", "ing", "ly", "er", "ers", "ion", "ness", "al", "ity", "ment", "ful", "ic", "ous")
_ACCENTS = {"a": "áàâäå", "e": "éèêë", "i": "íîï", "o": "óôöø", "u": "úûü", "c": "ç", "n": "ñ", "s": "ß"}
_CYRILLIC = dict(zip("abvgdeziklmnoprstufhcy", "абвгдезиклмнопрстуфхцы"))
_CJK_POOL = [chr(0x4E00 + (i * 7919) % 20000) for i in range(3000)]
_EMOJI = [chr(c) for c in list(range(0x1F600, 0x1F640)) + list(range(0x1F300, 0x1F320)) + [0x2764, 0x2705, 0x2B50]]
_TLDS = ("com", "com", "com", "org", "net", "de", "co.uk", "io", "info", "fr", "ru", "edu")

_N_RANKS = 2_000_000
_ZIPF_S = 1.12  # P(rank r) ~ r ** -s over [1, _N_RANKS]
_ZIPF_A = 1.0 - _N_RANKS ** (1.0 - _ZIPF_S)


def _mix(x: int) -> int:
    """A fixed 64-bit scramble (splitmix64 finaliser)."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


class Vocabulary:
    """rank -> word, a deterministic function of ``(seed, rank)``; frequent ranks get shorter words."""

    def __init__(self, seed: int):
        self.seed = seed
        self._words: dict[int, str] = {}

    def word(self, rank: int) -> str:
        w = self._words.get(rank)
        if w is None:
            x = _mix(rank * 1_000_003 + self.seed)
            n_syl = 1 if rank < 150 else 1 + (x & 1) if rank < 4000 else 2 if rank < 100_000 else 2 + (x & 1)
            x >>= 1
            parts = []
            for _ in range(n_syl):
                parts.append(_ONSETS[x % len(_ONSETS)])
                x //= len(_ONSETS)
                parts.append(_NUCLEI[x % len(_NUCLEI)])
                x //= len(_NUCLEI)
                parts.append(_CODAS[x % len(_CODAS)])
                x //= len(_CODAS)
                if x < 1000:
                    x = _mix(x + rank)
            w = "".join(parts)
            if len(w) < 2:
                w += "n"
            h = _mix(rank ^ 0x5555 ^ self.seed)
            if h % 23 == 0:  # accented Latin (loanwords, names)
                i = next((k for k, ch in enumerate(w) if ch in _ACCENTS), None)
                if i is not None:
                    acc = _ACCENTS[w[i]]
                    w = w[:i] + acc[(h >> 8) % len(acc)] + w[i + 1:]
            elif h % 61 == 1:  # a Cyrillic word
                w = "".join(_CYRILLIC.get(ch, ch) for ch in w)
            self._words[rank] = w
        return w


# ----------------------------------------------------------------------------- sentences
class _Writer:
    """Draws words, sentences, paragraphs and page furniture from one rng stream."""

    def __init__(self, rng: random.Random, vocab: Vocabulary):
        self.rng = rng
        self.vocab = vocab
        self.nrng = np.random.default_rng(rng.getrandbits(63))
        fw = np.array([1.0 / (i + 1.5) for i in range(len(FUNCTION_WORDS))])
        self._fw_cdf = np.cumsum(fw / fw.sum())
        self._buf: list[int] = []
        self.names = [self.name() for _ in range(3)]  # people a page keeps mentioning
        # topic words: rarer words a page keeps repeating (burstiness: a rare word seldom comes alone)
        self.topic = [self._content_rank() + 300 for _ in range(rng.randint(15, 60))]

    def _content_rank(self) -> int:
        if not self._buf:
            u = self.nrng.random(512)
            ranks = np.floor((1.0 - u * _ZIPF_A) ** (1.0 / (1.0 - _ZIPF_S)))
            self._buf = np.minimum(ranks, _N_RANKS).astype(np.int64).tolist()
        return self._buf.pop()

    def content(self) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            r = self.topic[int(rng.random() * len(self.topic))]
        else:
            r = self._content_rank()
        w = self.vocab.word(r)
        p = rng.random()
        if p < 0.12 and len(w) > 2:
            w += _SUFFIXES[int(rng.random() * len(_SUFFIXES))]
        elif p < 0.135:
            w = w + "-" + self.vocab.word(self.topic[int(rng.random() * len(self.topic))])
        return w

    def function(self) -> str:
        return FUNCTION_WORDS[int(np.searchsorted(self._fw_cdf, self.rng.random()))]

    def name(self) -> str:
        return self.vocab.word(self._content_rank() + 50).capitalize()

    def number(self) -> str:
        rng = self.rng
        k = rng.random()
        if k < 0.3:
            return str(rng.randint(2, 99))
        if k < 0.45:
            return str(rng.randint(1950, 2026))
        if k < 0.6:
            return f"{rng.randint(1, 999)},{rng.randint(0, 999):03d}"
        if k < 0.7:
            return f"{rng.uniform(0, 100):.{rng.randint(1, 2)}f}"
        if k < 0.8:
            return f"{rng.randint(1, 99)}%"
        if k < 0.9:
            return rng.choice(["$", "€", "£"]) + f"{rng.randint(1, 2999)}.{rng.randint(0, 99):02d}"
        return str(rng.randint(100, 999_999))

    def date(self) -> str:
        rng = self.rng
        y, m, d = rng.randint(1998, 2026), rng.randint(1, 12), rng.randint(1, 28)
        return rng.choice([f"{d} {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1]} {d}, {y}", f"{y}-{m:02d}-{d:02d}",
                           f"{m:02d}/{d:02d}/{y}", f"{d}.{m}.{y}", f"{MONTHS[m - 1][:3]} {d}"])

    def url(self) -> str:
        rng, c = self.rng, self.content
        host = rng.choice(["", "www.", "blog.", "shop.", "m."]) + c().replace("-", "") + rng.choice(["", c()[:5]])
        path = "/".join(c() for _ in range(rng.randint(0, 3)))
        u = f"{rng.choice(['https://', 'https://', 'http://', ''])}{host}.{rng.choice(_TLDS)}/{path}"
        if rng.random() < 0.3:
            u += f"?id={rng.randint(1, 99999)}&ref={c()[:6]}"
        return u

    def email(self) -> str:
        return f"{self.content()[:8]}.{self.content()[:6]}@{self.content()[:9]}.{self.rng.choice(_TLDS)}"

    def special(self) -> str:
        rng = self.rng
        k = rng.random()
        if k < 0.28:
            return self.number()
        if k < 0.38:
            return self.date()
        if k < 0.45:
            return self.url()
        if k < 0.49:
            return self.email()
        if k < 0.56:
            return rng.choice(ABBREVIATIONS)
        if k < 0.68:
            return rng.choice(CONTRACTIONS)
        if k < 0.73:
            return f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d}" + rng.choice(["", " a.m.", " pm", " PM"])
        if k < 0.78:
            return self.content().upper()
        if k < 0.82:
            return "@" + self.content()[:10]
        if k < 0.85:
            return rng.choice(_EMOJI)
        if k < 0.89:
            return "".join(rng.choice(_CJK_POOL) for _ in range(rng.randint(2, 6)))
        if k < 0.94:
            return self.names[int(rng.random() * 3)]
        return self.name() + " " + self.name()

    def sentence(self, n: int | None = None) -> str:
        rng = self.rng
        if n is None:
            n = max(3, min(70, int(rng.lognormvariate(2.8, 0.45))))
        words = []
        for _ in range(n):
            p = rng.random()
            if p < 0.45:
                w = self.function()
            elif p < 0.905:
                w = self.content()
            elif p < 0.945:
                w = self.names[int(rng.random() * 3)] if rng.random() < 0.5 else self.name()
            else:
                w = self.special()
            q = rng.random()
            if q < 0.055:
                w += ","
            elif q < 0.065:
                w += rng.choice([";", ":", ")", "'s", "\u2019s"])
            elif q < 0.072:
                w = rng.choice(["(", "\"", "\u201c", "'"]) + w
            elif q < 0.076:
                w = "\"" + w + "\""
            words.append(w)
        words[0] = words[0][:1].upper() + words[0][1:]
        end = rng.random()
        tail = "." if end < 0.86 else "?" if end < 0.91 else "!" if end < 0.95 else "..." if end < 0.97 else \
            "\u2026" if end < 0.98 else ""
        return " ".join(words) + tail

    def paragraph(self, k: int | None = None) -> str:
        if k is None:
            k = max(1, min(9, int(self.rng.lognormvariate(1.1, 0.55))))
        return " ".join(self.sentence() for _ in range(k))

    def title(self) -> str:
        n = self.rng.randint(3, 11)
        ws = [self.content().capitalize() if self.rng.random() < 0.6 else self.function() for _ in range(n)]
        ws[0] = ws[0].capitalize()
        return " ".join(ws) + self.rng.choice(["", "", "", "?", ": " + self.content().capitalize()])

    def short_line(self) -> str:
        n = self.rng.randint(1, 4)
        return " ".join(self.content().capitalize() if i == 0 else self.content() for i in range(n))

    def nav(self) -> list[str]:
        common = ["Home", "About", "About us", "Contact", "News", "Blog", "Shop", "Login", "Sign up", "Search",
                  "Menu", "Categories", "Archive", "FAQ", "Help", "Support", "Events", "Gallery"]
        return [self.rng.choice(common) if self.rng.random() < 0.6 else self.short_line()
                for _ in range(self.rng.randint(4, 14))]

    def footer(self) -> list[str]:
        rng = self.rng
        site = self.content().capitalize()
        lines = [f"\u00a9 {rng.randint(2005, 2026)} {site}. All rights reserved.",
                 rng.choice(["Privacy Policy", "Privacy policy | Terms of use", "Terms and Conditions", "Imprint"]),
                 rng.choice(["Contact us", "Follow us", "Share this:", "Share on Facebook", "Tweet"]),
                 rng.choice(["This website uses cookies to improve your experience. Accept",
                             "We use cookies to ensure that we give you the best experience on our website.",
                             "Please enable JavaScript to view the comments.", "Subscribe to our newsletter",
                             f"Questions? Write to {self.email()}"])]
        rng.shuffle(lines)
        return lines[:rng.randint(1, 4)]

    def byline(self) -> str:
        rng = self.rng
        return rng.choice([f"By {self.names[0]} {self.name()} | {self.date()}", f"Posted on {self.date()} by "
                           f"{self.names[0].lower()}", f"{self.date()} \u2022 {rng.randint(2, 15)} min read",
                           f"Updated {self.date()}, {rng.randint(1, 12)}:{rng.randint(0, 59):02d}"])

    def bullets(self, k: int) -> list[str]:
        rng = self.rng
        mark = rng.choice(["- ", "\u2022 ", "* ", "", "1. "])
        out = []
        for i in range(k):
            m = f"{i + 1}. " if mark == "1. " else mark
            body = self.sentence(rng.randint(3, 14)) if rng.random() < 0.5 else self.short_line()
            out.append(m + body)
        return out


# ----------------------------------------------------------------------------- documents
KINDS = {  # kind -> weight
    "article": 0.40, "article_boiler": 0.17, "listing": 0.07, "forum": 0.07, "spam": 0.03, "duplicated": 0.05,
    "short": 0.05, "code": 0.025, "foreign": 0.04, "table": 0.03, "lorem": 0.01, "tags": 0.015,
    "dup_ngrams": 0.03,
}


def _target_chars(rng: random.Random) -> int:
    return int(min(60_000, max(300, rng.lognormvariate(math.log(2500), 0.95))))


def _body(w: _Writer, target: int) -> list[str]:
    """Paragraphs (with the odd subheading or list) up to about ``target`` characters."""
    rng, out, size = w.rng, [], 0
    while size < target:
        r = rng.random()
        if r < 0.08 and out:
            block = [w.title()]
        elif r < 0.13:
            block = w.bullets(rng.randint(2, 7))
        else:
            block = [w.paragraph()]
        out += block
        size += sum(len(b) + 1 for b in block)
    return out


def _document(w: _Writer, kind: str) -> list[str]:
    """The lines of one extracted page of ``kind``."""
    rng = w.rng
    target = _target_chars(rng)
    if kind == "article":
        lines = [w.title()] + ([w.byline()] if rng.random() < 0.5 else []) + _body(w, target)
        if rng.random() < 0.4:
            lines += w.footer()
        return lines
    if kind == "article_boiler":  # what WET text of a page looks like: navigation, article, footer
        if rng.random() < 0.3:  # a portal / index page: much navigation, little prose
            return w.nav() + w.nav() + [w.title()] + _body(w, target // 5) + \
                [w.short_line() for _ in range(rng.randint(5, 40))] + w.footer()
        return w.nav() + [w.title(), w.byline()] + _body(w, target) + \
            [rng.choice(["Related posts", "Read more \u00bb", "You may also like", "Comments"])] + \
            [w.title() for _ in range(rng.randint(0, 6))] + w.footer()
    if kind == "listing":
        lines = [w.title()]
        mark = rng.choice(["", "", "\u2022 ", "- "])
        for _ in range(max(4, target // 90)):
            r = rng.random()
            if r < 0.25:
                lines.append(mark + w.sentence(rng.randint(5, 16)))
            else:
                lines.append(mark + w.short_line() + (f" - {rng.choice(['$', '€'])}{rng.randint(1, 500)}.99"
                                                      if r < 0.4 else ""))
        return lines + w.footer()
    if kind == "forum":
        lines = [w.title()]
        size = 0
        while size < target:
            user = w.content()[:10] + str(rng.randint(1, 999))
            post = [f"{user} wrote:" if rng.random() < 0.5 else f"Re: {w.title()}"]
            if rng.random() < 0.3:
                post.append(w.date())
            post += [w.paragraph(rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
            if rng.random() < 0.5:
                post += [rng.choice(["lol", "Thanks!", "+1", "Quote", "Reply", "...", "me too :)", "agreed"])]
            lines += post
            size += sum(map(len, post))
        return lines
    if kind == "spam":
        phrase = [" ".join(w.content() for _ in range(rng.randint(1, 3))) for _ in range(3)]
        return [" ".join(rng.choice(phrase) + rng.choice(["", "!", " -", ","]) for _ in range(rng.randint(8, 20)))
                for _ in range(rng.randint(4, 30))]
    if kind == "duplicated":  # template text repeated: a paragraph or a block of lines several times
        body = _body(w, target // 2)
        rep = body[rng.randrange(len(body))]
        out = []
        for b in body:
            out.append(b)
            if rng.random() < 0.35:
                out.append(rep)
        return out + ([rep] * rng.randint(1, 4))
    if kind == "dup_ngrams":  # a passage quoted again inside the text (n-gram repetition, not whole lines)
        body = _body(w, target)
        src = body[rng.randrange(len(body))].split()
        k = min(len(src), rng.randint(12, 60))
        quote = " ".join(src[:k])
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(body))
            body[i] = body[i] + " " + quote + "."
        return body
    if kind == "short":
        return [w.title()] + [w.sentence(rng.randint(4, 14)) for _ in range(rng.randint(1, 3))]
    if kind == "code":
        lines = [w.title()] + _body(w, target // 2)
        fn = w.content().replace("-", "_")
        lines += [f"function {fn}({w.content()[:4]}) {{", f"  return {w.content()[:5]} + {rng.randint(1, 9)};",
                  "}", f"var x = {{ \"{w.content()[:6]}\": {rng.randint(0, 99)} }};"]
        return lines + _body(w, target // 3)
    if kind == "foreign":
        out, size = [], 0
        cjk = rng.random() < 0.5
        while size < target:
            if cjk:
                s = "".join(rng.choice(_CJK_POOL) for _ in range(rng.randint(8, 40))) + rng.choice("。！？")
                s += "".join(rng.choice(_CJK_POOL) for _ in range(rng.randint(5, 30))) + "。"
            else:
                ws = ["".join(_CYRILLIC.get(ch, ch) for ch in w.content()) for _ in range(rng.randint(5, 18))]
                s = " ".join(ws).capitalize() + "."
            out.append(s)
            size += len(s)
        return out
    if kind == "table":
        lines = [w.title()]
        for _ in range(max(5, target // 60)):
            lines.append(" ".join(w.number() if rng.random() < 0.75 else w.content()[:6]
                                  for _ in range(rng.randint(3, 9))))
        return lines
    if kind == "lorem":
        return _body(w, target // 2) + ["Lorem ipsum dolor sit amet, " + w.sentence()] + _body(w, target // 3)
    if kind == "tags":
        return _body(w, target // 3) + [" ".join("#" + w.content() for _ in range(rng.randint(20, 80)))]
    raise ValueError(kind)


def realistic_docs(n: int, seed: int = 0) -> list[dict]:
    """``n`` extracted-text documents ``{"id", "text", "kind"}``, a pure function of ``(n, seed)``."""
    rng = random.Random(seed)
    vocab = Vocabulary(seed)
    kinds, weights = zip(*KINDS.items())
    docs = []
    for i in range(n):
        w = _Writer(random.Random(rng.getrandbits(64)), vocab)
        kind = w.rng.choices(kinds, weights)[0]
        lines = _document(w, kind)
        sep = "\n\n" if w.rng.random() < 0.15 else "\n"
        docs.append({"id": f"real-{seed}-{i}", "text": sep.join(lines), "kind": kind})
    return docs


# ----------------------------------------------------------------------------- HTML pages
def _e(s: str) -> str:
    return html_lib.escape(s, quote=False)


def _page(w: _Writer, kind: str, lines: list[str], url: str) -> str:
    rng = w.rng
    title = lines[0] if lines else "Untitled"
    site = w.content().capitalize()
    nav = "".join(f'<li><a href="/{w.content()}/">{_e(t)}</a></li>' for t in w.nav())
    parts = [f"<!DOCTYPE html>\n<html lang=\"{'en' if kind != 'foreign' else 'ru'}\"><head><meta charset=\"utf-8\">",
             f"<title>{_e(title)} | {_e(site)}</title>",
             f'<meta name="description" content="{html_lib.escape(w.sentence(12))}">',
             f'<link rel="canonical" href="{url}"><link rel="stylesheet" href="/static/site.{rng.randint(1, 99)}.css">',
             "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script>",
             "</head><body>",
             f'<header class="site-header"><div class="logo"><a href="/">{_e(site)}</a></div>'
             f'<nav class="main-nav"><ul>{nav}</ul></nav>'
             f'<form class="search"><input type="text" placeholder="Search..."></form></header>',
             f'<div class="breadcrumbs"><a href="/">Home</a> &raquo; <a href="/{w.content()}/">'
             f'{_e(w.short_line())}</a></div>',
             '<main><article class="post">', f"<h1>{_e(title)}</h1>"]
    if rng.random() < 0.6:
        parts.append(f'<p class="byline">{_e(w.byline())}</p>')
    in_list = False
    for line in lines[1:]:
        bullet = re.match(r"^(\u2022 |- |\* |\d+\. )", line)
        if bullet:
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{_e(line[bullet.end():])}</li>")
            continue
        if in_list:
            parts.append("</ul>")
            in_list = False
        if len(line) < 70 and not line.endswith((".", "!", "?")) and rng.random() < 0.5:
            parts.append(f"<h2>{_e(line)}</h2>")
        elif "{" in line or line.startswith(("  return", "}")):
            parts.append(f"<pre><code>{_e(line)}</code></pre>")
        else:
            text = _e(line)
            if rng.random() < 0.2:  # an inline link inside the paragraph
                ws = text.split(" ")
                k = rng.randrange(len(ws))
                ws[k] = f'<a href="{w.url()}">{ws[k]}</a>'
                text = " ".join(ws)
            if rng.random() < 0.1:
                text = text.replace(" ", " <strong>", 1).replace(" ", "</strong> ", 1) if " " in text else text
            parts.append(f"<p>{text}</p>")
    if in_list:
        parts.append("</ul>")
    parts.append("</article>")
    related = "".join(f'<li><a href="/{w.content()}/{rng.randint(1, 9999)}">{_e(w.title())}</a></li>'
                      for _ in range(rng.randint(3, 8)))
    parts.append(f'<aside class="sidebar"><h3>Related</h3><ul>{related}</ul>'
                 f'<div class="ad">Advertisement</div></aside></main>')
    foot = "".join(f"<p>{_e(t)}</p>" for t in w.footer())
    parts.append(f'<footer class="site-footer">{foot}<ul class="social"><li><a href="#">Facebook</a></li>'
                 f'<li><a href="#">Twitter</a></li><li><a href="#">Instagram</a></li></ul></footer>')
    parts.append('<div id="cookie-banner">We use cookies. <button>OK</button></div>')
    parts.append("<script>(function(){var s=document.createElement('script');s.async=true;"
                 "s.src='/static/app.js';document.body.appendChild(s)})();</script></body></html>")
    return "\n".join(parts)


def realistic_html_pages(n: int, seed: int = 0) -> list[dict]:
    """``n`` HTML pages ``{"id", "url", "html", "kind"}`` whose main text is :func:`realistic_docs`-like."""
    rng = random.Random(seed + 7_777)
    vocab = Vocabulary(seed)
    kinds, weights = zip(*KINDS.items())
    pages = []
    for i in range(n):
        w = _Writer(random.Random(rng.getrandbits(64)), vocab)
        kind = w.rng.choices(kinds, weights)[0]
        if kind == "article_boiler":  # nav and footer come from the page structure here
            kind = "article"
        lines = _document(w, kind)
        url = f"https://{w.content().replace('-', '')}.{rng.choice(_TLDS)}/{w.content()}/{i}"
        pages.append({"id": f"page-{seed}-{i}", "url": url, "html": _page(w, kind, lines, url), "kind": kind})
    return pages


# ----------------------------------------------------------------------------- statistics
_WORD_RE = re.compile(r"\w+")


def vocab_stats(texts: list[str]) -> dict:
    """Types, tokens and hapax share, for whitespace-delimited chunks (what a per-chunk tokenization cache
    keys on) and for lower-cased ``\\w+`` words."""
    out = {}
    for name, split in (("chunks", str.split), ("words", lambda t: _WORD_RE.findall(t.lower()))):
        c: Counter = Counter()
        for t in texts:
            c.update(split(t))
        types, tokens = len(c), sum(c.values())
        hapax = sum(1 for v in c.values() if v == 1)
        out[name] = {"types": types, "tokens": tokens, "hapax_types": hapax,
                     "hapax_share_of_types": hapax / max(types, 1), "hapax_share_of_tokens": hapax / max(tokens, 1)}
    lengths = sorted(len(t) for t in texts)
    out["chars"] = {"median": lengths[len(lengths) // 2], "p90": lengths[int(len(lengths) * 0.9)],
                    "max": lengths[-1], "mean": sum(lengths) / len(lengths)}
    return out


def format_stats(stats: dict, n_docs: int) -> str:
    c, w, ch = stats["chunks"], stats["words"], stats["chars"]
    return (f"{n_docs} docs; chars/doc median {ch['median']:,}, mean {ch['mean']:,.0f}, p90 {ch['p90']:,}, "
            f"max {ch['max']:,}\n"
            f"  whitespace chunks: {c['types']:,} types / {c['tokens']:,} tokens, hapaxes {c['hapax_types']:,} "
            f"= {c['hapax_share_of_types']:.1%} of types, {c['hapax_share_of_tokens']:.1%} of tokens\n"
            f"  \\w+ words (lower-cased): {w['types']:,} types / {w['tokens']:,} tokens, hapaxes "
            f"{w['hapax_share_of_types']:.1%} of types")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=0, help="print the first N documents")
    args = ap.parse_args(argv)
    docs = realistic_docs(args.docs, args.seed)
    print(format_stats(vocab_stats([d["text"] for d in docs]), len(docs)))
    print("  kinds: " + ", ".join(f"{k}={v}" for k, v in sorted(Counter(d["kind"] for d in docs).items())))
    for d in docs[: args.show]:
        print(f"\n----- {d['id']} ({d['kind']}, {len(d['text'])} chars)\n{d['text'][:3000]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
