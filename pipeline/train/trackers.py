"""Experiment trackers beside ``metrics.jsonl`` and TensorBoard: Weights & Biases (offline only) and
MLflow (a local store only), each off unless ``tracking.<name>.enabled``.

:class:`Trackers` fans a metrics record out to the enabled ones under TensorBoard's names
(``train/<key>``, ``eval_loss/<domain>``); :func:`log_summary` logs a flat dict of final metrics.
Neither touches the network: W&B runs offline (``wandb sync`` uploads a run later), MLflow writes to a
SQLite file (or a ``file:`` store) with its telemetry off.

The libraries are imported with :func:`importlib.import_module`, not an ``import`` statement, so
they stay out of the train stage's code closure: installing or upgrading them changes no fingerprint.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import InputError

if TYPE_CHECKING:
    from pipeline.config import MlflowConfig, TrackingConfig, WandbConfig

INSTALL_HINT = "pip install 'cpt-pipeline[trackers]'"


def _require(module: str, setting: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"{setting} is true but the {module} package is not installed ({exc}); "
                         f"install it with: {INSTALL_HINT}") from exc


def flatten_record(record: dict) -> dict[str, float]:
    """A ``metrics.jsonl`` record as tracker scalars: ``eval_loss/<domain>`` and ``train/<key>``."""
    out = {}
    for key, value in record.items():
        if key == "eval_loss":
            out.update({f"eval_loss/{domain}": float(loss) for domain, loss in value.items()})
        elif key not in ("step", "kind") and _is_number(value):
            out[f"train/{key}"] = float(value)
    return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Wandb:
    def __init__(self, cfg: WandbConfig, out_dir: Path, run_name: str, config: dict):
        os.environ.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_ERROR_REPORTING="false",
                          WANDB_DISABLE_CODE="true", WANDB_DISABLE_GIT="true")
        self.wandb = wandb = _require("wandb", "tracking.wandb.enabled")
        run_dir = Path(cfg.dir) if cfg.dir else out_dir / "wandb"
        run_dir.mkdir(parents=True, exist_ok=True)
        settings = wandb.Settings(silent=True, save_code=False, disable_git=True, console="off",
                                  x_disable_stats=True, x_save_requirements=False)
        self.run = wandb.init(project=cfg.project, entity=cfg.entity, name=run_name, dir=str(run_dir),
                              mode="offline", config=config, reinit="create_new", settings=settings)

    def log(self, metrics: dict[str, float], step: int) -> None:
        self.run.log(metrics, step=step)

    def summary(self, metrics: dict[str, float]) -> None:
        self.run.summary.update(metrics)

    def close(self) -> None:
        self.run.finish()
        # finish() returns before wandb-core has written the run's file; teardown waits for it (and
        # stops the service: a later run starts a new one)
        self.wandb.teardown()


def mlflow_uri(cfg: MlflowConfig, out_dir: Path) -> str:
    """The MLflow store: ``tracking_uri``, or a SQLite file under the run (MLflow 3's file store is in
    maintenance mode: it refuses to open one unless ``MLFLOW_ALLOW_FILE_STORE`` is set)."""
    return cfg.tracking_uri or f"sqlite:///{(out_dir / 'mlflow' / 'mlflow.db').resolve()}"


def _flat_params(config: dict, prefix: str = "") -> dict[str, str]:
    """Nested config as MLflow params: ``a.b`` keys, values as text (MLflow caps a value's length)."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flat_params(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)[:500]
    return out


class _Mlflow:
    def __init__(self, cfg: MlflowConfig, out_dir: Path, run_name: str, config: dict):
        os.environ.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", MLFLOW_ALLOW_FILE_STORE="true")
        tracking = _require("mlflow.tracking", "tracking.mlflow.enabled")
        self.entities = importlib.import_module("mlflow.entities")
        local = out_dir / "mlflow"
        if not cfg.tracking_uri:
            local.mkdir(parents=True, exist_ok=True)
        self.client = client = tracking.MlflowClient(mlflow_uri(cfg, out_dir))
        experiment = client.get_experiment_by_name(cfg.experiment)
        # a store of our own keeps its artifacts beside it (MLflow's default: ./mlruns in the cwd)
        artifacts = None if cfg.tracking_uri else (local / "artifacts").resolve().as_uri()
        experiment_id = (experiment.experiment_id if experiment
                         else client.create_experiment(cfg.experiment, artifact_location=artifacts))
        self.run_id = client.create_run(experiment_id, run_name=run_name).info.run_id
        params = [self.entities.Param(k, v) for k, v in _flat_params(config).items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params a batch
            client.log_batch(self.run_id, params=params[i:i + 100])

    def log(self, metrics: dict[str, float], step: int) -> None:
        now = int(time.time() * 1000)
        batch = [self.entities.Metric(key, value, now, step) for key, value in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)

    def summary(self, metrics: dict[str, float]) -> None:
        self.log(metrics, step=0)

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


class Trackers:
    """The enabled trackers of one run (none: every call does nothing)."""

    def __init__(self, cfg: TrackingConfig | None, out_dir: Path, run_name: str, config: dict | None = None):
        self.sinks = []
        try:
            if cfg is not None and cfg.wandb.enabled and cfg.wandb.mode != "disabled":
                self.sinks.append(_Wandb(cfg.wandb, Path(out_dir), run_name, config or {}))
            if cfg is not None and cfg.mlflow.enabled:
                self.sinks.append(_Mlflow(cfg.mlflow, Path(out_dir), run_name, config or {}))
        except BaseException:
            self.close()
            raise

    def write(self, record: dict) -> None:
        """Log a ``metrics.jsonl`` record at its step."""
        if self.sinks and (metrics := flatten_record(record)):
            for sink in self.sinks:
                sink.log(metrics, record["step"])

    def summary(self, metrics: dict) -> None:
        numbers = {k: float(v) for k, v in metrics.items() if _is_number(v)}
        for sink in self.sinks:
            sink.summary(numbers)

    def close(self) -> None:
        while self.sinks:
            self.sinks.pop().close()


def run_name(out_dir: Path) -> str:
    """``<stage>-<fingerprint>`` from a stage's output directory (its ``.partial`` while it runs)."""
    out_dir = Path(out_dir)
    return f"{out_dir.parent.name}-{out_dir.name.removesuffix('.partial')}"


def log_summary(cfg: TrackingConfig | None, out_dir: Path, name: str, metrics: dict) -> None:
    """Log a flat dict of final metrics (e.g. an evaluation's) as one run of each enabled tracker:
    W&B's run summary, MLflow metrics at step 0. Values that are not numbers are left out."""
    trackers = Trackers(cfg, out_dir, name)
    try:
        trackers.summary(metrics)
    finally:
        trackers.close()
