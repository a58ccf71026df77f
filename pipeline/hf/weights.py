"""Tensor names and layouts: Hugging Face Llama family <-> megatron-core GPTModel (local spec).

Each :class:`Mapping` names one megatron parameter, the HF tensors it is made of, and how to
fuse them (import) and split it again (export). Two layouts differ:

* ``linear_qkv`` fuses Q, K and V **interleaved per query group**: for each of the ``g`` KV
  groups, its ``heads/g`` query heads, then its key head, then its value head. (A plain
  ``cat(q, k, v)`` is right only for MHA and MQA, hence the tests with 1 < groups < heads.)
* ``linear_fc1`` stacks the SwiGLU gate above the up projection (megatron's GLU chunks it in two).

No rotary permutation is needed: transformers' Llama checkpoints already use the half-rotation
layout that megatron's non-interleaved RoPE uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from pipeline.config import ModelConfig


@dataclass
class Mapping:
    megatron: str
    hf: tuple[str, ...]
    fuse: Callable[[list[torch.Tensor]], torch.Tensor]
    split: Callable[[torch.Tensor], list[torch.Tensor]]


def _same(ts: list[torch.Tensor]) -> torch.Tensor:
    return ts[0]


def _one(t: torch.Tensor) -> list[torch.Tensor]:
    return [t]


def fuse_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, groups: int) -> torch.Tensor:
    """[q heads*d | k groups*d | v groups*d] (weights or biases) -> megatron's per-group interleave."""
    rest = q.shape[1:]
    q = q.reshape(groups, -1, *rest)
    k = k.reshape(groups, -1, *rest)
    v = v.reshape(groups, -1, *rest)
    return torch.cat([q, k, v], dim=1).reshape(-1, *rest)


def split_qkv(qkv: torch.Tensor, groups: int, heads: int, head_dim: int) -> list[torch.Tensor]:
    """Inverse of :func:`fuse_qkv`: megatron's fused tensor -> [q, k, v] in HF layout."""
    rest = qkv.shape[1:]
    per_group = (heads // groups) * head_dim
    g = qkv.reshape(groups, per_group + 2 * head_dim, *rest)
    q, k, v = torch.split(g, [per_group, head_dim, head_dim], dim=1)
    return [t.reshape(-1, *rest).contiguous() for t in (q, k, v)]


def _glu_fuse(ts: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat(ts, dim=0)


def _glu_split(t: torch.Tensor) -> list[torch.Tensor]:
    return [c.contiguous() for c in torch.chunk(t, 2, dim=0)]


def _mlp(model: ModelConfig, mg: str, hf: str) -> list[Mapping]:
    """The dense SwiGLU (Llama, Mistral, Qwen2) or the experts and router (Mixtral) of one layer."""
    if not model.num_experts:
        return [Mapping(f"{mg}.mlp.linear_fc1.weight", (f"{hf}.mlp.gate_proj.weight", f"{hf}.mlp.up_proj.weight"),
                        _glu_fuse, _glu_split),
                Mapping(f"{mg}.mlp.linear_fc2.weight", (f"{hf}.mlp.down_proj.weight",), _same, _one)]
    maps = [Mapping(f"{mg}.mlp.router.weight", (f"{hf}.block_sparse_moe.gate.weight",), _same, _one)]
    for e in range(model.num_experts):
        expert, hf_expert = f"{mg}.mlp.experts.local_experts.{e}", f"{hf}.block_sparse_moe.experts.{e}"
        maps += [Mapping(f"{expert}.linear_fc1.weight", (f"{hf_expert}.w1.weight", f"{hf_expert}.w3.weight"),
                         _glu_fuse, _glu_split),
                 Mapping(f"{expert}.linear_fc2.weight", (f"{hf_expert}.w2.weight",), _same, _one)]
    return maps


def _attention(model: ModelConfig, mg: str, hf: str) -> list[Mapping]:
    groups, heads, d = model.num_query_groups, model.num_attention_heads, model.head_dim
    attn = f"{hf}.self_attn"
    maps = [Mapping(f"{mg}.self_attention.linear_qkv.weight",
                    (f"{attn}.q_proj.weight", f"{attn}.k_proj.weight", f"{attn}.v_proj.weight"),
                    lambda ts: fuse_qkv(*ts, groups), lambda t: split_qkv(t, groups, heads, d)),
            Mapping(f"{mg}.self_attention.linear_proj.weight", (f"{attn}.o_proj.weight",), _same, _one)]
    if model.add_qkv_bias:
        maps.append(Mapping(f"{mg}.self_attention.linear_qkv.bias",
                            (f"{attn}.q_proj.bias", f"{attn}.k_proj.bias", f"{attn}.v_proj.bias"),
                            lambda ts: fuse_qkv(*ts, groups), lambda t: split_qkv(t, groups, heads, d)))
    return maps


def mappings(model: ModelConfig) -> list[Mapping]:
    """Every parameter of the megatron model, in HF checkpoint order."""
    maps = [Mapping("embedding.word_embeddings.weight", ("model.embed_tokens.weight",), _same, _one)]
    for i in range(model.num_layers):
        mg, hf = f"decoder.layers.{i}", f"model.layers.{i}"
        maps.append(Mapping(f"{mg}.input_layernorm.weight", (f"{hf}.input_layernorm.weight",), _same, _one))
        maps += _attention(model, mg, hf)
        maps.append(Mapping(f"{mg}.pre_mlp_layernorm.weight", (f"{hf}.post_attention_layernorm.weight",),
                            _same, _one))
        maps += _mlp(model, mg, hf)
    maps.append(Mapping("decoder.final_layernorm.weight", ("model.norm.weight",), _same, _one))
    if model.untie_embeddings_and_output_weights:
        maps.append(Mapping("output_layer.weight", ("lm_head.weight",), _same, _one))
    return maps


VOCAB_PARAMS = ("embedding.word_embeddings.weight", "output_layer.weight")  # rows = vocabulary
# Tensors some HF checkpoints carry that hold no weights (recomputed from the config).
IGNORED_HF_SUFFIXES = (".rotary_emb.inv_freq",)
