"""One continued-pretraining run as the comparison sees it, read back from its report's lineage
(the manifests of the stages it came from), so existing runs can be compared as well as new ones."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError
from pipeline.registry import MANIFEST
from pipeline.report.stage import funnel_rows, read_metrics, schedule_curve

LINEAGE = ("extract", "curate", "dedup", "tokenize", "replay", "mix", "train", "evaluate")


@dataclass
class RunRecord:
    path: Path  # the run's report directory
    label: str  # the variant it belongs to
    seed: int
    configs: dict[str, dict]  # stage -> the config its fingerprint covers
    funnel: list[dict]
    tokens_kept: int
    loss: dict  # {"before": {"old", "new"}, "after": {"old", "new"}}
    forgetting: float
    adaptation: float
    # downstream tasks (evaluate.tasks): forgetting_acc, adaptation_acc, ..._acc_norm, ..._gold_logprob
    downstream: dict[str, float] = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)  # the CPT run's metrics.jsonl
    lr_curve: list[tuple[int, float]] = field(default_factory=list)

    @property
    def documents_in(self) -> int:
        return self.funnel[0]["in"]

    @property
    def documents_kept(self) -> int:
        return self.funnel[-1]["kept"]

    def flat_config(self) -> dict[str, object]:
        """``stage.key.subkey`` -> value, over every stage of the lineage."""
        out: dict[str, object] = {}
        for stage, cfg in self.configs.items():
            flatten(cfg, stage, out)
        return out


def flatten(obj, prefix: str, out: dict) -> None:
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            flatten(v, f"{prefix}.{k}", out)
    else:
        out[prefix] = obj


def train_seed(configs: dict[str, dict]) -> int:
    flat: dict[str, object] = {}
    flatten(configs.get("train", {}), "train", flat)
    seeds = [v for k, v in flat.items() if k.endswith(".train.seed") or k == "train.seed"]
    return int(seeds[0]) if seeds else 0


def _manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a completed cpt stage output ({exc})") from None
    if manifest.get("status") != "completed":
        raise InputError(f"{path}: stage {manifest.get('stage')} is {manifest.get('status')}, not completed")
    return manifest


def report_dir(path: Path) -> Path:
    """A report stage's directory, given it or a ``report.html`` inside it."""
    path = path.resolve()
    if path.is_file():
        path = path.parent
    if not (path / MANIFEST).is_file():
        raise InputError(f"{path}: no {MANIFEST}; give a run's report directory (<workdir>/report/<fingerprint>)")
    stage = _manifest(path).get("stage")
    if stage != "report":
        raise InputError(f"{path}: a {stage} stage output, not a report (<workdir>/report/<fingerprint>)")
    return path


def load(path: Path, label: str = "") -> RunRecord:
    """The record of the run whose report is at ``path``."""
    path = report_dir(Path(path))
    workdir = path.parent.parent
    refs = _manifest(path)["inputs"]
    missing = [s for s in LINEAGE if s not in refs]
    if missing:
        raise InputError(f"{path}: its report names no {', '.join(missing)} input")
    manifests = {stage: _manifest(workdir / refs[stage]) for stage in LINEAGE}
    stats = {stage: m.get("stats", {}) for stage, m in manifests.items()}
    train_dir = workdir / refs["train"]
    ev = stats["evaluate"]
    configs = {stage: m.get("config", {}) for stage, m in manifests.items()}
    return RunRecord(
        path=path, label=label, seed=train_seed(configs), configs=configs,
        funnel=funnel_rows(stats["curate"], stats["dedup"]), tokens_kept=int(stats["tokenize"]["tokens"]),
        loss=ev["loss"], forgetting=float(ev["forgetting"]), adaptation=float(ev["adaptation"]),
        downstream={k: float(v) for k, v in (ev.get("downstream") or {}).items() if isinstance(v, (int, float))},
        metrics=read_metrics(train_dir / "metrics.jsonl"), lr_curve=schedule_curve(stats["train"]))
