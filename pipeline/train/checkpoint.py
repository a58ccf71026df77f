"""Checkpoints with megatron ``dist_checkpointing``: full (resume) and weights-only (a new run's start).

A run keeps its checkpoints in ``<run>/checkpoints/iter_<NNNNNNN>/``, each holding megatron's
files plus ``checkpoint_meta.json`` (iteration, vocab size, model config, tokenizer sha256). Each
is written to ``iter_<N>.tmp`` and renamed into place, and only a directory with its meta file
counts, so a crash mid-save leaves the previous checkpoint usable. After a save, all but the
newest ``keep`` are deleted (renamed to ``*.deleting`` first, so a crash mid-delete never leaves
something that looks complete). The newest complete one is the run's checkpoint.

Two ways to start from a checkpoint (NOTES.md, "Continued-pretraining semantics"); which one a run
takes (or neither) is :func:`choose_start`'s decision:

* :func:`load_checkpoint` resumes a run: model, optimizer (Adam moments and step), scheduler,
  iteration and RNG.
* :func:`load_weights` starts a new run from a base model: weights only. The caller builds a fresh
  optimizer and schedule and starts at iteration 0 at the start of its data.

Traps handled here:

* The optimizer is loaded through ``optimizer.sharded_state_dict(model_sd, is_loading=True)``,
  which first allocates the Adam moments; without it the loaded moments are silently dropped.
* ``metadata={"distrib_optim_sharding_type": "dp_reshardable"}`` on save and load (megatron's
  DistributedOptimizer needs it; the others ignore it), and the Adam ``step`` is restored by hand
  (the DistributedOptimizer does not restore it).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from megatron.core import dist_checkpointing

from pipeline.errors import ConfigError
from pipeline.train.checkpoint_paths import (  # noqa: F401 (re-exported)
    CHECKPOINTS_DIR,
    META_NAME,
    is_checkpoint,
    iteration_dir,
    latest_checkpoint,
    list_checkpoints,
    read_meta,
    resolve_checkpoint,
)

OPTIMIZER_METADATA = {"distrib_optim_sharding_type": "dp_reshardable"}


# ----------------------------------------------------------------------------- RNG
def rng_state() -> dict:
    """Every RNG the loop may touch, in types ``torch.load(weights_only=True)`` accepts."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


# ----------------------------------------------------------------------------- Adam step
def _inner_optimizers(optimizer) -> list:
    chained = getattr(optimizer, "chained_optimizers", [optimizer])
    return [o.optimizer for o in chained if getattr(o, "optimizer", None) is not None]


def adam_step(optimizer) -> int:
    """The optimizer's update count (0 before the first update)."""
    for inner in _inner_optimizers(optimizer):
        for state in inner.state.values():
            if "step" in state:  # torch's Adam(W) keeps it per parameter (the one it increments)
                return int(state["step"])
        for group in inner.param_groups:
            if "step" in group:  # TE's FusedAdam keeps it per param group
                return int(group["step"])
    return 0


def _set_adam_step(optimizer, step: int) -> None:
    """Set the update count wherever the optimizer keeps it.

    torch's Adam increments each parameter's ``step`` tensor in place, so each gets its own: the
    DistributedOptimizer's loader hands every parameter the *same* tensor (without TE), which
    would then advance once per parameter per update and skew Adam's bias correction.
    """
    for inner in _inner_optimizers(optimizer):
        for state in inner.state.values():
            if "step" in state:
                state["step"] = torch.tensor(float(step), dtype=torch.float32)
        for group in inner.param_groups:
            if "step" in group:
                group["step"] = step


# ----------------------------------------------------------------------------- save / load
def _state(model, optimizer=None, scheduler=None, is_loading: bool = False) -> dict:
    """The sharded state dict. ``model`` is the bare GPTModel (not the DDP/Float16 wrappers)."""
    model_sd = model.sharded_state_dict()
    state = {"model": model_sd}
    if optimizer is not None:
        state["optimizer"] = optimizer.sharded_state_dict(model_sd, is_loading=is_loading,
                                                          metadata=OPTIMIZER_METADATA)
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    return state


def _fsync(path: Path) -> None:
    """fsync a file or a directory (both open read-only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` and the directories themselves to disk, so that a checkpoint
    renamed into place before a power loss is never a meta file over truncated shards."""
    for sub in [*path.rglob("*"), path]:
        _fsync(sub)


def save_checkpoint(root: str | Path, model, optimizer, scheduler, iteration: int, meta: dict,
                    keep: int = 0, loop_state: dict | None = None) -> Path:
    """Write a full checkpoint to ``root/iter_<iteration>`` atomically; then keep the newest ``keep`` (0 = all).

    ``loop_state`` is the training loop's own state to restore on resume (plain Python values).
    """
    root = Path(root)
    final = iteration_dir(root, iteration)
    tmp = final.with_name(final.name + ".tmp")
    first_rank = _rank() == 0
    if first_rank:  # with several data-parallel ranks, rank 0 owns the directories and the meta file
        root.mkdir(parents=True, exist_ok=True)
        for leftover in list(root.glob("*.tmp")) + list(root.glob("*.deleting")):
            shutil.rmtree(leftover)  # a save or a delete that crashed
        tmp.mkdir()
    _barrier()
    state = _state(model, optimizer, scheduler)
    state.update(iteration=iteration, adam_step=adam_step(optimizer), rng=rng_state(), loop=loop_state or {})
    dist_checkpointing.save(state, str(tmp))  # collective: every rank writes its part
    if first_rank:
        (tmp / META_NAME).write_text(json.dumps({**meta, "iteration": iteration}, indent=2, sort_keys=True))
        _fsync_tree(tmp)
        if final.exists():  # an iter_N without its meta file (not a checkpoint): make way
            final.rename(final.with_name(final.name + ".deleting"))
        tmp.rename(final)
        _fsync(root)  # the rename itself
        prune_checkpoints(root, keep)
    _barrier()
    return final


def _rank() -> int:
    return torch.distributed.get_rank() if torch.distributed.is_initialized() else 0


def _barrier() -> None:
    if torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1:
        torch.distributed.barrier()


def prune_checkpoints(root: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` complete checkpoints (0 = keep all); returns what was deleted."""
    if keep <= 0:
        return []
    doomed = [path for _, path in list_checkpoints(root)[:-keep]]
    for path in doomed:
        gone = path.with_name(path.name + ".deleting")
        path.rename(gone)  # no longer an iter_* directory: never mistaken for a checkpoint
        shutil.rmtree(gone)
    for leftover in Path(root).glob("*.deleting"):
        shutil.rmtree(leftover)
    return doomed


def _allocate_distributed_optimizer_state(optimizer) -> None:
    """Give a fresh DistributedOptimizer its Adam state before loading into it.

    Without TransformerEngine or Apex (CPU), megatron's ``DistributedOptimizer.sharded_state_dict``
    reads the Adam ``step`` from torch's per-parameter state before allocating that state, and
    asserts on a fresh optimizer. megatron's own allocation (a zero-gradient step; every value it
    writes is replaced by the load) is run first. The plain optimizer allocates its state itself.
    """
    from megatron.core.optimizer.distrib_optimizer import DistributedOptimizer

    for opt in getattr(optimizer, "chained_optimizers", [optimizer]):
        if isinstance(opt, DistributedOptimizer) and not opt.optimizer.state:
            opt._init_optimizer_states_with_dummy_values()


def load_checkpoint(path: str | Path, model, optimizer, scheduler) -> tuple[int, dict]:
    """Resume: restore model, optimizer, scheduler and RNG from ``path``; returns the iteration and
    the loop state saved with it.

    Call after the optimizer and scheduler are built. ``scheduler`` must have been built for the
    same schedule (the caller checks); the optimizer's LR bounds are those of the current config.
    """
    path = Path(path)
    lr_bounds = [(g.get("max_lr"), g.get("min_lr")) for g in optimizer.param_groups]
    _allocate_distributed_optimizer_state(optimizer)
    loaded = dist_checkpointing.load(_state(model, optimizer, scheduler, is_loading=True), str(path))
    model.load_state_dict(loaded["model"])
    with torch.no_grad():  # the DistributedOptimizer copies into views of fp32 parameters in place
        optimizer.load_state_dict(loaded["optimizer"])
    # Param groups come back with the checkpoint's max_lr/min_lr; the current config decides.
    for group, (max_lr, min_lr) in zip(optimizer.param_groups, lr_bounds):
        group["max_lr"], group["min_lr"] = max_lr, min_lr
    _set_adam_step(optimizer, int(loaded["adam_step"]))
    scheduler.load_state_dict(loaded["scheduler"])
    set_rng_state(loaded["rng"])
    return int(loaded["iteration"]), dict(loaded.get("loop") or {})


def load_weights(path: str | Path, model) -> dict:
    """Weights-only: load the model weights from ``path`` (a checkpoint, or a directory of them: the
    newest) into the bare GPTModel; returns the meta."""
    path = resolve_checkpoint(path)
    meta = read_meta(path)
    loaded = dist_checkpointing.load({"model": model.sharded_state_dict()}, str(path))
    model.load_state_dict(loaded["model"])
    return meta


# Keys that fix the shapes of the weights. seq_length, rotary_base and init_method_std may change
# between a base model and its continuation (e.g. context extension).
ARCH_KEYS = ("num_layers", "hidden_size", "ffn_hidden_size", "num_attention_heads", "num_query_groups",
             "vocab_size", "untie_embeddings_and_output_weights", "kv_channels", "num_experts", "add_qkv_bias")
_ARCH_DEFAULTS = {"kv_channels": None, "num_experts": None, "add_qkv_bias": False}  # older metas lack them


def check_compatible(meta: dict, model_config: dict, path: str | Path) -> None:
    """Raise ConfigError when the checkpoint's architecture differs from the model being built."""
    saved = meta.get("model", {})
    diff = [k for k in ARCH_KEYS
            if saved.get(k, _ARCH_DEFAULTS.get(k)) != model_config.get(k, _ARCH_DEFAULTS.get(k))]
    if diff:
        detail = ", ".join(f"{k}: checkpoint {saved.get(k)!r} vs config {model_config.get(k)!r}" for k in diff)
        raise ConfigError(f"checkpoint {path} does not match the model config ({detail})")


def save_weights(path: str | Path, model, meta: dict) -> Path:
    """A weights-only checkpoint (no optimizer or schedule) written into the new directory ``path``;
    its meta file is written last, so it counts only once complete. (Imported models.)"""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=False)
    dist_checkpointing.save({"model": model.sharded_state_dict()}, str(path))
    (path / META_NAME).write_text(json.dumps({**meta, "iteration": meta.get("iteration", 0)}, indent=2,
                                             sort_keys=True))
    _fsync_tree(path)
    return path


# ----------------------------------------------------------------------------- where a run starts
@dataclass(frozen=True)
class RunStart:
    """Where a training run starts (:func:`choose_start`)."""

    resume_from: Path | None  # the run's own newest checkpoint: resume it whole (load_checkpoint)
    weights_from: Path | None  # a base model's checkpoint: its weights only (load_weights), a new run
    base_checkpoint: str | None  # the base checkpoint the run's weights came from (its meta's init_from)
    real_vocab_size: int  # embedding rows that are real tokens; the rest is padding


def choose_start(ckpt_root: str | Path, init_from: str | Path | None, model_config: dict, run: dict,
                 tokenizer_sha256: str, tokenizer_vocab_size: int) -> RunStart:
    """Where a run starts, checked against the model (``model_config``) and run (``run``: what a resume
    must not change) being built:

    * ``ckpt_root`` holds a checkpoint -> **resume** the newest (model, Adam moments and step, schedule,
      iteration, RNG; the data position follows from the iteration). The data, schedule and batch
      settings must be those the checkpoint was written with.
    * else ``init_from`` given (a checkpoint, or a directory holding them: the newest) -> **weights-only**
      start: the base model's weights, a fresh optimizer and schedule (re-warm), iteration 0, the start
      of the data. Its tokenizer must be this run's.
    * else from scratch (random init).
    """
    resume_from = latest_checkpoint(ckpt_root)
    if resume_from is not None:
        meta = read_meta(resume_from)
        check_compatible(meta, model_config, resume_from)
        saved = meta.get("run", {})
        if "optimizer" in saved:  # written before train.distributed_optimizer existed: it was off
            saved = {**saved, "optimizer": {"distributed_optimizer": False, **saved["optimizer"]}}
        changed = sorted(k for k in run if saved.get(k) != run[k])
        if changed:
            raise ConfigError(
                f"cannot resume {resume_from}: {', '.join(changed)} changed since it was written; "
                f"use a new output directory (and init_from for a weights-only start)")
        return RunStart(resume_from=resume_from, weights_from=None, base_checkpoint=meta.get("init_from"),
                        real_vocab_size=int(meta.get("real_vocab_size") or tokenizer_vocab_size))
    if init_from is not None:
        init_from = resolve_checkpoint(init_from)
        base = read_meta(init_from)
        check_compatible(base, model_config, init_from)
        if base.get("tokenizer_sha256") not in (None, tokenizer_sha256):
            raise ConfigError(f"checkpoint {init_from} was trained with another tokenizer "
                              f"(sha256 {base['tokenizer_sha256'][:12]}…, this run {tokenizer_sha256[:12]}…)")
        return RunStart(resume_from=None, weights_from=init_from, base_checkpoint=str(init_from),
                        real_vocab_size=int(base.get("real_vocab_size") or tokenizer_vocab_size))
    return RunStart(resume_from=None, weights_from=None, base_checkpoint=None,
                    real_vocab_size=tokenizer_vocab_size)  # rows past the tokenizer's are padding
