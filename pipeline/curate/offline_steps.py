"""datatrove steps made to run offline: the URL filter without tldextract's network fetch, and
language ID from a local fastText model instead of a run-time download."""

from __future__ import annotations

import logging

from datatrove.pipeline.filters import LanguageFilter, URLFilter
from datatrove.utils.lid import FT176LID

# trafilatura and htmldate log every empty or odd page at ERROR; the funnel counts those pages.
for _name in ("trafilatura", "htmldate", "courlan"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


NO_URL = "no_url"  # the URL filter's stat for documents kept because they have no URL to check


class OfflineURLFilter(URLFilter):
    """datatrove's URLFilter (bundled block lists) with tldextract's suffix list taken from its
    package snapshot, never fetched."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        from tldextract import TLDExtract

        self.tldextractor = TLDExtract(suffix_list_urls=())

    def filter(self, document):
        """datatrove's checks for a document with a URL; one without (JSONL or Parquet records with no ``url``
        field, or an empty one) is kept and counted under ``no_url``: there is nothing to check, and
        datatrove's own filter would stop the whole task on an assertion."""
        url = document.metadata.get("url")
        if not isinstance(url, str) or not url:
            self.stat_update(NO_URL)
            return True
        return super().filter(document)


class LocalFT176LID(FT176LID):
    """lid.176 loaded from a local path (``.ftz`` or ``.bin``); never downloads."""

    def __init__(self, model_path: str, languages: list[str] | None = None):
        super().__init__(languages)
        self.model_path = model_path

    @property
    def model(self):
        if self._model is None:
            from fasttext.FastText import _FastText

            self._model = _FastText(self.model_path)
        return self._model


class LocalLanguageFilter(LanguageFilter):
    """datatrove's LanguageFilter with the lid.176 model from a local, checksummed path."""

    def __init__(self, model_path: str, languages: list[str], language_threshold: float, **kwargs):
        super().__init__(languages=languages, language_threshold=language_threshold, **kwargs)
        self.model = LocalFT176LID(model_path, self.languages)
