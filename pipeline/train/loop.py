"""The training loop (pretraining and continued pretraining) and the evaluation of a checkpoint.

Read :func:`train` top to bottom: resolve sizes, set up megatron (process group, model, DDP,
optimizer, schedule), pick the start (resume > weights-only > scratch), then loop over global
batches with gradient accumulation, evaluating every ``eval_interval`` steps and checkpointing.

Where training starts:

* ``out_dir/checkpoints/`` holds a checkpoint -> **resume** the newest (model, Adam moments and
  step, schedule, iteration, RNG; the data position follows from the iteration). The data,
  schedule and batch settings must be those the checkpoint was written with.
* else ``init_from`` given -> **weights-only** start: the base model's weights, a fresh optimizer
  and schedule (re-warm), iteration 0, the start of the data.
* else from scratch (random init).

Checkpoints are written every ``save_interval`` steps, at the end, and when SIGTERM or SIGUSR1
arrives (preemption.py): then the loop saves after the current step and raises
:class:`TrainingPreempted`.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import os
import time
from pathlib import Path

import torch
from megatron.core.distributed import DistributedDataParallel, DistributedDataParallelConfig
from megatron.core.optimizer import OptimizerConfig, get_megatron_optimizer
from megatron.core.optimizer_param_scheduler import get_canonical_lr_for_logging
from tqdm.auto import tqdm

from pipeline.config import ModelConfig, PrecisionConfig, ScheduleConfig, TrainConfig
from pipeline.errors import ConfigError
from pipeline.train.checkpoint import (
    CHECKPOINTS_DIR,
    check_compatible,
    latest_checkpoint,
    load_checkpoint,
    load_weights,
    read_meta,
    resolve_checkpoint,
    save_checkpoint,
)
from pipeline.train.data import HFTokenizer, build_train_dataset, build_valid_datasets, get_batch
from pipeline.train.distributed import data_parallel_size, distributed_session, resolve_device
from pipeline.train.flops import device_peak_tflops, training_flops_per_token
from pipeline.train.model import build_model, model_config_dict, padded_vocab_size, wrap_for_precision
from pipeline.train.preemption import PreemptionGuard, TrainingPreempted
from pipeline.train.schedule import build_scheduler

METRICS_NAME = "metrics.jsonl"
EVAL_MICRO_BATCH = 8


# ----------------------------------------------------------------------------- setup helpers
def configure_threads(device: torch.device) -> int:
    """CPU: one intra-op thread per core but one (OMP_NUM_THREADS, if set, decides instead).

    Why leave a core: when another process needs a core, every parallel op waits for a
    descheduled thread. On 2 cores with one other busy process, the tiny model took 3.6 s/step
    with 2 threads and 0.23 s/step with 1 (0.14 s with 2 on an idle machine). The count is fixed
    per machine, not picked from the current load, because results (and so a bitwise resume)
    can depend on the number of threads.
    """
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) - 1))
    return torch.get_num_threads()


def build_optimizer(ddp_model, train_cfg: TrainConfig, schedule_cfg: ScheduleConfig, bf16: bool):
    """megatron's Adam(W): fp32 master weights and grads when the model is bf16, global-norm clipping;
    with ``train.distributed_optimizer`` the optimizer state is sharded across the data-parallel ranks."""
    config = OptimizerConfig(
        optimizer="adam",
        lr=schedule_cfg.peak_lr,
        min_lr=schedule_cfg.min_lr_ratio * schedule_cfg.peak_lr,
        weight_decay=train_cfg.weight_decay,  # not applied to norms (megatron skips 1-d params)
        adam_beta1=train_cfg.adam_beta1,
        adam_beta2=train_cfg.adam_beta2,
        clip_grad=train_cfg.clip_grad,
        bf16=bf16,
        params_dtype=torch.bfloat16 if bf16 else torch.float32,
        use_distributed_optimizer=train_cfg.distributed_optimizer,
    )
    return get_megatron_optimizer(config, [ddp_model])


def wrap_ddp(model, bf16: bool, distributed_optimizer: bool) -> DistributedDataParallel:
    """megatron's DDP: gradients accumulate in a contiguous fp32 buffer (``main_grad``) across
    micro-batches; summed over the ranks by all-reduce, or reduce-scatter for the distributed optimizer."""
    ddp_config = DistributedDataParallelConfig(
        grad_reduce_in_fp32=bf16, overlap_grad_reduce=False, use_distributed_optimizer=distributed_optimizer,
        check_for_nan_in_grad=True)
    return DistributedDataParallel(model.config, ddp_config, wrap_for_precision(model))


def _run_fingerprint(train_blend, model_cfg: ModelConfig, train_cfg: TrainConfig, schedule_cfg: ScheduleConfig,
                     total_steps: int, tokenizer: HFTokenizer) -> dict:
    """What a resume must not change: the data stream, batch geometry, schedule and optimizer settings.

    (A restored optimizer would silently keep its saved betas, and megatron's scheduler its saved
    LR bounds, so a changed value would not take effect; we refuse instead.)
    """
    return {
        "train_blend": [[float(w), str(p)] for w, p in train_blend],
        "seq_length": model_cfg.seq_length,
        "global_batch_size": train_cfg.global_batch_size,
        "micro_batch_size": train_cfg.micro_batch_size,
        "seed": train_cfg.seed,
        "train_iters": total_steps,
        "tokenizer_sha256": tokenizer.sha256,
        "schedule": dataclasses.asdict(schedule_cfg),
        "optimizer": {k: getattr(train_cfg, k) for k in ("weight_decay", "adam_beta1", "adam_beta2", "clip_grad",
                                                                "distributed_optimizer")},
    }


class MetricsLog:
    """``metrics.jsonl`` (one JSON object per line) and TensorBoard scalars under ``tb/`` (rank 0 only)."""

    def __init__(self, out_dir: Path, start_step: int):
        from torch.utils.tensorboard import SummaryWriter

        self.path = out_dir / METRICS_NAME
        if self.path.exists():  # a resume: drop what was logged after the checkpoint
            kept = [line for line in self.path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= start_step]
            self.path.write_text("".join(line + "\n" for line in kept))
        self.tb = SummaryWriter(str(out_dir / "tb"), purge_step=start_step + 1 if start_step else None)

    def last_train_loss(self) -> float | None:
        losses = [r["loss"] for r in map(json.loads, self.path.read_text().splitlines())
                  if r.get("kind") == "train"] if self.path.exists() else []
        return losses[-1] if losses else None

    def write(self, record: dict) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        step = record["step"]
        for key, value in record.items():
            if key == "eval_loss":
                for domain, loss in value.items():
                    self.tb.add_scalar(f"eval_loss/{domain}", loss, step)
            elif key not in ("step", "kind") and isinstance(value, (int, float)):
                self.tb.add_scalar(f"train/{key}", value, step)

    def close(self) -> None:
        self.tb.close()


class _NoLog:
    """What ranks other than 0 log: nothing."""

    def write(self, record: dict) -> None:
        pass

    def last_train_loss(self) -> None:
        return None

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------------- data parallel
def _dp_rank_size() -> tuple[int, int]:
    return torch.distributed.get_rank(), torch.distributed.get_world_size()


def _all_reduce(values: list[float], device, op=torch.distributed.ReduceOp.SUM) -> list[float]:
    """Reduce Python numbers over the data-parallel ranks (returned unchanged with one rank)."""
    if torch.distributed.get_world_size() == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t, op=op)
    return t.tolist()


def _every(step: int, interval: int, last: int) -> bool:
    """Every ``interval`` steps (0 = never) and always at the last step."""
    return step == last or (interval > 0 and step % interval == 0)


# ----------------------------------------------------------------------------- forward / eval
def _per_token_loss(model, batch: dict, real_vocab: int | None = None) -> torch.Tensor:
    """``[b, s]`` cross-entropy losses (fp32). With ``real_vocab`` below the embedding's rows, the
    padded vocabulary's logits are left out of the softmax (so they never change a loss);
    otherwise megatron's own fused loss."""
    if real_vocab is None:
        return model(batch["tokens"], batch["position_ids"], batch["attention_mask"],
                     labels=batch["labels"]).float()
    logits = model(batch["tokens"], batch["position_ids"], batch["attention_mask"])[..., :real_vocab]
    b, s = batch["labels"].shape
    return torch.nn.functional.cross_entropy(logits.float().reshape(b * s, real_vocab),
                                             batch["labels"].reshape(-1), reduction="none").view(b, s)


@torch.no_grad()
def _eval_losses(model, datasets: dict, num_samples: int, micro_batch_size: int, device,
                 real_vocab: int | None = None) -> dict[str, float]:
    """Mean per-token loss on the first ``num_samples`` samples of each dataset (fixed across evals);
    the micro-batches are dealt round-robin to the data-parallel ranks."""
    rank, size = _dp_rank_size()
    was_training = model.training
    model.eval()
    losses = {}
    for name, dataset in datasets.items():
        n = min(num_samples, len(dataset))
        loss_sum, token_count = 0.0, 0.0
        for start in range(rank * micro_batch_size, n, size * micro_batch_size):
            batch = get_batch(dataset, range(start, min(start + micro_batch_size, n)), device)
            loss_sum += float((_per_token_loss(model, batch, real_vocab) * batch["loss_mask"]).sum())
            token_count += float(batch["loss_mask"].sum())
        loss_sum, token_count = _all_reduce([loss_sum, token_count], device)
        losses[name] = loss_sum / max(token_count, 1.0)
    model.train(was_training)
    return losses


def _train_step(ddp_model, optimizer, scheduler, dataset, iteration: int, train_cfg: TrainConfig,
                device, real_vocab: int | None = None) -> tuple[float, float, float]:
    """One optimizer update on global batch number ``iteration`` (0-based); returns loss, lr, grad norm.

    The global batch is the next ``global_batch_size`` samples of the dataset; data-parallel rank
    ``r`` of ``R`` takes the ``r``-th contiguous ``1/R`` of it, cut into micro-batches. Each
    micro-batch's summed token loss is divided by the token count of the whole global batch, and
    DDP sums the ranks' gradients (``calculate_per_token_loss``), so the update follows the
    gradient of the global per-token mean whatever the number of ranks.
    """
    gbs, mbs = train_cfg.global_batch_size, train_cfg.micro_batch_size
    rank, size = _dp_rank_size()
    first = iteration * gbs + rank * (gbs // size)
    micro_batches = [get_batch(dataset, range(start, start + mbs), device)
                     for start in range(first, first + gbs // size, mbs)]
    local_tokens = sum(b["loss_mask"].sum() for b in micro_batches)
    num_tokens = torch.tensor(_all_reduce([float(local_tokens)], device)[0], device=device).clamp(min=1.0)

    ddp_model.zero_grad_buffer()
    optimizer.zero_grad()
    total_loss = torch.zeros((), device=device)
    for batch in micro_batches:
        loss = (_per_token_loss(ddp_model, batch, real_vocab) * batch["loss_mask"]).sum() / num_tokens
        loss.backward()  # accumulates into DDP's main_grad buffer
        total_loss += loss.detach()
    ddp_model.finish_grad_sync()  # sum over the data-parallel ranks (a no-op with one)

    scheduler.step(increment=gbs)  # LR for this update (schedule.py: advance, then update)
    update_ok, grad_norm, _ = optimizer.step()
    if not update_ok:
        raise RuntimeError(f"optimizer step {iteration + 1} was skipped (inf/nan gradients)")
    lr = get_canonical_lr_for_logging(optimizer.param_groups)
    return _all_reduce([float(total_loss)], device)[0], float(lr), float(grad_norm or 0.0)


# ----------------------------------------------------------------------------- train
def train(model_cfg: ModelConfig, train_cfg: TrainConfig, schedule_cfg: ScheduleConfig,
          precision_cfg: PrecisionConfig, *, train_blend: list[tuple[float, str]],
          valid_prefixes: dict[str, str], tokenizer_path: str, out_dir: Path,
          init_from: Path | None = None, train_iters: int | None = None, progress: bool = True) -> dict:
    """Train (or continue training) a model; checkpoints land in ``out_dir/checkpoints/iter_<N>/``.

    ``train_iters`` overrides ``train_cfg.train_iters`` (pretraining the base model uses its own
    count). ``init_from`` is a checkpoint, or a directory holding them (the newest is used).
    Returns stats: final train loss, eval losses per domain, tokens seen, wall time, tokens/s, MFU.
    Raises :class:`TrainingPreempted` after checkpointing when SIGTERM or SIGUSR1 arrives.
    """
    t_start = time.time()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    total_steps = train_iters if train_iters is not None else train_cfg.train_iters
    if total_steps < 1:
        raise ConfigError("invalid value for 'train.train_iters': must be >= 1")
    if schedule_cfg.peak_lr is None:
        raise ConfigError("invalid value for 'schedule.peak_lr': null must be resolved to the base model's "
                          "peak before training (pipeline.train.stage.rewarm_schedule)")
    gbs, mbs, seq = train_cfg.global_batch_size, train_cfg.micro_batch_size, model_cfg.seq_length
    dp = data_parallel_size()
    if gbs % (mbs * dp):
        raise ConfigError(f"invalid value for 'train.global_batch_size': {gbs} is not a multiple of "
                          f"train.micro_batch_size x data-parallel ranks = {mbs} x {dp}")
    device = resolve_device(train_cfg.device)
    threads = configure_threads(device)

    tokenizer = HFTokenizer(tokenizer_path)
    vocab_size = padded_vocab_size(model_cfg, tokenizer.vocab_size)
    model_dict = model_config_dict(model_cfg, vocab_size)
    run = _run_fingerprint(train_blend, model_cfg, train_cfg, schedule_cfg, total_steps, tokenizer)
    ckpt_root = out_dir / CHECKPOINTS_DIR
    resume_from = latest_checkpoint(ckpt_root)
    start_from = None  # the base checkpoint this run's weights came from
    if resume_from is not None:
        meta = read_meta(resume_from)
        check_compatible(meta, model_dict, resume_from)
        saved = meta.get("run", {})
        if "optimizer" in saved:  # written before train.distributed_optimizer existed: it was off
            saved = {**saved, "optimizer": {"distributed_optimizer": False, **saved["optimizer"]}}
        changed = sorted(k for k in run if saved.get(k) != run[k])
        if changed:
            raise ConfigError(
                f"cannot resume {resume_from}: {', '.join(changed)} changed since it was written; "
                f"use a new output directory (and init_from for a weights-only start)")
        start_from = meta.get("init_from")
        real_vocab = int(meta.get("real_vocab_size") or tokenizer.vocab_size)
    elif init_from is not None:
        init_from = resolve_checkpoint(init_from)
        base = read_meta(init_from)
        check_compatible(base, model_dict, init_from)
        if base.get("tokenizer_sha256") not in (None, tokenizer.sha256):
            raise ConfigError(f"checkpoint {init_from} was trained with another tokenizer "
                              f"(sha256 {base['tokenizer_sha256'][:12]}…, this run {tokenizer.sha256[:12]}…)")
        start_from = str(init_from)
        real_vocab = int(base.get("real_vocab_size") or tokenizer.vocab_size)
    else:
        real_vocab = tokenizer.vocab_size  # rows past the tokenizer's are padding
    loss_vocab = real_vocab if real_vocab < vocab_size else None  # None: no padded logits to leave out

    flops_per_token = training_flops_per_token(model_cfg, vocab_size)
    flops_per_step = flops_per_token * gbs * seq / dp  # per device
    peak = device_peak_tflops(device, precision_cfg.dtype, train_cfg.peak_tflops)

    with distributed_session(device, train_cfg.seed), PreemptionGuard() as preemption:
        rank = torch.distributed.get_rank()
        # Model, optimizer, schedule.
        model = build_model(model_cfg, vocab_size, precision_cfg, device, recompute=train_cfg.recompute)
        if resume_from is None and init_from is not None:
            load_weights(init_from, model)  # before the optimizer copies fp32 master weights
        bf16 = model.config.bf16
        ddp_model = wrap_ddp(model, bf16, train_cfg.distributed_optimizer)
        optimizer = build_optimizer(ddp_model, train_cfg, schedule_cfg, bf16)
        scheduler = build_scheduler(optimizer, schedule_cfg, total_steps, gbs, train_cfg.weight_decay)
        start_iter, loop_state = load_checkpoint(resume_from, model, optimizer, scheduler) if resume_from else (0, {})

        # Data: sample i of the run is fixed, so iteration k always trains on samples [k*gbs, (k+1)*gbs).
        cache = out_dir / "data_cache"
        train_ds = build_train_dataset(train_blend, total_steps * gbs, tokenizer, seq, train_cfg.seed, cache)
        valid_ds = build_valid_datasets(valid_prefixes, tokenizer, seq, train_cfg.seed, cache)
        eval_samples = train_cfg.eval_iters * gbs

        meta = {"vocab_size": vocab_size, "real_vocab_size": real_vocab, "model": model_dict,
                "tokenizer_sha256": tokenizer.sha256, "tokenizer_path": str(Path(tokenizer_path).resolve()),
                "precision": precision_cfg.dtype, "run": run, "init_from": start_from}

        def save(step: int) -> Path:
            # The losses of a logging window still open go with the checkpoint, so a resumed run logs
            # the same window means as an uninterrupted one.
            # (Every rank saves the same common state: the slowest rank's time.)
            slowest = _all_reduce([window_time], device, torch.distributed.ReduceOp.MAX)[0]
            return save_checkpoint(ckpt_root, model, optimizer, scheduler, step, meta, keep=train_cfg.keep_checkpoints,
                                   loop_state={"window_losses": window_losses, "window_time": slowest})

        log = MetricsLog(out_dir, start_iter) if rank == 0 else _NoLog()
        bar = tqdm(total=total_steps, initial=start_iter, disable=not progress or rank != 0, desc="train", unit="step",
                   mininterval=0.5 if sys.stderr.isatty() else 15)  # a log file gets a line every 15 s

        # The loop.
        ddp_model.train()
        window_losses = list(loop_state.get("window_losses", []))
        window_time, train_time = float(loop_state.get("window_time", 0.0)), 0.0
        last_loss, eval_loss, saved_step = None, {}, start_iter
        try:
            for iteration in range(start_iter, total_steps):
                t0 = time.time()
                loss, lr, grad_norm = _train_step(ddp_model, optimizer, scheduler, train_ds, iteration,
                                                  train_cfg, device, loss_vocab)
                dt = time.time() - t0
                step = iteration + 1
                window_losses.append(loss)
                window_time += dt
                train_time += dt
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}", tok_s=f"{gbs * seq / dt:.0f}", refresh=False)

                if _every(step, train_cfg.log_interval, total_steps):
                    last_loss = sum(window_losses) / len(window_losses)
                    achieved = len(window_losses) * flops_per_step / window_time / 1e12
                    log.write({"kind": "train", "step": step, "loss": last_loss, "lr": lr, "grad_norm": grad_norm,
                               "tokens_per_s": len(window_losses) * gbs * seq / window_time,
                               "tflops": achieved, "mfu": achieved / peak if peak else None,
                               "tokens": step * gbs * seq})
                    window_losses, window_time = [], 0.0
                if _every(step, train_cfg.eval_interval, total_steps):
                    eval_loss = _eval_losses(ddp_model, valid_ds, eval_samples, mbs, device, loss_vocab)
                    log.write({"kind": "eval", "step": step, "eval_loss": eval_loss})
                if _every(step, train_cfg.save_interval, total_steps):
                    save(step)
                    saved_step = step
                # Every rank stops at the same step when any of them got the signal.
                stop = int(_all_reduce([float(preemption.received or 0)], device, torch.distributed.ReduceOp.MAX)[0])
                if stop:  # also at the last step: the final save is done
                    path = save(step) if saved_step != step else latest_checkpoint(ckpt_root)
                    raise TrainingPreempted(stop, step, path)
            if start_iter == total_steps:  # resumed a finished run: nothing to train, report its state
                eval_loss = _eval_losses(ddp_model, valid_ds, eval_samples, mbs, device, loss_vocab)
                last_loss = log.last_train_loss()
        finally:
            bar.close()
            log.close()

    steps_run = total_steps - start_iter
    tokens_per_s = steps_run * gbs * seq / train_time if train_time > 0 else 0.0
    tflops = steps_run * flops_per_step / train_time / 1e12 if train_time > 0 else 0.0
    return {
        "final_train_loss": last_loss,
        "eval_loss": eval_loss,
        "iterations": total_steps,
        "start_iteration": start_iter,
        "resumed": resume_from is not None,
        "init_from": start_from,
        "tokens_seen": total_steps * gbs * seq,
        "tokens_this_run": steps_run * gbs * seq,
        "train_time_s": train_time,
        "wall_time_s": time.time() - t_start,
        "tokens_per_s": tokens_per_s,
        "s_per_step": train_time / steps_run if steps_run else 0.0,
        "model_flops_per_token": flops_per_token,
        "tflops": tflops,
        "peak_tflops": peak,
        "mfu": tflops / peak if peak and train_time > 0 else None,
        "vocab_size": vocab_size,
        "device": device.type,
        "data_parallel_size": dp,
        "precision": precision_cfg.dtype,
        "schedule": dataclasses.asdict(schedule_cfg),  # peak_lr resolved
        "torch_threads": threads,
        "checkpoint": str(latest_checkpoint(ckpt_root).relative_to(out_dir)),  # the stage dir moves on success
    }


# ----------------------------------------------------------------------------- evaluate
def evaluate_loss(checkpoint_dir: Path, model_cfg: ModelConfig, precision_cfg: PrecisionConfig,
                  valid_prefixes: dict[str, str], tokenizer_path: str, max_samples: int, out_dir: Path,
                  *, device: str = "auto", seed: int = 1234) -> dict[str, float]:
    """Mean per-token loss of a checkpoint on up to ``max_samples`` validation sequences per domain."""
    checkpoint_dir, out_dir = Path(checkpoint_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    configure_threads(dev)
    tokenizer = HFTokenizer(tokenizer_path)
    checkpoint_dir = resolve_checkpoint(checkpoint_dir)
    meta = read_meta(checkpoint_dir)
    # model.vocab_size null = whatever padding the checkpoint was trained with.
    vocab_size = padded_vocab_size(dataclasses.replace(model_cfg, vocab_size=model_cfg.vocab_size or meta["vocab_size"]),
                                   tokenizer.vocab_size)
    check_compatible(meta, model_config_dict(model_cfg, vocab_size), checkpoint_dir)
    with distributed_session(dev, seed):
        model = build_model(model_cfg, vocab_size, precision_cfg, dev)
        load_weights(checkpoint_dir, model)
        datasets = build_valid_datasets(valid_prefixes, tokenizer, model_cfg.seq_length, seed,
                                        out_dir / "data_cache")
        real = int(meta.get("real_vocab_size") or tokenizer.vocab_size)
        return _eval_losses(wrap_for_precision(model), datasets, max_samples, EVAL_MICRO_BATCH, dev,
                            real if real < vocab_size else None)
