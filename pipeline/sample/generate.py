"""Deterministic generator of the embedded synthetic sample (no download, no network).

``generate_sample(out_dir)`` writes

* ``crawl/<dump>.warc.gz``: a small Common-Crawl-style WARC/1.0 file (gzip per record): one ``warcinfo``
  record, a few ``request`` records, and one ``response`` record per web page (HTML, utf-8);
* ``crawl/truth.jsonl``: one line per ``response`` record (= per document the WARC reader yields):
  ``{"id", "url", "kind", "lang", "site", "title", "source_url", "jaccard5"}`` where ``source_url`` is
  the page a duplicate was copied from (``null`` otherwise) and ``jaccard5`` is the 5-gram Jaccard
  similarity of a near-duplicate's paragraphs with its source's;
* ``original/original.jsonl.gz``: the "original pretraining" corpus, ``{"id", "text", "source"}`` lines of
  clean English prose, mostly about cooking, gardening and everyday history (``source: original``, a
  different domain from the crawl), with a ``general_share`` of articles on the crawl's own topic
  (``source: general``, drawn apart from the crawl), as a real base model's web-scale data holds some of
  every domain.

The web pages are planetary-science articles plus the usual junk a crawl holds (boilerplate, spam,
other languages, exact and near duplicates, pages on block-listed URLs, tiny pages); see ``KIND_SHARES``.
Everything but the general articles is drawn from one ``random.Random(seed)`` (those from their own
stream, so that the crawl and the other documents do not depend on the share): the same arguments give
byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import html
import io
import json
import pathlib
import random
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Iterator

from pipeline.sample import vocab_astro, vocab_foreign, vocab_original
from pipeline.sample.grammar import capitalize_first
from pipeline.sample.tasks import TASKS_DIR, NgramIndex, generate_tasks, planted_text
from pipeline.sample.sites import (
    BLOCKED_SITES,
    BY,
    EN_SITES,
    FOOTER_LINKS,
    FOREIGN_SITES,
    MIRROR_SITES,
    NAV,
    RELATED,
    RIGHTS,
    SPAM_SITES,
    Site,
)

KIND_SHARES: dict[str, float] = {
    "article": 0.55,
    "boilerplate": 0.10,
    "spam": 0.08,
    "non_english": 0.10,
    "exact_duplicate": 0.06,
    "near_duplicate": 0.06,
    "url_blocked": 0.03,
    "short": 0.02,
}
KINDS = tuple(KIND_SHARES)
DUPLICATE_KINDS = ("exact_duplicate", "near_duplicate")

WARC_DIR = "crawl"
TRUTH_FILE = "truth.jsonl"
ORIGINAL_REL = "original/original.jsonl.gz"
GENERAL_SHARE = 0.1  # the default share of the original corpus on the crawl's topic (SampleConfig.general_share)
NEAR_DUP_MAX_JACCARD = 0.93
PLANTED_ITEMS = (3, 41, 77)  # sample_domain items quoted in crawl pages: decontamination must remove them

_MONTHS_EN = vocab_astro.MONTHS


# ============================================================================ data model
@dataclass
class Page:
    kind: str
    url: str
    site: Site
    html: str
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    lang: str = "en"
    source_url: str | None = None
    jaccard5: float | None = None
    record_id: str = ""
    warc_date: str = ""
    # kept to rebuild near-duplicates
    author: str = ""
    published: dt.date | None = None
    planted: str | None = None  # "<task>:<item index>" when a task item was planted in this page


@dataclass
class Sample:
    pages: list[Page]
    original: list[dict]
    dump: str

    def article_texts(self) -> Iterator[str]:
        """Plain text (title + paragraphs) of every ``article`` page, straight from the generator."""
        for p in self.pages:
            if p.kind == "article":
                yield p.title + "\n" + "\n".join(p.paragraphs)


# ============================================================================ helpers
def kind_counts(web_pages: int) -> dict[str, int]:
    """Split ``web_pages`` between the kinds (largest remainder), every kind present once there is room."""
    raw = {k: web_pages * s for k, s in KIND_SHARES.items()}
    counts = {k: int(v) for k, v in raw.items()}
    rest = web_pages - sum(counts.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - counts[k]), KINDS.index(k)))[:rest]:
        counts[k] += 1
    if web_pages >= 2 * len(KINDS):
        for k in KINDS:
            if counts[k] == 0:
                counts[k] = 1
                counts["article"] -= 1
    # duplicates need sources: never more duplicates than articles
    while counts["exact_duplicate"] + counts["near_duplicate"] > counts["article"]:
        big = max(DUPLICATE_KINDS, key=lambda k: counts[k])
        counts[big] -= 1
        counts["article"] += 1
    return counts


def _slug(title: str, max_words: int = 7) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    return "-".join(words[:max_words]) or "page"


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(max(0, len(words) - n + 1))}


def jaccard5(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / max(1, len(sa | sb))


def _week_start(dump: str) -> dt.datetime:
    m = re.search(r"(\d{4})-(\d{1,2})$", dump)
    if m:
        try:
            d = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
            return dt.datetime(d.year, d.month, d.day)
        except ValueError:
            pass
    return dt.datetime(2026, 11, 16)


def _fmt_date(d: dt.date, lang: str) -> str:
    if lang == "en":
        return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"
    return d.isoformat()


class _Urls:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: set[str] = set()

    def make(self, site: Site, title: str, section: str | None = None) -> str:
        while True:
            sec = section or self.rng.choice(site.sections)
            url = f"https://{site.host}/{sec}/{_slug(title)}-{self.rng.randint(1000, 999999)}.html"
            if url not in self.seen:
                self.seen.add(url)
                return url


# ============================================================================ HTML rendering
def _head(title: str, site: Site, lang: str, description: str = "") -> str:
    e = html.escape
    desc = f'\n<meta name="description" content="{e(description)}">' if description else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)} | {e(site.name)}</title>{desc}\n"
        f'<link rel="stylesheet" href="/static/css/main.css">\n</head>\n'
    )


def _header(site: Site, lang: str) -> str:
    items = "".join(
        f'<li><a href="/{re.sub(r"[^a-z0-9]+", "-", x.lower()).strip("-") or "home"}/">{html.escape(x)}</a></li>'
        for x in NAV[lang]
    )
    return (
        f'<header class="site-header">\n<a class="logo" href="/">{html.escape(site.name)}</a>\n'
        f'<nav class="main-nav"><ul>{items}</ul></nav>\n</header>\n'
    )


def _footer(site: Site, lang: str, year: int) -> str:
    links = " ".join(f'<a href="/{i}">{html.escape(x)}</a>' for i, x in enumerate(FOOTER_LINKS[lang]))
    return (
        f'<footer class="site-footer">\n<p>&copy; {year} {html.escape(site.name)}. {RIGHTS[lang]}</p>\n'
        f'<p class="footer-links">{links}</p>\n</footer>\n'
    )


def render_article(
    site: Site,
    title: str,
    author: str,
    published: dt.date,
    paragraphs: list[str],
    related: list[str],
    lang: str = "en",
) -> str:
    e = html.escape
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    rel = "".join(f'<li><a href="/{_slug(r)}.html">{e(r)}</a></li>' for r in related)
    return (
        _head(title, site, lang, description=paragraphs[0][:150] if paragraphs else "")
        + "<body>\n"
        + _header(site, lang)
        + '<main class="content">\n<article class="post">\n'
        + f"<h1>{e(title)}</h1>\n"
        + f'<p class="byline">{BY[lang]} <span class="author">{e(author)}</span> | '
        + f'<time datetime="{published.isoformat()}">{_fmt_date(published, lang)}</time></p>\n'
        + body
        + "\n</article>\n"
        + f'<aside class="related"><h2>{RELATED[lang]}</h2><ul>{rel}</ul></aside>\n</main>\n'
        + _footer(site, lang, 2026)
        + "</body>\n</html>\n"
    )


_BOILER_LINES = [
    "Subscribe", "Login", "Sign up", "Register", "My account", "Search", "Share", "Tweet", "Print", "Email",
    "Newsletter", "Shop", "Donate", "Events", "Podcasts", "Videos", "Galleries", "Forums", "Archive",
    "Read more", "Load more", "Follow us", "Jobs", "Help", "Sitemap", "Contact", "Privacy",
]
_BOILER_HEADINGS = ["Latest", "Popular", "Trending", "Editor's picks", "Most read", "Partners", "Highlights"]
_BOILER_TAGS = [
    "Mars", "Moon", "Comets", "Asteroids", "Rovers", "Telescopes", "Exoplanets", "Jupiter", "Saturn", "Launches",
    "Eclipses", "Meteor showers", "Night sky", "Space weather", "Astrophotography", "Dwarf planets",
]
_BOILER_TEASERS = [
    "Check back soon for more updates.", "New stories are added every week.", "This page lists our latest coverage.",
    "Sign in to save your favourite stories.", "Browse the archive by month.", "Thanks for visiting our site.",
]
_COOKIE_BANNER = [
    "We use cookies to improve your experience on our site.",
    "This website uses cookies. By continuing you accept our cookie policy.",
    "By using this site you agree to our use of cookies.",
]


def render_boilerplate(site: Site, rng: random.Random, headlines: list[str], tag: str) -> str:
    e = html.escape
    blocks = []
    blocks.append(
        f'<div class="cookie-banner"><p>{rng.choice(_COOKIE_BANNER)}</p>'
        '<button>Accept all</button><button>Reject</button><a href="/cookies">Settings</a></div>'
    )
    blocks.append("<div class=\"toolbar\">" + " ".join(
        f'<a href="/{w.lower().replace(" ", "-")}">{w}</a>' for w in rng.sample(_BOILER_LINES, 10)) + "</div>")
    tags = "".join(
        f'<li><a href="/tag/{_slug(t)}/">{e(t)}</a></li>' for t in rng.sample(_BOILER_TAGS, rng.randint(5, 8))
    )
    blocks.append(f'<section class="widget tags"><h3>Tags</h3><ul>{tags}</ul></section>')
    months = [f"{_MONTHS_EN[m - 1]} {y}" for y in (2025, 2026) for m in range(1, 13)]
    start = rng.randrange(len(months) - 6)
    shown = months[start : start + rng.randint(4, 6)]
    arch = "".join(f'<li><a href="/archive/{i}/">{m}</a></li>' for i, m in enumerate(shown))
    blocks.append(f'<section class="widget archive"><h3>Archive</h3><ul>{arch}</ul></section>')
    h = rng.choice(_BOILER_HEADINGS)
    items = "".join(f'<li><a href="/{_slug(t)}.html">{e(t)}</a></li>' for t in rng.sample(headlines, 2))
    blocks.append(f'<section class="widget"><h3>{h}</h3><ul>{items}</ul></section>')
    teaser = " ".join(rng.sample(_BOILER_TEASERS, rng.randint(1, 2)))
    blocks.append(f'<div class="intro"><p>{teaser}</p></div>')
    blocks.append(
        '<form class="newsletter"><label>Newsletter</label><input type="email" placeholder="Your email">'
        "<button>Subscribe</button></form>"
    )
    rng.shuffle(blocks)
    return (
        _head(f"{tag} archive", site, "en")
        + "<body>\n"
        + _header(site, "en")
        + f'<main class="listing">\n<h1>{e(tag)}</h1>\n'
        + "\n".join(blocks)
        + "\n</main>\n"
        + _footer(site, "en", 2026)
        + "</body>\n</html>\n"
    )


_SPAM_PHRASES = [
    "best cheap telescope deals", "buy now", "free shipping today", "lowest price guaranteed", "discount binoculars",
    "limited time offer", "order now and save", "top rated star projector", "cheap deals", "best price online",
    "click here to buy", "huge sale", "best cheap telescopes", "cheap telescope for sale", "save big today",
]


def render_spam(site: Site, rng: random.Random) -> tuple[str, str, list[str]]:
    phrases = rng.sample(_SPAM_PHRASES, 4)
    title = capitalize_first(" ".join(phrases[:2])).title()
    paragraphs = []
    for _ in range(rng.randint(6, 10)):
        seq = [rng.choice(phrases) for _ in range(rng.randint(10, 18))]
        sep = rng.choice([" ", ", ", " - ", "! "])
        paragraphs.append(capitalize_first(sep.join(seq)) + rng.choice(["!", "!!", ".", "!!!"]))
    e = html.escape
    page = (
        _head(title, site, "en", description=", ".join(phrases * 3))
        + "<body>\n"
        + _header(site, "en")
        + f'<main>\n<article>\n<h1>{e(title)}</h1>\n'
        + "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
        + "\n</article>\n</main>\n"
        + _footer(site, "en", 2026)
        + "</body>\n</html>\n"
    )
    return page, title, paragraphs


# ============================================================================ text generation
def _article_text(grammar, rng: random.Random, ctx: dict, n_par: tuple[int, int] = (6, 14)) -> list[str]:
    decks = grammar.decks(rng)
    return [grammar.paragraph(rng, ctx, decks, rng.randint(3, 6)) for _ in range(rng.randint(*n_par))]


def _random_date(rng: random.Random, lo: int = 2019, hi: int = 2026) -> dt.date:
    return dt.date(rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28))


def english_article(rng: random.Random, short: bool = False) -> tuple[str, list[str], str, dt.date]:
    """One English planetary-science article of the sample: ``(title, paragraphs, author, published)``
    (``short``: one paragraph of a sentence or two). Also the article text of the tests' dedup fixtures."""
    g = vocab_astro.GRAMMAR
    ctx = vocab_astro.make_context(rng)
    title = capitalize_first(g.fill(rng.choice(g.titles), rng, ctx))
    if short:  # a sentence or two
        decks = g.decks(rng)
        paragraphs = [" ".join(g.sentence(rng, ctx, decks) for _ in range(rng.randint(1, 2)))]
    else:
        paragraphs = _article_text(g, rng, ctx)
    author = g.pick("PERSON", rng)
    return title, paragraphs, author, _random_date(rng)


def _headlines(rng: random.Random, n: int) -> list[str]:
    g = vocab_astro.GRAMMAR
    out = []
    for _ in range(n):
        ctx = vocab_astro.make_context(rng)
        out.append(capitalize_first(g.fill(rng.choice(g.titles), rng, ctx)))
    return out


def _near_duplicate_paragraphs(src: list[str], rng: random.Random) -> tuple[list[str], float]:
    """A few small edits (a number changed, one or two sentences rewritten) until 5-gram Jaccard <= 0.93."""
    g = vocab_astro.GRAMMAR
    ctx = vocab_astro.make_context(rng)
    decks = g.decks(rng)
    paras = list(src)
    src_text = "\n".join(src)
    # 1) change one number
    with_num = [i for i, p in enumerate(paras) if re.search(r"\b\d{2,}\b", p)]
    if with_num:
        i = rng.choice(with_num)
        nums = list(re.finditer(r"\b\d{2,}\b", paras[i]))
        m = rng.choice(nums)
        new = str(int(m.group()) + rng.randint(1, 9))
        paras[i] = paras[i][: m.start()] + new + paras[i][m.end() :]
    j = jaccard5(src_text, "\n".join(paras))
    # 2) rewrite whole sentences until the similarity drops into the near-duplicate band
    tries = 0
    while j > NEAR_DUP_MAX_JACCARD and tries < 20:
        tries += 1
        i = rng.randrange(len(paras))
        sents = re.split(r"(?<=[.!?])\s+(?=[A-Z\"])", paras[i])
        k = rng.randrange(len(sents))
        sents[k] = g.sentence(rng, ctx, decks)
        paras[i] = " ".join(sents)
        j = jaccard5(src_text, "\n".join(paras))
    return paras, round(j, 4)


def _original_doc(rng: random.Random) -> str:
    theme = rng.choice(sorted(vocab_original.THEMES))
    g = vocab_original.THEMES[theme]
    ctx = vocab_original.make_context(rng)
    decks = g.decks(rng)
    target = rng.randint(200, 460)
    words = 0
    paragraphs: list[str] = []
    while words < target:
        sents: list[str] = []
        n = rng.randint(3, 6)
        while len(sents) < n and (words < target or len(sents) < 3):
            s = g.sentence(rng, ctx, decks)
            sents.append(s)
            words += len(s.split())
        paragraphs.append(" ".join(sents))
    return "\n\n".join(paragraphs)


# ============================================================================ sample assembly
def _page_order(rng: random.Random, counts: dict[str, int]) -> list[str]:
    """Shuffled kinds where every duplicate comes after at least one still-unused article."""
    kinds = [k for k in KINDS for _ in range(counts[k])]
    rng.shuffle(kinds)
    order: list[str] = []
    pending: list[str] = []
    available = 0
    for k in kinds:
        if k in DUPLICATE_KINDS:
            pending.append(k)
        else:
            order.append(k)
            if k == "article":
                available += 1
        while pending and available:
            order.append(pending.pop(0))
            available -= 1
    assert not pending, "not enough articles to copy"
    return order


def _general_doc(rng: random.Random) -> str:
    title, paragraphs, _author, _published = english_article(rng)
    return "\n\n".join([title] + paragraphs)


def _original_corpus(rng: random.Random, seed: int, n_docs: int, general_share: float) -> list[dict]:
    """``n_docs`` documents: the domestic ones from ``rng`` (the first k are the same for any share), the
    general ones (``round(share x n_docs)``) from their own stream, at positions that stream draws."""
    n_general = round(general_share * n_docs)
    domestic = [(_original_doc(rng), "original") for _ in range(n_docs - n_general)]
    grng = random.Random(f"general-{seed}")
    general = [(_general_doc(grng), "general") for _ in range(n_general)]
    at = set(grng.sample(range(n_docs), n_general))
    docs, d, g = [], iter(domestic), iter(general)
    for i in range(n_docs):
        docs.append(next(g) if i in at else next(d))
    return [{"id": f"original-{i:06d}", "text": text, "source": source} for i, (text, source) in enumerate(docs)]


def _keep_items_unseen(original: list[dict], out_dir: pathlib.Path, seed: int, tries: int = 20) -> int:
    """Redraw each general document that shares an ``EXCLUDE_N``-word run with a ``sample_domain`` item
    (scored or control; question + answer), so the base model never reads the domain task's items.

    A crawl of a few pages screens few items against the grammar's fixed frames, so an item may hold a
    frame every article does: after ``tries`` draws the document stays. Returns how many stayed (none at
    the default size)."""
    items = [json.loads(line) for name in ("sample_domain.jsonl", "sample_domain.control.jsonl")
             for line in (out_dir / TASKS_DIR / name).read_text().splitlines()]
    index = NgramIndex(i["query"] + " " + i["choices"][i["gold"]] for i in items)
    rng = random.Random(f"general-redraw-{seed}")
    quoting = 0
    for doc in (d for d in original if d["source"] == "general"):
        for _ in range(tries):
            if not index.hits(doc["text"]):
                break
            doc["text"] = _general_doc(rng)
        else:
            quoting += index.hits(doc["text"])
    return quoting


def build_sample(
    seed: int = 1234, web_pages: int = 480, original_docs: int = 1200, dump: str = "CC-SYNTH-2026-47",
    planted: dict[str, str] | None = None, general_share: float = GENERAL_SHARE,
) -> Sample:
    """``planted``: ``{"<task>:<index>": text}``, each added as a last paragraph to an article no
    duplicate copies (so decontamination has something real to find)."""
    rng = random.Random(seed)
    counts = kind_counts(web_pages)
    order = _page_order(rng, counts)
    urls = _Urls(rng)
    headlines = _headlines(rng, 60)
    week = _week_start(dump)
    sources: list[Page] = []  # articles not yet copied (each copied at most once)
    pages: list[Page] = []
    foreign_langs = sorted(FOREIGN_SITES)

    for kind in order:
        if kind in ("article", "url_blocked", "short"):
            site = rng.choice(BLOCKED_SITES if kind == "url_blocked" else EN_SITES)
            title, paragraphs, author, published = english_article(rng, short=kind == "short")
            page = Page(kind, urls.make(site, title), site, "", title, paragraphs, "en", author=author,
                        published=published)
            page.html = render_article(site, title, author, published, paragraphs, rng.sample(headlines, 4))
            if kind == "article":
                sources.append(page)
        elif kind == "non_english":
            lang = rng.choice(foreign_langs)
            grammar, _bodies, _bkey, _ = vocab_foreign.LANGS[lang]
            ctx = vocab_foreign.make_context(lang, rng)
            title = capitalize_first(grammar.fill(rng.choice(grammar.titles), rng, ctx))
            paragraphs = _article_text(grammar, rng, ctx)
            site = rng.choice(FOREIGN_SITES[lang])
            author = vocab_astro.GRAMMAR.pick("PERSON", rng)
            published = _random_date(rng)
            page = Page(kind, urls.make(site, title), site, "", title, paragraphs, lang, author=author,
                        published=published)
            page.html = render_article(site, title, author, published, paragraphs, [], lang=lang)
        elif kind == "boilerplate":
            site = rng.choice(EN_SITES)
            tag = rng.choice(["Missions", "Planets", "Comets", "Moons", "Night sky", "Rovers", "Telescopes",
                "Events"])
            page = Page(kind, urls.make(site, f"{tag} page {rng.randint(2, 40)}", section="tag"), site, "", tag)
            page.html = render_boilerplate(site, rng, headlines, tag)
        elif kind == "spam":
            site = rng.choice(SPAM_SITES)
            html_, title, paragraphs = render_spam(site, rng)
            page = Page(kind, urls.make(site, title), site, html_, title, paragraphs)
        elif kind == "exact_duplicate":
            src = sources.pop(rng.randrange(len(sources)))
            site = rng.choice([src.site] + MIRROR_SITES)
            page = Page(kind, urls.make(site, src.title), site, src.html, src.title, list(src.paragraphs),
                        source_url=src.url, jaccard5=1.0)
        elif kind == "near_duplicate":
            src = sources.pop(rng.randrange(len(sources)))
            site = rng.choice(MIRROR_SITES + [rng.choice(EN_SITES)])
            paragraphs, j = _near_duplicate_paragraphs(src.paragraphs, rng)
            assert src.published is not None
            published = src.published + dt.timedelta(days=rng.randint(1, 20))
            page = Page(kind, urls.make(site, src.title), site, "", src.title, paragraphs, source_url=src.url,
                        jaccard5=j, author=src.author, published=published)
            page.html = render_article(site, src.title, src.author, published, paragraphs, rng.sample(headlines, 4))
        else:  # pragma: no cover
            raise AssertionError(kind)
        page.record_id = f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"
        stamp = week + dt.timedelta(seconds=rng.randrange(7 * 24 * 3600))
        page.warc_date = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        pages.append(page)

    return Sample(pages=pages, original=_original_corpus(rng, seed, original_docs, general_share), dump=dump)


def plant(pages: list[Page], planted: dict[str, str], rng: random.Random) -> None:
    """``planted``: ``{"<task>:<index>": text}``, each added as a last paragraph to an article no
    duplicate copies (so decontamination has something real to find)."""
    copied = {p.source_url for p in pages if p.source_url}
    hosts = [p for p in pages if p.kind == "article" and p.url not in copied]
    for (key, text), page in zip(sorted(planted.items()), rng.sample(hosts, min(len(hosts), len(planted)))):
        page.paragraphs.append(text)
        page.html = page.html.replace("\n</article>", f"\n<p>{html.escape(text)}</p>\n</article>", 1)
        page.planted = key


# ============================================================================ writers
def _write_warc(sample: Sample, path: pathlib.Path, seed: int, pages: list | None = None) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    rng = random.Random(f"warc-{seed}")

    def rid() -> str:
        return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.0")
        first_date = min(p.warc_date for p in sample.pages) if sample.pages else "2026-11-16T00:00:00Z"
        info = (
            f"software: cpt-pipeline synthetic sample generator\r\nformat: WARC File Format 1.0\r\n"
            f"isPartOf: {sample.dump}\r\ndescription: synthetic crawl, seed {seed}\r\n"
            f"robots: obey\r\noperator: nobody (generated offline)\r\n"
        ).encode()
        writer.write_record(
            writer.create_warc_record(
                "", "warcinfo", payload=io.BytesIO(info), length=len(info),
                warc_headers_dict={"WARC-Record-ID": rid(), "WARC-Date": first_date,
                                   "WARC-Filename": path.name, "Content-Type": "application/warc-fields"},
            )
        )
        for i, page in enumerate(sample.pages if pages is None else pages):
            if i % 12 == 5:  # a few request records, as in real crawls (readers skip them)
                host = page.url.split("/")[2]
                path_part = "/" + page.url.split("/", 3)[3]
                req = (f"GET {path_part} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: CCBot/2.0-synthetic\r\n"
                       f"Accept: text/html\r\n\r\n").encode()
                writer.write_record(
                    writer.create_warc_record(
                        page.url, "request", payload=io.BytesIO(req), length=len(req),
                        warc_headers_dict={"WARC-Record-ID": rid(), "WARC-Date": page.warc_date,
                                           "WARC-Concurrent-To": page.record_id},
                    )
                )
            body = page.html.encode("utf-8")
            http_headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            writer.write_record(
                writer.create_warc_record(
                    page.url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http_headers,
                    warc_headers_dict={"WARC-Record-ID": page.record_id, "WARC-Date": page.warc_date,
                                       "WARC-Identified-Payload-Type": "text/html"},
                )
            )


def _write_truth(sample: Sample, path: pathlib.Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for p in sample.pages:
            f.write(json.dumps({
                "id": p.record_id, "url": p.url, "kind": p.kind, "lang": p.lang, "site": p.site.host,
                "title": p.title, "source_url": p.source_url, "jaccard5": p.jaccard5, "planted": p.planted,
            }, ensure_ascii=False) + "\n")


def _write_original(sample: Sample, path: pathlib.Path) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        for doc in sample.original:
            gz.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))


def generate_sample(
    out_dir: pathlib.Path,
    seed: int = 1234,
    web_pages: int = 480,
    original_docs: int = 1200,
    dump: str = "CC-SYNTH-2026-47",
    shards: int = 2,
    general_share: float = GENERAL_SHARE,
) -> dict:
    """Writes out_dir/crawl/<dump>-<shard>.warc.gz (``shards`` files, contiguous slices of the pages, so
    curation can run one task per file) and out_dir/original/original.jsonl.gz; returns stats dict
    {"web_pages": n, "by_kind": {kind: count}, "original_docs": n, "warcs": [relpath], "original": relpath,
    "dump": dump}.

    Also writes out_dir/crawl/truth.jsonl (one line per response record, i.e. per document) and adds its
    relative path under "truth". Deterministic: same arguments -> byte-identical files.
    """
    out_dir = pathlib.Path(out_dir)
    sample = build_sample(seed=seed, web_pages=web_pages, original_docs=original_docs, dump=dump,
                          general_share=general_share)
    crawl = [p.title + "\n" + "\n".join(p.paragraphs) for p in sample.pages]
    items = generate_tasks(out_dir, seed, crawl_texts=crawl)["sample_domain"]
    plant(sample.pages, {f"sample_domain:{i}": planted_text(items[i]) for i in PLANTED_ITEMS},
          random.Random(f"plant-{seed}"))
    quoting = _keep_items_unseen(sample.original, out_dir, seed)
    warc_rels = [f"{WARC_DIR}/{dump}-{i:05d}.warc.gz" for i in range(shards)]
    truth_rel = f"{WARC_DIR}/{TRUTH_FILE}"
    (out_dir / WARC_DIR).mkdir(parents=True, exist_ok=True)
    (out_dir / ORIGINAL_REL).parent.mkdir(parents=True, exist_ok=True)
    per_shard = -(-len(sample.pages) // shards)
    for i, rel in enumerate(warc_rels):
        _write_warc(sample, out_dir / rel, seed + i, sample.pages[i * per_shard:(i + 1) * per_shard])
    _write_truth(sample, out_dir / truth_rel)
    _write_original(sample, out_dir / ORIGINAL_REL)
    by_kind = {k: 0 for k in KINDS}
    for p in sample.pages:
        by_kind[p.kind] += 1
    return {
        "web_pages": len(sample.pages),
        "by_kind": by_kind,
        "original_docs": len(sample.original),
        "warcs": warc_rels,
        "dump": dump,
        "original": ORIGINAL_REL,
        "truth": truth_rel,
        "tasks": TASKS_DIR,
        "planted": sorted(p.planted for p in sample.pages if p.planted),
        "general_quoting_items": quoting,  # general documents sharing a 10-word run with a domain item
    }


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - convenience CLI
    import argparse
    import time

    ap = argparse.ArgumentParser(description="Write the synthetic crawl + original corpus")
    ap.add_argument("out_dir", type=pathlib.Path)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--web-pages", type=int, default=480)
    ap.add_argument("--original-docs", type=int, default=1200)
    ap.add_argument("--dump", default="CC-SYNTH-2026-47")
    ap.add_argument("--general-share", type=float, default=GENERAL_SHARE)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    stats = generate_sample(a.out_dir, a.seed, a.web_pages, a.original_docs, a.dump, general_share=a.general_share)
    print(json.dumps(stats, indent=2))
    print(f"generated in {time.perf_counter() - t0:.2f}s")


if __name__ == "__main__":  # pragma: no cover
    main()
