"""Hugging Face checkpoints in and out, checked against transformers itself (tiny random models,
saved locally; see ``hf_models.py``), on real megatron-core on the CPU."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from pipeline.errors import ConfigError, CptError, InputError
from pipeline.evaluate.scorer import checkpoint_logits
from pipeline.hf.convert import export_hf, import_hf, import_hf_atomic
from pipeline.hf.weights import fuse_qkv

sys.path.insert(0, str(Path(__file__).parent))
from hf_models import VARIANTS, hf_logits, make_hf_model  # noqa: E402
from train_runner import MEGATRON_NOISE, MODEL, SCHEDULE, TRAIN, train_tiny, write_corpus  # noqa: E402

pytestmark = [pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE]
TOKENS = torch.randint(0, 3000, (2, 40), generator=torch.Generator().manual_seed(7))


def _tensors(model_dir: Path) -> dict[str, torch.Tensor]:
    out = {}
    for f in sorted(Path(model_dir).glob("*.safetensors")):
        with safe_open(str(f), "pt") as h:
            out.update({k: h.get_tensor(k) for k in h.keys()})
    return out


@pytest.fixture(scope="module")
def hf_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hf")


@pytest.mark.parametrize("name", list(VARIANTS))
def test_logits_match_transformers(name, hf_root):
    """fp32 logits of the imported model equal transformers' (max |diff| <= 1e-4, same argmax)."""
    src = make_hf_model(name, hf_root / name)
    dest = hf_root / f"{name}.cpt"
    meta = import_hf(src, dest, progress=False)
    ours, theirs = checkpoint_logits(dest, TOKENS), hf_logits(src, TOKENS)
    assert ours.shape == theirs.shape
    diff = (ours - theirs).abs().max().item()
    print(f"{name}: max |logits diff| {diff:.2e}, argmax agreement "
          f"{(ours.argmax(-1) == theirs.argmax(-1)).float().mean().item():.3f}")
    assert diff <= 1e-4
    assert torch.equal(ours.argmax(-1), theirs.argmax(-1))
    cfg = json.loads((src / "config.json").read_text())
    m = meta["model"]
    assert m["num_query_groups"] == 2 and m["num_attention_heads"] == 8
    assert m["untie_embeddings_and_output_weights"] == (not cfg["tie_word_embeddings"])
    assert m["add_qkv_bias"] == (name == "qwen2")
    assert m["sliding_window"] == (8 if name == "mistral" else None)
    assert m["num_experts"] == (4 if name == "mixtral" else None)
    assert m["rope_scaling"]["type"] == ("llama3" if name == "llama3" else "none")
    assert (dest / "tokenizer" / "tokenizer.json").is_file() and (dest / "model.yaml").is_file()


def test_naive_qkv_concatenation_is_wrong_for_gqa():
    """The fused layout is per-group; a plain concatenation differs whenever 1 < groups < heads."""
    q, k, v = torch.randn(8 * 4, 3), torch.randn(2 * 4, 3), torch.randn(2 * 4, 3)
    assert not torch.equal(fuse_qkv(q, k, v, groups=2), torch.cat([q, k, v]))
    # MQA (one group) is the case where both agree
    assert torch.equal(fuse_qkv(q, k[:4], v[:4], groups=1), torch.cat([q, k[:4], v[:4]]))


@pytest.mark.parametrize("name", ["llama3", "qwen2", "mixtral"])
def test_round_trip_is_bit_identical(name, hf_root):
    """import -> export in bf16, sharded with an index, vocab padded on import: every tensor equal."""
    src = make_hf_model(name, hf_root / f"rt-{name}", dtype=torch.bfloat16, vocab_size=4097,
                        max_shard_size="100KB")
    assert (src / "model.safetensors.index.json").is_file()
    tmp = hf_root / f"rt-{name}.cpt"
    meta = import_hf(src, tmp, pad_vocab_multiple=128, progress=False)
    assert meta["vocab_size"] == 4224 and meta["real_vocab_size"] == 4097
    out = export_hf(tmp, hf_root / f"rt-{name}.hf", progress=False)
    before, after = _tensors(src), _tensors(out)
    assert set(before) == set(after)
    for key, t in before.items():
        assert after[key].dtype == t.dtype and torch.equal(after[key], t), key
    assert json.loads((out / "config.json").read_text())["vocab_size"] == 4097  # padded rows stay behind
    # ... and padding never reaches the logits
    assert checkpoint_logits(tmp, TOKENS).shape[-1] == 4097


def test_export_loads_in_transformers_and_generation_files(hf_root):
    src = make_hf_model("mistral", hf_root / "ex-mistral")
    imported = import_hf(src, hf_root / "ex-mistral.cpt", progress=False)
    out = export_hf(hf_root / "ex-mistral.cpt", hf_root / "ex-mistral.hf", progress=False)
    for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"):
        assert (out / name).is_file(), name
    assert torch.allclose(hf_logits(out, TOKENS), hf_logits(src, TOKENS), atol=1e-5)
    assert imported["hf"]["architecture"] == json.loads((out / "config.json").read_text())["architectures"][0]


def test_train_from_import_then_export_matches_transformers(tmp_path):
    """A few CPT steps from an imported model; the exported result gives cpt's logits in transformers."""
    corpus = write_corpus(tmp_path / "corpus")
    src = tmp_path / "hf"
    make_hf_model("llama3", src, vocab_size=512, with_tokenizer=False)
    shutil.copy2(corpus["tokenizer"], src / "tokenizer.json")
    _edit_config(src, max_position_embeddings=8192, pad_token_id=3, bos_token_id=1, eos_token_id=[2, 5])
    generation = {"bos_token_id": 1, "eos_token_id": [2, 5], "temperature": 0.3, "do_sample": True}
    (src / "generation_config.json").write_text(json.dumps(generation))
    base = tmp_path / "base.cpt"
    meta = import_hf(src, base, seq_length=64, progress=False)
    from pipeline.config import ModelConfig

    model_cfg = ModelConfig(**{**meta["model"], "seq_length": 64})
    run = tmp_path / "run"
    train_tiny(corpus, run, model_cfg=model_cfg, train_cfg=replace(TRAIN, train_iters=4, eval_interval=4),
               schedule_cfg=SCHEDULE, init_from=base)
    out = export_hf(run, tmp_path / "out", progress=False)
    tokens = TOKENS % 512
    ours, theirs = checkpoint_logits(run, tokens), hf_logits(out, tokens)
    assert (ours - theirs).abs().max().item() <= 1e-4
    assert not torch.allclose(ours, checkpoint_logits(base, tokens), atol=1e-3)  # it did train
    # what a server reads from the export is the source model's, not the run's (trained at seq_length 64)
    config = json.loads((out / "config.json").read_text())
    assert config["max_position_embeddings"] == 8192
    assert (config["pad_token_id"], config["bos_token_id"], config["eos_token_id"]) == (3, 1, [2, 5])
    assert json.loads((out / "generation_config.json").read_text()) == generation


# ----------------------------------------------------------------------------- bad input
def _edit_config(src: Path, **changes) -> None:
    cfg = json.loads((src / "config.json").read_text())
    cfg.update(changes)
    (src / "config.json").write_text(json.dumps(cfg))


def _assert_one_line_and_nothing_written(exc: CptError, dest: Path, needle: str) -> None:
    assert "\n" not in str(exc) and needle in str(exc), str(exc)
    assert not dest.exists()
    assert not list(dest.parent.glob(f"{dest.name}.partial-*"))


BROKEN_CONFIGS = {  # a config.json as a careless or hostile hand writes it: (edit, what the error names)
    "not_json": ("{not json", "not a JSON file"),
    "not_an_object": ("[1, 2]", "not a JSON object"),
    "string_size": ({"hidden_size": "big"}, "'hidden_size' is 'big'; expected a positive int"),
    "zero_heads": ({"num_attention_heads": 0}, "'num_attention_heads' is 0"),
    "bool_layers": ({"num_hidden_layers": True}, "'num_hidden_layers' is True"),
    "scaling_not_an_object": ({"rope_scaling": "linear"}, "'rope_scaling' is 'linear'; expected an object"),
    "scaling_without_factor": ({"rope_scaling": {"rope_type": "linear"}}, "no 'rope_scaling.factor'"),
    "architectures_a_number": ({"architectures": 7}, "architecture None is not supported"),
}


@pytest.mark.parametrize("case", ["architecture", "missing_shard", "shape", "tokenizer_vocab", "rope_type",
                                  "index_escapes", "index_not_json", "tokenizer_not_json", "huge_vocab",
                                  "more_layers", *BROKEN_CONFIGS])
def test_bad_input_is_one_line_and_writes_nothing(case, tmp_path):
    sharded = case in ("missing_shard", "index_escapes", "index_not_json")
    src = make_hf_model("llama3", tmp_path / "src", max_shard_size="100KB" if sharded else None)
    dest = tmp_path / "dest"
    expected, needle = ConfigError, ""
    if case == "architecture":
        _edit_config(src, architectures=["GPT2LMHeadModel"])
        needle = "supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, MixtralForCausalLM"
    elif case == "missing_shard":
        next(src.glob("model-00002-of-*.safetensors")).unlink()
        expected, needle = InputError, "missing"
    elif case == "shape":
        _edit_config(src, intermediate_size=128)
        expected, needle = InputError, "shape mismatch"
    elif case == "tokenizer_vocab":
        _edit_config(src, vocab_size=100)
        needle = "tokenizer/vocabulary mismatch"
    elif case == "index_escapes":  # a shard named by a path out of the model folder is never opened
        index = json.loads((src / "model.safetensors.index.json").read_text())
        key = next(iter(index["weight_map"]))
        index["weight_map"][key] = "../elsewhere/model.safetensors"
        (src / "model.safetensors.index.json").write_text(json.dumps(index))
        expected, needle = InputError, "not a .safetensors file in"
    elif case == "index_not_json":
        (src / "model.safetensors.index.json").write_text("{cut")
        expected, needle = InputError, "not a JSON file"
    elif case == "tokenizer_not_json":
        (src / "tokenizer.json").write_text('{"version": "1.0", "model": ')
        expected, needle = InputError, "the tokenizer does not load"
    elif case in ("huge_vocab", "more_layers"):  # refused from the headers, before a model is allocated
        _edit_config(src, **({"vocab_size": 10**9} if case == "huge_vocab" else {"num_hidden_layers": 100_000}))
        expected, needle = InputError, "shape mismatch for model.embed_tokens" if case == "huge_vocab" else "100000 layers"
    elif case == "rope_type":
        _edit_config(src, rope_scaling={"rope_type": "yarn", "factor": 4.0})
        needle = "yarn"
    else:
        edit, needle = BROKEN_CONFIGS[case]
        if isinstance(edit, str):
            (src / "config.json").write_text(edit)
            expected = InputError
        else:
            _edit_config(src, **edit)
    with pytest.raises(expected) as info:
        import_hf_atomic(src, dest, progress=False)
    _assert_one_line_and_nothing_written(info.value, dest, needle)


def test_cli_import_and_export(cpt, tmp_path):
    src = make_hf_model("qwen2", tmp_path / "src")
    r = cpt("import-hf", str(src), str(tmp_path / "ckpt"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Qwen2ForCausalLM" in r.stdout and "schedule.peak_lr" in r.stdout
    again = cpt("import-hf", str(src), str(tmp_path / "ckpt"))
    assert again.returncode == 2 and again.stderr.strip().count("\n") == 0 and "already exists" in again.stderr
    r = cpt("export-hf", str(tmp_path / "ckpt"), str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert torch.allclose(hf_logits(tmp_path / "out", TOKENS), hf_logits(src, TOKENS), atol=1e-5)
    _edit_config(src, architectures=["FalconForCausalLM"])
    bad = cpt("import-hf", str(src), str(tmp_path / "bad"))
    assert bad.returncode == 2 and "cpt: error:" in bad.stderr and "supported:" in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_export_without_a_known_tokenizer_is_refused_and_writes_nothing(tmp_path):
    src = make_hf_model("llama_tied", tmp_path / "src", with_tokenizer=False)
    import_hf(src, tmp_path / "ckpt", progress=False)
    dest = tmp_path / "out"
    with pytest.raises(InputError) as info:
        export_hf(tmp_path / "ckpt", dest, progress=False)
    _assert_one_line_and_nothing_written(info.value, dest, "pass --tokenizer PATH")


# ----------------------------------------------------------------------------- the document separator
def resolved_separator(src: Path, *overrides: str) -> tuple[str, list[str]]:
    import warnings

    from pipeline.compose import compose_config
    from pipeline.resolve import resolve

    cfg = compose_config([f"base_model.hf={src}", "schedule.peak_lr=3e-4", *overrides])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = resolve(cfg)
    return out.tokenizer.eos_token, [str(w.message) for w in caught]


def test_an_explicit_separator_wins_over_an_instruct_models_end_of_turn_token(hf_root):
    src = make_hf_model("llama3", hf_root / "instruct")
    (src / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<|im_end|>", "bos_token": "<|im_start|>"}))
    eos, warned = resolved_separator(src)
    assert eos == "<|im_end|>" and any("chat end-of-turn" in w for w in warned), warned
    eos, warned = resolved_separator(src, "tokenizer.eos_token='<|endoftext|>'")
    assert eos == "<|endoftext|>" and not [w for w in warned if "end-of-turn" in w]
    (src / "tokenizer_config.json").write_text(json.dumps({"eos_token": "</s>"}))
    assert resolved_separator(src) == ("</s>", [])


def test_without_a_base_model_the_separator_stays_endoftext():
    from pipeline.compose import compose_config
    from pipeline.resolve import resolve

    assert compose_config([]).tokenizer.eos_token is None
    assert resolve(compose_config([])).tokenizer.eos_token == "<|endoftext|>"


# ----------------------------------------------------------------------------- SmolLM2's shape
def test_smollm2_shape_nine_heads_three_groups_tied(tmp_path):
    """SmolLM2-135M's geometry in small (examples/smollm2): 9 query heads in 3 KV groups (3 per group, an
    odd, non-power-of-two split), head_dim from hidden/heads, tied embeddings, rope theta 1e5, RMSNorm eps
    1e-5, saved by transformers 5 (``rope_parameters``). Logits match, and import -> export is bit-identical."""
    import transformers
    from hf_models import TOKENIZER, tokenizer_vocab

    config = transformers.LlamaConfig(vocab_size=tokenizer_vocab(), hidden_size=72, intermediate_size=192,
                                      num_hidden_layers=2, num_attention_heads=9, num_key_value_heads=3,
                                      max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=100000.0,
                                      tie_word_embeddings=True)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    src = tmp_path / "smol"
    model.save_pretrained(src)
    shutil.copy2(TOKENIZER, src / "tokenizer.json")
    meta = import_hf(src, tmp_path / "smol.cpt", progress=False)
    m = meta["model"]
    assert (m["num_attention_heads"], m["num_query_groups"], m["untie_embeddings_and_output_weights"]) == (9, 3, False)
    assert m["rotary_base"] == 100000.0 and m["layernorm_epsilon"] == 1e-5 and m["kv_channels"] is None
    ours, theirs = checkpoint_logits(tmp_path / "smol.cpt", TOKENS), hf_logits(src, TOKENS)
    assert (ours - theirs).abs().max().item() <= 1e-4
    assert torch.equal(ours.argmax(-1), theirs.argmax(-1))
    out = export_hf(tmp_path / "smol.cpt", tmp_path / "smol.hf", progress=False)
    before, after = _tensors(src), _tensors(out)
    assert set(before) == set(after) and "lm_head.weight" not in after
    assert all(torch.equal(after[k], t) for k, t in before.items())
