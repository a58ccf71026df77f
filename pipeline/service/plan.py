"""A job's plan without running it: the chain in ``plan_only`` mode (each stage's fingerprint and
whether it is a cache hit), the token budget and steps, and the memory estimate per GPU."""

from __future__ import annotations

import dataclasses

from pipeline.config import CptConfig


def plan_job(cfg: CptConfig, command: str) -> tuple[dict, dict]:
    """(the resolved config, the plan) of ``command`` on ``cfg`` (policy already applied)."""
    from omegaconf import OmegaConf

    from pipeline.chain import Chain
    from pipeline.resolve import resolve

    resolved = resolve(cfg)
    plan: dict = {"command": command}
    if command == "ablate":
        from pipeline.ablate.variants import expand, runs

        plan["variants"] = [v.name for v in expand(resolved.ablate)]
        plan["runs"] = len(runs(resolved.ablate))
    else:
        chain = Chain(cfg, plan_only=True)
        chain.run_all() if command == "run" else getattr(chain, command)()
        plan["stages"] = [{"name": a.stage, "fingerprint": a.fingerprint, "cached": not a.manifest.get("planned"),
                           "inputs": a.manifest.get("inputs") or {}}
                          for a in chain.artifacts().values() if a.manifest.get("planned") or a.cached]
    t, m = resolved.train, resolved.model
    plan["budget"] = {"train_iters": t.train_iters, "global_batch_size": t.global_batch_size,
                      "seq_length": m.seq_length, "tokens": t.train_iters * t.global_batch_size * m.seq_length,
                      "replay_fraction": resolved.mix.replay_fraction}
    plan["memory_per_gpu_bytes"] = memory_per_gpu(resolved)
    return OmegaConf.to_container(OmegaConf.structured(resolved)), plan


def memory_per_gpu(cfg: CptConfig) -> dict | None:
    from pipeline import assets
    from pipeline.train.memory import estimate
    from pipeline.train.model import padded_vocab_size

    vocab = cfg.model.vocab_size
    if vocab is None:
        try:
            from pipeline.train.data import tokenizer_vocab_size

            vocab = padded_vocab_size(cfg.model, tokenizer_vocab_size(assets.resolve_path(cfg.tokenizer.path)))
        except Exception:
            return None
    est = estimate(cfg.model, vocab, cfg.train, cfg.precision)
    return {name: int(v) for name, v in dataclasses.asdict(est).items()} | {"total": int(est.total)}
