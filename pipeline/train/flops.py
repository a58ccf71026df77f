"""Model FLOPs per token and the GPU's peak, for MFU (model FLOPs utilization).

The count is Megatron-LM's classic ``num_floating_point_operations`` for a dense GPT: the matrix
multiplies of one token's forward pass, times 3 for forward + backward (the backward pass
computes gradients for both the input and the weight of every matmul). Attention scores are
counted over the full ``seq x seq`` matrix, as in that formula and PaLM's MFU; counts that halve
it for the causal mask report a lower MFU at long context (about 11% lower for an 8B model at
seq 8192). Norms, RoPE, softmax and the optimizer are not counted. ``tests/test_flops.py`` checks the count
against torch's own FLOP counter on a real forward + backward pass.

MFU = achieved model FLOP/s / the device's peak dense FLOP/s for the precision (spec sheet
numbers below; a measured bf16 matmul on an H100 reaches about 787 of its 989 TFLOP/s, NOTES.md).
"""

from __future__ import annotations

from pipeline.config import ModelConfig

# Dense (no sparsity) peak TFLOP/s per GPU from NVIDIA's spec sheets, by the substring of
# ``torch.cuda.get_device_name()``; the first match wins, so more specific names come first.
PEAK_TFLOPS: list[tuple[str, dict[str, float]]] = [
    ("H100 PCIe", {"bf16": 756.0, "fp8": 1513.0}),
    ("H100 NVL", {"bf16": 835.0, "fp8": 1671.0}),
    ("H200 NVL", {"bf16": 835.0, "fp8": 1671.0}),
    ("H800 PCIe", {"bf16": 756.0, "fp8": 1513.0}),
    ("GH200", {"bf16": 989.4, "fp8": 1978.9}),
    ("H100", {"bf16": 989.4, "fp8": 1978.9}),  # SXM
    ("H200", {"bf16": 989.4, "fp8": 1978.9}),  # SXM
    ("H800", {"bf16": 989.4, "fp8": 1978.9}),  # SXM
    ("GB200", {"bf16": 2500.0, "fp8": 5000.0}),
    ("B200", {"bf16": 2250.0, "fp8": 4500.0}),
    ("A100", {"bf16": 312.0}),
    ("A800", {"bf16": 312.0}),
    ("L40S", {"bf16": 362.05, "fp8": 733.0}),
]


def forward_flops_per_token(model_cfg: ModelConfig, vocab_size: int) -> float:
    """Matmul FLOPs of one token's forward pass (2 per multiply-add)."""
    h, layers, s = model_cfg.hidden_size, model_cfg.num_layers, model_cfg.seq_length
    head_dim = model_cfg.head_dim
    q = model_cfg.num_attention_heads * head_dim  # query projection width
    kv = model_cfg.num_query_groups * head_dim  # key (and value) projection width (GQA)
    attention = (2 * h * (q + 2 * kv)  # QKV projection
                 + 2 * s * q  # scores Q K^T, full seq x seq
                 + 2 * s * q  # scores x V
                 + 2 * q * h)  # output projection
    mlp = 2 * 3 * h * model_cfg.ffn_hidden_size  # SwiGLU: gate and up (h -> ffn), down (ffn -> h)
    if model_cfg.num_experts:  # MoE: each token runs top-k experts, plus the router
        mlp = mlp * model_cfg.moe_router_topk + 2 * h * model_cfg.num_experts
    logits = 2 * h * vocab_size
    return float(layers * (attention + mlp) + logits)


def training_flops_per_token(model_cfg: ModelConfig, vocab_size: int) -> float:
    """Forward + backward matmul FLOPs per trained token (3x the forward)."""
    return 3.0 * forward_flops_per_token(model_cfg, vocab_size)


def peak_tflops(device_name: str, dtype: str) -> float | None:
    """The device's dense peak TFLOP/s for ``dtype`` (bf16 | fp8), or None when unknown (CPU, fp32, a new GPU)."""
    for key, peaks in PEAK_TFLOPS:
        if key in device_name:
            return peaks.get(dtype)
    return None


def device_peak_tflops(device, dtype: str, override: float | None = None) -> float | None:
    """``train.peak_tflops`` when set, else the table's value for this GPU and precision."""
    if override:
        return float(override)
    if getattr(device, "type", device) != "cuda":
        return None
    import torch

    return peak_tflops(torch.cuda.get_device_name(device), dtype)
