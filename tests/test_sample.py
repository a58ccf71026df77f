"""Tests of the embedded synthetic sample (pipeline/sample) and the embedded tokenizer."""

from __future__ import annotations

import gzip
import json
import pathlib
import re
import time

import pytest

from pipeline.sample.generate import KIND_SHARES, KINDS, build_sample, generate_sample, kind_counts

SMALL = dict(seed=1234, web_pages=60, original_docs=40)
ROOT = pathlib.Path(__file__).resolve().parent.parent
TOKENIZER = ROOT / "pipeline" / "assets" / "tokenizer" / "cpt-sample-bpe.json"


def _payloads(warc: pathlib.Path) -> list[tuple[str, str, bytes]]:
    from warcio.archiveiterator import ArchiveIterator

    out = []
    with open(warc, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type == "response":
                out.append((rec.rec_headers.get_header("WARC-Record-ID"),
                            rec.rec_headers.get_header("WARC-Target-URI"), rec.content_stream().read()))
    return out


def _truth(out: pathlib.Path, stats: dict) -> list[dict]:
    return [json.loads(x) for x in (out / stats["truth"]).read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[pathlib.Path, dict]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate_sample(out, **SMALL)


# ----------------------------------------------------------------------------- generation
def test_layout_and_stats(small):
    out, stats = small
    assert stats["web_pages"] == 60 and stats["original_docs"] == 40
    assert stats["warcs"] == ["crawl/CC-SYNTH-2026-47-00000.warc.gz", "crawl/CC-SYNTH-2026-47-00001.warc.gz"]
    assert stats["original"] == "original/original.jsonl.gz"
    assert all((out / w).is_file() for w in stats["warcs"]) and (out / stats["original"]).is_file()
    assert (out / "crawl" / "truth.jsonl").is_file()
    assert set(stats["by_kind"]) == set(KINDS) and sum(stats["by_kind"].values()) == 60


def test_deterministic(small, tmp_path):
    out, stats = small
    stats2 = generate_sample(tmp_path, **SMALL)
    assert stats2 == stats
    assert (tmp_path / stats["original"]).read_bytes() == (out / stats["original"]).read_bytes()
    for w in stats["warcs"]:
        assert _payloads(tmp_path / w) == _payloads(out / w)
        assert (tmp_path / w).read_bytes() == (out / w).read_bytes()
    other = tmp_path / "other"
    generate_sample(other, seed=7, web_pages=60, original_docs=40)
    assert (other / stats["original"]).read_bytes() != (out / stats["original"]).read_bytes()


def test_kind_counts_default_size():
    counts = kind_counts(480)
    assert sum(counts.values()) == 480
    for kind, share in KIND_SHARES.items():
        assert counts[kind] >= 1
        assert abs(counts[kind] - 480 * share) <= 1, (kind, counts[kind])
    small = kind_counts(60)
    assert sum(small.values()) == 60 and all(v >= 1 for v in small.values())


def test_truth_matches_warc(small):
    out, stats = small
    truth = _truth(out, stats)
    records = [r for w in stats["warcs"] for r in _payloads(out / w)]
    assert [(t["id"], t["url"]) for t in truth] == [(rid, url) for rid, url, _ in records]
    urls = [t["url"] for t in truth]
    assert len(set(urls)) == len(urls)
    assert all(re.match(r"https://[a-z0-9.-]+/[a-z-]+/[a-z0-9-]+\.html$", u) for u in urls)
    assert {t["kind"]: 0 for t in truth}.keys() == set(KINDS)
    position = {t["url"]: i for i, t in enumerate(truth)}
    payload = {url: body for _, url, body in records}
    sources = [t["source_url"] for t in truth if t["source_url"]]
    assert len(sources) == len(set(sources))  # each article copied at most once
    for i, t in enumerate(truth):
        if t["kind"] in ("exact_duplicate", "near_duplicate"):
            src = t["source_url"]
            assert position[src] < i and truth[position[src]]["kind"] == "article"
            if t["kind"] == "exact_duplicate":
                assert payload[t["url"]] == payload[src]
            else:
                assert payload[t["url"]] != payload[src]
                assert 0.8 <= t["jaccard5"] <= 0.95
        else:
            assert t["source_url"] is None


def test_original_corpus(small):
    out, stats = small
    with gzip.open(out / stats["original"], "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    assert len(docs) == 40 and len({d["id"] for d in docs}) == 40
    domestic = [d for d in docs if d["source"] == "original"]
    general = [d for d in docs if d["source"] == "general"]
    assert len(general) == 4 and len(domestic) == 36  # general_share 0.1 by default
    for d in domestic:
        assert 180 <= len(d["text"].split()) <= 600
        assert d["text"].count("\n\n") >= 1
    assert not any("spacecraft" in d["text"] for d in domestic)  # another domain than the crawl
    assert sum("spacecraft" in d["text"] or "mission" in d["text"] for d in general) >= 3  # the crawl's topic
    assert [d["text"] for d in general] != [d["text"] for d in docs[:4]]  # spread, not a block


def test_a_tiny_sample_keeps_what_it_cannot_redraw_and_counts_it(tmp_path):
    """Ten crawl pages screen few task items against the grammar's frames, so some general articles
    cannot avoid an item: the sample is still made, and says how many (the full size has none)."""
    stats = generate_sample(tmp_path, seed=0, web_pages=10, original_docs=20)
    assert stats["original_docs"] == 20 and stats["general_quoting_items"] == 2


def test_general_share_changes_only_the_general_documents(small):
    """The crawl and the domestic documents do not depend on the share (the general ones have their own
    random stream), so the default tokenizer, trained with share 0, still matches its corpus."""
    out, stats = small
    none = build_sample(**SMALL, general_share=0.0)
    some = build_sample(**SMALL)
    assert [p.html for p in none.pages] == [p.html for p in some.pages]
    domestic = [d["text"] for d in some.original if d["source"] == "original"]
    assert domestic == [d["text"] for d in none.original][:len(domestic)]
    assert [d["source"] for d in none.original] == ["original"] * 40
    assert len([d for d in build_sample(**SMALL, general_share=0.5).original if d["source"] == "general"]) == 20


def test_generation_speed_and_the_base_never_reads_a_domain_item(tmp_path):
    """Full size: the 120 general articles of the original corpus share no 10-word run with a
    sample_domain item (before the redraw, 21 did), so the base model has not seen the domain task."""
    from pipeline.sample.tasks import NgramIndex

    t0 = time.perf_counter()
    stats = generate_sample(tmp_path)
    assert time.perf_counter() - t0 < 5.0
    assert stats["web_pages"] == 480 and stats["original_docs"] == 1200
    with gzip.open(tmp_path / stats["original"], "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    items = [json.loads(line) for name in ("sample_domain.jsonl", "sample_domain.control.jsonl")
             for line in (tmp_path / "tasks" / name).read_text().splitlines()]
    index = NgramIndex(i["query"] + " " + i["choices"][i["gold"]] for i in items)
    general = [d for d in docs if d["source"] == "general"]
    assert len(general) == 120 and not [d["id"] for d in general if index.hits(d["text"])]
    assert stats["general_quoting_items"] == 0


def test_warc_readable_by_datatrove(small):
    from datatrove.pipeline.readers import WarcReader

    out, stats = small
    docs = list(WarcReader(str(out / "crawl"), glob_pattern="*.warc.gz").run())
    truth = _truth(out, stats)
    assert len(docs) == stats["web_pages"]
    assert [d.id for d in docs] == [t["id"] for t in truth]
    assert [d.metadata["url"] for d in docs] == [t["url"] for t in truth]
    assert all(d.text.lstrip().startswith("<!DOCTYPE html>") for d in docs)
    assert all(d.metadata["date"].startswith("2026-11-") for d in docs)  # ISO week 47 of 2026


# ----------------------------------------------------------------------------- real filters
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # tldextract's registered_domain, used by datatrove
def test_real_filter_chain(tmp_path):
    from sample_check import KEPT, run_check

    rep = run_check(tmp_path, seed=1234, web_pages=60, original_docs=30)
    assert rep.kept_rate("article") >= 0.9, rep.table()
    assert rep.share("non_english", "language") >= 0.9, rep.table()
    assert rep.share("url_blocked", "url") == 1.0, rep.table()
    for kind in ("spam", "boilerplate", "short"):
        assert rep.kept_rate(kind) == 0.0, rep.table()
    for kind in ("exact_duplicate", "near_duplicate"):
        assert rep.kept_rate(kind) >= 0.9, rep.table()
    assert rep.original.get(KEPT, 0) == rep.original_total == 30, rep.table()


# ----------------------------------------------------------------------------- tokenizer
def test_tokenizer_asset():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(TOKENIZER))
    assert tok.token_to_id("<|endoftext|>") == 0
    assert tok.token_to_id("<|pad|>") == 1
    assert tok.get_vocab_size() == 4096
    text = "The Kestrel orbiter mapped the ice shell of Europa.\n\nBake the rye bread for 40 minutes — café, naïve ✓"
    enc = tok.encode(text)
    assert tok.decode(enc.ids) == text
    # trained on the sample: common domain words are single tokens
    assert len(tok.encode(" spacecraft").ids) == 1 and len(tok.encode(" garden").ids) <= 2


def test_train_tokenizer_small_is_deterministic():
    from pipeline.sample.train_tokenizer import train_tokenizer

    texts = list(build_sample(seed=5, web_pages=20, original_docs=20).article_texts())
    a = train_tokenizer(texts, vocab_size=400).to_str()
    b = train_tokenizer(texts, vocab_size=400).to_str()
    assert a == b
    assert json.loads(a)["added_tokens"][0]["content"] == "<|endoftext|>"


def test_tasks_and_planted_items(small):
    """The sample's own multiple-choice tasks: 100 scored and 100 control items each, four choices with
    the gold among them; the planted items are quoted in exactly the pages truth.jsonl names, and no
    other item shares a 10-word run with the crawl."""
    from pipeline.sample.generate import PLANTED_ITEMS
    from pipeline.sample.tasks import EXCLUDE_N, NgramIndex, planted_text

    out, stats = small
    assert stats["tasks"] == "tasks" and stats["planted"] == [f"sample_domain:{i}" for i in PLANTED_ITEMS]
    items = {}
    for name in ("sample_general", "sample_domain"):
        for split in ("", ".control"):
            rows = [json.loads(line) for line in (out / "tasks" / f"{name}{split}.jsonl").read_text().splitlines()]
            assert len(rows) == 100 and all(len(r["choices"]) == 4 and 0 <= r["gold"] < 4 for r in rows)
            items[name + split] = rows
    truth = [json.loads(line) for line in (out / "crawl" / "truth.jsonl").read_text().splitlines()]
    planted = {t["planted"]: t for t in truth if t["planted"]}
    assert sorted(planted) == stats["planted"] and all(t["kind"] == "article" for t in planted.values())
    pages = {rec_id: body.decode() for w in stats["warcs"] for rec_id, _, body in _payloads(out / w)}
    for key, t in planted.items():
        quoted = planted_text(items["sample_domain"][int(key.split(":")[1])])
        assert quoted.upper() != quoted and quoted.replace("&", "&amp;") in pages[t["id"]].replace("&#x27;", "'")
    built = build_sample(**SMALL)
    index = NgramIndex([p.title + "\n" + "\n".join(p.paragraphs) for p in built.pages], EXCLUDE_N)
    hits = [i for i, r in enumerate(items["sample_domain"]) if index.hits(f"{r['query']} {r['choices'][r['gold']]}")]
    assert hits == []  # the pages before planting share nothing with any item
