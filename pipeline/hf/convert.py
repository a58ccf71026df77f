"""``import_hf``: an HF checkpoint directory -> a ``cpt`` checkpoint; ``export_hf``: the reverse.

An imported model is a weights-only megatron-core distributed checkpoint (``checkpoint_meta.json``
plus megatron's files) with, beside it, ``tokenizer/`` (the source's tokenizer files),
``hf_config.json`` (the source's ``config.json``) and ``model.yaml`` (the derived ``model`` config).
``base_model.checkpoint=DEST`` continues from it, and so does ``base_model.hf=SRC`` (which runs the
import as a cached stage).

Both directions build the megatron model once on the CPU (local spec: nothing of TransformerEngine)
and move one tensor at a time; peak memory is about 1.65x the model's bytes, the excess being
megatron's dist_checkpointing save/load (``benchmarks/hf_import_memory.py``). The model is built in the checkpoint's dtype (bf16 stays
bf16; fp16 is held as fp32, exactly), so import -> export gives back every tensor bit for bit.

Vocabulary: the embedding keeps the HF model's rows (``vocab_size`` of config.json, which may
itself be padded beyond the tokenizer), optionally padded further to a multiple
(``pad_vocab_multiple``) with zero rows. ``real_vocab_size`` in the meta records the HF rows:
the training loss and evaluation ignore logits beyond it, and the export drops those rows.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import torch
import yaml
from tqdm.auto import tqdm

from pipeline.config import ModelConfig, PrecisionConfig
from pipeline.errors import ConfigError, InputError
from pipeline.hf.hf_config import hf_config_from_model, model_config_from_hf
from pipeline.hf.json_file import json_object
from pipeline.hf.safetensors_io import SafetensorsReader, write_sharded
from pipeline.hf.weights import IGNORED_HF_SUFFIXES, VOCAB_PARAMS, Mapping, mappings

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "generation_config.json", "chat_template.jinja")
TOKENIZER_DIR = "tokenizer"
MAX_SHARD_BYTES = 5 * 1024**3
_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def _precision_for(dtype: torch.dtype) -> PrecisionConfig:
    """bf16 weights stay bf16; everything else is held in fp32 (fp16 -> fp32 is exact)."""
    return PrecisionConfig(dtype="bf16" if dtype == torch.bfloat16 else "fp32")


def read_hf_config(src: Path) -> dict:
    path = Path(src) / "config.json"
    if not path.is_file():
        raise InputError(f"{src}: no config.json (not a Hugging Face model directory)")
    return json_object(path)


def _check_sizes_before_building(reader: SafetensorsReader, model_cfg: ModelConfig, vocab: int, src: Path) -> None:
    """The layer count and the embedding's shape that config.json claims, against the weights' headers:
    a config that claims more (``"vocab_size": 1e9``) would otherwise allocate the model before the
    per-tensor checks could say so."""
    layers = {key.split(".")[2] for key in reader.keys() if key.startswith("model.layers.")}
    if len(layers) != model_cfg.num_layers:
        raise InputError(f"{src}: config.json says {model_cfg.num_layers} layers, the weights hold {len(layers)}")
    embedding = "model.embed_tokens.weight"
    if embedding in reader and reader.shape(embedding) != (vocab, model_cfg.hidden_size):
        raise InputError(f"{src}: shape mismatch for {embedding}: {list(reader.shape(embedding))} in the "
                         f"checkpoint, config.json says {[vocab, model_cfg.hidden_size]}")


def _expected_shapes(m: Mapping, param: torch.Tensor, rows: int | None) -> list[tuple[int, ...]]:
    shape = (rows, *param.shape[1:]) if rows is not None else tuple(param.shape)
    return [tuple(t.shape) for t in m.split(torch.empty(shape, device="meta"))]


def _load_hf_tensors(model, model_cfg: ModelConfig, reader: SafetensorsReader, real_vocab: int,
                     src: Path, progress: bool) -> None:
    """Copy every HF tensor into the megatron model (zero rows past ``real_vocab``); check that
    each is present with its expected shape and that none is left over."""
    params = dict(model.named_parameters())
    used = set()
    maps = mappings(model_cfg)
    for m in tqdm(maps, desc="import", unit="tensor", disable=not progress, mininterval=1.0):
        missing = [k for k in m.hf if k not in reader]
        if missing:
            raise InputError(f"{src}: tensor {missing[0]} missing (config.json describes it)")
        param = params[m.megatron]
        rows = real_vocab if m.megatron in VOCAB_PARAMS else None
        for key, want in zip(m.hf, _expected_shapes(m, param, rows)):
            if reader.shape(key) != want:
                raise InputError(f"{src}: shape mismatch for {key}: {list(reader.shape(key))} in the checkpoint, "
                                 f"{list(want)} from config.json")
        fused = m.fuse([reader.get(k) for k in m.hf])
        with torch.no_grad():
            if rows is None:
                param.copy_(fused)
            else:
                param[:rows].copy_(fused)
                param[rows:].zero_()
        used.update(m.hf)
        del fused
    tied_head = {"lm_head.weight"} if not model_cfg.untie_embeddings_and_output_weights else set()
    extra = [k for k in reader.keys() if k not in used and k not in tied_head and not k.endswith(IGNORED_HF_SUFFIXES)]
    if extra:
        raise InputError(f"{src}: {len(extra)} tensor(s) that config.json does not describe, e.g. {extra[0]}")


def import_hf(src: str | Path, dest: str | Path, *, pad_vocab_multiple: int = 1, seq_length: int | None = None,
              progress: bool = True) -> dict:
    """Convert the HF model in ``src`` into a new ``cpt`` checkpoint directory ``dest`` (must not
    exist). Returns the checkpoint meta. Every check runs before anything is written."""
    from pipeline.train.checkpoint import save_weights
    from pipeline.train.data import tokenizer_vocab_size
    from pipeline.train.distributed import distributed_session
    from pipeline.train.model import build_model, model_config_dict

    src, dest = Path(src), Path(dest)
    if not src.is_dir():
        raise InputError(f"Hugging Face model directory not found: {src}")
    if dest.exists():
        raise InputError(f"{dest} already exists; give a new directory")
    hf_cfg = read_hf_config(src)
    model_cfg, info = model_config_from_hf(hf_cfg, str(src), seq_length)
    reader = SafetensorsReader(src)
    tokenizer = src / "tokenizer.json"
    try:
        tok_vocab = tokenizer_vocab_size(tokenizer) if tokenizer.is_file() else None
    except Exception as exc:  # the tokenizers library raises a bare Exception on a file it cannot parse
        raise InputError(f"{tokenizer}: the tokenizer does not load ({str(exc).splitlines()[0][:200]})") from None
    if tok_vocab is not None and tok_vocab > info.vocab_size:
        raise ConfigError(f"{src}: tokenizer/vocabulary mismatch: tokenizer.json has {tok_vocab} tokens, "
                          f"the model's embedding only {info.vocab_size} rows")
    if pad_vocab_multiple < 1:
        raise ConfigError("invalid value for 'pad_vocab_multiple': must be >= 1")
    vocab = -(-info.vocab_size // pad_vocab_multiple) * pad_vocab_multiple
    model_cfg.vocab_size = vocab
    stored = reader.dtype() or _DTYPES.get(info.dtype, torch.float32)

    _check_sizes_before_building(reader, model_cfg, info.vocab_size, src)
    with distributed_session(torch.device("cpu"), 0):
        model = build_model(model_cfg, vocab, _precision_for(stored), "cpu", initialize=False)
        _load_hf_tensors(model, model_cfg, reader, info.vocab_size, src, progress)
        meta = {
            "vocab_size": vocab, "real_vocab_size": info.vocab_size, "model": model_config_dict(model_cfg, vocab),
            "precision": _precision_for(stored).dtype, "run": {}, "init_from": None,
            "tokenizer_sha256": None, "tokenizer_dir": None,
            "hf": {"source": str(src.resolve()), "architecture": info.architecture,
                   "dtype": {torch.bfloat16: "bfloat16", torch.float16: "float16"}.get(stored, "float32"),
                   "max_position_embeddings": info.max_position_embeddings},
        }
        if tok_vocab is not None:
            from pipeline.assets import sha256_file

            meta.update(tokenizer_sha256=sha256_file(tokenizer), tokenizer_dir=TOKENIZER_DIR)
        save_weights(dest, model, meta)
    (dest / "hf_config.json").write_text(json.dumps(hf_cfg, indent=2))
    (dest / "model.yaml").write_text(yaml.safe_dump(meta["model"], sort_keys=False))
    (dest / TOKENIZER_DIR).mkdir()
    for name in TOKENIZER_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dest / TOKENIZER_DIR / name)
    return meta


def import_hf_atomic(src: str | Path, dest: str | Path, **kwargs) -> dict:
    """:func:`import_hf` into ``dest.partial-<pid>``, renamed to ``dest`` only when complete."""
    dest = Path(dest)
    if dest.exists():
        raise InputError(f"{dest} already exists; give a new directory")
    tmp = dest.with_name(f"{dest.name}.partial-{os.getpid()}")
    try:
        meta = import_hf(src, tmp, **kwargs)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return meta


# ----------------------------------------------------------------------------- export
def _find_tokenizer(ckpt: Path, meta: dict, tokenizer: str | Path | None) -> Path | None:
    """The tokenizer.json to ship: given, beside an imported model, or the one a run trained with."""
    from pipeline.train.checkpoint_paths import recorded_tokenizer

    if tokenizer:
        path = Path(tokenizer)
        return path / "tokenizer.json" if path.is_dir() else path
    return recorded_tokenizer(ckpt, meta)


def config_token(directory: Path, key: str) -> str | None:
    """A special token named in ``tokenizer_config.json`` (a string, or transformers' dict form)."""
    path = directory / "tokenizer_config.json"
    if not path.is_file():
        return None
    value = json_object(path).get(key)
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _write_tokenizer(tok: Path, dest: Path) -> dict:
    """Copy the tokenizer files (and the source's generation config); returns bos/eos ids."""
    for name in TOKENIZER_FILES:
        if (tok.parent / name).is_file() and (name != "tokenizer.json" or tok.name == name):
            shutil.copy2(tok.parent / name, dest / name)
    if tok.name != "tokenizer.json":
        shutil.copy2(tok, dest / "tokenizer.json")
    from tokenizers import Tokenizer

    from pipeline.train.data import DEFAULT_EOS

    t = Tokenizer.from_file(str(tok))
    eos_token = config_token(tok.parent, "eos_token") or DEFAULT_EOS
    bos_token = config_token(tok.parent, "bos_token")
    ids = {"eos_token_id": t.token_to_id(eos_token), "bos_token_id": t.token_to_id(bos_token) if bos_token else None}
    if not (dest / "tokenizer_config.json").exists():
        (dest / "tokenizer_config.json").write_text(json.dumps(
            {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": eos_token, "model_max_length": 1_000_000_000},
            indent=2))
    return ids


def source_hf_config(ckpt: Path, meta: dict, hops: int = 16) -> tuple[dict, Path | None]:
    """(the ``config.json`` of the Hugging Face model ``ckpt`` descends from, the imported checkpoint
    that holds it), found by following ``init_from`` from a trained run back to its import; ({}, None)
    for a model that never came from Hugging Face (or whose base is gone). The export keeps the source's
    context length, special-token ids and generation config whatever sequence length the run trained at."""
    from pipeline.train.checkpoint import read_meta, resolve_checkpoint

    for _ in range(hops):
        if (ckpt / "hf_config.json").is_file():
            return json.loads((ckpt / "hf_config.json").read_text()), ckpt
        if not meta.get("init_from"):
            break
        try:
            ckpt = resolve_checkpoint(meta["init_from"])
            meta = read_meta(ckpt)
        except (OSError, ValueError, ConfigError, InputError):
            break
    return {}, None


def export_hf(src: str | Path, dest: str | Path, *, tokenizer: str | Path | None = None,
              max_shard_bytes: int = MAX_SHARD_BYTES, progress: bool = True) -> Path:
    """Write the ``cpt`` checkpoint ``src`` (a checkpoint, a run directory or its ``checkpoints/``:
    the newest) as an HF model directory ``dest`` that ``AutoModelForCausalLM`` loads."""
    from pipeline.train.checkpoint import load_weights, read_meta, resolve_checkpoint
    from pipeline.train.distributed import distributed_session
    from pipeline.train.model import build_model

    dest = Path(dest)
    if dest.exists():
        raise InputError(f"{dest} already exists; give a new directory")
    ckpt = resolve_checkpoint(src)
    meta = read_meta(ckpt)
    model_cfg = ModelConfig(**meta["model"])
    vocab, real = int(meta["vocab_size"]), int(meta.get("real_vocab_size") or meta["vocab_size"])
    hf = meta.get("hf") or {}
    bf16 = meta.get("precision") in ("bf16", "fp8")
    out_dtype = hf.get("dtype") or ("bfloat16" if bf16 else "float32")
    tok = _find_tokenizer(ckpt, meta, tokenizer)
    if tok is None or not tok.is_file():
        raise InputError(f"export-hf: no tokenizer for {ckpt} ({tok or 'none recorded'}); pass --tokenizer PATH")

    tmp = dest.with_name(f"{dest.name}.partial-{os.getpid()}")
    tmp.mkdir(parents=True)
    try:
        with distributed_session(torch.device("cpu"), 0):
            model = build_model(model_cfg, vocab, PrecisionConfig(dtype="bf16" if bf16 else "fp32"), "cpu",
                                initialize=False)
            load_weights(ckpt, model)
            params = dict(model.named_parameters())
            maps = mappings(model_cfg)
            rows = {m.megatron: real if m.megatron in VOCAB_PARAMS else None for m in maps}
            plan = [(list(zip(m.hf, _expected_shapes(m, params[m.megatron], rows[m.megatron]))), m) for m in maps]
            bar = tqdm(total=len(maps), desc="export", unit="tensor", disable=not progress, mininterval=1.0)

            def produce(m: Mapping) -> list[torch.Tensor]:
                bar.update(1)
                return m.split(params[m.megatron].detach()[:rows[m.megatron]])  # padded rows never leave

            write_sharded(tmp, plan, _DTYPES[out_dtype], produce, max_shard_bytes)
            bar.close()
        ids = _write_tokenizer(tok, tmp)
        source, source_dir = source_hf_config(ckpt, meta)
        ids = {k: source.get(k, v) for k, v in ids.items()}  # the model's own special tokens, not the tokenizer's guess
        config = hf_config_from_model(model_cfg, real, out_dtype, **ids,
                                      max_position_embeddings=source.get("max_position_embeddings")
                                      or hf.get("max_position_embeddings"))
        if source.get("pad_token_id") is not None:
            config["pad_token_id"] = source["pad_token_id"]
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        generation = source_dir / TOKENIZER_DIR / "generation_config.json" if source_dir else None
        if not (tmp / "generation_config.json").exists() and generation and generation.is_file():
            shutil.copy2(generation, tmp / "generation_config.json")
        if not (tmp / "generation_config.json").exists():
            (tmp / "generation_config.json").write_text(json.dumps(
                {"bos_token_id": ids["bos_token_id"], "eos_token_id": ids["eos_token_id"]}, indent=2))
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"export-hf: {dest} ({config['architectures'][0]}, {out_dtype})", file=sys.stderr)
    return dest
