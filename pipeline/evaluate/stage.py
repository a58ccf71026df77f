"""Evaluate: validation loss on held-out old data (forgetting) and new data (adaptation),
for the base model (before) and the continued-pretraining checkpoint (after)."""

from __future__ import annotations

from pathlib import Path

from pipeline.train.blend import load_blend
from pipeline.registry import StageContext, output_version
from pipeline.stage_config import StageConfig
from pipeline.train.stage import checkpoint_of


def check_new_valid(prefix: str, vocab_size: int) -> Path:
    from pipeline import assets
    from pipeline.tokenize import indexed

    path = assets.resolve_path(prefix)
    indexed.check_prefix(path, vocab_size=vocab_size, what="evaluate.new_valid")
    return path


@output_version(1)
def run(ctx: StageContext) -> dict:
    from pipeline.train.loop import evaluate_loss

    cfg: StageConfig = ctx.config  # evaluate, model, precision
    mix = ctx.inputs["mix"]
    blend = load_blend(mix.path)
    workdir = mix.path.parent.parent
    valid = {domain: str(workdir / prefix) for domain, prefix in blend["valid"].items()}
    if cfg.evaluate.new_valid:
        valid["new"] = str(check_new_valid(cfg.evaluate.new_valid, blend["tokenizer"]["vocab_size"]))
    losses = {}
    for when, art in (("before", ctx.inputs["base"]), ("after", ctx.inputs["train"])):
        ctx.log(f"{when}: {checkpoint_of(art)}")
        losses[when] = evaluate_loss(checkpoint_of(art), cfg.model, cfg.precision, valid,
                                     blend["tokenizer"]["path"], cfg.evaluate.max_samples,
                                     ctx.out_dir / when)
    result = {
        "loss": losses,
        "forgetting": losses["after"]["old"] - losses["before"]["old"],  # > 0: worse on the old domain
        "adaptation": losses["before"]["new"] - losses["after"]["new"],  # > 0: better on the new domain
    }
    ctx.log(f"old {losses['before']['old']:.3f} -> {losses['after']['old']:.3f}, "
            f"new {losses['before']['new']:.3f} -> {losses['after']['new']:.3f}")
    return result
