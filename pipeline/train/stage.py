"""The ``pretrain`` and ``train`` stages: thin wrappers that hand resolved configs and data paths
to the training loop (imported lazily, so cache hits never load torch or megatron)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError
from pipeline.train.blend import load_blend
from pipeline.registry import Artifact, StageContext, output_version
from pipeline.stage_config import StageConfig
from pipeline.train.checkpoint_paths import read_meta, resolve_checkpoint

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import ScheduleConfig


def checkpoint_of(art: Artifact) -> Path:
    """The newest checkpoint of a training artifact, or a user-supplied base checkpoint (or its newest)."""
    return resolve_checkpoint(art.path)


HF_NO_PEAK_LR = ("invalid value for 'schedule.peak_lr': null means the base model's peak LR, but a "
                 "Hugging Face checkpoint carries none; set schedule.peak_lr to the peak it was "
                 "trained with (its model card or paper, e.g. 3e-4 for Llama 3 8B)")


def rewarm_schedule(schedule: ScheduleConfig, base_checkpoint: Path) -> ScheduleConfig:
    """The CPT schedule with ``peak_lr: null`` resolved to the peak the base model was trained with."""
    if schedule.peak_lr is not None:
        return schedule
    meta = read_meta(base_checkpoint)
    peak = meta.get("run", {}).get("schedule", {}).get("peak_lr")
    if peak is None and meta.get("hf"):
        raise ConfigError(HF_NO_PEAK_LR)
    if peak is None:
        raise ConfigError(f"invalid value for 'schedule.peak_lr': null means the base model's peak LR, but "
                          f"{base_checkpoint} does not record one; set schedule.peak_lr to it")
    return replace(schedule, peak_lr=float(peak))


@output_version(2)  # 2: a CPU rank uses every core of its affinity (was cores - 1): other numerics
def run_pretrain(ctx: StageContext) -> dict:
    """Make a base model: pretrain from scratch on the original corpus (the replay source's train
    split), so the embedded demo has something to continue from (config: :meth:`pipeline.chain.Chain.pretrain`)."""
    cfg: StageConfig = ctx.config
    replay = ctx.inputs["replay"]
    return _train(ctx, schedule=cfg.schedule, train_blend=[(1.0, str(replay.path / "split" / "train"))],
                  valid_prefixes={"old": str(replay.path / "split" / "valid")},
                  tokenizer_path=replay.stats["tokenizer"]["path"], init_from=None)


@output_version(2)  # 2: a CPU rank uses every core of its affinity (was cores - 1): other numerics
def run_cpt(ctx: StageContext) -> dict:
    """Continued pretraining: weights-only start from the base model, re-warmed schedule, mixed data
    (config: :meth:`pipeline.chain.Chain.train`)."""
    cfg: StageConfig = ctx.config
    mix = ctx.inputs["mix"]
    blend = load_blend(mix.path)
    workdir = mix.path.parent.parent
    base = checkpoint_of(ctx.inputs["base"])
    schedule = rewarm_schedule(cfg.schedule, base)
    ctx.log(f"re-warm to peak LR {schedule.peak_lr:g} ({schedule.name}), weights-only from {base}")
    return _train(ctx, schedule=schedule, train_blend=[(e["weight"], str(workdir / e["prefix"])) for e in blend["train"]],
                  valid_prefixes={d: str(workdir / p) for d, p in blend["valid"].items()},
                  tokenizer_path=blend["tokenizer"]["path"], init_from=base)


def _train(ctx: StageContext, *, schedule: ScheduleConfig, **data) -> dict:
    """Hand the training program (:mod:`pipeline.train.worker`, which runs :func:`pipeline.train.loop.train`)
    to the stage's executor: in this process, on local ranks or on Slurm."""
    from pipeline.train import worker

    cfg: StageConfig = ctx.config
    kwargs = dict(model_cfg=cfg.model, train_cfg=cfg.train, schedule_cfg=schedule, precision_cfg=cfg.precision,
                  out_dir=ctx.out_dir, progress=ctx.progress, tracking=ctx.tracking, **data)
    return ctx.executor.train(worker, cfg.train.nproc_per_node, kwargs)
