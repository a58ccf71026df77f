"""MinHash signatures, identical to datatrove's, computed faster.

Where the stock ``MinhashDedupSignature`` spends its time (``benchmarks/minhash_throughput.py``):
about 80% in spaCy, which tokenizes every simplified text from scratch. The word split here is the
curation chain's exact, chunk-cached spaCy split (``pipeline.curate.fast_filters``): each distinct
whitespace-delimited chunk is tokenized once per process by the same spaCy tokenizer, and texts where
spaCy could behave differently across chunks fall back to datatrove's own ``word_tokenize``. Shingle
hashing and the permutation arithmetic are datatrove's own code, and the text normalization is
datatrove's ``simplify_text``, skipping only its per-character diacritics pass on pure-ASCII text
(where NFD changes nothing and there are no combining marks). Signatures are bit-identical
(``tests/test_dedup_signatures.py``)."""

from __future__ import annotations

import dataclasses

import numpy as np
from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
from datatrove.utils.text import ngrams, simplify_text

from pipeline.curate.fast_filters import _splitter


class FastMinhashDedupSignature(MinhashDedupSignature):
    """Drop-in for ``MinhashDedupSignature``: same arguments, same files, same signatures."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the same normalization without the diacritics pass, which is a no-op on ASCII text
        self._ascii_norm = dataclasses.replace(self.config.norm_config, norm_unicode_diacritics=False)

    def get_shingles(self, text: str) -> np.ndarray:
        norm = self._ascii_norm if text.isascii() else self.config.norm_config
        words, _ = _splitter(self.language).words(simplify_text(text, norm))
        hash_fc = self._hash_func
        return np.fromiter(
            [hash_fc(" ".join(x)) for x in ngrams(words, self.config.n_grams)], dtype=np.uint64
        ).reshape((-1, 1))

