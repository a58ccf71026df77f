"""Mix: new data plus a replay fraction of the original pretraining data, by tokens.

Writes ``blend.json``: the training blend (weights and dataset prefixes) and one validation set
per domain: ``new`` (adaptation) and ``old`` (forgetting). Prefixes are relative to the workdir.
Megatron blends by samples of a fixed length, so sample weights are token weights."""

from __future__ import annotations

import json

from pipeline.config import MixConfig
from pipeline.errors import ConfigError
from pipeline.registry import StageContext, write_json_atomic
from pipeline.tokenize import indexed

BLEND = "blend.json"


def run(ctx: StageContext) -> dict:
    cfg: MixConfig = ctx.config
    new, replay = ctx.inputs["tokenize"], ctx.inputs["replay"]
    new_tok, old_tok = new.stats["tokenizer"], replay.stats["tokenizer"]
    if (new_tok["vocab_size"], new_tok["eos_id"]) != (old_tok["vocab_size"], old_tok["eos_id"]):
        raise ConfigError(f"new data and replay data use different tokenizers: {new_tok['path']} "
                          f"(vocab {new_tok['vocab_size']}, eos {new_tok['eos_id']}) vs {old_tok['path']} "
                          f"(vocab {old_tok['vocab_size']}, eos {old_tok['eos_id']})")
    workdir = ctx.final_dir.parent.parent
    split = indexed.split(new.path / new.stats["shards"][0]["prefix"], ctx.out_dir / "split",
                          valid_fraction=cfg.valid_fraction, seed=cfg.seed)

    def rel(path):
        return str(path.relative_to(workdir))

    train = [{"name": "new", "weight": 1.0 - cfg.replay_fraction, "prefix": rel(ctx.final_dir / "split" / "train"),
              "tokens": split["train"]["tokens"]}]
    if cfg.replay_fraction > 0:
        train.append({"name": "replay", "weight": cfg.replay_fraction,
                      "prefix": rel(replay.path / "split" / "train"),
                      "tokens": replay.stats["split"]["train"]["tokens"]})
    blend = {
        "train": train,
        "valid": {"new": rel(ctx.final_dir / "split" / "valid"), "old": rel(replay.path / "split" / "valid")},
        "tokenizer": new_tok,
        "replay_fraction": cfg.replay_fraction,
        "seed": cfg.seed,
    }
    write_json_atomic(ctx.out_dir / BLEND, blend)
    ctx.log(f"new {split['train']['tokens']} train tokens, replay fraction {cfg.replay_fraction:.3f} of "
            f"{replay.stats['split']['train']['tokens']} replay tokens")
    return {"new_split": split, "replay_split": replay.stats["split"], "replay_fraction": cfg.replay_fraction,
            "blend": blend}


def load_blend(mix_dir) -> dict:
    return json.loads((mix_dir / BLEND).read_text())
