"""Training and validation data: megatron indexed datasets (``.bin``/``.idx``) as GPT samples.

* Train: one blend ``[(weight, path_prefix), ...]`` built with megatron's
  ``BlendedMegatronDatasetBuilder``. Weights are per sample; samples have a fixed length, so this
  is a per-token mix. The sample order is a pure function of (blend, sample count, seq length,
  seed), so sample ``i`` of a run is always the same sample (resume relies on this).
* Validation: one dataset per domain (``{name: path_prefix}``), one epoch each, never blended.

megatron caches its shuffle indices (``*.npy``) in ``path_to_cache``; we keep that cache inside
the run's output directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import torch
from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
from megatron.core.tokenizers import MegatronTokenizerBase

from pipeline.assets import sha256_file
from pipeline.errors import ConfigError, InputError

DEFAULT_EOS = "<|endoftext|>"


def tokenizer_vocab_size(path: str | Path) -> int:
    """Tokens in a local ``tokenizer.json``, added tokens included (InputError when it is missing)."""
    from tokenizers import Tokenizer

    if not Path(path).is_file():
        raise InputError(f"tokenizer not found: {path}")
    return Tokenizer.from_file(str(path)).get_vocab_size(with_added_tokens=True)


class HFTokenizer(MegatronTokenizerBase):
    """A ``tokenizers.Tokenizer`` (a local ``tokenizer.json``) with the interface megatron's datasets use.

    GPTDataset needs ``eod`` (the document separator id) and ``vocab_size``; the dataset cache key
    uses ``unique_identifiers``. ``pad`` is deliberately absent: megatron then pads with -1, an id
    that cannot occur in the data.
    """

    def __init__(self, path: str | Path, eos_token: str = DEFAULT_EOS):
        from tokenizers import Tokenizer

        path = Path(path)
        if not path.is_file():
            raise InputError(f"tokenizer not found: {path}")
        super().__init__(str(path), {})
        self._tok = Tokenizer.from_file(str(path))
        eod = self._tok.token_to_id(eos_token)
        if eod is None:
            raise ConfigError(f"invalid value for 'tokenizer.eos_token': {eos_token!r} is not in {path}")
        self._eod = eod
        self.sha256 = sha256_file(path)
        self.unique_identifiers = {"class": type(self).__name__, "sha256": self.sha256, "eod": eod}

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    @property
    def eod(self) -> int:
        return self._eod

    @property
    def vocab(self) -> dict:
        return self._tok.get_vocab(with_added_tokens=True)

    def tokenize(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def detokenize(self, ids: Sequence[int]) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=False)

    def apply_chat_template(self, *args, **kwargs):
        raise NotImplementedError("chat templates are not used in pretraining")


def _check_prefix(prefix: str) -> None:
    for ext in (".bin", ".idx"):
        if not Path(prefix + ext).is_file():
            raise InputError(f"indexed dataset file missing: {prefix}{ext}")


def _dataset_config(tokenizer: HFTokenizer, seq_length: int, seed: int, cache_dir: Path,
                    blend_per_split: list) -> GPTDatasetConfig:
    cache_dir.mkdir(parents=True, exist_ok=True)
    return GPTDatasetConfig(
        random_seed=seed,
        sequence_length=seq_length,
        blend_per_split=blend_per_split,
        tokenizer=tokenizer,
        path_to_cache=str(cache_dir),
        reset_position_ids=False,
        reset_attention_mask=False,
        eod_mask_loss=False,
        create_attention_mask=True,
        mid_level_dataset_surplus=0.005,
    )


def build_train_dataset(blend: Sequence[tuple[float, str]], num_samples: int, tokenizer: HFTokenizer,
                        seq_length: int, seed: int, cache_dir: Path):
    """A dataset of exactly ``num_samples`` training samples drawn from ``blend`` by weight."""
    if not blend:
        raise ConfigError("the training blend is empty")
    for weight, prefix in blend:
        if weight < 0:
            raise ConfigError(f"negative blend weight {weight} for {prefix}")
        _check_prefix(prefix)
    prefixes = [p for _, p in blend]
    weights = [float(w) for w, _ in blend]
    if sum(weights) <= 0:
        raise ConfigError("the training blend's weights sum to 0")
    # A single prefix goes straight to a GPTDataset; megatron rejects weights there.
    train_blend = (prefixes, weights if len(prefixes) > 1 else None)
    config = _dataset_config(tokenizer, seq_length, seed, cache_dir, [train_blend, None, None])
    train, _, _ = BlendedMegatronDatasetBuilder(
        GPTDataset, [num_samples, None, None], lambda: True, config).build()
    return train


def build_valid_datasets(prefixes: dict[str, str], tokenizer: HFTokenizer, seq_length: int, seed: int,
                         cache_dir: Path) -> dict:
    """``{domain: dataset}``, one epoch of each domain's validation data."""
    datasets = {}
    for name, prefix in prefixes.items():
        _check_prefix(prefix)
        config = _dataset_config(tokenizer, seq_length, seed, cache_dir, [None, ([prefix], None), None])
        _, valid, _ = BlendedMegatronDatasetBuilder(
            GPTDataset, [None, None, None], lambda: True, config).build()
        if valid is None or len(valid) == 0:
            raise InputError(f"validation set {name!r} ({prefix}) holds less than one sequence of "
                             f"{seq_length + 1} tokens")
        datasets[name] = valid
    return datasets


def get_batch(dataset, indices: Iterable[int], device: torch.device) -> dict[str, torch.Tensor]:
    """Samples ``indices`` as a batch: tokens, labels, loss_mask, position_ids ``[b, s]`` and attention_mask.

    ``attention_mask`` is megatron's causal mask, True where attention is *masked*. Every sample
    has the same one (no per-document masking), so it is sent once as ``[1, 1, s, s]`` and
    broadcast, not as ``[b, 1, s, s]`` (134 MB per micro-batch at seq 4096, micro-batch 8).
    """
    samples = [dataset[int(i)] for i in indices]
    batch = {key: torch.stack([s[key] for s in samples]).to(device)
             for key in ("tokens", "labels", "loss_mask", "position_ids")}
    batch["attention_mask"] = samples[0]["attention_mask"].unsqueeze(0).to(device)
    return batch
