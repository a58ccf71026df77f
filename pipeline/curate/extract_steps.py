"""The steps before text exists: the URL filter and, on raw HTML, text extraction (the ``extract`` stage).

No filter code here: extraction is the slowest stage, and a change to a quality filter must not rerun it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.curate.extractors import make_extractor
from pipeline.curate.offline_steps import OfflineURLFilter

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import ExtractionConfig, URLFilterConfig


def extract_steps(url: URLFilterConfig, extraction: ExtractionConfig, *, extract: bool) -> list[tuple[str, object]]:
    """The URL filter (when enabled) and, on raw HTML (``extract``), text extraction."""
    steps: list[tuple[str, object]] = []
    if url.enabled:
        steps.append(("url", OfflineURLFilter(soft_word_threshold=url.soft_word_threshold,
                                              extra_domains=list(url.extra_domains) or None)))
    if extract:
        steps.append(("extraction", make_extractor(extraction)))
    return steps
