"""Train the small byte-level BPE tokenizer embedded in ``pipeline/assets/tokenizer/``.

    python -m pipeline.sample.train_tokenizer            # rewrites cpt-sample-bpe.json, prints its sha256

It is trained on the synthetic sample (seed 1234, default size): the text of the generated ``article``
pages (taken from the generator, not from an HTML extractor) plus the original corpus as it was before
it held general articles (``general_share=0``, which keeps the asset's bytes), so it suits both the
crawl domain and the replay domain. Training is deterministic: rerunning gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import pathlib
import tempfile
from typing import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from pipeline.assets import sha256_file

EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|pad|>"
SPECIAL_TOKENS = [EOS_TOKEN, PAD_TOKEN]  # ids 0 and 1
ASSET_DIR = pathlib.Path(__file__).resolve().parent.parent / "assets" / "tokenizer"
ASSET_PATH = ASSET_DIR / "cpt-sample-bpe.json"
SAMPLE_SEED = 1234


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096) -> Tokenizer:
    """Byte-level BPE (ByteLevel pre-tokenizer and decoder); ``<|endoftext|>`` is id 0, ``<|pad|>`` id 1."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def sample_training_texts(seed: int = SAMPLE_SEED) -> list[str]:
    """Article texts + original corpus of the synthetic sample (generated in a temp dir, no general share)."""
    from pipeline.sample.generate import build_sample, generate_sample

    with tempfile.TemporaryDirectory(prefix="cpt-tok-") as tmp:
        stats = generate_sample(pathlib.Path(tmp), seed=seed, general_share=0.0)
        with gzip.open(pathlib.Path(tmp) / stats["original"], "rt", encoding="utf-8") as f:
            original = [json.loads(line)["text"] for line in f]
    articles = list(build_sample(seed=seed).article_texts())
    return articles + original


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description="Train the embedded sample BPE tokenizer")
    ap.add_argument("--out", type=pathlib.Path, default=ASSET_PATH)
    ap.add_argument("--vocab-size", type=int, default=4096)
    a = ap.parse_args(argv)
    tok = train_tokenizer(sample_training_texts(), vocab_size=a.vocab_size)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(a.out), pretty=True)
    digest = sha256_file(a.out)
    print(f"wrote {a.out} (vocab {tok.get_vocab_size()}) sha256 {digest}")
    return digest


if __name__ == "__main__":
    main()
