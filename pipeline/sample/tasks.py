"""The embedded sample's own multiple-choice tasks, so the default run reports downstream forgetting
and adaptation: pick a sentence's true ending from four.

``sample_general`` (forgetting) asks about the original corpus's domain, with endings from the new
domain as distractors; ``sample_domain`` (adaptation) the reverse. A base model pretrained on the
original corpus prefers original-domain endings, so continued pretraining should raise the domain
task and may lower the general one. Each task has a ``test`` split (scored) and a ``train`` split of
the same kind (the contamination check's control). Sentences are drawn fresh from the grammars, with
their own seed, and a sentence sharing an ``EXCLUDE_N``-word run with the crawl (normalised as
datatrove's decontamination normalises) is not used: the grammars' long fixed frames would otherwise
make most items "contaminated" by the crawl, and only the planted ones should be.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from pipeline.sample import vocab_astro, vocab_original

TASKS_DIR = "tasks"
CHOICES = 4
EXCLUDE_N = 10  # below decontamination's default n (13), so a smaller setting finds only the planted items too


class NgramIndex:
    """Word n-grams of texts under datatrove's decontamination normalisation (words split on spaces: the
    normalised text has no punctuation left for a word tokenizer to split, and EXCLUDE_N leaves a margin)."""

    def __init__(self, texts, n: int = EXCLUDE_N):
        from datatrove.utils.text import TextNormConfig

        self.n, self.norm = n, TextNormConfig()
        self.grams = {g for t in texts for g in self.grams_of(t)}

    def grams_of(self, text: str) -> set[tuple[str, ...]]:
        from datatrove.utils.text import simplify_text

        words = simplify_text(text, self.norm).split()
        return {tuple(words[i:i + self.n]) for i in range(len(words) - self.n + 1)}

    def hits(self, text: str) -> bool:
        return not self.grams.isdisjoint(self.grams_of(text))


def _sentences(domain: str, rng: random.Random, n: int, exclude: NgramIndex | None) -> list[str]:
    out: list[str] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 200 * n:
            raise RuntimeError(f"the sample's {domain} grammar yields too few sentences unseen in the crawl")
        if domain == "new":
            grammar, ctx = vocab_astro.GRAMMAR, vocab_astro.make_context(rng)
        else:
            grammar = vocab_original.THEMES[rng.choice(sorted(vocab_original.THEMES))]
            ctx = vocab_original.make_context(rng)
        decks = grammar.decks(rng)
        for _ in range(4):
            s = grammar.sentence(rng, ctx, decks)
            if len(s.split()) >= 12 and s not in out and not (exclude and exclude.hits(s)):
                out.append(s)
    return out[:n]


def _split(sentence: str) -> tuple[str, str]:
    words = sentence.split()
    cut = len(words) // 2
    return " ".join(words[:cut]), " ".join(words[cut:])


def _items(own: list[str], other: list[str], rng: random.Random) -> list[dict]:
    endings = [_split(s)[1] for s in other]
    items = []
    for s in own:
        query, gold = _split(s)
        choices = rng.sample(endings, CHOICES - 1)
        at = rng.randrange(CHOICES)
        choices.insert(at, gold)
        items.append({"query": query, "choices": choices, "gold": at})
    return items


def generate_tasks(out_dir: Path, seed: int, n_items: int = 100, crawl_texts=()) -> dict[str, list[dict]]:
    """Writes ``tasks/<task>.jsonl`` (test) and ``tasks/<task>.control.jsonl`` (train) under ``out_dir``;
    returns ``{task: test items}``. No item's sentence shares an n-gram with ``crawl_texts``."""
    rng = random.Random(f"tasks-{seed}")
    exclude = NgramIndex(crawl_texts) if crawl_texts else None
    new, old = _sentences("new", rng, 4 * n_items, exclude), _sentences("original", rng, 4 * n_items, None)
    tasks = {"sample_general": _items(old[:2 * n_items], new[2 * n_items:], rng),
             "sample_domain": _items(new[:2 * n_items], old[2 * n_items:], rng)}
    folder = Path(out_dir) / TASKS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, items in tasks.items():
        for split, part in (("", items[:n_items]), (".control", items[n_items:])):
            (folder / f"{name}{split}.jsonl").write_text("".join(json.dumps(i) + "\n" for i in part))
    return {name: items[:n_items] for name, items in tasks.items()}


def planted_text(item: dict) -> str:
    """An item's question and gold answer as a page would quote it: case and punctuation changed."""
    gold = item["choices"][item["gold"]]
    return f"Quiz time: {item['query'].upper()}... {gold.rstrip('.').replace(',', '')}!"
