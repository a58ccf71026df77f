"""Decontamination (``curate.decontaminate``), offline: an index of a local ARC-format task built in
datatrove's format, datatrove's own n-gram filter as the curate stage's last step, its funnel row and
``decont_report.json``; planted items are removed, a near miss (n-1 words) is kept."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from datatrove.data import Document

from pipeline.config import (C4FilterConfig, DecontaminateConfig, EvalTasksConfig, FineWebFilterConfig,
                             GopherQualityConfig, GopherRepetitionConfig, LanguageFilterConfig)
from pipeline.curate import stage
from pipeline.curate.decontaminate import INDEX_DIR, ITEMS_FILE, REPORT_FILE, Decontamination
from pipeline.errors import InputError
from pipeline.registry import Artifact, StageContext
from pipeline.stage_config import StageConfig
from realistic_text import Vocabulary, realistic_docs
from offline import network_blocked

DUMP = "CC-TEST-2024-10"
N_ITEMS, SHORT = 100, (98, 99)  # the last two items are too short (query plus gold < 13 words)
PLANTED = {10: 5, 50: 42, 90: 87}  # document -> item planted in it
NEAR_MISS_DOC, NEAR_MISS_ITEM = 30, 60


@pytest.fixture(scope="module", autouse=True)
def offline():
    with network_blocked():
        yield


def make_items(n: int = N_ITEMS) -> list[dict]:
    """ARC-Easy rows (question, choices {text, label}, answerKey) of made-up words, each question distinct."""
    rng, vocab = random.Random(7), Vocabulary(99)
    words = [w for w in (vocab.word(r) for r in range(300, 60_000, 7)) if w.isascii() and w.isalpha()]
    items = []
    for i in range(n):
        if i in SHORT:
            question, texts = "Why?", ["Yes", "No", "Maybe", "Never"]
        else:
            question = " ".join(rng.sample(words, rng.randint(11, 16))).capitalize() + "?"
            texts = [" ".join(rng.sample(words, rng.randint(2, 4))) for _ in range(4)]
        items.append({"id": f"q{i}", "question": question, "choices": {"text": texts, "label": list("ABCD")},
                      "answerKey": "ABCD"[i % 4]})
    return items


def gold(item: dict) -> str:
    return item["choices"]["text"]["ABCD".index(item["answerKey"])]


def item_words(item: dict) -> list[str]:
    """The item as the index sees it: ARC's decontamination query ("Question: ...\\nAnswer:") plus the gold."""
    return ["question", *item["question"].rstrip("?").lower().split(), "answer", *gold(item).lower().split()]


def planted(item: dict) -> str:
    """Question and gold answer as a page would quote them: case and punctuation changed."""
    return f"QUESTION -- {item['question'].upper().rstrip('?')}!! Answer... {gold(item).title()}."


def insert(text: str, extra: str) -> str:
    lines = text.split("\n")
    return "\n".join(lines[: len(lines) // 2] + [extra] + lines[len(lines) // 2:])


def make_docs(items: list[dict]) -> list[dict]:
    docs = realistic_docs(100, seed=5)
    for d, i in PLANTED.items():
        docs[d]["text"] = insert(docs[d]["text"], planted(items[i]))
    near = " ".join(item_words(items[NEAR_MISS_ITEM])[-12:])  # n-1 consecutive words of one item
    docs[NEAR_MISS_DOC]["text"] = insert(docs[NEAR_MISS_DOC]["text"], f"Not quite: {near}, as they say.")
    return docs


def write_task(folder: Path, items: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "arc_easy_test.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def stage_config(tasks: dict | None, **decont) -> StageConfig:
    """The curate stage with every FineWeb filter off: decontamination alone decides."""
    return StageConfig(tasks=1, filter_impl="fast", rejects_sample_rate=0.1, recipe="test",
                       language=LanguageFilterConfig(enabled=False),
                       gopher_repetition=GopherRepetitionConfig(enabled=False),
                       gopher_quality=GopherQualityConfig(enabled=False), c4=C4FilterConfig(enabled=False),
                       fineweb=FineWebFilterConfig(enabled=False),
                       decontaminate=DecontaminateConfig(**decont) if tasks is not None else None,
                       eval_tasks=EvalTasksConfig(general=tasks, domain={}) if tasks is not None else None)


def extract_artifact(folder: Path, docs: list[dict]) -> Artifact:
    from datatrove.pipeline.writers import ParquetWriter

    with ParquetWriter(str(folder / "text"), output_filename="${rank}.parquet") as w:
        for d in docs:
            w.write(Document(text=d["text"], id=d["id"], metadata={"dump": DUMP}), rank=0)
    funnel = {"documents_in": len(docs), "removed": 0, "kept": len(docs), "steps": []}
    return Artifact("extract", "0" * 16, folder, {"stats": {"dump": DUMP, "funnel": funnel}})


def run_curate(root: Path, config: StageConfig, docs: list[dict]) -> dict:
    from pipeline.launch.executors import ClusterExecutor

    out = root / "curate"
    out.mkdir(parents=True)
    ctx = StageContext("curate", config, {"extract": extract_artifact(root / "extract", docs)}, out, out,
                       progress=False, executor=ClusterExecutor(), workers=1)
    return stage.run(ctx)


@pytest.fixture(scope="module")
def items():
    return make_items()


@pytest.fixture(scope="module")
def curated(tmp_path_factory, items):
    root = tmp_path_factory.mktemp("decont")
    data = write_task(root / "task", items)
    docs = make_docs(items)
    stats = run_curate(root, stage_config({"arc_easy": str(data)}), docs)
    return root / "curate", stats, docs


def test_planted_items_are_removed_and_reported(curated, items):
    out, stats, docs = curated
    report = json.loads((out / REPORT_FILE).read_text())
    task = report["tasks"]["arc_easy"]
    assert task["items_hit"] == sorted(PLANTED.values())
    assert task["documents_removed"] == 3 and report["documents_removed"] == 3
    assert (task["items"], task["items_indexed"], task["items_too_short"]) == (100, 98, 2)
    assert task["too_short"] == list(SHORT) and report["n_grams"] == 13
    listed = {d["id"]: d for d in task["documents"]}
    assert set(listed) == {docs[d]["id"] for d in PLANTED}
    for d, i in PLANTED.items():
        entry = listed[docs[d]["id"]]
        ngram = entry["ngram"].split()
        assert len(ngram) == 13 and " ".join(ngram) in " ".join(item_words(items[i]))
        assert entry["items"] == [["arc_easy", i]]
        before, match, after = entry["context"].replace("]]", "[[").split("[[")
        assert match.split() == ngram and before and after  # the match, with text either side
    assert stats["decontamination"]["removed_by_task"] == {"arc_easy": 3}
    assert stats["decontamination"]["items_hit_by_task"] == {"arc_easy": 3}


def test_near_miss_and_clean_documents_are_kept(curated):
    import pyarrow.parquet as pq

    out, _, docs = curated
    kept = {r["id"] for f in (out / "docs").glob("*.parquet") for r in pq.read_table(f, columns=["id"]).to_pylist()}
    assert kept == {d["id"] for i, d in enumerate(docs) if i not in PLANTED}
    assert docs[NEAR_MISS_DOC]["id"] in kept
    # every reject is kept for audit (not sampled), with what matched
    rejects = [r for f in (out / "rejects" / "decontaminate").glob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert sorted(r["id"] for r in rejects) == sorted(docs[d]["id"] for d in PLANTED)
    assert all(r["metadata"]["contaminated_task"] == "arc_easy" for r in rejects)


def test_funnel_row_counts_per_task_and_adds_up(curated):
    out, stats, _ = curated
    row = stats["filter_funnel"]["steps"][-1]
    assert row["step"] == "decontaminate" and row["reasons"] == {"contaminated_arc_easy": 3}
    assert (row["in"], row["removed"], row["kept"]) == (100, 3, 97)
    whole = stats["funnel"]
    assert whole["documents_in"] == whole["kept"] + sum(s["removed"] for s in whole["steps"]) == 100
    assert (out / INDEX_DIR / "arc_easy.index.hashes").is_file() and (out / INDEX_DIR / ITEMS_FILE).is_file()


def test_removing_more_than_warn_fraction_warns(curated):
    out, stats, _ = curated
    report = json.loads((out / REPORT_FILE).read_text())
    assert report["removed_fraction"] == pytest.approx(0.03)
    assert "more than curate.decontaminate.warn_fraction" in report["warning"]
    assert stats["decontamination"]["warning"] == report["warning"]


def test_exactly_n_words_match_and_n_minus_1_do_not(tmp_path, items):
    data = write_task(tmp_path / "task", items)
    decont = Decontamination.build(stage_config({"arc_easy": str(data)}), {}, tmp_path / "out")
    words = item_words(items[NEAR_MISS_ITEM])
    doc = lambda span: Document(text=f"Some words before. {' '.join(span)}! And after.", id="d")  # noqa: E731
    assert decont.filter.filter(doc(words[-12:])) is True
    assert decont.filter.filter(doc(words[-13:])) == (False, "contaminated")
    assert decont.filter.filter(doc([w.upper() + "," for w in words[-13:]])) == (False, "contaminated")
    assert decont.filter.filter(doc(words[:13])) is True  # the question alone is not indexed (no gold word)


def test_a_missing_task_file_is_one_line(tmp_path):
    cfg = stage_config({"arc_easy": str(tmp_path / "nope.jsonl")})
    with pytest.raises(InputError) as e:
        Decontamination.build(cfg, {}, tmp_path / "out")
    assert "data file not found" in str(e.value) and "\n" not in str(e.value)
    cfg = stage_config({"mine": str(tmp_path / "mine.yaml")})
    with pytest.raises(InputError, match="task file not found") as e:
        Decontamination.build(cfg, {}, tmp_path / "out")
    assert "\n" not in str(e.value)


def test_disabled_adds_no_step_and_no_report(tmp_path):
    docs = realistic_docs(5, seed=1)
    stats = run_curate(tmp_path, stage_config(None), docs)
    assert "decontamination" not in stats and not (tmp_path / "curate" / REPORT_FILE).exists()
    assert [s["step"] for s in stats["filter_funnel"]["steps"]] == ["read"]
