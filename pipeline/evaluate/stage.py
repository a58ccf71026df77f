"""Evaluate: validation loss on held-out old data (forgetting) and new data (adaptation), and the
downstream tasks of ``evaluate.tasks`` (general: forgetting; domain: adaptation), for the base model
(before) and the continued-pretraining checkpoint (after)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from pipeline.registry import StageContext, output_version
from pipeline.train.blend import load_blend
from pipeline.train.trackers import log_summary, run_name
from pipeline.stage_config import StageConfig
from pipeline.train.stage import checkpoint_of

DECONT_REPORT = "decont_report.json"


def check_new_valid(prefix: str, vocab_size: int) -> Path:
    from pipeline import assets
    from pipeline.tokenize import indexed

    path = assets.resolve_path(prefix)
    indexed.check_prefix(path, vocab_size=vocab_size, what="evaluate.new_valid")
    return path


@output_version(2)
def run(ctx: StageContext) -> dict:
    # lm-eval's local datasets are cached in a temporary folder: never in the stage's output (it holds
    # paths and stamps of this machine) nor in the user's home
    with tempfile.TemporaryDirectory(prefix="cpt-eval-datasets-") as cache:
        return _evaluate(ctx, Path(cache))


def _evaluate(ctx: StageContext, datasets_cache: Path) -> dict:
    from pipeline.train.loop import evaluate_loss

    cfg: StageConfig = ctx.config  # evaluate, model, precision
    mix = ctx.inputs["mix"]
    blend = load_blend(mix.path)
    workdir = mix.path.parent.parent
    valid = {domain: str(workdir / prefix) for domain, prefix in blend["valid"].items()}
    if cfg.evaluate.new_valid:
        valid["new"] = str(check_new_valid(cfg.evaluate.new_valid, blend["tokenizer"]["vocab_size"]))
    tasks = _downstream_tasks(ctx, datasets_cache)
    losses, scores, minks = {}, {}, {}
    for when, art in (("before", ctx.inputs["base"]), ("after", ctx.inputs["train"])):
        ctx.log(f"{when}: {checkpoint_of(art)}")
        losses[when] = evaluate_loss(checkpoint_of(art), cfg.model, cfg.precision, valid,
                                     blend["tokenizer"]["path"], cfg.evaluate.max_samples,
                                     ctx.out_dir / when)
        if tasks:
            scores[when], minks[when] = tasks.run(checkpoint_of(art), blend["tokenizer"], ctx.log)
    result = {
        "loss": losses,
        "forgetting": losses["after"]["old"] - losses["before"]["old"],  # > 0: worse on the old domain
        "adaptation": losses["before"]["new"] - losses["after"]["new"],  # > 0: better on the new domain
    }
    ctx.log(f"old {losses['before']['old']:.3f} -> {losses['after']['old']:.3f}, "
            f"new {losses['before']['new']:.3f} -> {losses['after']['new']:.3f}")
    if tasks:
        result["downstream"] = tasks.summary(scores)
        if cfg.evaluate.contamination:
            result["contamination"] = tasks.contamination(minks, ctx.out_dir / "min_k_items.jsonl")
        (ctx.out_dir / "downstream.json").write_text(json.dumps(result["downstream"], indent=1))
        for line in tasks.table(result["downstream"]):
            ctx.log(line)
    log_summary(ctx.tracking, ctx.out_dir, run_name(ctx.out_dir), tracked_metrics(result))
    return result


def tracked_metrics(result: dict) -> dict[str, float]:
    """What the experiment trackers get: losses, forgetting and adaptation, and each task's scores."""
    out = {"forgetting": result["forgetting"], "adaptation": result["adaptation"]}
    for when, losses in result["loss"].items():
        out.update({f"loss/{when}/{domain}": v for domain, v in losses.items()})
    down = result.get("downstream") or {}
    out.update({f"downstream/{k}": v for k, v in down.items() if k != "tasks" and v is not None})
    for name, task in (down.get("tasks") or {}).items():
        for when in ("before", "after", "change"):
            out.update({f"tasks/{name}/{when}/{k}": v for k, v in task[when].items() if isinstance(v, float)})
    return out


def _downstream_tasks(ctx: StageContext, datasets_cache: Path):
    from pipeline.evaluate.downstream import DownstreamTasks
    from pipeline.tasks.spec import stage_task_specs

    if "tasks" not in ctx.inputs:
        return None
    cfg = ctx.config
    specs = stage_task_specs(cfg.evaluate.tasks, ctx.inputs)
    report = ctx.inputs["curate"].path / DECONT_REPORT
    dirty = None
    if report.is_file():
        per_task = json.loads(report.read_text()).get("tasks", {})
        dirty = {name: set(t.get("items_hit", [])) for name, t in per_task.items()}
    dtype = "bf16" if cfg.precision.dtype == "fp8" else cfg.precision.dtype
    return DownstreamTasks(specs, cfg.evaluate, dtype=dtype, dirty=dirty, cache_dir=datasets_cache)
