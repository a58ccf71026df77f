"""A megatron-core GPTModel in Llama form (RMSNorm, SwiGLU, RoPE, GQA, no biases), with the
variants of the Llama family: Qwen2's QKV bias, Mistral's sliding window, Llama 3.1's RoPE
scaling and Mixtral's mixture of experts (megatron's MoE layer, dropless, softmax-then-top-k routing).

With TransformerEngine installed the TE layer spec is used (required for FP8). Without it, the
local spec is used, but its core attention is replaced by :class:`SDPACoreAttention`: megatron's
local ``DotProductAttention`` materializes the full ``[b, heads, s, s]`` score matrix, which is
slow and runs out of memory at realistic sequence lengths (NOTES.md: 27k tok/s vs 120k with TE at
0.37B, OOM at micro-batch 8).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict
from typing import Optional

import torch
import torch.nn.functional as F
from megatron.core.models.gpt import GPTModel
from megatron.core.models.gpt.gpt_layer_specs import (
    get_gpt_layer_local_spec,
    get_gpt_layer_with_transformer_engine_spec,
)
from megatron.core.transformer.enums import AttnBackend, AttnMaskType
from megatron.core.transformer.module import Float16Module, MegatronModule
from megatron.core.transformer.transformer_config import TransformerConfig

from pipeline.config import ModelConfig, PrecisionConfig
from pipeline.errors import ConfigError

VOCAB_PAD_MULTIPLE = 128
FP8_MIN_HIDDEN = 2048  # below this FP8 was measured slower than BF16 (NOTES.md)


def have_transformer_engine() -> bool:
    try:
        import transformer_engine  # noqa: F401
        import transformer_engine.pytorch  # noqa: F401
    except Exception:  # ImportError, or a broken install that fails on import
        return False
    return True


def padded_vocab_size(model_cfg: ModelConfig, tokenizer_vocab_size: int) -> int:
    """The model's vocabulary: ``model.vocab_size``, or the tokenizer's rounded up to a multiple of 128.

    Raises ConfigError when the tokenizer has ids the embedding table cannot hold.
    """
    if model_cfg.vocab_size is None:
        return int(math.ceil(tokenizer_vocab_size / VOCAB_PAD_MULTIPLE) * VOCAB_PAD_MULTIPLE)
    if tokenizer_vocab_size > model_cfg.vocab_size:
        raise ConfigError(
            f"invalid value for 'model.vocab_size': the tokenizer has {tokenizer_vocab_size} tokens "
            f"but the model only {model_cfg.vocab_size}; raise model.vocab_size or set it to null "
            f"(= the tokenizer's, padded to a multiple of {VOCAB_PAD_MULTIPLE})"
        )
    return model_cfg.vocab_size


class SDPACoreAttention(MegatronModule):
    """Core attention through ``torch.nn.functional.scaled_dot_product_attention``.

    A drop-in for megatron's ``DotProductAttention`` (same constructor and tensor layout:
    ``[s, b, heads, head_dim]`` in, ``[s, b, heads * head_dim]`` out). It has no parameters, so
    checkpoints are the same as with the local or the TE spec.
    """

    def __init__(
        self,
        config: TransformerConfig,
        layer_number: int,
        attn_mask_type: AttnMaskType,
        attention_type: str,
        attention_dropout: Optional[float] = None,
        softmax_scale: Optional[float] = None,
        cp_comm_type: Optional[str] = None,
        pg_collection=None,
    ):
        super().__init__(config=config)
        if config.context_parallel_size != 1 or config.tensor_model_parallel_size != 1:
            raise ConfigError("SDPACoreAttention supports tensor and context parallel size 1 only")
        self.attn_mask_type = attn_mask_type
        self.dropout = config.attention_dropout if attention_dropout is None else attention_dropout
        self.softmax_scale = softmax_scale  # None = 1/sqrt(head_dim), SDPA's default
        self.gqa_groups = config.num_attention_heads // config.num_query_groups
        # (left, 0): a query attends to itself and the ``left`` keys before it (TE's convention)
        self.window_left = config.window_size[0] if config.window_size else None

    def _window_mask(self, s_q: int, s_k: int, device) -> torch.Tensor:
        """True where attention is allowed: causal and at most ``window_left`` positions back."""
        q = torch.arange(s_q, device=device)[:, None]
        k = torch.arange(s_k, device=device)[None, :]
        return (k <= q) & (q - k <= self.window_left)

    def forward(self, query, key, value, attention_mask, attn_mask_type=None, attention_bias=None,
                packed_seq_params=None):
        assert packed_seq_params is None and attention_bias is None, "not supported by SDPACoreAttention"
        mask_type = attn_mask_type if attn_mask_type is not None else self.attn_mask_type
        # [s, b, h, d] -> [b, h, s, d]
        q, k, v = (t.permute(1, 2, 0, 3) for t in (query, key, value))
        if self.gqa_groups > 1:
            k = k.repeat_interleave(self.gqa_groups, dim=1)
            v = v.repeat_interleave(self.gqa_groups, dim=1)
        dropout = self.dropout if self.training else 0.0
        if self.window_left is not None:
            allowed = self._window_mask(q.shape[2], k.shape[2], q.device)
            if attention_mask is not None and mask_type != AttnMaskType.causal:
                allowed = allowed & ~attention_mask
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=dropout,
                                                 scale=self.softmax_scale)
        elif mask_type == AttnMaskType.causal or attention_mask is None:
            # The explicit causal mask megatron passes along is redundant here; is_causal picks
            # the fused kernels.
            out = F.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0,
                scale=self.softmax_scale)
        else:
            # megatron masks are True where attention is *not* allowed; SDPA wants the opposite.
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=~attention_mask, dropout_p=self.dropout if self.training else 0.0,
                scale=self.softmax_scale)
        b, h, s, d = out.shape
        return out.permute(2, 0, 1, 3).reshape(s, b, h * d)


def check_precision(model_cfg: ModelConfig, precision: PrecisionConfig, device: torch.device,
                    te_available: bool) -> None:
    """FP8 needs TransformerEngine on a GPU (ConfigError), and pays off only for wide models (warning)."""
    if precision.dtype != "fp8":
        return
    if device.type != "cuda" or not te_available:
        reason = "no GPU" if device.type != "cuda" else "transformer_engine is not installed"
        raise ConfigError(f"invalid value for 'precision.dtype': fp8 needs TransformerEngine on a GPU "
                          f"({reason}); use bf16")
    if model_cfg.hidden_size < FP8_MIN_HIDDEN:
        warnings.warn(
            f"FP8 at hidden_size {model_cfg.hidden_size} is likely slower than BF16: on an H100 a "
            f"0.37B model (hidden 1024) trained at 0.94x BF16 throughput with FP8 delayed scaling; "
            f"FP8 paid off only from about hidden {FP8_MIN_HIDDEN} up (1.28x at hidden 4096).",
            stacklevel=3)


def fp8_settings(model_cfg: ModelConfig, precision: PrecisionConfig) -> dict:
    """TransformerConfig keywords for FP8: HYBRID format (E4M3 forward, E5M2 gradients), the recipe,
    and the first and last ``fp8_bf16_edge_layers`` layers in BF16 where the recipe allows it."""
    if precision.dtype != "fp8":
        return {}
    settings = {"fp8": "hybrid", "fp8_recipe": precision.fp8_recipe}
    edge = precision.fp8_bf16_edge_layers
    if edge and precision.fp8_recipe != "delayed":  # megatron: delayed scaling cannot mix precisions
        if 2 * edge >= model_cfg.num_layers:
            raise ConfigError(
                f"invalid value for 'precision.fp8_bf16_edge_layers': {edge} at each end keeps all "
                f"{model_cfg.num_layers} layers in BF16; use 0..{max(0, (model_cfg.num_layers - 1) // 2)}")
        settings.update(first_last_layers_bf16=True, num_layers_at_start_in_bf16=edge,
                        num_layers_at_end_in_bf16=edge)
    return settings


def recompute_settings(recompute: str) -> dict:
    """TransformerConfig keywords for ``train.recompute`` (megatron's activation recomputation)."""
    if recompute == "selective":  # megatron's default module: core attention
        return {"recompute_granularity": "selective"}
    if recompute == "full":  # every layer keeps only its input; recomputed in the backward pass
        return {"recompute_granularity": "full", "recompute_method": "uniform", "recompute_num_layers": 1}
    return {}


def moe_settings(model_cfg: ModelConfig) -> dict:
    """TransformerConfig keywords for a Mixtral-style MoE: every layer, top-k of ``num_experts``,
    softmax over the top-k logits (= softmax, top-k, renormalize), no token dropping."""
    if not model_cfg.num_experts:
        return {}
    return {
        "num_moe_experts": model_cfg.num_experts,
        "moe_router_topk": model_cfg.moe_router_topk,
        "moe_ffn_hidden_size": model_cfg.ffn_hidden_size,
        "moe_router_score_function": "softmax",
        "moe_router_pre_softmax": False,
        "moe_router_load_balancing_type": "aux_loss" if model_cfg.moe_aux_loss_coeff > 0 else "none",
        "moe_aux_loss_coeff": model_cfg.moe_aux_loss_coeff,
        "moe_token_dispatcher_type": "allgather",  # expert parallel size 1; alltoall needs CUDA streams
        "moe_grouped_gemm": False,
    }


def transformer_config(model_cfg: ModelConfig, precision: PrecisionConfig, device: torch.device, *,
                       recompute: str = "none", initialize: bool = True) -> TransformerConfig:
    """The TransformerConfig for ``model_cfg`` in Llama form. ``initialize=False`` leaves the
    weights uninitialized (for a model about to receive converted weights)."""
    on_cpu = device.type == "cpu"
    check_precision(model_cfg, precision, device, have_transformer_engine())
    fp8_kwargs = fp8_settings(model_cfg, precision)
    half = precision.dtype in ("bf16", "fp8")  # fp8 trains with bf16 weights and activations
    window = {"window_size": (model_cfg.sliding_window - 1, 0)} if model_cfg.sliding_window else {}
    return TransformerConfig(
        num_layers=model_cfg.num_layers,
        hidden_size=model_cfg.hidden_size,
        ffn_hidden_size=model_cfg.ffn_hidden_size,
        num_attention_heads=model_cfg.num_attention_heads,
        num_query_groups=model_cfg.num_query_groups,
        kv_channels=model_cfg.head_dim,
        normalization="RMSNorm",
        layernorm_epsilon=model_cfg.layernorm_epsilon,
        gated_linear_unit=True,  # SwiGLU = gated linear unit with SiLU
        activation_func=F.silu,
        add_bias_linear=False,
        add_qkv_bias=model_cfg.add_qkv_bias,
        hidden_dropout=0.0,
        attention_dropout=0.0,
        init_method_std=model_cfg.init_method_std,
        perform_initialization=initialize,
        bf16=half,
        params_dtype=torch.bfloat16 if half else torch.float32,
        pipeline_dtype=torch.bfloat16 if half else torch.float32,
        use_cpu_initialization=on_cpu,
        attention_backend=AttnBackend.local if on_cpu else AttnBackend.auto,
        cuda_graph_scope=[],  # = megatron's default "full", minus its deprecation warning
        # The loop normalizes each rank's loss by the global batch's token count, so DDP must sum
        # the ranks' gradients, not average them (identical with one rank).
        calculate_per_token_loss=True,
        **window, **moe_settings(model_cfg), **recompute_settings(recompute), **fp8_kwargs,
    )


def _megatron_moe_without_te() -> None:
    """megatron-core 0.16.1's MoE router reads ``moe_utils.te_general_gemm``, which is only defined
    when TransformerEngine imports (a NameError otherwise); define it as absent so the router takes
    its plain torch path."""
    from megatron.core.transformer.moe import moe_utils

    if not hasattr(moe_utils, "te_general_gemm"):
        moe_utils.te_general_gemm = None


def layer_spec(use_te: bool, num_experts: int | None = None):
    """TE layer spec when TransformerEngine imports, else the local spec with SDPA attention."""
    if num_experts:
        _megatron_moe_without_te()
    if use_te:
        return get_gpt_layer_with_transformer_engine_spec(num_experts=num_experts, moe_grouped_gemm=False)
    spec = get_gpt_layer_local_spec(num_experts=num_experts, moe_grouped_gemm=False, normalization="RMSNorm")
    spec.submodules.self_attention.submodules.core_attention = SDPACoreAttention
    if num_experts:  # the TE MoE spec keeps a separate pre-MLP norm: use its checkpoint key too
        spec.submodules.sharded_state_dict_keys_map = {
            k: v for k, v in spec.submodules.sharded_state_dict_keys_map.items() if k != "pre_mlp_layernorm."}
    return spec


def apply_rope_scaling(model: GPTModel, model_cfg: ModelConfig) -> None:
    """Set the RoPE frequencies for ``model.rope_scaling``. megatron's own Llama 3 scaling is used
    with all four of its parameters (its constructor passes only the factor, fixing the others at
    Llama 3.1's 1, 4 and 8192)."""
    scaling = model_cfg.rope_scaling
    if scaling.type != "llama3":
        return
    rope = model.rotary_pos_emb
    rope.inv_freq = rope._apply_scaling(
        rope.inv_freq, factor=scaling.factor, low_freq_factor=scaling.low_freq_factor,
        high_freq_factor=scaling.high_freq_factor,
        original_max_position_embeddings=scaling.original_max_position_embeddings)


def build_model(model_cfg: ModelConfig, vocab_size: int, precision: PrecisionConfig,
                device: torch.device | str, *, recompute: str = "none", initialize: bool = True) -> GPTModel:
    """The bare GPTModel on ``device``, parameters in fp32 (or bf16 for bf16/fp8 precision).

    Checkpoints are written from and loaded into this bare model. For forward passes wrap it with
    :func:`wrap_for_precision` (and megatron's DDP for training). Needs torch.distributed and
    megatron's model-parallel state (:func:`pipeline.train.distributed.distributed_session`).
    """
    device = torch.device(device)
    config = transformer_config(model_cfg, precision, device, recompute=recompute, initialize=initialize)
    use_te = have_transformer_engine() and device.type == "cuda"
    linear = model_cfg.rope_scaling.type == "linear"
    model = GPTModel(
        config=config,
        transformer_layer_spec=layer_spec(use_te, model_cfg.num_experts),
        vocab_size=vocab_size,
        max_sequence_length=model_cfg.seq_length,
        pre_process=True,
        post_process=True,
        share_embeddings_and_output_weights=not model_cfg.untie_embeddings_and_output_weights,
        position_embedding_type="rope",
        rotary_base=model_cfg.rotary_base,
        seq_len_interpolation_factor=model_cfg.rope_scaling.factor if linear else None,
    )
    apply_rope_scaling(model, model_cfg)
    return model.to(device)


def wrap_for_precision(model: GPTModel) -> torch.nn.Module:
    """bf16/fp8: megatron's Float16Module (casts float inputs to bf16, returns fp32 losses); fp32: the model."""
    return Float16Module(model.config, model) if model.config.bf16 else model


def model_config_dict(model_cfg: ModelConfig, vocab_size: int) -> dict:
    """The model's config as written into checkpoint metadata (vocab resolved)."""
    d = asdict(model_cfg)
    d["vocab_size"] = vocab_size
    return d
