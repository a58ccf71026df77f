"""A multilingual test set of extracted page text: good articles and junk pages in English, German,
French and Spanish, written by the project's own grammars (``vocab_astro``, ``vocab_foreign``).

Good articles are as long as a grammar's frame deck allows without reusing a frame (so their n-gram
repetition is that of prose, not of a template), one paragraph per line, as trafilatura writes them.
Junk pages are the kinds the quality filters exist for, in the same language: a navigation menu (one
short item per line), a page whose paragraph repeats, and a stub of one or two sentences.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.sample import vocab_astro, vocab_foreign
from pipeline.sample.grammar import Grammar

LANGUAGES = ("en", "de", "fr", "es")
JUNK_KINDS = ("menu", "repeated", "stub")

# a menu's items: the site sections, in the page's language
_MENU = {
    "en": ["Home", "News", "Missions", "Planets", "Moons", "Comets", "Night sky", "Telescopes", "Events", "About us",
           "Contact", "Newsletter", "Archive", "Imprint", "Privacy"],
    "de": ["Startseite", "Nachrichten", "Missionen", "Planeten", "Monde", "Kometen", "Sternhimmel", "Teleskope",
           "Termine", "Über uns", "Kontakt", "Newsletter", "Archiv", "Impressum", "Datenschutz"],
    "fr": ["Accueil", "Actualités", "Missions", "Planètes", "Lunes", "Comètes", "Ciel nocturne", "Télescopes",
           "Agenda", "Qui sommes-nous", "Contact", "Lettre d'information", "Archives", "Mentions légales"],
    "es": ["Inicio", "Noticias", "Misiones", "Planetas", "Lunas", "Cometas", "Cielo nocturno", "Telescopios",
           "Agenda", "Quiénes somos", "Contacto", "Boletín", "Archivo", "Aviso legal", "Privacidad"],
}


@dataclass(frozen=True)
class LabelledDoc:
    id: str
    lang: str
    kind: str  # "article" or one of JUNK_KINDS
    text: str

    @property
    def good(self) -> bool:
        return self.kind == "article"


def _grammar(lang: str, rng: random.Random) -> tuple[Grammar, dict]:
    if lang == "en":
        return vocab_astro.GRAMMAR, vocab_astro.make_context(rng)
    grammar = vocab_foreign.LANGS[lang][0]
    return grammar, vocab_foreign.make_context(lang, rng)


def article(lang: str, rng: random.Random) -> str:
    """One good article: 12 to 24 sentences (at most one per frame), 3 to 5 sentences a paragraph."""
    grammar, ctx = _grammar(lang, rng)
    decks = grammar.decks(rng)
    sentences = [grammar.sentence(rng, ctx, decks) for _ in range(min(len(grammar.frames), rng.randint(12, 24)))]
    paragraphs, i = [], 0
    while i < len(sentences):
        k = rng.randint(3, 5)
        paragraphs.append(" ".join(sentences[i:i + k]))
        i += k
    return "\n".join(paragraphs)


def junk(lang: str, kind: str, rng: random.Random) -> str:
    grammar, ctx = _grammar(lang, rng)
    decks = grammar.decks(rng)
    if kind == "menu":  # a site's navigation, with one headline in between
        items = rng.sample(_MENU[lang], 10)
        return "\n".join(items[:5] + [grammar.sentence(rng, ctx, decks)] + items[5:])
    if kind == "repeated":  # one paragraph, shown again and again (a broken template)
        paragraph = " ".join(grammar.sentence(rng, ctx, decks) for _ in range(3))
        return "\n".join([paragraph] * rng.randint(4, 7))
    if kind == "stub":  # a sentence or two
        return " ".join(grammar.sentence(rng, ctx, decks) for _ in range(rng.randint(1, 2)))
    raise ValueError(f"unknown junk kind {kind!r}")


def build_set(per_language: int = 40, junk_per_kind: int = 5, seed: int = 20261203,
             languages: tuple[str, ...] = LANGUAGES) -> list[LabelledDoc]:
    """``per_language`` good articles and ``junk_per_kind`` pages of each junk kind, for each language."""
    rng = random.Random(seed)
    docs: list[LabelledDoc] = []
    for lang in languages:
        docs += [LabelledDoc(f"{lang}-article-{i}", lang, "article", article(lang, rng)) for i in range(per_language)]
        for kind in JUNK_KINDS:
            docs += [LabelledDoc(f"{lang}-{kind}-{i}", lang, kind, junk(lang, kind, rng)) for i in range(junk_per_kind)]
    return docs
