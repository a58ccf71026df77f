"""``config.json`` of a Hugging Face Llama-family model <-> :class:`ModelConfig`.

Read both spellings transformers has used: ``rope_theta`` + ``rope_scaling`` (v4, most Hub
checkpoints) and ``rope_parameters`` (v5); ``torch_dtype`` and ``dtype``. Anything megatron-core
cannot represent exactly is refused (:class:`UnsupportedModel`), never converted approximately.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import ModelConfig, RopeScalingConfig
from pipeline.errors import ConfigError

SUPPORTED = ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "MixtralForCausalLM")


class UnsupportedModel(ConfigError):
    """A config.json whose model cannot be represented exactly."""


@dataclass
class HFInfo:
    """What the import keeps about the source beyond the ModelConfig."""

    architecture: str
    vocab_size: int  # embedding rows of the HF model (its own, possibly padded, vocabulary)
    dtype: str  # bfloat16 | float16 | float32
    max_position_embeddings: int


def _refuse(src: str, what: str) -> None:
    raise UnsupportedModel(f"{src}: {what} cannot be represented exactly in megatron-core; not converted")


def _number(section: dict, key: str, src: str, kind: type, default=None, where: str = ""):
    """``section[key]`` as ``kind`` (int or float), positive; a missing key takes ``default`` when one is
    given. A config.json that says otherwise is a clear error, never a traceback."""
    value = section.get(key)
    value = default if value is None else value
    name = f"{where}{key}"
    if value is None:
        raise ConfigError(f"{src}: config.json has no {name!r}")
    exact = isinstance(value, int) if kind is int else isinstance(value, (int, float))
    if isinstance(value, bool) or not exact or not value > 0:
        raise ConfigError(f"{src}: config.json's {name!r} is {value!r}; expected a positive {kind.__name__}")
    return kind(value)


def _section(cfg: dict, key: str, src: str) -> dict:
    value = cfg.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{src}: config.json's {key!r} is {value!r}; expected an object")
    return value


def rope_settings(cfg: dict, src: str) -> tuple[float, RopeScalingConfig]:
    """(rope theta, scaling) from either spelling; refuses scalings other than linear and llama3."""
    params, scaling = _section(cfg, "rope_parameters", src), _section(cfg, "rope_scaling", src)
    theta = _number(params if "rope_theta" in params else cfg, "rope_theta", src, float, 10000.0)
    source = scaling or params
    where = "rope_scaling." if scaling else "rope_parameters."
    kind = source.get("rope_type", source.get("type", "default"))
    if kind in (None, "default"):
        return theta, RopeScalingConfig()
    if kind == "linear":
        return theta, RopeScalingConfig(type="linear", factor=_number(source, "factor", src, float, where=where))
    if kind == "llama3":
        return theta, RopeScalingConfig(
            type="llama3", factor=_number(source, "factor", src, float, where=where),
            low_freq_factor=_number(source, "low_freq_factor", src, float, where=where),
            high_freq_factor=_number(source, "high_freq_factor", src, float, where=where),
            original_max_position_embeddings=_number(source, "original_max_position_embeddings", src, int,
                                                     where=where))
    _refuse(src, f"rope scaling {kind!r} (supported: linear, llama3)")
    raise AssertionError


def _check_exact(cfg: dict, arch: str, src: str) -> None:
    if cfg.get("hidden_act", "silu") != "silu":
        _refuse(src, f"hidden_act '{cfg['hidden_act']}' (only silu/SwiGLU)")
    if cfg.get("mlp_bias"):
        _refuse(src, "mlp_bias=true")
    if cfg.get("attention_bias") and arch != "Qwen2ForCausalLM":
        _refuse(src, "attention_bias=true (bias on the output projection too)")
    if arch == "Qwen2ForCausalLM" and cfg.get("use_sliding_window"):
        _refuse(src, "Qwen2 use_sliding_window=true (a window on only some layers)")
    if arch == "MixtralForCausalLM" and cfg.get("router_jitter_noise"):
        _refuse(src, "router_jitter_noise > 0")
    if cfg.get("pretraining_tp", 1) not in (1, None):
        _refuse(src, "pretraining_tp > 1")


def model_config_from_hf(cfg: dict, src: str, seq_length: int | None = None) -> tuple[ModelConfig, HFInfo]:
    """The ModelConfig (and HF facts) for a ``config.json`` dict. ``seq_length`` defaults to the
    model's ``max_position_embeddings`` capped at 4096."""
    archs = cfg.get("architectures") or []
    archs = [archs] if isinstance(archs, str) else archs
    arch = archs[0] if isinstance(archs, list) and archs else None
    if arch not in SUPPORTED:
        raise UnsupportedModel(f"{src}: architecture {arch!r} is not supported; supported: {', '.join(SUPPORTED)}")
    _check_exact(cfg, arch, src)
    hidden, heads = _number(cfg, "hidden_size", src, int), _number(cfg, "num_attention_heads", src, int)
    theta, scaling = rope_settings(cfg, src)
    head_dim = _number(cfg, "head_dim", src, int) if cfg.get("head_dim") is not None else hidden // heads
    sliding = cfg.get("sliding_window") if arch in ("MistralForCausalLM", "MixtralForCausalLM") else None
    max_pos = _number(cfg, "max_position_embeddings", src, int, 4096)
    model = ModelConfig(
        name=str(cfg.get("_name_or_path") or cfg.get("model_type", arch)),
        num_layers=_number(cfg, "num_hidden_layers", src, int),
        hidden_size=hidden,
        ffn_hidden_size=_number(cfg, "intermediate_size", src, int),
        num_attention_heads=heads,
        num_query_groups=_number(cfg, "num_key_value_heads", src, int, heads),
        seq_length=seq_length or min(max_pos, 4096),
        vocab_size=_number(cfg, "vocab_size", src, int),
        # Qwen2 and Mistral default to tied/untied differently in transformers; the key decides,
        # with transformers' own default (tied) when absent.
        untie_embeddings_and_output_weights=not cfg.get("tie_word_embeddings", True),
        rotary_base=theta,
        rope_scaling=scaling,
        kv_channels=None if head_dim * heads == hidden else head_dim,
        add_qkv_bias=arch == "Qwen2ForCausalLM" or bool(cfg.get("attention_bias")),
        layernorm_epsilon=_number(cfg, "rms_norm_eps", src, float, 1e-6),
        sliding_window=_number(cfg, "sliding_window", src, int) if sliding is not None else None,
        num_experts=_number(cfg, "num_local_experts", src, int) if arch == "MixtralForCausalLM" else None,
        moe_router_topk=_number(cfg, "num_experts_per_tok", src, int, 2),
        init_method_std=_number(cfg, "initializer_range", src, float, 0.02),
    )
    dtype = str(cfg.get("dtype") or cfg.get("torch_dtype") or "float32")
    return model, HFInfo(arch, model.vocab_size, dtype, max_pos)


def architecture_of(model: ModelConfig) -> str:
    """The HF class that represents ``model`` exactly."""
    if model.num_experts:
        return "MixtralForCausalLM"
    if model.add_qkv_bias:
        return "Qwen2ForCausalLM"
    if model.sliding_window:
        return "MistralForCausalLM"
    return "LlamaForCausalLM"


_MODEL_TYPES = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2",
                "MixtralForCausalLM": "mixtral"}


def hf_config_from_model(model: ModelConfig, vocab_size: int, dtype: str, *, bos_token_id=None,
                         eos_token_id=None, max_position_embeddings: int | None = None) -> dict:
    """A ``config.json`` for ``model`` (transformers v4 spelling, which v5 also reads)."""
    arch = architecture_of(model)
    cfg = {
        "architectures": [arch],
        "model_type": _MODEL_TYPES[arch],
        "hidden_act": "silu",
        "hidden_size": model.hidden_size,
        "intermediate_size": model.ffn_hidden_size,
        "num_hidden_layers": model.num_layers,
        "num_attention_heads": model.num_attention_heads,
        "num_key_value_heads": model.num_query_groups,
        "head_dim": model.head_dim,
        "vocab_size": vocab_size,
        "max_position_embeddings": max_position_embeddings or model.seq_length,
        "rms_norm_eps": model.layernorm_epsilon,
        "rope_theta": model.rotary_base,
        "tie_word_embeddings": not model.untie_embeddings_and_output_weights,
        "initializer_range": model.init_method_std,
        "torch_dtype": dtype,
        "attention_dropout": 0.0,
        "use_cache": True,
        "bos_token_id": bos_token_id,
        "eos_token_id": eos_token_id,
    }
    s = model.rope_scaling
    if s.type == "linear":
        cfg["rope_scaling"] = {"rope_type": "linear", "factor": s.factor}
    elif s.type == "llama3":
        cfg["rope_scaling"] = {"rope_type": "llama3", "factor": s.factor, "low_freq_factor": s.low_freq_factor,
                               "high_freq_factor": s.high_freq_factor,
                               "original_max_position_embeddings": s.original_max_position_embeddings}
    if arch == "LlamaForCausalLM":
        cfg.update(attention_bias=False, mlp_bias=False)
    if arch in ("MistralForCausalLM", "MixtralForCausalLM"):
        cfg["sliding_window"] = model.sliding_window
    if arch == "Qwen2ForCausalLM":
        cfg.update(use_sliding_window=False, sliding_window=None, max_window_layers=model.num_layers)
    if arch == "MixtralForCausalLM":
        cfg.update(num_local_experts=model.num_experts, num_experts_per_tok=model.moe_router_topk,
                   output_router_logits=False, router_jitter_noise=0.0)
    return cfg
