"""GPU memory per device for a training plan, by arithmetic, and the check that stops a plan that
cannot fit before anything is launched.

Bytes per parameter (what the loop allocates):

* weights: 2 (bf16/fp8) or 4 (fp32);
* gradients: 4 (megatron's DDP accumulates fp32 ``main_grad``);
* fp32 master weights: 4 for bf16/fp8 (fp32 trains the parameters themselves: 0);
* Adam moments: 8.
* ``train.distributed_optimizer`` divides master weights and moments by the data-parallel ranks
  (megatron's own figure: 6 + 12/ranks bytes in bf16).

Activations per micro-batch (``s`` tokens x ``b`` sequences; 2 bytes an element in bf16, 4 in
fp32), what autograd keeps per layer with SDPA/flash attention (no score matrix is stored):

* attention: norm input and QKV input (2 x h), Q, K, V (q + 2 kv widths), the attention output (q);
* MLP: norm input and fc1 input (2 x h), gate+up output (2 x ffn), SwiGLU output (ffn); with
  MoE, the fc1/fc2 part and a permuted copy of the input for each of the top-k experts.

``selective`` recompute (megatron's: core attention) frees the score matrix of a non-flash
attention; with SDPA/flash there is none, so it saves nothing here. ``full`` keeps each layer's
input only and recomputes one layer at a time in the backward pass. The loss adds bf16 logits and
fp32 softmax (6 bytes x s x b x vocab). A fixed 2 GiB covers the CUDA context, NCCL and allocator
fragmentation. This is an estimate: measure on the GPU (``benchmarks/train_throughput.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.config import ModelConfig, PrecisionConfig, TrainConfig
from pipeline.errors import ConfigError

GiB = 1024**3
WORKSPACE_BYTES = 2 * GiB


def parameter_count(model: ModelConfig, vocab_size: int) -> int:
    h, d = model.hidden_size, model.head_dim
    q, kv = model.num_attention_heads * d, model.num_query_groups * d
    attention = h * (q + 2 * kv) + q * h + ((q + 2 * kv) if model.add_qkv_bias else 0)
    mlp = 3 * h * model.ffn_hidden_size
    if model.num_experts:
        mlp = mlp * model.num_experts + model.num_experts * h  # experts + router
    layer = attention + mlp + 2 * h  # two RMSNorms
    embeddings = vocab_size * h * (2 if model.untie_embeddings_and_output_weights else 1)
    return model.num_layers * layer + embeddings + h  # + final norm


@dataclass
class MemoryEstimate:
    parameters: int
    weights: float
    gradients: float
    master_weights: float
    adam_moments: float
    activations: float
    logits: float
    workspace: float = WORKSPACE_BYTES

    @property
    def total(self) -> float:
        return (self.weights + self.gradients + self.master_weights + self.adam_moments + self.activations
                + self.logits + self.workspace)

    def rows(self) -> list[tuple[str, float]]:
        return [("weights", self.weights), ("gradients (fp32)", self.gradients),
                ("master weights (fp32)", self.master_weights), ("Adam moments", self.adam_moments),
                ("activations", self.activations), ("logits + softmax", self.logits),
                ("CUDA context, NCCL, fragmentation", self.workspace), ("total", self.total)]

    def table(self) -> str:
        return "\n".join(f"  {name:<36}{value / GiB:9.1f} GiB" for name, value in self.rows())


def layer_activation_elements(model: ModelConfig, tokens: int) -> float:
    """Elements autograd keeps for one transformer layer over ``tokens`` (= seq x micro-batch)."""
    h, f = model.hidden_size, model.ffn_hidden_size
    q, kv = model.num_attention_heads * model.head_dim, model.num_query_groups * model.head_dim
    attention = 2 * h + (q + 2 * kv) + q
    if model.num_experts:
        mlp = 2 * h + model.moe_router_topk * (h + 3 * f)
    else:
        mlp = 2 * h + 3 * f
    return tokens * (attention + mlp)


def estimate(model: ModelConfig, vocab_size: int, train: TrainConfig, precision: PrecisionConfig,
             data_parallel: int | None = None) -> MemoryEstimate:
    """Bytes per GPU for training ``model`` with ``train``'s batch, recompute and optimizer settings."""
    dp = data_parallel or train.nproc_per_node
    n = parameter_count(model, vocab_size)
    half = precision.dtype in ("bf16", "fp8")
    elem = 2 if half else 4
    shard = dp if train.distributed_optimizer else 1
    tokens = model.seq_length * train.micro_batch_size
    per_layer = layer_activation_elements(model, tokens) * elem
    if train.recompute == "full":
        activations = model.num_layers * tokens * model.hidden_size * elem + per_layer
    else:
        activations = model.num_layers * per_layer
    return MemoryEstimate(
        parameters=n, weights=n * elem, gradients=n * 4, master_weights=(n * 4 if half else 0) / shard,
        adam_moments=n * 8 / shard, activations=activations, logits=6 * tokens * vocab_size)


def alternatives(model: ModelConfig, vocab_size: int, train: TrainConfig, precision: PrecisionConfig,
                 gpu_bytes: float) -> list[str]:
    """Changes to ``train`` (each with its total) that fit in ``gpu_bytes``, fewest changes first."""
    options = []
    candidates = [{"recompute": "full"}, {"distributed_optimizer": True},
                  {"distributed_optimizer": True, "recompute": "full"}]
    if train.micro_batch_size > 1:
        candidates.append({"micro_batch_size": 1, "recompute": "full", "distributed_optimizer": True})
    for ranks in (8, 16, 32, 64):
        if ranks > train.nproc_per_node:
            candidates.append({"nproc_per_node": ranks, "distributed_optimizer": True, "recompute": "full"})
    for change in candidates:
        if all(getattr(train, k) == v for k, v in change.items()):
            continue
        try:
            changed = replace(train, **change)
        except ConfigError:  # e.g. the global batch does not split across that many ranks
            continue
        total = estimate(model, vocab_size, changed, precision).total
        if total <= gpu_bytes:
            ranks = change.get("nproc_per_node")
            text = " ".join(f"train.{k}={str(v).lower()}" for k, v in change.items())
            options.append(f"{text} ({total / GiB:.1f} GiB per GPU"
                           + (", on more GPUs: data parallel across nodes is not yet supported)" if ranks and ranks > 8
                              else ")"))
        if len(options) >= 3:
            break
    return options


def check_fits(model: ModelConfig, vocab_size: int, train: TrainConfig, precision: PrecisionConfig,
               gpu_bytes: float, where: str) -> MemoryEstimate:
    """Raise ConfigError, with the numbers and what would fit, when the plan exceeds ``gpu_bytes``."""
    est = estimate(model, vocab_size, train, precision)
    if est.total > gpu_bytes:
        fixes = alternatives(model, vocab_size, train, precision, gpu_bytes)
        parts = ", ".join(f"{name} {value / GiB:.1f}" for name, value in est.rows()[:-1])
        raise ConfigError(
            f"the training plan does not fit {where}: about {est.total / GiB:.1f} GiB per GPU needed "
            f"({parts} GiB; {est.parameters / 1e9:.2f}B parameters, micro-batch {train.micro_batch_size} x "
            f"seq {model.seq_length}, recompute {train.recompute}, distributed optimizer "
            f"{'on' if train.distributed_optimizer else 'off'}); "
            + (f"would fit: {'; '.join(fixes)}" if fixes else "nothing on one node fits: use a smaller model"))
    return est


def gpu_memory_bytes(train: TrainConfig) -> tuple[float | None, str]:
    """The memory to plan for: ``train.gpu_memory_gb``, else the first visible GPU's (None on CPU)."""
    if train.gpu_memory_gb:
        return train.gpu_memory_gb * GiB, f"train.gpu_memory_gb={train.gpu_memory_gb:g}"
    import torch

    if train.device != "cpu" and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return float(props.total_memory), f"{props.name} ({props.total_memory / GiB:.0f} GiB)"
    return None, "no GPU"


def check_training_plan(model: ModelConfig, train: TrainConfig, precision: PrecisionConfig,
                        tokenizer_path) -> MemoryEstimate | None:
    """Before launch: stop a plan that cannot fit the configured or detected GPU memory (no check on
    a CPU without ``train.gpu_memory_gb``). Returns the estimate when there was a check."""
    from pipeline.train.data import tokenizer_vocab_size
    from pipeline.train.model import padded_vocab_size

    gpu_bytes, where = gpu_memory_bytes(train)
    if gpu_bytes is None:
        return None
    vocab = padded_vocab_size(model, tokenizer_vocab_size(tokenizer_path))
    return check_fits(model, vocab, train, precision, gpu_bytes, where)
