"""Per variant: mean and spread over seeds, the difference from the baseline against the seed noise,
a ranking by adaptation that does not rank what the noise cannot tell apart, and the config diff."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from pipeline.ablate.records import RunRecord
from pipeline.errors import InputError

SEED_KEYS = ("train.seed", "budget.seed")  # what differs between the seeds of one variant


@dataclass
class Stat:
    mean: float
    std: float  # sample standard deviation over seeds (0 with one seed)
    n: int

    @classmethod
    def of(cls, values: list[float]) -> "Stat":
        return cls(statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values))

    def stderr_of_difference(self, other: "Stat") -> float:
        return math.sqrt(self.std**2 / self.n + other.std**2 / other.n)

    def __str__(self) -> str:
        return f"{self.mean:+.4f} ± {self.std:.4f}"


@dataclass
class Comparison:
    """A variant's metric against the baseline's."""

    delta: float
    noise: float  # noise_sigmas x the standard error of the difference
    within_noise: bool


@dataclass
class VariantSummary:
    label: str
    runs: list[RunRecord]
    adaptation: Stat
    forgetting: Stat
    loss_after_old: Stat
    loss_after_new: Stat
    # downstream task accuracy (None when a run has no evaluate.tasks): adaptation gained, forgetting lost
    downstream_adaptation: Stat | None = None
    downstream_forgetting: Stat | None = None
    rank: int = 0
    tied_with_above: bool = False  # its adaptation is within seed noise of the variant ranked above
    pareto: bool = False  # no other variant adapts more and forgets less (on the `pareto_by` measures)
    vs_baseline: dict[str, Comparison] = field(default_factory=dict)
    config_diff: list[tuple[str, object, object]] = field(default_factory=list)  # key, baseline, this

    def axes(self, by: str) -> tuple[Stat, Stat]:
        """(adaptation, forgetting) as measured by ``by``: ``loss`` or ``downstream`` (task accuracy)."""
        if by == "downstream":
            if self.downstream_adaptation is None or self.downstream_forgetting is None:
                raise InputError(f"variant {self.label!r} has no downstream forgetting and adaptation "
                                 "(its runs named no evaluate.tasks of both roles): use the loss-based view")
            return self.downstream_adaptation, self.downstream_forgetting
        return self.adaptation, self.forgetting

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    @property
    def documents_in(self) -> int:
        return self.runs[0].documents_in

    @property
    def documents_kept(self) -> int:
        return self.runs[0].documents_kept

    @property
    def tokens_kept(self) -> int:
        return self.runs[0].tokens_kept


def group(records: list[RunRecord]) -> list[VariantSummary]:
    """One summary per label, in first-seen order (the first is the baseline)."""
    by_label: dict[str, list[RunRecord]] = {}
    for r in records:
        by_label.setdefault(r.label, []).append(r)
    return [VariantSummary(
        label, runs, Stat.of([r.adaptation for r in runs]), Stat.of([r.forgetting for r in runs]),
        Stat.of([r.loss["after"]["old"] for r in runs]), Stat.of([r.loss["after"]["new"] for r in runs]),
        _downstream(runs, "adaptation_acc"), _downstream(runs, "forgetting_acc"))
        for label, runs in by_label.items()]


def _downstream(runs: list[RunRecord], key: str) -> Stat | None:
    values = [r.downstream.get(key) for r in runs]
    return Stat.of(values) if values and all(v is not None for v in values) else None


def is_seed_key(key: str) -> bool:
    return key.endswith(SEED_KEYS)


def config_diff(baseline: RunRecord, other: RunRecord) -> list[tuple[str, object, object]]:
    a, b = baseline.flat_config(), other.flat_config()
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k) and not is_seed_key(k)]


def compare(v: Stat, base: Stat, sigmas: float) -> Comparison:
    noise = sigmas * v.stderr_of_difference(base)
    delta = v.mean - base.mean
    return Comparison(delta, noise, abs(delta) <= noise)


def rank(variants: list[VariantSummary], sigmas: float) -> list[VariantSummary]:
    """Sorted by adaptation (most first). A variant within seed noise of the one above shares its rank."""
    ordered = sorted(variants, key=lambda v: -v.adaptation.mean)
    for i, v in enumerate(ordered):
        if i and compare(v.adaptation, ordered[i - 1].adaptation, sigmas).within_noise:
            v.rank, v.tied_with_above = ordered[i - 1].rank, True
        else:
            v.rank = i + 1
    return ordered


def mark_pareto(variants: list[VariantSummary], by: str = "loss") -> None:
    points = {id(v): tuple(s.mean for s in v.axes(by)) for v in variants}  # (adaptation, forgetting)
    for v in variants:
        a, f = points[id(v)]
        v.pareto = not any(o is not v and oa >= a and of <= f and (oa > a or of < f)
                           for o in variants for oa, of in [points[id(o)]])


def summarize(records: list[RunRecord], noise_sigmas: float = 1.0, pareto_by: str = "loss") -> list[VariantSummary]:
    """Variants ranked by adaptation; each compared with the baseline (the first label)."""
    variants = group(records)
    baseline = variants[0]
    for v in variants:
        v.vs_baseline = {"adaptation": compare(v.adaptation, baseline.adaptation, noise_sigmas),
                         "forgetting": compare(v.forgetting, baseline.forgetting, noise_sigmas)}
        v.config_diff = config_diff(baseline.runs[0], v.runs[0])
    mark_pareto(variants, pareto_by)
    return rank(variants, noise_sigmas)
