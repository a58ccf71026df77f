"""Mix: new data plus a replay fraction of the original pretraining data, by tokens.

Writes ``blend.json`` (:mod:`pipeline.train.blend`): the training blend (weights and dataset
prefixes) and one validation set per domain: ``new`` (adaptation) and ``old`` (forgetting).
Prefixes are relative to the workdir. Megatron blends by samples of a fixed length, so sample weights are token weights."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import assets
from pipeline.mix import realize
from pipeline.errors import ConfigError
from pipeline.registry import StageContext, output_version, write_json_atomic
from pipeline.tokenize import indexed
from pipeline.train.blend import BLEND

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import MixConfig



@output_version(1)
def run(ctx: StageContext) -> dict:
    cfg: MixConfig = ctx.config.mix
    budget = ctx.config.budget  # {"num_samples", "seq_length", "seed"}: what training will draw
    new, replay = ctx.inputs["tokenize"], ctx.inputs["replay"]
    new_tok, old_tok = new.stats["tokenizer"], replay.stats["tokenizer"]
    if (new_tok["vocab_size"], new_tok["eos_id"]) != (old_tok["vocab_size"], old_tok["eos_id"]):
        raise ConfigError(f"new data and replay data use different tokenizers: {new_tok['path']} "
                          f"(vocab {new_tok['vocab_size']}, eos {new_tok['eos_id']}) vs {old_tok['path']} "
                          f"(vocab {old_tok['vocab_size']}, eos {old_tok['eos_id']})")
    workdir = ctx.final_dir.parent.parent
    split = indexed.split(new.path / new.stats["merged"], ctx.out_dir / "split",
                          valid_fraction=cfg.valid_fraction, seed=cfg.seed)

    def ref(path) -> str:
        """How blend.json names a dataset: this run's files by their final place, relative to the
        workdir when inside it."""
        path = Path(path)
        if path.is_relative_to(ctx.out_dir):
            path = ctx.final_dir / path.relative_to(ctx.out_dir)
        return str(path.relative_to(workdir)) if path.is_relative_to(workdir) else str(path)

    news = [{"name": "new", "weight": cfg.new_weight, "prefix": str(ctx.out_dir / "split" / "train"),
             "tokens": split["train"]["tokens"]}]
    for src in cfg.extra_sources:
        prefix = assets.resolve_path(src.prefix)
        info = indexed.check_prefix(prefix, vocab_size=new_tok["vocab_size"], what=f"mix source {src.name!r}")
        news.append({"name": src.name, "weight": src.weight, "prefix": str(prefix), "tokens": info["tokens"]})
    total_new = sum(s["weight"] for s in news)
    if total_new <= 0:
        raise ConfigError("invalid value for 'mix.new_weight': the new-data weights sum to 0")
    train = [{**s, "weight": (1.0 - cfg.replay_fraction) * s["weight"] / total_new} for s in news if s["weight"] > 0]
    if cfg.replay_fraction > 0:
        train.append({"name": "replay", "weight": cfg.replay_fraction, "prefix": str(replay.path / "split" / "train"),
                      "tokens": replay.stats["split"]["train"]["tokens"]})

    realized = realize.realize(
        train, num_samples=budget["num_samples"], seq_length=budget["seq_length"], seed=budget["seed"],
        tokenizer_path=new_tok["path"], eos_token=new_tok["eos_token"], cache_dir=ctx.out_dir / "realize_cache")
    warnings = check_realized(realized, cfg.replay_fraction)
    for w in warnings:
        ctx.log(f"warning: {w}")

    blend = {
        "train": [{**t, "prefix": ref(t["prefix"])} for t in train],
        "valid": {"new": ref(ctx.out_dir / "split" / "valid"), "old": ref(replay.path / "split" / "valid")},
        "tokenizer": new_tok,
        "replay_fraction": cfg.replay_fraction,
        "seed": cfg.seed,
        "budget": budget,
    }
    write_json_atomic(ctx.out_dir / BLEND, blend)
    r = realized["sources"].get("replay")
    ctx.log(f"budget {realized['tokens']:,} tokens ({budget['num_samples']} samples); replay requested "
            f"{cfg.replay_fraction:.4g}, realized {r['realized_fraction'] if r else 0:.4g}")
    return {"new_split": split, "replay_split": replay.stats["split"], "replay_fraction": cfg.replay_fraction,
            "blend": blend, "realized": realized, "warnings": warnings}


MIN_REPLAY_SAMPLES = 100  # below this, one sample is more than 1% of the replay share


def check_realized(realized: dict, requested: float) -> list[str]:
    """Warnings: replay repeating (more than one epoch), or a budget too small to realize the fraction."""
    out = []
    r = realized["sources"].get("replay")
    if r is None:
        return out
    if r["epochs"] > 1.0:
        out.append(f"replay data repeats: the budget draws {r['tokens']:,} replay tokens from "
                   f"{r['tokens'] / r['epochs']:,.0f}, {r['epochs']:.2f} epochs (each replay token seen about "
                   f"{r['epochs']:.1f} times); add replay data or lower mix.replay_fraction")
    if 0 < r["samples"] < MIN_REPLAY_SAMPLES:
        out.append(f"the budget holds only {r['samples']} replay samples: the realized fraction "
                   f"{r['realized_fraction']:.4g} can be off the requested {requested:.4g} by one sample "
                   f"({1 / r['samples']:.1%} relative); raise the token budget")
    return out


