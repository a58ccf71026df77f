"""HTML -> text extractors for the curation chain: datatrove's Trafilatura (FineWeb's choice) or Resiliparse.

``make_extractor(recipe.extraction)`` returns the datatrove step for an :class:`ExtractionConfig`.
Both run ``extract`` in datatrove's sandbox process, which enforces the per-document ``timeout`` (a page
that takes longer is counted and skipped). datatrove holds the sandbox's start (fork, import of the
extraction library, a warm-up call) to that same per-page limit, so on a loaded node every restart after
one slow page times out again and a whole shard of good pages is lost as "timeout". Here the start gets
its own, generous limit (:data:`STARTUP_TIMEOUT`), and the library is imported before the fork so the
sandbox inherits it.

Resiliparse (``resiliparse.extract.html2text``) is a C++ DOM walk with simple main-content heuristics;
it is much faster than trafilatura. Its defaults here suit LLM pretraining text: block-level layout kept
(paragraphs separated by a blank line), main content only, no alt texts, link URLs, form fields,
``<noscript>`` text, user comments or blog post metadata (bylines, dates).
"""

from __future__ import annotations

from typing import Sequence

import importlib

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.extractors.base import BaseExtractor, ExtractorSandbox
from datatrove.utils.logging import logger

EXTRACTORS = ("trafilatura", "resiliparse")
STARTUP_TIMEOUT = 60.0  # seconds for the sandbox process to fork, import and warm up


class PatientSandbox(ExtractorSandbox):
    """datatrove's sandbox, with a start-up limit separate from the per-document one."""

    def __init__(self, timeout: float, startup_timeout: float = STARTUP_TIMEOUT):
        super().__init__(timeout=timeout, warmup_text="")
        self.startup_timeout = max(startup_timeout, timeout)

    def _ensure_process(self, extract_fn):
        per_document, self.timeout = self.timeout, self.startup_timeout
        try:
            super()._ensure_process(extract_fn)
        finally:
            self.timeout = per_document


class SandboxedExtraction:
    """``run`` for an extractor: each page through a :class:`PatientSandbox`, failures counted by kind.

    The stats are datatrove's own names (``timeout``, ``broken_process``, ``clean_error``, ``dropped``),
    which :mod:`pipeline.curate.funnel` reads back as the extraction step's removal reasons.
    """

    library: str  # imported in the parent before the sandbox forks

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        importlib.import_module(self.library)
        warned = False
        with PatientSandbox(timeout=self.timeout) as sandbox:
            for doc in data:
                self.stat_update("total")
                with self.track_time():
                    try:
                        doc.text = sandbox.process_document(doc.text, self.extract)
                        self.stat_update("extracted")
                    except TimeoutError:
                        self.stat_update("timeout")
                        continue
                    except EOFError:
                        self.stat_update("broken_process")
                        continue
                    except Exception as e:  # the library raised on this page; count it, keep going
                        self.stat_update("clean_error")
                        if not warned:
                            logger.warning(f"extraction error {e!r} on {doc.id}; such pages are counted and skipped")
                            warned = True
                        continue
                if doc.text:
                    self.stat_update("forwarded")
                    self.update_doc_stats(doc)
                    yield doc
                else:
                    self.stat_update("dropped")


class TrafilaturaExtractor(SandboxedExtraction, Trafilatura):
    """datatrove's Trafilatura step (FineWeb's settings), run through a :class:`PatientSandbox`."""

    library = "trafilatura"


class ResiliparseExtractor(SandboxedExtraction, BaseExtractor):
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
    library = "resiliparse.extract.html2text"

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
        return TrafilaturaExtractor(favour_precision=cfg.favour_precision, timeout=cfg.timeout)
    if cfg.extractor == "resiliparse":
        return ResiliparseExtractor(timeout=cfg.timeout)
    raise ValueError(f"unknown extractor {cfg.extractor!r}; expected one of {', '.join(EXTRACTORS)}")
