"""Tokenizer throughput: datatrove's ``MegatronDocumentTokenizer`` (the tokenize stage's step) on
generated documents, one core (``RAYON_NUM_THREADS=1``, so the Rust tokenizer cannot use more), with
the embedded BPE or ``--tokenizer``. Prints tokens/s/core and checks the written dataset's token count.

    .venv/bin/python benchmarks/tokenize_throughput.py [--docs 3000] [--tokenizer path/to/tokenizer.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before tokenizers is imported
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--tokenizer", default="pipeline/assets/tokenizer/cpt-sample-bpe.json")
    args = ap.parse_args(argv)

    from datatrove.data import Document
    from datatrove.pipeline.tokens import MegatronDocumentTokenizer
    from datatrove.utils.logging import logger

    from pipeline import assets
    from pipeline.sample.generate import english_article
    from pipeline.tokenize import indexed

    logger.remove()
    rng = random.Random(0)
    texts = ["\n\n".join(english_article(rng)[1]) for _ in range(args.docs)]
    chars = sum(map(len, texts))
    tok_path = str(assets.resolve_path(args.tokenizer))
    with tempfile.TemporaryDirectory(prefix="cpt-tokbench-") as tmp:
        step = MegatronDocumentTokenizer(output_folder=tmp, save_filename="bench", tokenizer_name_or_path=tok_path,
                                         eos_token="<|endoftext|>", batch_size=1000)
        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        t0 = time.perf_counter()
        step.run(iter(docs), rank=0, world_size=1)
        dt = time.perf_counter() - t0
        prefix = indexed.prefixes(Path(tmp))[0]
        counted = indexed.count(prefix)
    tokens = counted["tokens"]
    print(f"{args.docs} generated documents, {chars / args.docs:.0f} chars each; tokenizer {tok_path}")
    print(f"  {tokens:,} tokens (EOS included) in {dt:.2f} s on 1 core: {tokens / dt:,.0f} tokens/s/core, "
          f"{chars / dt / 1e6:.2f} MB/s/core")
    assert counted["documents"] == args.docs
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
