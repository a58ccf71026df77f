"""One place that turns a validated config into the run's config: :func:`resolve`.

A composed and validated :class:`CptConfig` still leaves two things to derive before anything runs:
- ``base_model.hf``: the model architecture comes from the HF model's ``config.json`` (the run keeps
  its own ``model.seq_length``, ``init_method_std`` and ``moe_aux_loss_coeff``), and its
  ``tokenizer.json`` (with its EOS token, unless ``tokenizer.eos_token`` is set) becomes the tokenizer
  unless ``tokenizer.path`` names another;
- ``mix.token_budget``: the number of training steps (rounded up to whole steps).
``cpt run`` and every stage command, ``cpt ablate``, ``cpt doctor``, ``--cfg job`` and the service use
this function and nothing else changes a config after validation. It returns a new config (the
argument is left as it was) and resolving a resolved config changes nothing.
"""

from __future__ import annotations

import copy
import re
import warnings
from dataclasses import fields
from pathlib import Path

from pipeline import assets
from pipeline.config import CptConfig, TokenizerConfig
from pipeline.errors import ConfigError, InputError
from pipeline.tasks.spec import SAMPLE_DATA

DEFAULT_SEPARATOR = "<|endoftext|>"
CHAT_END_OF_TURN = re.compile(r"im_end|eot_id|end_of_turn|eom_id|^<\|end\|>$")
RUN_OWN_MODEL_KEYS = ("seq_length", "init_method_std", "moe_aux_loss_coeff")  # kept from the run with base_model.hf


def resolve(cfg: CptConfig) -> CptConfig:
    """The run's config: ``cfg`` with the HF base model's architecture and tokenizer and the token
    budget's step count applied, and an absolute ``workdir``."""
    out = copy.deepcopy(cfg)
    out.workdir = str(Path(out.workdir).resolve())
    if out.base_model.hf:
        _apply_hf_base(out)
    if out.tokenizer.eos_token is None:
        out.tokenizer.eos_token = DEFAULT_SEPARATOR
    if CHAT_END_OF_TURN.search(out.tokenizer.eos_token):
        warnings.warn(f"tokenizer.eos_token={out.tokenizer.eos_token!r} looks like a chat end-of-turn token, not a "
                      f"pretraining document separator (an instruct model's tokenizer_config names it as eos); "
                      f"set tokenizer.eos_token to the separator the base model was pretrained with, e.g. "
                      f"tokenizer.eos_token='{DEFAULT_SEPARATOR}'", stacklevel=2)
    if out.mix.token_budget:
        out.train.train_iters = budget_steps(out)
    if out.curate.input.paths:  # the embedded sample's own tasks say nothing about the user's data
        for role in ("general", "domain"):
            tasks = getattr(out.evaluate.tasks, role)
            setattr(out.evaluate.tasks, role, {k: v for k, v in tasks.items() if v != SAMPLE_DATA})
    return out


def hf_source(cfg: CptConfig) -> Path:
    src = assets.resolve_path(cfg.base_model.hf)
    if not (src / "config.json").is_file():
        raise InputError(f"base_model.hf: no Hugging Face model at {src} (no config.json)")
    return src


def _apply_hf_base(cfg: CptConfig) -> None:
    from pipeline.hf.convert import config_token, read_hf_config
    from pipeline.hf.hf_config import model_config_from_hf
    from pipeline.train.stage import HF_NO_PEAK_LR

    src = hf_source(cfg)
    if cfg.schedule.peak_lr is None:  # refused before any work, not after the data stages
        raise ConfigError(HF_NO_PEAK_LR)
    derived, _ = model_config_from_hf(read_hf_config(src), str(src), cfg.model.seq_length)
    for f in fields(derived):
        if f.name not in RUN_OWN_MODEL_KEYS:
            setattr(cfg.model, f.name, getattr(derived, f.name))
    default = TokenizerConfig()
    if cfg.tokenizer.path == default.path:
        if not (src / "tokenizer.json").is_file():
            raise InputError(f"base_model.hf: {src} has no tokenizer.json; set tokenizer.path")
        cfg.tokenizer.path = str(src / "tokenizer.json")
        if cfg.tokenizer.eos_token is None and (eos := config_token(src, "eos_token")):  # a setting wins
            cfg.tokenizer.eos_token = eos


def budget_steps(cfg: CptConfig) -> int:
    """``train.train_iters`` implied by ``mix.token_budget``: ceil(budget / (global_batch_size x seq_length))."""
    step_tokens = cfg.train.global_batch_size * cfg.model.seq_length
    return -(-cfg.mix.token_budget // step_tokens)


def budget_note(cfg: CptConfig) -> str | None:
    """What ``mix.token_budget`` sets, in one comment line (``--cfg job`` prints it)."""
    if not cfg.mix.token_budget:
        return None
    t, seq = cfg.train, cfg.model.seq_length
    return (f"# mix.token_budget={cfg.mix.token_budget} -> train.train_iters={budget_steps(cfg)} "
            f"(ceil({cfg.mix.token_budget} / (train.global_batch_size {t.global_batch_size} x model.seq_length "
            f"{seq} = {t.global_batch_size * seq} tokens per step)))")
