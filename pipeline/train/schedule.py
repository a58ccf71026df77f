"""The LR schedule: megatron's ``OptimizerParamScheduler`` configured from ScheduleConfig.

Conventions (the same in :func:`lr_at` and :func:`build_scheduler`):

* Optimizer updates are numbered ``step = 1 .. total_steps``. The loop advances the scheduler by
  one global batch *before* each update, so update ``step`` uses ``lr_at(cfg, step, total_steps)``.
  (Megatron-LM advances after the update, so its first update runs at LR 0; ours does not.)
* ``rewarm_cosine`` (Ibrahim et al. 2024): linear warmup from 0 to ``peak_lr`` over
  ``W = round(warmup_fraction * total_steps)`` updates, then cosine decay that reaches
  ``min_lr_ratio * peak_lr`` exactly at the last update.
* ``constant``: the same linear warmup (none when ``warmup_fraction`` is 0), then ``peak_lr``.
* ``wsd`` (warmup-stable-decay): warmup, ``peak_lr`` until the last ``D = round(decay_fraction *
  total_steps)`` updates, which decay to min with ``decay_style`` (megatron's WSD formulas).
* ``infinite`` (Ibrahim et al. 2024): warmup, cosine cooldown over ``C = round(cooldown_fraction *
  total_steps)`` updates from peak to ``constant_lr_ratio * peak_lr``, constant, then (optional) a
  linear anneal to min over the last ``A = round(anneal_fraction * total_steps)`` updates. megatron
  has no such schedule; its scheduler class is subclassed to take the LR from :func:`lr_at`, so
  checkpoints and resume work the same way.

Megatron counts in samples; every step length here is multiplied by the global batch size, which
gives the same LR at each update.
"""

from __future__ import annotations

import math

from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler

from pipeline.config import ScheduleConfig

_MEGATRON_STYLE = {"rewarm_cosine": "cosine", "constant": "constant", "wsd": "WSD", "infinite": "constant"}


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def wsd_decay_steps(cfg: ScheduleConfig, total_steps: int) -> int:
    return max(1, min(_round(cfg.decay_fraction * total_steps), total_steps - warmup_steps(cfg, total_steps)))


def _wsd_coeff(style: str, ratio: float) -> float:
    if style == "linear":
        return 1.0 - ratio
    if style == "cosine":
        return 0.5 * (math.cos(math.pi * ratio) + 1.0)
    if style == "exponential":
        return 2.0 * math.pow(0.5, ratio) - 1.0
    return 1.0 - math.sqrt(ratio)  # minus_sqrt


def warmup_steps(cfg: ScheduleConfig, total_steps: int) -> int:
    """``warmup_fraction * total_steps`` rounded half up, and shorter than the run (megatron needs that)."""
    return min(math.floor(cfg.warmup_fraction * total_steps + 0.5), max(total_steps - 1, 0))


def lr_at(cfg: ScheduleConfig, step: int, total_steps: int) -> float:
    """The LR of update ``step`` (1-based; 0 = before training) of a ``total_steps``-update run."""
    peak, min_lr = cfg.peak_lr, cfg.min_lr_ratio * cfg.peak_lr
    w = warmup_steps(cfg, total_steps)
    if w > 0 and step <= w:
        return peak * step / w
    if cfg.name == "constant":
        return peak
    if cfg.name == "infinite":
        const = cfg.constant_lr_ratio * peak
        c, a = _round(cfg.cooldown_fraction * total_steps), _round(cfg.anneal_fraction * total_steps)
        if c > 0 and step <= w + c:
            return const + (peak - const) * 0.5 * (1.0 + math.cos(math.pi * (step - w) / c))
        if a > 0 and step > total_steps - a:
            return const + (min_lr - const) * min(1.0, (step - (total_steps - a)) / a)
        return const
    if step >= total_steps:
        return min_lr
    if cfg.name == "wsd":
        d = wsd_decay_steps(cfg, total_steps)
        start = total_steps - d
        if step <= start:
            return peak
        return min_lr + (peak - min_lr) * _wsd_coeff(cfg.decay_style, (step - start) / d)
    progress = (step - w) / (total_steps - w)
    return min_lr + (peak - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(optimizer, cfg: ScheduleConfig, total_steps: int, global_batch_size: int,
                    weight_decay: float) -> OptimizerParamScheduler:
    """An OptimizerParamScheduler at step 0 for ``total_steps`` updates of ``global_batch_size`` samples.

    ``optimizer``'s param groups must carry ``max_lr = peak_lr`` and ``min_lr = min_lr_ratio * peak_lr``
    (megatron copies ``OptimizerConfig.lr``/``min_lr`` into every group, and the groups win over
    the scheduler's own values).
    """
    cls, extra = OptimizerParamScheduler, {}
    if cfg.name == "infinite":
        cls, extra = _LrAtScheduler, {"schedule_cfg": cfg, "total_steps": total_steps,
                                      "global_batch_size": global_batch_size}
    if cfg.name == "wsd":
        extra = {"wsd_decay_steps": wsd_decay_steps(cfg, total_steps) * global_batch_size,
                 "lr_wsd_decay_style": cfg.decay_style}
    return cls(
        optimizer,
        init_lr=0.0,
        max_lr=cfg.peak_lr,
        min_lr=cfg.min_lr_ratio * cfg.peak_lr,
        lr_warmup_steps=warmup_steps(cfg, total_steps) * global_batch_size,
        lr_decay_steps=max(total_steps, 1) * global_batch_size,
        lr_decay_style=_MEGATRON_STYLE[cfg.name],
        start_wd=weight_decay,
        end_wd=weight_decay,
        wd_incr_steps=max(total_steps, 1) * global_batch_size,
        wd_incr_style="constant",
        # On resume the checkpoint must describe the same schedule; the loop checks this itself
        # and raises a ConfigError, instead of megatron's assert or silent override.
        use_checkpoint_opt_param_scheduler=True,
        override_opt_param_scheduler=False,
        **extra,
    )


class _LrAtScheduler(OptimizerParamScheduler):
    """megatron's scheduler (state, checkpointing, weight decay) with the LR from :func:`lr_at`."""

    def __init__(self, *args, schedule_cfg: ScheduleConfig, total_steps: int, global_batch_size: int, **kwargs):
        self._cfg, self._total, self._gbs = schedule_cfg, total_steps, global_batch_size
        super().__init__(*args, **kwargs)

    def get_lr(self, param_group: dict) -> float:
        return lr_at(self._cfg, self.num_steps // self._gbs, self._total)
