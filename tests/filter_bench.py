"""The filter-chain test bench: datatrove's four quality filters (GopherRepetition -> GopherQuality -> C4 ->
FineWeb) and the project's fast versions, built from the default recipe, run document by document and
compared, plus the inputs that make them work (hand-shaped adversarial documents, the extracted pages of a
generated sample). Shared by ``tests/test_fast_filters.py``, ``tests/test_realistic_text.py`` and
``benchmarks/filter_chain.py`` (which puts ``tests/`` on ``sys.path`` to import it).
"""

from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path

FILTER_KEYS = ("gopher_repetition", "gopher_quality", "c4", "fineweb")


# ----------------------------------------------------------------------------- input
def adversarial_docs(seed: int = 7) -> list[dict]:
    """Hand-shaped documents aimed at every drop reason of the four filters, and at tokenizer corners."""
    rng = random.Random(seed)
    vocab = ("orbit comet planet the and of to with that have be galaxy nebula telescope observed light "
             "distance measured astronomers spectrum radiation gravity surface atmosphere moon crater solar "
             "mission probe signal data analysis season evening morning horizon bright faint star cluster "
             "dust ring system sample team report").split()

    def sent(k: int = 12) -> str:
        s = " ".join(rng.choice(vocab) for _ in range(k))
        return s[0].upper() + s[1:] + rng.choice([".", ".", "!", "?"])

    def para(n: int = 4) -> str:
        return " ".join(sent(rng.randint(8, 16)) for _ in range(n))

    def article(n: int = 6) -> str:
        return "\n".join(para() for _ in range(n))

    long_words = ("observatories constellations spectrographs interferometer photographers magnetospheres "
                  "heliocentrism circumstellar protoplanetary gravitational supernovae").split()

    plain = [w for w in vocab if w not in ("the", "be", "to", "of", "and", "that", "have", "with")]

    def repeated_phrase(phrase: str, frac: float) -> str:
        """``phrase`` repeated in random filler so that its occurrences make ``frac`` of the characters."""
        words: list[str] = []
        k = 12
        while len(" ".join(words)) < len(phrase) * k / frac - (len(phrase) + 1) * k:
            words.append(rng.choice(plain))
        step = len(words) // k
        out = []
        for i in range(k):
            out += words[i * step:(i + 1) * step] + [phrase]
        return " ".join(out + words[k * step:]) + "."

    def repeated_passage(n_words: int, frac: float) -> str:
        """One ``n_words`` passage twice in unpunctuated filler: its share of the text is ``frac``."""
        passage = [rng.choice(vocab) for _ in range(n_words)]
        target = len("".join(passage)) / frac
        words = passage[:]
        while len(" ".join(words)) < target - len(" ".join(passage)) - 1:
            words.append(rng.choice(vocab))
        cut = len(words) // 2
        return " ".join(words[:cut] + passage + words[cut:])

    docs: dict[str, str] = {
        "empty": "",
        "whitespace": "  \n\n \t ",
        "one_word": "Hello",
        "dup_para": "\n\n".join([para(3)] * 4 + [para(3)]),
        "dup_para_chars": "\n\n".join([para(8)] * 2 + [para(2) for _ in range(6)]),
        "dup_lines": "\n".join([sent()] * 5 + [sent() for _ in range(6)]),
        "dup_line_chars": "\n".join([para(6)] * 2 + [sent() for _ in range(12)]),
        "top_2gram": " ".join(["dark matter"] * 40 + [sent() for _ in range(8)]),
        "top_3gram": repeated_phrase("the red planet", 0.19),
        "top_4gram": repeated_phrase("one of the brightest", 0.17),
        "dup_5gram": " ".join(para(2) + " " + "the probe reached the outer ring of the system" for _ in range(8)),
        "dup_10gram": " ".join([sent(), "we measured the light of the faint star across the whole night sky",
                                sent()] * 3 + [sent() for _ in range(20)]),
        "short_doc": "The comet is bright tonight. Look up and see it.",
        "short_words": " ".join(rng.choice(["a", "an", "is", "of", "to", "it", "at", "on", "the", "by"])
                                for _ in range(300)) + ".",
        "long_words": " ".join(rng.choice(["spectrophotometrically", "interferometrically", "extraterrestrial",
                                           "magnetohydrodynamics", "astrophotography"]) + rng.choice(["", "s"])
                               for _ in range(120)) + " the and.",
        "hashes": article(2) + "\n" + " ".join(f"#tag{i}" for i in range(60)),
        "ellipsis_count": " ".join(sent(6)[:-1] + "..." for _ in range(30)),
        "bullets": "\n".join(f"- {sent(10)}" for _ in range(30)),
        "bullets_dot": "\n".join(f"  • {sent(10)}" for _ in range(30)),
        "end_ellipsis": "\n".join(sent(14)[:-1] + (" …" if i % 2 else "...") for i in range(20)),
        "numbers": " ".join(str(rng.randint(0, 99999)) for _ in range(300)) + " the comet and the moon.",
        "no_stop_words": " ".join(" ".join(rng.choice(plain) for _ in range(9)) + "." for _ in range(25)),
        "lorem": article(3) + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.\n" + article(2),
        "curly": article(3) + "\nfunction f() { return 1; } is what the code says\n" + article(2),
        "javascript_policy": "\n".join(
            [para(2), "Please enable JavaScript to view the comments powered by Disqus.",
             "By using this site you agree to our Terms of Use and Privacy Policy.", para(2),
             "This website uses cookies to improve your experience.", para(2), "Accept", para(2)]),
        "few_sentences": "\n".join([sent(30) + " " + sent(30), "Menu", "Home", "About us", "Contact"]),
        "too_long_word": article(8) + "\n" + "x" * 1200 + " tail words here.\n" + article(4),
        "citations": "\n".join(f"{sent(12)}[{i}] {sent(9)}[edit] {sent(7)}[citation needed] [2]{sent(5)}"
                               for i in range(8)),
        "no_terminal_punct": "\n".join(" ".join(rng.choice(vocab) for _ in range(12)) for _ in range(20))
                             + "\n" + para(5),
        "short_lines": "\n".join([para(5)] + [" ".join(rng.sample(vocab, 3)) + "." for _ in range(30)]),
        "char_dup": "\n".join([para(3), "Subscribe to our newsletter for weekly updates today.", para(3),
                               "Subscribe to our newsletter for weekly updates today.", para(3)]),
        "list_ratio": "\n".join(rng.sample([f"{a} {s} {b}" for a in long_words for b in long_words if a != b
                                             for s in ("of", "the", "and", "with")], 80)
                                 + rng.sample([f"{a} of {b}." for a in long_words for b in long_words], 12)),
        "dup_7gram": repeated_passage(14, 0.135),
        "dup_10gram_only": repeated_passage(10, 0.105),
        "long_doc": " ".join(rng.choice(vocab) for _ in range(100_050)) + ".",
        "crlf": "\r\n".join(para(2) for _ in range(6)) + "\r\n",
        "trailing_newlines": article(5) + "\n\n\n\n",
        "tabs_nbsp": "\n".join(para(2).replace(" ", rng.choice(["\t", "\u00a0", "  ", " \u2009"]), 3)
                               for _ in range(6)),
        "unicode": "\n".join([para(2), "Die Sterne über München leuchten heute Nacht besonders hell, sagte sie.",
                              "火星の表面は赤い。彗星が見えます！ 今夜は晴れ。", "Ça marche très bien — n'est-ce pas ? Oui !",
                              "Emoji 🚀🌕✨ and the moon 🌙 with dust.", "\u2028line sep\x1cfile sep\x85nel " + sent(),
                              para(2)]),
        "tokenizer_corners": "\n".join([article(3),
            "We'll see what they're doing: don't worry, it's fine :) ( : ) : - ) ;-) <3 (: and :( too.",
            "Meet at 10 a.m . or 5 p.m. tomorrow ' s a lot of ' em and ' cause we can .",
            "Visit https://example.org/path?q=1&x=2 or mail me at someone@example.com for the data.",
            "Hyphen-ated well-known state-of-the-art e.g. i.e. U.S.A. etc. vs. Dr. Smith 's notes.",
            "Numbers 3.14 1,000,000 50% $20 #1 @user... ... .. ?! !! ?? '' `` \"quoted\" (parens) [brackets].",
            article(3)]),
        "is_alpha_trap": article(2) + "\nThe IS_ALPHA flag and x IS_ALPHA and IS_ALPHA.\n" + article(2),
        "only_punct": "... !!! ??? --- *** ### ,,, ;;; :::",
        "spam": "\n".join(" - ".join(rng.choice(["best price", "buy now", "cheap deals", "free shipping"])
                                     for _ in range(15)) + "!!" for _ in range(8)),
    }
    return [{"id": f"adv-{k}", "text": v} for k, v in docs.items()]


def load_sample_dir(sample_dir: Path) -> list[dict]:
    """Docs of a ``generate_sample`` output dir: extracted WARC pages + ``original/original.jsonl.gz``."""
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader

    extractor = Trafilatura(favour_precision=True, timeout=10)
    rows = []
    for doc in WarcReader(str(sample_dir / "crawl"), glob_pattern="*.warc.gz").run():
        text = extractor.extract(doc.text) or ""
        if text:
            rows.append({"id": doc.id, "text": text})
    with gzip.open(sample_dir / "original" / "original.jsonl.gz", "rt", encoding="utf-8") as f:
        rows += [{"id": d["id"], "text": d["text"]} for d in map(json.loads, f)]
    return rows


# ----------------------------------------------------------------------------- chains
def recipe_for(language: str = "en"):
    """The composed recipe a user gets for ``language``: the default (``fineweb``) for English, ``fineweb2``
    with FineWeb-2's settings for that language otherwise."""
    from pipeline.compose import compose_one, hydra_context

    overrides = [] if language == "en" else ["recipe=fineweb2", f"recipe.filters.language.languages=[{language}]"]
    with hydra_context():
        return compose_one(overrides).recipe


def make_chains(language: str = "en"):
    """``(stock, fast)``: lists of ``(key, filter)`` built by ``filter_steps`` from :func:`recipe_for`, without
    language ID (:func:`language_filter`) and URL filter: Gopher repetition, Gopher quality, C4 (English;
    FineWeb-2 turns it off), FineWeb."""
    from pipeline.curate.filter_steps import filter_steps

    filters = recipe_for(language).filters
    filters.url.enabled = False
    filters.language.enabled = False

    def chain(fast: bool):
        steps = [(k, s) for k, s in filter_steps(filters, fast=fast) if k in FILTER_KEYS]
        if language == "en":
            assert [k for k, _ in steps] == list(FILTER_KEYS), steps
        return steps

    return chain(False), chain(True)


def language_filter(language: str = "en"):
    """The recipe's language-ID step for ``language`` (lid.176, the recipe's threshold)."""
    from pipeline.curate.filter_steps import filter_steps

    filters = recipe_for(language).filters
    filters.language.enabled = True
    return dict(filter_steps(filters, fast=False))["language"]


def run_chain(steps, docs: list[dict]):
    """Each doc through the filters, datatrove-style (stop at the first drop).

    Returns ``(decisions, seconds_per_filter)``; a decision is ``(per-filter results, final text or None)``
    where a per-filter result is ``True`` or the drop reason."""
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import get_filter_result

    per = [0.0] * len(steps)
    decisions = []
    clock = time.perf_counter
    for d in docs:
        doc = Document(text=d["text"], id=d["id"])
        row = []
        kept = True
        for i, (_, f) in enumerate(steps):
            t0 = clock()
            res = f.filter(doc)
            per[i] += clock() - t0
            ok, reason = get_filter_result(res)
            row.append(True if ok else reason)
            if not ok:
                kept = False
                break
        decisions.append((tuple(row), doc.text if kept else None))
    return decisions, per


def compare(docs, stock, fast) -> list[str]:
    """One line per document whose decision (per-filter results, final text) differs between the chains."""
    problems = []
    for d, a, b in zip(docs, stock, fast):
        if a != b:
            problems.append(f"{d['id']}: stock={a[0]} fast={b[0]} same_text={a[1] == b[1]}")
    return problems
