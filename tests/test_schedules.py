"""WSD and infinite LR schedules: closed-form values at chosen steps, and megatron's scheduler
(stepped in samples, as the training loop does) agreeing with them at every update."""

import math

import pytest

from pipeline.config import ScheduleConfig
from pipeline.errors import ConfigError
from pipeline.train.schedule import build_scheduler, lr_at

PEAK, MIN = 3e-3, 3e-4


class _Opt:  # the scheduler only writes lr / weight_decay into param groups
    def __init__(self):
        self.param_groups = [{"max_lr": PEAK, "min_lr": MIN}]


def _agrees(cfg, total, gbs=8):
    opt = _Opt()
    sched = build_scheduler(opt, cfg, total, gbs, weight_decay=0.1)
    for step in range(1, total + 1):
        sched.step(increment=gbs)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr_at(cfg, step, total), rel=1e-12, abs=1e-15), step
    return sched


@pytest.mark.parametrize("style,mid", [("linear", 0.5), ("cosine", 0.5), ("exponential", 2 * 0.5**0.5 - 1),
                                       ("minus_sqrt", 1 - 0.5**0.5)])
def test_wsd(style, mid):
    cfg = ScheduleConfig(name="wsd", peak_lr=PEAK, min_lr_ratio=0.1, warmup_fraction=0.1, decay_fraction=0.2,
                         decay_style=style)
    total = 100  # warmup 10, stable to 80, decay 81..100
    assert lr_at(cfg, 5, total) == pytest.approx(PEAK / 2)
    assert lr_at(cfg, 10, total) == lr_at(cfg, 50, total) == lr_at(cfg, 80, total) == pytest.approx(PEAK)
    assert lr_at(cfg, 90, total) == pytest.approx(MIN + (PEAK - MIN) * mid)
    assert lr_at(cfg, 100, total) == pytest.approx(MIN)
    _agrees(cfg, total)


def test_infinite_without_and_with_anneal():
    cfg = ScheduleConfig(name="infinite", peak_lr=PEAK, min_lr_ratio=0.1, warmup_fraction=0.1,
                         cooldown_fraction=0.2, constant_lr_ratio=0.5, anneal_fraction=0.0)
    total, const = 100, 0.5 * PEAK  # warmup 1..10, cooldown 11..30, constant after
    assert lr_at(cfg, 10, total) == pytest.approx(PEAK)
    assert lr_at(cfg, 20, total) == pytest.approx(const + (PEAK - const) * 0.5 * (1 + math.cos(math.pi / 2)))
    assert lr_at(cfg, 30, total) == pytest.approx(const)
    assert lr_at(cfg, 100, total) == pytest.approx(const)  # no anneal: ends at the constant LR
    _agrees(cfg, total)
    annealed = ScheduleConfig(**{**cfg.__dict__, "anneal_fraction": 0.1})  # anneal over 91..100
    assert lr_at(annealed, 90, total) == pytest.approx(const)
    assert lr_at(annealed, 95, total) == pytest.approx(const + (MIN - const) * 0.5)
    assert lr_at(annealed, 100, total) == pytest.approx(MIN)
    sched = _agrees(annealed, total)
    state = sched.state_dict()  # checkpointable like megatron's own
    assert state["num_steps"] == total * 8


def test_schedule_validation():
    with pytest.raises(ConfigError, match="schedule.decay_style"):
        ScheduleConfig(name="wsd", decay_style="step")
    with pytest.raises(ConfigError, match="schedule.anneal_fraction"):
        ScheduleConfig(name="infinite", warmup_fraction=0.5, cooldown_fraction=0.4, anneal_fraction=0.2)
    with pytest.raises(ConfigError, match="schedule.constant_lr_ratio"):
        ScheduleConfig(name="infinite", constant_lr_ratio=0.05, min_lr_ratio=0.1)
