"""A tiny template grammar used to write the synthetic sample's prose.

A :class:`Grammar` holds *slots* (name -> list of alternatives, or a callable drawing a value from the
random generator) and *frames* (sentence templates). ``{NAME}`` in a template expands to one
alternative of slot ``NAME`` (expanded recursively) or to ``ctx[NAME]`` when the document fixed it
(its topic: the body, the mission, the lead scientist...). ``{a:NAME}`` prefixes "a"/"an".

Sentences are drawn from a per-document *deck* (frames shuffled, used without replacement until the
deck runs out) so that a document rarely repeats the fixed words of a frame: this keeps the Gopher
repetition statistics (duplicated n-grams, top n-gram share) of a generated page natural.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence, Union

SlotValues = Union[Sequence[str], Callable[[random.Random], str]]

_SLOT = re.compile(r"\{(?:([a-z]+):)?([A-Z][A-Z0-9_]*)\}")
_VOWEL_SOUND = re.compile(r"^(?:[aeio]|u(?!ni|se|sa|ro|tr)|hour|honest|X-|NASA)", re.IGNORECASE)


def indefinite(phrase: str) -> str:
    """'a' or 'an' for an English noun phrase (good enough for our own vocabulary)."""
    return "an" if _VOWEL_SOUND.match(phrase) else "a"


def capitalize_first(s: str) -> str:
    for i, ch in enumerate(s):
        if ch.isalpha():
            return s[:i] + ch.upper() + s[i + 1 :]
    return s


class Deck:
    """Draw items without replacement; reshuffle when exhausted."""

    def __init__(self, items: Sequence[str], rng: random.Random):
        self.items = list(items)
        self.rng = rng
        self.pile: list[str] = []

    def draw(self) -> str:
        if not self.pile:
            self.pile = list(self.items)
            self.rng.shuffle(self.pile)
        return self.pile.pop()


@dataclass
class Grammar:
    slots: Mapping[str, SlotValues]
    frames: Sequence[str]
    intros: Sequence[str] = ()
    tails: Sequence[str] = ()
    intro_p: float = 0.3
    tail_p: float = 0.25
    english: bool = True
    titles: Sequence[str] = field(default_factory=tuple)
    # frames opening with one of these words already start with an adverbial: no intro phrase before them
    no_intro_words: frozenset = frozenset()

    # ------------------------------------------------------------------ expansion
    def fill(self, template: str, rng: random.Random, ctx: Mapping[str, str] | None = None) -> str:
        ctx = ctx or {}

        def repl(m: re.Match) -> str:
            mod, name = m.group(1), m.group(2)
            if name in ctx:
                val = ctx[name]
            else:
                src = self.slots[name]
                val = src(rng) if callable(src) else rng.choice(src)
                if "{" in val:
                    val = self.fill(val, rng, ctx)
            if mod == "a":
                val = f"{indefinite(val)} {val}"
            elif mod == "c":
                val = capitalize_first(val)
            return val

        return _SLOT.sub(repl, template)

    def pick(self, name: str, rng: random.Random, ctx: Mapping[str, str] | None = None) -> str:
        return self.fill("{" + name + "}", rng, ctx)

    # ------------------------------------------------------------------ documents
    def decks(self, rng: random.Random) -> dict[str, Deck]:
        return {
            "frames": Deck(self.frames, rng),
            "intros": Deck(self.intros or [""], rng),
            "tails": Deck(self.tails or [""], rng),
        }

    def sentence(self, rng: random.Random, ctx: Mapping[str, str], decks: dict[str, Deck]) -> str:
        s = self.fill(decks["frames"].draw(), rng, ctx)
        if self.tails and s.endswith(".") and not s.endswith('."') and rng.random() < self.tail_p:
            s = s[:-1] + self.fill(decks["tails"].draw(), rng, ctx) + "."
        first = s.split(" ", 1)[0].strip(",").lower()
        if (
            self.intros
            and not s.startswith(("\"", "«", "„", "¿", "¡"))
            and first not in self.no_intro_words
            and rng.random() < self.intro_p
        ):
            s = self.fill(decks["intros"].draw(), rng, ctx) + s
        return capitalize_first(s)

    def paragraph(
        self,
        rng: random.Random,
        ctx: Mapping[str, str],
        decks: dict[str, Deck],
        n_sentences: int,
        min_chars: int = 200,
    ) -> str:
        out: list[str] = []
        while len(out) < n_sentences or sum(len(x) + 1 for x in out) < min_chars:
            out.append(self.sentence(rng, ctx, decks))
        return " ".join(out)
