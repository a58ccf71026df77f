"""HTML -> text extractors for the curation chain: datatrove's Trafilatura (FineWeb's choice) or Resiliparse.

``make_extractor(recipe.extraction)`` returns the datatrove step for an :class:`ExtractionConfig`.
Both run ``extract`` in a sandbox process (datatrove's :class:`ExtractorSandbox`, here
:class:`PatientSandbox`); a page that goes over the per-document ``timeout`` is counted as ``timeout``
and skipped.

**The per-page limit is CPU time, not wall time.** ``timeout`` (``recipe.extraction.timeout``, FineWeb's
1 s by default) is a budget of CPU seconds (user + system, all threads) that the sandbox process spends
on one page. datatrove's own sandbox counts wall time, so on a loaded node the same page takes longer and
more pages are dropped: the same stage fingerprint could hold different outputs. CPU time hardly depends
on what else runs on the machine, so which pages are kept is a function of the pages and the budget.
The sandbox counts each page's own CPU seconds around the extraction call (:class:`PageTimer`), with
Python's garbage collector held off during the page and run after it, outside the count: a collection
would otherwise fall on whichever page crosses the allocation threshold, which depends on the pages
before it and on restarts. The parent meanwhile waits on the pipe in short slices (at most
:data:`CPU_POLL` s; a page that is done wakes it at once) and kills a child whose CPU clock has run
past twice the budget (+50 ms) since the page was sent, as datatrove kills on wall time. The parent
reads the child's clock with, in order of preference: the POSIX per-process CPU clock
(``clock_getcpuclockid`` + ``clock_gettime``: Linux and most Unixes, nanosecond resolution), psutil's
``cpu_times`` (e.g. macOS), and, where neither can read the child, wall time (logged as a warning).
CPU time is not perfectly independent of load either (a busy core evicts caches, so a page can cost
~10% more CPU), so pages that close to the budget can still flip; wall time flips every page that load
slows past it (``benchmarks/extraction_load.py``).

A child that uses no CPU yet does not answer (blocked, stopped, starved) is only cut off by a wall-clock
safety cap far above the budget, ``max(60 s, 60 x timeout)`` (:func:`wall_cap`), so a stalled child cannot
hang the run; it is counted as ``timeout`` too, with a warning (it should never happen in practice).

datatrove holds the sandbox's start (fork, import of the extraction library, a warm-up call) to the
per-page limit, so on a loaded node every restart after one slow page times out again and a whole shard
of good pages is lost as "timeout". Here the start gets its own, generous wall-clock limit
(:data:`STARTUP_TIMEOUT`), and the library is imported before the fork so the sandbox inherits it.

Resiliparse (``resiliparse.extract.html2text``) is a C++ DOM walk with simple main-content heuristics;
it is much faster than trafilatura. Its defaults here suit LLM pretraining text: block-level layout kept
(paragraphs separated by a blank line), main content only, no alt texts, link URLs, form fields,
``<noscript>`` text, user comments or blog post metadata (bylines, dates).
"""

from __future__ import annotations

from typing import Callable, Sequence

import ctypes
import functools
import gc
import importlib
import time

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.extractors.base import BaseExtractor, ExtractorSandbox
from datatrove.utils.logging import logger

EXTRACTORS = ("trafilatura", "resiliparse")
STARTUP_TIMEOUT = 60.0  # wall seconds for the sandbox process to fork, import and warm up
CPU_POLL = 0.05  # longest wait (wall s) between two looks at the child's CPU clock while a page runs
MIN_POLL = 0.002  # shortest such wait, so a nearly spent budget is not checked in a busy loop
KILL_FACTOR, KILL_SLACK = 2.0, 0.05  # a page still running at 2x its budget + 50 ms of CPU is killed
WALL_CAP_MIN, WALL_CAP_FACTOR = 60.0, 60.0  # the stalled-child safety cap: max(60 s, 60 x budget)


def wall_cap(budget: float) -> float:
    """Wall seconds after which a page is given up even if its CPU budget is not spent (a stalled child)."""
    return max(WALL_CAP_MIN, WALL_CAP_FACTOR * budget)


class ExtractionStalled(TimeoutError):
    """The child used less CPU than the budget but did not answer within :func:`wall_cap`."""


@functools.lru_cache(maxsize=1)
def _clock_getcpuclockid():
    try:
        getid = ctypes.CDLL(None, use_errno=True).clock_getcpuclockid
    except (AttributeError, OSError, TypeError):  # no such libc call (macOS, Windows)
        return None
    getid.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    getid.restype = ctypes.c_int
    return getid


def _posix_cpu_clock(pid: int) -> Callable[[], float] | None:
    """A reader of ``pid``'s process CPU clock (user + system, all threads, ns resolution), or None."""
    getid = _clock_getcpuclockid()
    if getid is None or not hasattr(time, "clock_gettime"):
        return None
    cid = ctypes.c_int()
    if getid(pid, ctypes.byref(cid)) != 0:
        return None
    clock_id = cid.value
    try:
        time.clock_gettime(clock_id)
    except OSError:
        return None
    return lambda: time.clock_gettime(clock_id)


def _psutil_cpu_clock(pid: int) -> Callable[[], float] | None:
    try:
        import psutil

        proc = psutil.Process(pid)
        proc.cpu_times()
    except Exception:  # not installed, no access, already gone
        return None

    def read() -> float:
        try:
            t = proc.cpu_times()
        except psutil.Error as e:  # gone: the caller treats OSError as a dead child
            raise OSError(str(e)) from e
        return t.user + t.system

    return read


class ChildCpuClock:
    """CPU seconds used so far by process ``pid``; ``kind`` says how they are read (see the module doc).

    Calling it raises ``OSError`` once the process is gone (reaped)."""

    _warned_wall = False

    def __init__(self, pid: int):
        self.pid = pid
        for kind, make in (("posix", _posix_cpu_clock), ("psutil", _psutil_cpu_clock)):
            read = make(pid)
            if read is not None:
                self.kind, self._read = kind, read
                return
        self.kind, self._read = "wall", time.monotonic
        if not ChildCpuClock._warned_wall:
            ChildCpuClock._warned_wall = True
            logger.warning("cannot read the extraction sandbox's CPU time on this platform; the per-page "
                           "extraction timeout falls back to wall time, so load can change which pages are kept")

    def __call__(self) -> float:
        return self._read()


class PageTimer:
    """Runs in the sandbox: ``extract_fn(*args)`` -> ``(result or the exception it raised, CPU seconds)``.

    The CPU seconds are the page's own (``time.process_time`` around the call), with the garbage collector
    held off during the page and run after it, outside the count, with the objects of the start frozen:
    otherwise a collection falls on whichever page happens to cross the allocation threshold, and which
    page that is depends on the pages before it (and on restarts after timeouts), not on the page."""

    def __init__(self, fn):
        self.fn = fn
        self._frozen = False

    def __call__(self, *args):  # datatrove's worker spreads a tuple page into arguments
        if not self._frozen:  # the first call is the sandbox's warm-up: freeze what the start created
            gc.collect()
            gc.freeze()
            self._frozen = True
        gc.disable()
        start = time.process_time()
        try:
            result = self.fn(*args)
        except Exception as e:  # noqa: BLE001 - sent back and counted as the page's error
            result = e
        cpu = time.process_time() - start
        gc.enable()
        gc.collect()
        return result, cpu


class PatientSandbox(ExtractorSandbox):
    """datatrove's sandbox with a per-page CPU-time budget and a separate wall-clock start-up limit.

    Args:
        timeout: CPU seconds the sandbox process may spend on one document.
        startup_timeout: wall seconds for the process to start (fork, warm-up); at least ``timeout``.
        wall_limit: wall seconds after which a document is given up regardless (default :func:`wall_cap`).
    """

    def __init__(self, timeout: float, startup_timeout: float = STARTUP_TIMEOUT, wall_limit: float | None = None):
        super().__init__(timeout=timeout, warmup_text="")
        self.startup_timeout = max(startup_timeout, timeout)
        self.wall_limit = wall_cap(timeout) if wall_limit is None else wall_limit
        self.cpu_clock: ChildCpuClock | None = None
        self._timed: PageTimer | None = None

    def _ensure_process(self, extract_fn):
        per_document, self.timeout = self.timeout, self.startup_timeout
        try:
            super()._ensure_process(extract_fn)
        finally:
            self.timeout = per_document
        if self.cpu_clock is None or self.cpu_clock.pid != self.process.pid:
            self.cpu_clock = ChildCpuClock(self.process.pid)

    def _cleanup_process(self):
        super()._cleanup_process()
        self.cpu_clock = None

    def process_document(self, text, extract_fn):
        """``extract_fn(text)`` in the sandbox; ``TimeoutError`` once it has used more than ``timeout`` CPU
        seconds (or :attr:`wall_limit` wall seconds: :class:`ExtractionStalled`), ``EOFError`` if it died."""
        if self._timed is None or self._timed.fn != extract_fn:
            self._timed = PageTimer(extract_fn)
        self._ensure_process(self._timed)
        budget, clock, conn = self.timeout, self.cpu_clock, self.parent_conn
        kill_after = KILL_FACTOR * budget + KILL_SLACK
        try:
            start_cpu = clock()  # the child is idle in recv(): its clock before this page
            conn.send(text)
            give_up = time.monotonic() + self.wall_limit
            wait = min(CPU_POLL, budget)
            while not conn.poll(wait):
                if not self.process.is_alive():
                    raise EOFError("Child process died (probably OOM-killed)")
                used = clock() - start_cpu
                if used > kill_after:  # far past the budget: stop it (its own count would say over budget)
                    raise TimeoutError(f"document extraction used over {budget} s of CPU time")
                if time.monotonic() >= give_up:
                    raise ExtractionStalled(f"document extraction used {used:.3f} s CPU but did not answer "
                                            f"within {self.wall_limit:.0f} s")
                wait = min(CPU_POLL, max(MIN_POLL, kill_after - used))
            result, page_cpu = conn.recv()
        except (TimeoutError, EOFError, OSError) as e:  # OSError: the pipe or the clock of a dead child
            self._cleanup_process()
            if isinstance(e, (TimeoutError, EOFError)):
                raise
            raise EOFError(f"Child process died ({e!r})") from e
        if page_cpu > budget:  # the page's own count decides, so the verdict does not depend on when we looked
            raise TimeoutError(f"document extraction used {page_cpu:.3f} s of CPU time (budget {budget} s)")
        if isinstance(result, Exception):
            raise result
        return result


class SandboxedExtraction:
    """``run`` for an extractor: each page through a :class:`PatientSandbox` (``self.timeout``: CPU seconds
    per page), failures counted by kind.

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
                    except TimeoutError as e:  # over the CPU budget (or, never in practice, stalled)
                        self.stat_update("timeout")
                        if isinstance(e, ExtractionStalled):
                            logger.warning(f"extraction of {doc.id} stalled: {e}; counted as a timeout")
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
        timeout: per-document budget in CPU seconds, enforced by the :class:`PatientSandbox` in ``run``.
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
