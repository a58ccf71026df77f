"""The ``sample`` stage: generate the embedded synthetic crawl and original corpus (never downloaded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.registry import StageContext, output_version

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import SampleConfig


@output_version(3)
def run(ctx: StageContext) -> dict:
    from pipeline.sample.generate import generate_sample

    cfg: SampleConfig = ctx.config.sample
    stats = generate_sample(ctx.out_dir, seed=cfg.seed, web_pages=cfg.web_pages,
                            original_docs=cfg.original_docs, general_share=cfg.general_share,
                            dump=cfg.dump)
    ctx.log(f"{stats['web_pages']} web pages, {stats['original_docs']} original documents")
    if stats["general_quoting_items"]:
        ctx.log(f"{stats['general_quoting_items']} general original document(s) share a 10-word run with a "
                "sample_domain item (a crawl this small screens few items); the base model reads them")
    return stats
