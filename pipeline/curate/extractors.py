"""HTML -> text extractors for the curation chain: datatrove's Trafilatura (FineWeb's choice) or Resiliparse.

``make_extractor(recipe.extraction)`` returns the datatrove step for an :class:`ExtractionConfig`.
Both are :class:`BaseExtractor` subclasses, so ``run`` executes ``extract`` in datatrove's sandbox
process and enforces the per-document ``timeout`` (a page that takes longer is counted and skipped).

Resiliparse (``resiliparse.extract.html2text``) is a C++ DOM walk with simple main-content heuristics;
it is much faster than trafilatura. Its defaults here suit LLM pretraining text: block-level layout kept
(paragraphs separated by a blank line), main content only, no alt texts, link URLs, form fields,
``<noscript>`` text, user comments or blog post metadata (bylines, dates).
"""

from __future__ import annotations

from typing import Sequence

from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.extractors.base import BaseExtractor

EXTRACTORS = ("trafilatura", "resiliparse")


class ResiliparseExtractor(BaseExtractor):
    """Main-content plain text with ``resiliparse.extract.html2text.extract_plain_text``.

    Args:
        preserve_formatting: keep line breaks / paragraphs of block-level elements (``True``), flatten
            everything to one line (``False``), or emit minimal HTML (``"minimal_html"``).
        main_content: apply resiliparse's main-content heuristics (drops nav, header, footer, sidebars...).
        list_bullets: prefix list items with a bullet / number (Gopher's bullet-line ratio then sees them).
        alt_texts: keep ``alt`` texts of images.
        links: append link target URLs.
        form_fields: keep form fields and their values.
        noscript: keep ``<noscript>`` contents.
        comments: treat comment sections as main content.
        post_meta: keep blog post / article metadata (byline, date) in the main content.
        skip_elements: extra CSS selectors of elements to skip (e.g. ``(".cookie-banner",)``).
        timeout: per-document limit in seconds, enforced by datatrove's sandbox in ``run``.
    """

    name = "⛏ Resiliparse"
    _requires_dependencies = ["resiliparse"]

    def __init__(
        self,
        preserve_formatting: bool | str = True,
        main_content: bool = True,
        list_bullets: bool = True,
        alt_texts: bool = False,
        links: bool = False,
        form_fields: bool = False,
        noscript: bool = False,
        comments: bool = False,
        post_meta: bool = False,
        skip_elements: Sequence[str] | None = None,
        timeout: float = 1,
    ):
        super().__init__(timeout)
        self.preserve_formatting = preserve_formatting
        self.main_content = main_content
        self.list_bullets = list_bullets
        self.alt_texts = alt_texts
        self.links = links
        self.form_fields = form_fields
        self.noscript = noscript
        self.comments = comments
        self.post_meta = post_meta
        self.skip_elements = list(skip_elements) if skip_elements else None

    def extract(self, text: str) -> str:
        """Plain text of the main content of the HTML string ``text`` ('' when there is none)."""
        from resiliparse.extract.html2text import extract_plain_text

        out = extract_plain_text(
            text,
            preserve_formatting=self.preserve_formatting,
            main_content=self.main_content,
            list_bullets=self.list_bullets,
            alt_texts=self.alt_texts,
            links=self.links,
            form_fields=self.form_fields,
            noscript=self.noscript,
            comments=self.comments,
            post_meta=self.post_meta,
            skip_elements=self.skip_elements,
        )
        return out.strip()


def make_extractor(cfg) -> BaseExtractor:
    """The datatrove extraction step for an :class:`pipeline.config.ExtractionConfig`.

    ``favour_precision`` only applies to trafilatura; resiliparse has no such switch.
    """
    if cfg.extractor == "trafilatura":
        return Trafilatura(favour_precision=cfg.favour_precision, timeout=cfg.timeout)
    if cfg.extractor == "resiliparse":
        return ResiliparseExtractor(timeout=cfg.timeout)
    raise ValueError(f"unknown extractor {cfg.extractor!r}; expected one of {', '.join(EXTRACTORS)}")
