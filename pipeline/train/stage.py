"""The ``pretrain`` and ``train`` stages: thin wrappers that hand resolved configs and data paths
to the training loop (imported lazily, so cache hits never load torch or megatron)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pipeline.config import CptConfig, ScheduleConfig
from pipeline.errors import ConfigError
from pipeline.mix.stage import load_blend
from pipeline.registry import Artifact, StageContext
from pipeline.stage_config import StageConfig
from pipeline.train.checkpoint_paths import read_meta, resolve_checkpoint


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


def pretrain_config(cfg: CptConfig) -> StageConfig:
    """What pretraining reads: the run's model and precision, its train settings with pretraining's own
    step count and fixed eval/save intervals (evaluate and checkpoint at the end only), and its own
    schedule. So the CPT run's ``train.train_iters``, ``eval_interval``, ``save_interval`` and
    ``schedule`` never rerun it."""
    b = cfg.base_model
    train = replace(cfg.train, train_iters=b.pretrain_iters, eval_interval=0, save_interval=0)
    schedule = ScheduleConfig(name="rewarm_cosine", peak_lr=b.pretrain_peak_lr, min_lr_ratio=0.1, warmup_fraction=0.05)
    return StageConfig(model=cfg.model, train=train, schedule=schedule, precision=cfg.precision)


def cpt_config(cfg: CptConfig) -> StageConfig:
    """What continued pretraining reads (``schedule.peak_lr: null`` is resolved from the base input)."""
    return StageConfig(model=cfg.model, train=cfg.train, schedule=cfg.schedule, precision=cfg.precision)


def run_pretrain(ctx: StageContext) -> dict:
    """Make a base model: pretrain from scratch on the original corpus (the replay source's train
    split), so the embedded demo has something to continue from (config: :func:`pretrain_config`)."""
    from pipeline.launch.training import run_training

    cfg: StageConfig = ctx.config
    replay = ctx.inputs["replay"]
    return run_training(cfg.train.nproc_per_node, cluster=ctx.cluster, model_cfg=cfg.model, train_cfg=cfg.train,
                        schedule_cfg=cfg.schedule, precision_cfg=cfg.precision,
                        train_blend=[(1.0, str(replay.path / "split" / "train"))],
                        valid_prefixes={"old": str(replay.path / "split" / "valid")},
                        tokenizer_path=replay.stats["tokenizer"]["path"], out_dir=ctx.out_dir,
                        init_from=None, progress=ctx.progress)


def run_cpt(ctx: StageContext) -> dict:
    """Continued pretraining: weights-only start from the base model, re-warmed schedule, mixed data
    (config: :func:`cpt_config`)."""
    from pipeline.launch.training import run_training

    cfg: StageConfig = ctx.config
    mix = ctx.inputs["mix"]
    blend = load_blend(mix.path)
    workdir = mix.path.parent.parent
    base = checkpoint_of(ctx.inputs["base"])
    schedule = rewarm_schedule(cfg.schedule, base)
    ctx.log(f"re-warm to peak LR {schedule.peak_lr:g} ({schedule.name}), weights-only from {base}")
    return run_training(cfg.train.nproc_per_node, cluster=ctx.cluster, model_cfg=cfg.model, train_cfg=cfg.train,
                        schedule_cfg=schedule, precision_cfg=cfg.precision,
                        train_blend=[(e["weight"], str(workdir / e["prefix"])) for e in blend["train"]],
                        valid_prefixes={d: str(workdir / p) for d, p in blend["valid"].items()},
                        tokenizer_path=blend["tokenizer"]["path"], out_dir=ctx.out_dir,
                        init_from=base, progress=ctx.progress)
