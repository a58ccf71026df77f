"""The training loop (pretraining and continued pretraining) and the evaluation of a checkpoint.

Read :func:`train` top to bottom: build (sizes, tokenizer, the start, model, DDP, optimizer,
schedule, data), start (resume > weights-only > scratch: :func:`~pipeline.train.checkpoint.choose_start`),
then one global batch per step (batch, forward/backward with gradient accumulation, optimizer step),
logging, evaluating every ``eval_interval`` steps and checkpointing; finish with the run's stats.
The loop's own state is a :class:`LoopState`.

Checkpoints are written every ``save_interval`` steps, at the end, and when SIGTERM or SIGUSR1
arrives (preemption.py): then the loop saves after the current step and raises
:class:`TrainingPreempted`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from megatron.core.distributed import DistributedDataParallel, DistributedDataParallelConfig
from megatron.core.optimizer import OptimizerConfig, get_megatron_optimizer
from megatron.core.optimizer_param_scheduler import get_canonical_lr_for_logging
from tqdm.auto import tqdm

from pipeline import events
from pipeline.config import ModelConfig, PrecisionConfig, ScheduleConfig, TrackingConfig, TrainConfig
from pipeline.errors import ConfigError
from pipeline.train.checkpoint import (
    CHECKPOINTS_DIR,
    RunStart,
    check_compatible,
    choose_start,
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
from pipeline.train.contract import TrainingPreempted
from pipeline.train.preemption import PreemptionGuard
from pipeline.train.schedule import build_scheduler
from pipeline.train.trackers import Trackers, flatten_record, run_name

METRICS_NAME = "metrics.jsonl"
EVAL_MICRO_BATCH = 8


# ----------------------------------------------------------------------------- setup helpers
def configure_threads(device: torch.device) -> int:
    """CPU: one intra-op thread per core in this process's affinity (OMP_NUM_THREADS, if set, decides
    instead; local_ranks.py sets it to the node's cores divided among its ranks, Slurm to
    ``train_cpus_per_rank``).

    Measured on 2 cores (``benchmarks/cpu_threads.py``, same losses to 4 decimals either way):
    SmolLM2-135M at seq 256, batch 8: 14.3 s/step with 2 threads, 24.2 s/step with 1 (1.7x); beside
    a spinning process, 35.3 against 44.6. The tiny model: 0.09-0.12 s/step against 0.13-0.15 idle,
    but 0.34-0.38 against 0.16-0.20 beside a spinning process: with small ops every parallel op waits
    for a descheduled thread. Leaving a core idle (the former default) cost a real model 1.7x, so a
    rank uses what it has; on a node shared with other busy jobs set OMP_NUM_THREADS to the cores that
    are yours. The count is fixed per machine, not picked from the current load, because results (and
    so a bitwise resume) can depend on the number of threads.
    """
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
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
        "schedule": asdict(schedule_cfg),
        "optimizer": {k: getattr(train_cfg, k) for k in ("weight_decay", "adam_beta1", "adam_beta2", "clip_grad",
                                                                "distributed_optimizer")},
    }


def _total_steps(train_cfg: TrainConfig, schedule_cfg: ScheduleConfig, train_iters: int | None, dp: int) -> int:
    """The run's optimizer steps (``train_iters`` overrides ``train.train_iters``), once the settings the
    loop cannot run with are refused."""
    total_steps = train_iters if train_iters is not None else train_cfg.train_iters
    if total_steps < 1:
        raise ConfigError("invalid value for 'train.train_iters': must be >= 1")
    if schedule_cfg.peak_lr is None:
        raise ConfigError("invalid value for 'schedule.peak_lr': null must be resolved to the base model's "
                          "peak before training (pipeline.train.stage.rewarm_schedule)")
    gbs, mbs = train_cfg.global_batch_size, train_cfg.micro_batch_size
    if gbs % (mbs * dp):
        raise ConfigError(f"invalid value for 'train.global_batch_size': {gbs} is not a multiple of "
                          f"train.micro_batch_size x data-parallel ranks = {mbs} x {dp}")
    return total_steps


def _build_model_and_optimizer(model_cfg: ModelConfig, train_cfg: TrainConfig, schedule_cfg: ScheduleConfig,
                               precision_cfg: PrecisionConfig, vocab_size: int, device, total_steps: int,
                               weights_from: Path | None):
    """The bare model (with a base model's weights for a weights-only start), its DDP wrapper, the
    optimizer and the LR / weight-decay schedule."""
    model = build_model(model_cfg, vocab_size, precision_cfg, device, recompute=train_cfg.recompute)
    if weights_from is not None:
        load_weights(weights_from, model)  # before the optimizer copies fp32 master weights
    bf16 = model.config.bf16
    ddp_model = wrap_ddp(model, bf16, train_cfg.distributed_optimizer)
    optimizer = build_optimizer(ddp_model, train_cfg, schedule_cfg, bf16)
    scheduler = build_scheduler(optimizer, schedule_cfg, total_steps, train_cfg.global_batch_size,
                                train_cfg.weight_decay)
    return model, ddp_model, optimizer, scheduler


@dataclass(frozen=True)
class StepCost:
    """What one optimizer step processes, for tokens/s, TFLOP/s and MFU."""

    tokens: int  # global batch size x sequence length
    flops_per_token: float  # model FLOPs (forward and backward) per trained token
    flops: float  # model FLOPs of one step, per device
    peak_tflops: float | None  # the device's peak; None: unknown (no MFU)


def _step_cost(model_cfg: ModelConfig, train_cfg: TrainConfig, precision_cfg: PrecisionConfig, vocab_size: int,
               dp: int, device) -> StepCost:
    gbs, seq = train_cfg.global_batch_size, model_cfg.seq_length
    flops_per_token = training_flops_per_token(model_cfg, vocab_size)
    return StepCost(tokens=gbs * seq, flops_per_token=flops_per_token,
                    flops=flops_per_token * gbs * seq / dp,
                    peak_tflops=device_peak_tflops(device, precision_cfg.dtype, train_cfg.peak_tflops))


class MetricsLog:
    """``metrics.jsonl`` (one JSON object per line), TensorBoard scalars under ``tb/`` and the enabled
    experiment trackers (:mod:`pipeline.train.trackers`; rank 0 only)."""

    def __init__(self, out_dir: Path, start_step: int, total_steps: int, tracking: TrackingConfig | None = None,
                 run_config: dict | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.total_steps = total_steps
        self.path = out_dir / METRICS_NAME
        if self.path.exists():  # a resume: drop what was logged after the checkpoint
            kept = [line for line in self.path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= start_step]
            self.path.write_text("".join(line + "\n" for line in kept))
        self.tb = SummaryWriter(str(out_dir / "tb"), purge_step=start_step + 1 if start_step else None)
        try:
            self.trackers = Trackers(tracking, out_dir, run_name(out_dir), run_config)
        except BaseException:
            self.tb.close()
            raise

    def last_train_loss(self) -> float | None:
        losses = [r["loss"] for r in map(json.loads, self.path.read_text().splitlines())
                  if r.get("kind") == "train"] if self.path.exists() else []
        return losses[-1] if losses else None

    def write(self, record: dict) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        events.emit("progress", **{k: v for k, v in record.items() if k != "kind"}, metric=record["kind"],
                    total=self.total_steps)
        for name, value in flatten_record(record).items():
            self.tb.add_scalar(name, value, record["step"])
        self.trackers.write(record)

    def close(self) -> None:
        self.tb.close()
        self.trackers.close()


class _NoLog:
    """What ranks other than 0 log: nothing."""

    def write(self, record: dict) -> None:
        pass

    def last_train_loss(self) -> None:
        return None

    def close(self) -> None:
        pass


def _progress_bar(total_steps: int, start_step: int, enabled: bool) -> tqdm:
    return tqdm(total=total_steps, initial=start_step, disable=not enabled, desc="train", unit="step",
                mininterval=0.5 if sys.stderr.isatty() else 15)  # a log file gets a line every 15 s


# ----------------------------------------------------------------------------- loop state
@dataclass
class LoopState:
    """What the training loop carries from one step to the next."""

    start_step: int  # where this process started: 0, or the step of the checkpoint it resumed
    step: int  # optimizer steps done; the next one trains on global batch number ``step``
    saved_step: int  # the step of the newest checkpoint
    # The logging window still open: its losses and training time, saved with each checkpoint (so a
    # resumed run logs the same window means as an uninterrupted one).
    window_losses: list[float] = field(default_factory=list)
    window_time: float = 0.0
    train_time: float = 0.0  # training seconds in this process
    last_loss: float | None = None  # the mean train loss of the last logged window
    eval_loss: dict[str, float] = field(default_factory=dict)  # the last evaluation, per domain

    @classmethod
    def starting_at(cls, step: int, saved: dict) -> LoopState:
        """The state at ``step``, with what a resumed checkpoint saved of it (``saved``; empty for a new run)."""
        return cls(start_step=step, step=step, saved_step=step, window_losses=list(saved.get("window_losses", [])),
                   window_time=float(saved.get("window_time", 0.0)))

    def record_step(self, loss: float, seconds: float) -> None:
        self.step += 1
        self.window_losses.append(loss)
        self.window_time += seconds
        self.train_time += seconds


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


def _micro_batches(dataset, iteration: int, train_cfg: TrainConfig, device) -> list[dict]:
    """This rank's share of global batch number ``iteration`` (0-based), cut into micro-batches.

    The global batch is the next ``global_batch_size`` samples of the dataset; data-parallel rank
    ``r`` of ``R`` takes the ``r``-th contiguous ``1/R`` of it.
    """
    gbs, mbs = train_cfg.global_batch_size, train_cfg.micro_batch_size
    rank, size = _dp_rank_size()
    first = iteration * gbs + rank * (gbs // size)
    return [get_batch(dataset, range(start, start + mbs), device) for start in range(first, first + gbs // size, mbs)]


def _forward_backward(ddp_model, micro_batches: list[dict], num_tokens: torch.Tensor,
                      real_vocab: int | None, device) -> torch.Tensor:
    """Accumulate the gradients of this rank's micro-batches into DDP's ``main_grad`` buffer and sum
    them over the ranks; returns this rank's part of the global batch's mean per-token loss.

    Each micro-batch's summed token loss is divided by ``num_tokens``, the token count of the whole
    global batch, and DDP sums the ranks' gradients (``calculate_per_token_loss``), so the update
    follows the gradient of the global per-token mean whatever the number of ranks.
    """
    total_loss = torch.zeros((), device=device)
    for batch in micro_batches:
        loss = (_per_token_loss(ddp_model, batch, real_vocab) * batch["loss_mask"]).sum() / num_tokens
        loss.backward()  # accumulates into DDP's main_grad buffer
        total_loss += loss.detach()
    ddp_model.finish_grad_sync()  # sum over the data-parallel ranks (a no-op with one)
    return total_loss


def _train_step(ddp_model, optimizer, scheduler, dataset, iteration: int, train_cfg: TrainConfig,
                device, real_vocab: int | None = None) -> tuple[float, float, float]:
    """One optimizer update on global batch number ``iteration`` (0-based): batch, forward/backward,
    step; returns the loss, lr and grad norm."""
    micro_batches = _micro_batches(dataset, iteration, train_cfg, device)
    local_tokens = sum(b["loss_mask"].sum() for b in micro_batches)
    num_tokens = torch.tensor(_all_reduce([float(local_tokens)], device)[0], device=device).clamp(min=1.0)

    ddp_model.zero_grad_buffer()
    optimizer.zero_grad()
    total_loss = _forward_backward(ddp_model, micro_batches, num_tokens, real_vocab, device)

    scheduler.step(increment=train_cfg.global_batch_size)  # LR for this update (schedule.py: advance, then update)
    update_ok, grad_norm, _ = optimizer.step()
    if not update_ok:
        raise RuntimeError(f"optimizer step {iteration + 1} was skipped (inf/nan gradients)")
    lr = get_canonical_lr_for_logging(optimizer.param_groups)
    return _all_reduce([float(total_loss)], device)[0], float(lr), float(grad_norm or 0.0)


# ----------------------------------------------------------------------------- the loop's steps
def _log_train_window(log, state: LoopState, lr: float, grad_norm: float, cost: StepCost) -> None:
    """Log the mean loss and the throughput of the logging window that ends at this step, and open a new one."""
    window = state.window_losses
    state.last_loss = sum(window) / len(window)
    achieved = len(window) * cost.flops / state.window_time / 1e12
    log.write({"kind": "train", "step": state.step, "loss": state.last_loss, "lr": lr, "grad_norm": grad_norm,
               "tokens_per_s": len(window) * cost.tokens / state.window_time,
               "tflops": achieved, "mfu": achieved / cost.peak_tflops if cost.peak_tflops else None,
               "tokens": state.step * cost.tokens})
    state.window_losses, state.window_time = [], 0.0


def _save(ckpt_root: Path, model, optimizer, scheduler, state: LoopState, meta: dict, keep: int, device) -> Path:
    """A checkpoint at ``state.step``. The losses of a logging window still open go with it, so a resumed
    run logs the same window means as an uninterrupted one. (Every rank saves the same common state:
    the slowest rank's time.)"""
    slowest = _all_reduce([state.window_time], device, torch.distributed.ReduceOp.MAX)[0]
    path = save_checkpoint(ckpt_root, model, optimizer, scheduler, state.step, meta, keep=keep,
                           loop_state={"window_losses": state.window_losses, "window_time": slowest})
    state.saved_step = state.step
    return path


def _stop_signal(preemption: PreemptionGuard, device) -> int:
    """The stop signal (SIGTERM / SIGUSR1) any rank received, 0 if none: the same on every rank, so
    all of them stop at the same step."""
    return int(_all_reduce([float(preemption.received or 0)], device, torch.distributed.ReduceOp.MAX)[0])


# ----------------------------------------------------------------------------- train
def train(model_cfg: ModelConfig, train_cfg: TrainConfig, schedule_cfg: ScheduleConfig,
          precision_cfg: PrecisionConfig, *, train_blend: list[tuple[float, str]],
          valid_prefixes: dict[str, str], tokenizer_path: str, out_dir: Path,
          init_from: Path | None = None, train_iters: int | None = None, progress: bool = True,
          tracking: TrackingConfig | None = None) -> dict:
    """Train (or continue training) a model; checkpoints land in ``out_dir/checkpoints/iter_<N>/``.

    ``train_iters`` overrides ``train_cfg.train_iters`` (pretraining the base model uses its own
    count). ``init_from`` is a checkpoint, or a directory holding them (the newest is used).
    ``tracking``: experiment trackers the metrics also go to (none: metrics.jsonl and TensorBoard only).
    Returns stats: final train loss, eval losses per domain, tokens seen, wall time, tokens/s, MFU.
    Raises :class:`TrainingPreempted` after checkpointing when SIGTERM or SIGUSR1 arrives.
    """
    t_start = time.time()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dp = data_parallel_size()
    total_steps = _total_steps(train_cfg, schedule_cfg, train_iters, dp)
    gbs, mbs, seq = train_cfg.global_batch_size, train_cfg.micro_batch_size, model_cfg.seq_length
    device = resolve_device(train_cfg.device)
    threads = configure_threads(device)

    # Build the run's vocabulary and fingerprint, and choose where it starts (resume > weights-only > scratch).
    tokenizer = HFTokenizer(tokenizer_path)
    vocab_size = padded_vocab_size(model_cfg, tokenizer.vocab_size)
    model_dict = model_config_dict(model_cfg, vocab_size)
    run = _run_fingerprint(train_blend, model_cfg, train_cfg, schedule_cfg, total_steps, tokenizer)
    ckpt_root = out_dir / CHECKPOINTS_DIR
    start = choose_start(ckpt_root, init_from, model_dict, run, tokenizer.sha256, tokenizer.vocab_size)
    real_vocab = start.real_vocab_size
    loss_vocab = real_vocab if real_vocab < vocab_size else None  # None: no padded logits to leave out
    cost = _step_cost(model_cfg, train_cfg, precision_cfg, vocab_size, dp, device)

    with distributed_session(device, train_cfg.seed), PreemptionGuard() as preemption:
        rank = torch.distributed.get_rank()
        # Model, optimizer, schedule; a resume restores them, the RNG and the loop's state.
        model, ddp_model, optimizer, scheduler = _build_model_and_optimizer(
            model_cfg, train_cfg, schedule_cfg, precision_cfg, vocab_size, device, total_steps, start.weights_from)
        step, saved_loop_state = (load_checkpoint(start.resume_from, model, optimizer, scheduler)
                                  if start.resume_from else (0, {}))
        state = LoopState.starting_at(step, saved_loop_state)

        # Data: sample i of the run is fixed, so step k always trains on samples [k*gbs, (k+1)*gbs).
        cache = out_dir / "data_cache"
        train_ds = build_train_dataset(train_blend, total_steps * gbs, tokenizer, seq, train_cfg.seed, cache)
        valid_ds = build_valid_datasets(valid_prefixes, tokenizer, seq, train_cfg.seed, cache)
        meta = {"vocab_size": vocab_size, "real_vocab_size": real_vocab, "model": model_dict,
                "tokenizer_sha256": tokenizer.sha256, "tokenizer_path": str(Path(tokenizer_path).resolve()),
                "precision": precision_cfg.dtype, "run": run, "init_from": start.base_checkpoint}
        log = (MetricsLog(out_dir, state.step, total_steps, tracking, {"model": model_dict, **run}) if rank == 0
               else _NoLog())
        bar = _progress_bar(total_steps, state.step, enabled=progress and rank == 0)

        def evaluate() -> dict[str, float]:
            return _eval_losses(ddp_model, valid_ds, train_cfg.eval_iters * gbs, mbs, device, loss_vocab)

        def save() -> Path:
            return _save(ckpt_root, model, optimizer, scheduler, state, meta, train_cfg.keep_checkpoints, device)

        # The loop: batch, forward/backward, optimizer step (_train_step); then log, evaluate, checkpoint.
        ddp_model.train()
        try:
            while state.step < total_steps:
                t0 = time.time()
                loss, lr, grad_norm = _train_step(ddp_model, optimizer, scheduler, train_ds, state.step,
                                                  train_cfg, device, loss_vocab)
                dt = time.time() - t0
                state.record_step(loss, dt)
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}", tok_s=f"{gbs * seq / dt:.0f}", refresh=False)

                if _every(state.step, train_cfg.log_interval, total_steps):
                    _log_train_window(log, state, lr, grad_norm, cost)
                if _every(state.step, train_cfg.eval_interval, total_steps):
                    state.eval_loss = evaluate()
                    log.write({"kind": "eval", "step": state.step, "eval_loss": state.eval_loss})
                if _every(state.step, train_cfg.save_interval, total_steps):
                    save()
                if stop := _stop_signal(preemption, device):  # also at the last step: the final save is done
                    path = save() if state.saved_step != state.step else latest_checkpoint(ckpt_root)
                    raise TrainingPreempted(stop, state.step, path)
            if state.start_step == total_steps:  # resumed a finished run: nothing to train, report its state
                state.eval_loss = evaluate()
                state.last_loss = log.last_train_loss()
        finally:
            bar.close()
            log.close()

    return _run_stats(state, start, cost, total_steps=total_steps, t_start=t_start, vocab_size=vocab_size,
                      device=device, dp=dp, precision_cfg=precision_cfg, schedule_cfg=schedule_cfg,
                      threads=threads, ckpt_root=ckpt_root, out_dir=out_dir)


def _run_stats(state: LoopState, start: RunStart, cost: StepCost, *, total_steps: int, t_start: float,
               vocab_size: int, device: torch.device, dp: int, precision_cfg: PrecisionConfig,
               schedule_cfg: ScheduleConfig, threads: int, ckpt_root: Path, out_dir: Path) -> dict:
    """What :func:`train` returns."""
    steps_run = total_steps - state.start_step
    train_time = state.train_time
    tokens_per_s = steps_run * cost.tokens / train_time if train_time > 0 else 0.0
    tflops = steps_run * cost.flops / train_time / 1e12 if train_time > 0 else 0.0
    peak = cost.peak_tflops
    return {
        "final_train_loss": state.last_loss,
        "eval_loss": state.eval_loss,
        "iterations": total_steps,
        "start_iteration": state.start_step,
        "resumed": start.resume_from is not None,
        "init_from": start.base_checkpoint,
        "tokens_seen": total_steps * cost.tokens,
        "tokens_this_run": steps_run * cost.tokens,
        "train_time_s": train_time,
        "wall_time_s": time.time() - t_start,
        "tokens_per_s": tokens_per_s,
        "s_per_step": train_time / steps_run if steps_run else 0.0,
        "model_flops_per_token": cost.flops_per_token,
        "tflops": tflops,
        "peak_tflops": peak,
        "mfu": tflops / peak if peak and train_time > 0 else None,
        "vocab_size": vocab_size,
        "device": device.type,
        "data_parallel_size": dp,
        "precision": precision_cfg.dtype,
        "schedule": asdict(schedule_cfg),  # peak_lr resolved
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
    vocab_size = padded_vocab_size(replace(model_cfg, vocab_size=model_cfg.vocab_size or meta["vocab_size"]),
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
