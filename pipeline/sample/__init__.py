"""The embedded synthetic sample: a small Common-Crawl-style WARC (planetary-science articles plus crawl
junk) and an "original pretraining" corpus from another domain, generated deterministically offline.

See :func:`pipeline.sample.generate.generate_sample` and the tokenizer trainer
``python -m pipeline.sample.train_tokenizer`` (the dev check of the real filter chain on a generated sample is
``python tests/sample_check.py``).
"""

__all__ = ["KINDS", "generate_sample"]


def __getattr__(name):  # lazy, so that `python -m pipeline.sample.generate` does not import itself twice
    if name in __all__:
        from pipeline.sample import generate

        return getattr(generate, name)
    raise AttributeError(name)
