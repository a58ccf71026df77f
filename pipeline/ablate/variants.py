"""The variants of an ablation: the product of its axes, each a list of Hydra overrides."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from pipeline.config import AblateConfig


@dataclass(frozen=True)
class Variant:
    name: str  # e.g. "recipe=fineweb_no_c4, short_line_thr=0.5"
    overrides: tuple[str, ...]  # applied after the user's own overrides


@dataclass(frozen=True)
class Run:
    variant: Variant
    seed: int

    @property
    def overrides(self) -> tuple[str, ...]:
        return (*self.variant.overrides, f"train.seed={self.seed}")


def override_value(value) -> str:
    """A Python value as the right-hand side of a Hydra override."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(v) for v in value) + "]"
    text = str(value)
    return text if text.replace("_", "").replace("-", "").replace(".", "").replace("/", "").isalnum() \
        else "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def short_key(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def axes(ablate: AblateConfig) -> list[list[tuple[str, str, str]]]:
    """Each axis: its points as (label, override key, Hydra value)."""
    out = []
    if ablate.recipes:
        out.append([(f"recipe={r}", "recipe", r) for r in ablate.recipes])
    for key, values in ablate.grid.items():
        out.append([(f"{short_key(key)}={v}", key, override_value(v)) for v in values])
    if ablate.replay_fractions:
        out.append([(f"replay={f:g}", "mix.replay_fraction", override_value(f)) for f in ablate.replay_fractions])
    if ablate.peak_lrs:
        out.append([(f"peak_lr={lr:g}", "schedule.peak_lr", override_value(lr)) for lr in ablate.peak_lrs])
    return out


def expand(ablate: AblateConfig) -> list[Variant]:
    """Every combination of the axes; the first one is the baseline the others are compared with.
    An axis with a single point is shared by every variant and left out of the names."""
    all_axes = axes(ablate)
    varying = [len(a) > 1 for a in all_axes]
    variants = []
    for combo in itertools.product(*all_axes) if all_axes else [()]:
        name = ", ".join(label for (label, _, _), v in zip(combo, varying) if v) or "baseline"
        variants.append(Variant(name, tuple(f"{key}={value}" for _, key, value in combo)))
    return variants


def runs(ablate: AblateConfig) -> list[Run]:
    """Variant by variant, each over every seed (the baseline first)."""
    return [Run(v, seed) for v in expand(ablate) for seed in dict.fromkeys(ablate.seeds)]
