"""Replay mixing on real megatron-core datasets: realized token fractions, the fixed replay stream,
epoch warnings, and bad prefixes."""

from pathlib import Path

import numpy as np
import pytest
import torch
from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder

from pipeline import assets
from pipeline.errors import ConfigError, InputError
from pipeline.mix.realize import realize
from pipeline.mix.stage import check_realized
from pipeline.tokenize import indexed

TOKENIZER = str(assets.resolve_path("pipeline/assets/tokenizer/cpt-sample-bpe.json"))
EOS = "<|endoftext|>"
SEQ = 32


def make_dataset(prefix, docs: int, seed: int, vocab: int = 4000, max_id=None) -> dict:
    rng = np.random.default_rng(seed)
    b = IndexedDatasetBuilder(f"{prefix}.bin", dtype=np.int32)
    tokens = 0
    for _ in range(docs):
        n = int(rng.integers(20, 200))
        ids = rng.integers(0, vocab, size=n)
        if max_id is not None:
            ids[0] = max_id
        b.add_document(torch.from_numpy(ids.astype(np.int64)), [n])
        tokens += n
    b.finalize(f"{prefix}.idx")
    return {"prefix": str(prefix), "tokens": tokens}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("mix")
    return {"replay": make_dataset(d / "replay", 1500, seed=1),
            "new_a": make_dataset(d / "new_a", 800, seed=2),
            "new_b": make_dataset(d / "new_b", 1500, seed=3),  # another "filter variant": other docs, other size
            "dir": d}


def run(data, new: str, f: float, num_samples: int, seed: int = 7, tag: str = ""):
    sources = [{"name": "new", "weight": 1 - f, **data[new]}, {"name": "replay", "weight": f, **data["replay"]}]
    return realize(sources, num_samples=num_samples, seq_length=SEQ, seed=seed, tokenizer_path=TOKENIZER,
                   eos_token=EOS, cache_dir=data["dir"] / f"cache-{new}-{f}-{num_samples}-{seed}{tag}")


@pytest.mark.parametrize("f", [0.005, 0.05, 0.25])
def test_realized_replay_fraction_within_one_percent(data, f):
    r = run(data, "new_a", f, num_samples=40_000)
    rep = r["sources"]["replay"]
    assert abs(rep["realized_fraction"] - f) / f <= 0.01, rep
    assert rep["tokens"] + r["sources"]["new"]["tokens"] == r["tokens"] == 40_000 * SEQ


def test_fixed_replay_stream_across_new_data_variants(data):
    a = run(data, "new_a", 0.05, num_samples=6000)
    b = run(data, "new_b", 0.05, num_samples=6000)
    assert a["sources"]["replay"]["samples"] == b["sources"]["replay"]["samples"]
    assert a["replay_stream_sha256"] == b["replay_stream_sha256"]
    other_seed = run(data, "new_a", 0.05, num_samples=6000, seed=8)
    assert other_seed["replay_stream_sha256"] != a["replay_stream_sha256"]


def test_replay_repeats_warns_with_epochs(data):
    r = run(data, "new_a", 0.25, num_samples=40_000)
    rep = r["sources"]["replay"]
    assert rep["epochs"] > 1
    warnings = check_realized(r, 0.25)
    assert any("replay data repeats" in w and f"{rep['epochs']:.2f} epochs" in w for w in warnings)
    small = run(data, "new_a", 0.005, num_samples=4000)
    assert any("raise the token budget" in w for w in check_realized(small, 0.005))
    assert check_realized(run(data, "new_a", 0.05, num_samples=6000), 0.05) == []


def test_missing_prefix_and_foreign_tokenizer(data, tmp_path):
    with pytest.raises(InputError, match=r"mix source 'x': Megatron dataset file missing: .*nope\.bin"):
        indexed.check_prefix(tmp_path / "nope", vocab_size=8000, what="mix source 'x'")
    big = make_dataset(tmp_path / "big", 5, seed=4, max_id=50_000)
    with pytest.raises(ConfigError, match="token id 50000, outside the tokenizer's vocabulary of 8000"):
        indexed.check_prefix(big["prefix"], vocab_size=8000, what="mix source 'big'")
    ok = indexed.check_prefix(data["new_a"]["prefix"], vocab_size=8000, what="new")
    assert ok["tokens"] == data["new_a"]["tokens"]


def test_a_damaged_dataset_is_one_clear_error(tmp_path):
    good = make_dataset(tmp_path / "good", 20, seed=5)["prefix"]
    for name, damage in [("truncated_bin", lambda b, i: (b[: len(b) // 2], i)),
                         ("foreign_idx", lambda b, i: (b, b"not megatron" + i[12:])),
                         ("truncated_idx", lambda b, i: (b, i[:60]))]:
        prefix = tmp_path / name
        bin_, idx = damage(Path(f"{good}.bin").read_bytes(), Path(f"{good}.idx").read_bytes())
        Path(f"{prefix}.bin").write_bytes(bin_)
        Path(f"{prefix}.idx").write_bytes(idx)
        with pytest.raises(InputError, match=r"replay: .*(is truncated|not a Megatron indexed dataset index)"):
            indexed.check_prefix(prefix, vocab_size=8000, what="replay")


def test_an_index_that_points_wrong_an_empty_one_and_bad_tokens_are_clear_errors(tmp_path):
    import struct

    good = make_dataset(tmp_path / "good", 20, seed=5)["prefix"]
    bin_, idx = Path(f"{good}.bin").read_bytes(), Path(f"{good}.idx").read_bytes()
    pointer_1 = 34 + 20 * 4 + 8  # lengths (int32 x 20), then pointers (int64): the second one
    tokens = np.frombuffer(bin_, dtype=np.int32).copy()
    tokens[7] = -3
    empty = IndexedDatasetBuilder(str(tmp_path / "e.bin"), dtype=np.int32)
    empty.finalize(str(tmp_path / "e.idx"))
    cases = {"middle_pointer": (bin_, idx[:pointer_1] + struct.pack("<q", 10**6) + idx[pointer_1 + 8:],
                                "sequence 1 does not start where the one before it ends"),
             "negative_length": (bin_, idx[:34] + struct.pack("<i", -1) + idx[38:], "sequence 0 has a negative length"),
             "negative_token": (tokens.tobytes(), idx, "holds a negative token id"),
             "e": (None, None, "holds no sequences")}
    for name, (b, i, needle) in cases.items():
        if b is not None:
            Path(f"{tmp_path / name}.bin").write_bytes(b)
            Path(f"{tmp_path / name}.idx").write_bytes(i)
        with pytest.raises(InputError, match=needle):
            indexed.check_prefix(tmp_path / name, vocab_size=8000, what="replay")
    Path(f"{tmp_path}/tail.bin").write_bytes(bin_ + b"\x01\x02\x03")  # bytes after the last sequence are not read
    Path(f"{tmp_path}/tail.idx").write_bytes(idx)
    assert indexed.check_prefix(tmp_path / "tail", vocab_size=8000, what="replay")["documents"] == 20
    narrow = IndexedDatasetBuilder(str(tmp_path / "u16.bin"), dtype=np.uint16)
    narrow.add_document(torch.arange(5), [5])
    narrow.finalize(str(tmp_path / "u16.idx"))
    with pytest.raises(InputError, match="int32 tokens.*uint16 tokens"):
        indexed.merge([Path(good), tmp_path / "u16"], tmp_path / "merged")


def test_merge_shards(data, tmp_path):
    merged = indexed.merge([data["new_a"]["prefix"], data["new_b"]["prefix"]], tmp_path / "merged")
    assert merged == {"documents": 2300, "tokens": data["new_a"]["tokens"] + data["new_b"]["tokens"]}


def test_cli_missing_replay_prefix_is_a_one_line_error(cpt):
    r = cpt("replay", "replay.format=megatron", "replay.paths=[/nonexistent/corpus_text_document]")
    assert r.returncode != 0
    assert "cpt: error: replay: Megatron dataset file missing: /nonexistent/corpus_text_document.bin" in r.stderr
    assert "Traceback" not in r.stderr


def test_sources_with_different_tokenizers_are_refused(tmp_path):
    from pipeline.config import MixConfig
    from pipeline.mix import stage
    from pipeline.registry import Artifact, Registry

    def tok(vocab, eos):
        return {"path": f"/tok{vocab}.json", "vocab_size": vocab, "eos_id": eos, "eos_token": EOS}

    new = Artifact("tokenize", "a", tmp_path, {"stats": {"tokenizer": tok(8000, 0)}})
    old = Artifact("replay", "b", tmp_path, {"stats": {"tokenizer": tok(32000, 2)}})
    with pytest.raises(ConfigError, match=r"different tokenizers: /tok8000.json \(vocab 8000, eos 0\) vs "
                                          r"/tok32000.json \(vocab 32000, eos 2\)"):
        Registry(tmp_path / "work").run("mix", stage.run, config={"mix": MixConfig(), "budget": {}},
                                        inputs={"tokenize": new, "replay": old})
    import json

    manifests = [json.loads(p.read_text()) for p in (tmp_path / "work" / "mix").glob("*/manifest.json")]
    assert [m["status"] for m in manifests] == ["failed"]  # never a completed manifest


def test_vocabulary_larger_than_the_model_is_caught_at_train_time():
    from pipeline.config import ModelConfig
    from pipeline.train.model import padded_vocab_size

    with pytest.raises(ConfigError, match=r"'model.vocab_size': the tokenizer has 8000 tokens but the model only 4096"):
        padded_vocab_size(ModelConfig(vocab_size=4096), 8000)
    assert padded_vocab_size(ModelConfig(vocab_size=None), 8000) == 8064


def test_cli_replay_from_megatron_prefixes(cpt, tmp_path):
    import json

    a = make_dataset(tmp_path / "old_a", 40, seed=5)
    b = make_dataset(tmp_path / "old_b", 60, seed=6)
    r = cpt("replay", "replay.format=megatron", f"replay.paths=[{a['prefix']},{b['prefix']}]")
    assert r.returncode == 0, r.stderr[-2000:]
    (manifest,) = (tmp_path / "work" / "replay").glob("*/manifest.json")
    stats = json.loads(manifest.read_text())["stats"]
    assert stats["documents"] == 100 and stats["tokens"] == a["tokens"] + b["tokens"]
    assert stats["split"]["train"]["tokens"] + stats["split"]["valid"]["tokens"] == stats["tokens"]
    foreign = make_dataset(tmp_path / "foreign", 5, seed=7, max_id=900_000)
    r = cpt("replay", "replay.format=megatron", f"replay.paths=[{foreign['prefix']}]")
    assert r.returncode != 0 and "holds token id 900000, outside the tokenizer's vocabulary" in r.stderr
    failed = [json.loads(p.read_text()) for p in (tmp_path / "work" / "replay").glob("*.partial/manifest.json")]
    assert [m["status"] for m in failed] == ["failed"]
