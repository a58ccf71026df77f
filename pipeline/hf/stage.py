"""The ``hf_import`` and ``export`` stages, and what ``base_model.hf=SRC`` changes in a run's config.

With ``base_model.hf``, the run's model architecture comes from ``SRC/config.json`` (the
``model.seq_length`` of the run is kept), and ``SRC/tokenizer.json`` becomes the run's tokenizer
unless ``tokenizer.path`` is set to another one. The import itself is a cached stage, so a rerun
(or an ablation over the same base) converts once.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

from pipeline import assets
from pipeline.config import CptConfig, TokenizerConfig
from pipeline.errors import ConfigError, InputError
from pipeline.hf.convert import config_token, read_hf_config
from pipeline.hf.hf_config import model_config_from_hf
from pipeline.registry import StageContext

IMPORTED_CHECKPOINT = "checkpoints/iter_0000000"  # inside the hf_import stage directory


def hf_source(cfg: CptConfig) -> Path:
    src = assets.resolve_path(cfg.base_model.hf)
    if not (src / "config.json").is_file():
        raise InputError(f"base_model.hf: no Hugging Face model at {src} (no config.json)")
    return src


def apply_hf_base(cfg: CptConfig) -> None:
    """Point ``cfg.model`` (architecture) and, unless given, ``cfg.tokenizer`` at ``base_model.hf``."""
    src = hf_source(cfg)
    if cfg.schedule.peak_lr is None:  # refused before any work, not after the data stages
        from pipeline.train.stage import HF_NO_PEAK_LR

        raise ConfigError(HF_NO_PEAK_LR)
    derived, _ = model_config_from_hf(read_hf_config(src), str(src), cfg.model.seq_length)
    for f in fields(derived):
        if f.name not in ("seq_length", "init_method_std", "moe_aux_loss_coeff"):  # the run's own choices
            setattr(cfg.model, f.name, getattr(derived, f.name))
    default = TokenizerConfig()
    if cfg.tokenizer.path == default.path:
        if not (src / "tokenizer.json").is_file():
            raise InputError(f"base_model.hf: {src} has no tokenizer.json; set tokenizer.path")
        cfg.tokenizer.path = str(src / "tokenizer.json")
        if cfg.tokenizer.eos_token == default.eos_token and (eos := config_token(src, "eos_token")):
            cfg.tokenizer.eos_token = eos
    print(f"[hf_import] model from {src}/config.json ({cfg.model.name}: {cfg.model.num_layers} layers, "
          f"hidden {cfg.model.hidden_size}, vocab {cfg.model.vocab_size}); tokenizer {cfg.tokenizer.path}",
          file=sys.stderr, flush=True)


def run_import(ctx: StageContext) -> dict:
    """The HF directory (input ``source``) as a cpt checkpoint; config: ``pad_vocab_multiple``, ``seq_length``."""
    from pipeline.hf.convert import import_hf

    cfg = ctx.config
    meta = import_hf(ctx.inputs["source"].path, ctx.out_dir / IMPORTED_CHECKPOINT,
                     pad_vocab_multiple=cfg.pad_vocab_multiple, seq_length=cfg.seq_length, progress=ctx.progress)
    return {"architecture": meta["hf"]["architecture"], "vocab_size": meta["vocab_size"],
            "real_vocab_size": meta["real_vocab_size"], "dtype": meta["hf"]["dtype"],
            "checkpoint": IMPORTED_CHECKPOINT}


def run_export(ctx: StageContext) -> dict:
    """The trained model as an HF directory ``<stage>/hf/`` (``export.hf=true``); config: ``tokenizer_path``
    (shipped with it) and ``tokenizer_file`` (its sha256)."""
    from pipeline.hf.convert import export_hf
    from pipeline.train.stage import checkpoint_of

    train = ctx.inputs["train"]
    out = export_hf(checkpoint_of(train), ctx.out_dir / "hf", tokenizer=Path(ctx.config.tokenizer_path),
                    progress=ctx.progress)
    return {"hf_dir": str(ctx.final_dir / out.name)}
