"""``cpt ablate``: every (variant, seed) run continued from the same base, with the same replay data,
token budget and schedule, then one comparison report.

The runs go one after another through the ordinary stage chain, so a stage that is identical across
variants (the sample, the replay data, the base model, a shared extraction) runs once and is a cache
hit for the rest; with ``cluster=slurm`` each stage is submitted to Slurm as in ``cpt run``."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.ablate import compare, variants
from pipeline.config import CptConfig
from pipeline.resolve import resolve
from pipeline.errors import ConfigError
from pipeline.registry import Artifact


@dataclass
class AblationResult:
    report: Artifact  # the compare stage's output (report.html, results.parquet, results.csv)
    stage_runs: int
    reused: int
    wall_s: float


def log(msg: str) -> None:
    print(f"[ablate] {msg}", file=sys.stderr, flush=True)


def budget(cfg: CptConfig) -> tuple:
    run = resolve(cfg)
    return run.train.train_iters, run.train.global_batch_size, run.model.seq_length


def check_comparable(cfgs: list[CptConfig], runs: list[variants.Run], sweeps_peak_lr: bool) -> None:
    """The variants differ only in their axes: the same token budget and schedule for all."""
    first = cfgs[0]
    for cfg, r in zip(cfgs, runs):
        if budget(cfg) != budget(first):
            raise ConfigError(f"ablate: variant {r.variant.name!r} trains {budget(cfg)} (steps, batch, seq) but the "
                              f"baseline {budget(first)}: an ablation axis may not change the token budget")
        schedule = cfg.schedule if not sweeps_peak_lr else type(cfg.schedule)(**{
            **vars(cfg.schedule), "peak_lr": first.schedule.peak_lr})
        if schedule != first.schedule:
            raise ConfigError(f"ablate: variant {r.variant.name!r} changes the LR schedule; only ablate.peak_lrs may")


def pin_shared_inputs(cfgs: list[CptConfig]) -> None:
    """The same base checkpoint for every run (a pretrained base would otherwise depend on the seed), and
    adaptation measured on the baseline's held-out new documents for every variant."""
    from pipeline.chain import Chain

    first = Chain(cfgs[0])
    if not (cfgs[0].base_model.checkpoint or cfgs[0].base_model.hf):
        base = first.base()
        log(f"base model for every run: {base.path}")
        for cfg in cfgs:
            cfg.base_model.checkpoint = str(base.path)
    new_valid = first.mix().path / "split" / "valid"
    log(f"adaptation measured on the baseline's held-out new documents: {new_valid}")
    for cfg in cfgs:
        cfg.evaluate.new_valid = str(new_valid)


def run_ablation(cfg: CptConfig, compose: Callable[[list[str]], CptConfig], overrides: list[str]) -> AblationResult:
    """``compose(overrides)`` gives the validated config of the user's overrides plus a run's own."""
    from pipeline.chain import Chain

    t0 = time.time()
    runs = variants.runs(cfg.ablate)
    cfgs = [compose([*overrides, *r.overrides]) for r in runs]  # every variant validated before any work
    check_comparable(cfgs, runs, bool(cfg.ablate.peak_lrs))
    names = list(dict.fromkeys(r.variant.name for r in runs))
    log(f"{len(names)} variants x {len(set(cfg.ablate.seeds))} seeds = {len(runs)} runs: {'; '.join(names)}")
    pin_shared_inputs(cfgs)
    reports, stage_runs, reused = [], 0, 0
    for i, (r, run_cfg) in enumerate(zip(runs, cfgs), 1):
        log(f"run {i}/{len(runs)}: {r.variant.name}, seed {r.seed}")
        chain = Chain(run_cfg)
        reports.append((chain.report().path, r.variant.name))
        done = chain.artifacts()
        stage_runs += len(done)
        reused += sum(a.cached for a in done.values())
        log(f"run {i}/{len(runs)} done: {sum(a.cached for a in done.values())} of {len(done)} stages from cache")
    report = compare.compare(reports, Path(cfg.workdir), noise_sigmas=cfg.ablate.noise_sigmas,
                             title="Filtering ablation", notes=[f"Axes: {'; '.join(names)}."],
                             progress=cfg.progress, pareto_by=cfg.ablate.pareto_by)
    result = AblationResult(report, stage_runs, reused, time.time() - t0)
    log(f"{len(runs)} runs: {stage_runs} stage runs, {reused} reused from cache, {stage_runs - reused} ran; "
        f"{result.wall_s:.0f} s")
    return result
