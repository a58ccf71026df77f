"""Readers that account for every input record.

datatrove's stock ``WarcReader`` silently skips records it cannot use (non-HTML
payloads, undecodable charsets), silently stops at a truncated gzip stream (warcio
takes the EOFError for the end of the file, losing the records buffered before the
cut), and raises out of the task on a corrupt record (ArchiveLoadFailed) or garbage
in a gzip file. The readers here never raise on bad *data*: every record that does
not become a document is counted under a stat named ``error_<reason>``, so that for
a fully read input

    documents + sum(error_*) == number of document records in the input

(where "documents" is BaseDiskReader's own per-file stat). Records that are wholly
missing from a file (after a truncation) are not in its input; lost records that
cannot be identified are counted as documents ("at least one lost").
"""

from __future__ import annotations

from typing import Callable, Literal

from datatrove.io import DataFileLike, DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.utils.logging import logger

from pipeline.curate.charsets import decode_page
from pipeline.curate.warc_stream import CHUNK, GzipFailure, TruncatedGzip, Unseekable, WarcByteStream
from pipeline.inputs import WARC_FIRST_LINES

_MAX_HEADER_BYTES = 2 << 20  # WARC + HTTP headers of one record larger than this: corrupt record
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_WARC_TYPES = ("warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation")
_MEMBER_SLACK = 80  # raw bytes between a damaged member's detected end and the next member: too few for a record
_FORMATS = {"auto": ("response", "conversion"), "warc": ("response",), "wet": ("conversion",)}


def http_status_reason(code: int) -> str:
    """The removal reason of a response whose HTTP status is not kept: its status class."""
    return f"http_{code // 100}xx" if 100 <= code <= 599 else "http_other"


class _BadFraming(Exception):
    """The record at ``start`` cannot be delimited (broken headers or Content-Length)."""

    def __init__(self, start: int, rec_type: str | None, short: bool = False):
        super().__init__(start)
        self.start = start
        self.rec_type = rec_type  # None: unknown, the headers did not parse
        self.short = short  # the block ended before its declared Content-Length


class AccountedWarcReader(BaseDiskReader):
    """Read WARC (``response`` records with HTML payloads) and WET (``conversion``
    records, text/plain) files, gzip-compressed (one member per record, or a single
    stream) or plain, and account for every record.

    Yields the same documents as datatrove's ``WarcReader`` (text, id =
    WARC-Record-ID, metadata url and date; plus ``warc_file`` = path relative to the
    data folder, ``file_path`` and ``default_metadata`` as BaseDiskReader adds them),
    but never raises on bad data.  Every response/conversion record that does not
    become a document is counted once, as ``error_<reason>``:

    - ``error_truncated_gzip``: the gzip stream ends mid-member. 1 per truncated file
      (the record being read is lost, what followed it is unknowable). Documents
      already yielded from the file are kept.
    - ``error_corrupt_file``: gzip data is garbled (zlib/CRC error, or bytes between
      members that are not a gzip member). Reading resumes at the next gzip member
      that decompresses to a WARC record, if any. 1 per damaged region, or 0 when the
      damage provably stayed inside one member holding a known non-document record.
    - ``error_truncated_file``: a plain file (or gzip stream ending cleanly) stops in
      the middle of a record and no further record follows.
    - ``error_corrupt_record``: a record whose WARC/HTTP headers do not parse, whose
      WARC-Type is unreadable, whose Content-Length is missing, malformed or wrong
      (the block is not followed by the record separator and a next record), or
      whose payload transfer/content encoding cannot be decoded. Reading resyncs at
      the next line starting with ``WARC/`` (the rest of the file is lost if there
      is none); every record whose header remnants (WARC-Type, WARC-Record-ID,
      WARC-Date) are seen in the skipped bytes is counted, except those known to be
      non-document records, and 1 if no remnant is readable.
    - ``error_non_html``: a response payload that is not HTML, decided as datatrove
      does: WARC-Identified-Payload-Type if present, else libmagic sniffing. For a
      conversion (WET) record text/plain is accepted, and the record's own
      Content-Type is trusted when there is no identified payload type.
    - ``error_empty_file``: a file of 0 bytes (an aborted upload), or a gzip file that
      decompresses to nothing. 1 per file: its records are lost, their number unknown.
    - ``error_not_warc``: a file whose first record line is not a WARC (or ARC) header,
      e.g. an HTML page or a JSON file saved under a WARC name. 1 per file.
    - ``error_http_<class>``: a response whose HTTP status is not in ``http_status_keep``
      (default: 200 only), counted by status class: ``http_3xx`` (redirects),
      ``http_4xx`` (404 pages that look like articles, soft errors), ``http_5xx``,
      ``http_1xx``/``http_2xx`` (e.g. 204, 206 partial content), ``http_other``
      (a status line that does not parse).
    - ``error_charset``: the payload cannot be decoded: neither its declared charset,
      nor UTF-8, nor any charset ``charset_normalizer`` proposes decodes it cleanly
      (see :mod:`pipeline.curate.charsets`). Never kept as mojibake. A page decoded with
      a detected charset because the declared one failed or was implausible is kept and
      counted in the (non-error) stat ``charset_fallback``.
    - ``error_too_large``: the (content-decoded) payload exceeds ``max_doc_bytes``;
      it is streamed and skipped in chunks, never held in memory whole.
    - ``error_empty``: an HTML/text payload of 0 bytes (or whose adapter returns no text).

    Records of other types (warcinfo, request, metadata, revisit, and conversion or
    response records excluded by ``formats``) are not documents and are not counted.
    Not ``error_`` stats: ``files_damaged`` counts files with a file-level failure,
    ``damaged_<reason>`` each file-level failure (truncated_gzip, corrupt_file,
    truncated_file), whether or not a document was lost with it.
    Genuine I/O errors of the filesystem (OSError) are not data errors and still raise.

    Args:
        data_folder, paths_file, limit, skip, file_progress, doc_progress, adapter,
        text_key, id_key, default_metadata, recursive, glob_pattern, shuffle_files:
            as for datatrove's readers. The accounting identity holds when the whole
            input is read (``limit=-1``, ``skip=0``).
        max_doc_bytes: payloads larger than this are counted as ``error_too_large``.
        formats: "auto" (response and conversion records), "warc" (response only)
            or "wet" (conversion only). Compression is detected from the file's
            content (gzip or none), not its name.
    """

    name = "🕷 Accounted Warc"
    _requires_dependencies = ["warcio", ("charset_normalizer", "charset-normalizer"), ("magic", "python-magic")]

    def __init__(
        self,
        data_folder: DataFolderLike,
        paths_file: DataFileLike | None = None,
        limit: int = -1,
        skip: int = 0,
        file_progress: bool = False,
        doc_progress: bool = False,
        adapter: Callable = None,
        text_key: str = "text",
        id_key: str = "id",
        default_metadata: dict = None,
        recursive: bool = True,
        glob_pattern: str | None = None,
        shuffle_files: bool = False,
        max_doc_bytes: int = 10_000_000,
        formats: Literal["auto", "warc", "wet"] = "auto",
        http_status_keep: tuple[int, ...] = (200,),
    ):
        self.http_status_keep = frozenset(int(c) for c in http_status_keep)
        if formats not in _FORMATS:
            raise ValueError(f"formats must be one of {sorted(_FORMATS)}, got {formats!r}")
        if max_doc_bytes <= 0:
            raise ValueError(f"max_doc_bytes must be positive, got {max_doc_bytes}")
        self.max_doc_bytes = max_doc_bytes
        self.formats = formats
        self._doc_types = _FORMATS[formats]
        super().__init__(
            data_folder,
            paths_file,
            limit,
            skip,
            file_progress,
            doc_progress,
            adapter,
            text_key,
            id_key,
            default_metadata,
            recursive,
            glob_pattern,
            shuffle_files,
        )

    # ------------------------------------------------------------------ stats
    def _count(self, reason: str):
        self.stat_update(f"error_{reason}")

    def _file_failure(self, source: WarcByteStream, reason: str, filepath: str, lost_doc: bool = True):
        """A file-level failure: always counted in ``damaged_<reason>`` (and the file once in
        ``files_damaged``); the record lost with it in ``error_<reason>`` unless that record
        is known not to be a document."""
        self.stat_update(f"damaged_{reason}", unit="input_file")
        if not source.damaged:
            source.damaged = True
            self.stat_update("files_damaged", unit="input_file")
        if lost_doc:
            self._count(reason)
        logger.warning(f"{filepath}: {reason.replace('_', ' ')} near offset {source.tell()}")

    def _maybe_doc(self, rec_type: str | None) -> bool:
        """Whether a lost record may have been a document: unless it is known to be of a
        WARC type that is not read as documents."""
        rec_type = (rec_type or "").lower()
        return rec_type in self._doc_types or rec_type not in _WARC_TYPES

    def _gzip_failure(self, source: WarcByteStream, failure: GzipFailure, filepath: str) -> bool:
        """Count a damaged gzip region and move past it. False when the file is done.

        The record being read is lost; it is counted unless it is known not to be a
        document *and* nothing else can have been lost with it (the damage stayed inside
        its own gzip member). A truncation always counts 1: what followed is unknowable."""
        inflight = source.inflight
        sniffed, member_end = source.examine_failed_member(
            source.tell() if inflight is None else source.record_start
        )
        rec_type = sniffed if inflight in (None, "?") else inflight
        recovered = source.recover(failure)
        contained = member_end is not None and source.resume_raw - member_end <= _MEMBER_SLACK
        lost_doc = isinstance(failure, TruncatedGzip) or self._maybe_doc(rec_type) or not contained
        self._file_failure(source, failure.reason, filepath, lost_doc=lost_doc)
        source.inflight = None
        return recovered

    # ---------------------------------------------------------------- reading
    def read_file(self, filepath: str):
        from warcio.recordloader import ArcWarcRecordLoader

        loader = ArcWarcRecordLoader(verify_http=False, arc2warc=False)
        with self.data_folder.open(filepath, "rb") as raw:
            source = WarcByteStream(raw)
            file_format = None
            ri = -1
            while True:
                source.inflight = None
                try:
                    line = source.next_record_line()
                except GzipFailure as failure:
                    if self._gzip_failure(source, failure, filepath):
                        continue
                    return
                if ri == -1 and not line.startswith(WARC_FIRST_LINES):
                    self._file_failure(source, "not_warc" if line else "empty_file", filepath)
                    return
                if not line:
                    return
                start = source.tell() - len(line)
                source.forget_before(start)
                source.record_start = start
                ri += 1
                try:
                    outcome, file_format = self._read_record(loader, source, line, start, file_format, filepath, ri)
                except GzipFailure as failure:
                    if self._gzip_failure(source, failure, filepath):
                        continue
                    return
                except _BadFraming as bad:
                    if not self._resync(source, bad, filepath):
                        return
                    continue
                if outcome is None:
                    continue
                if isinstance(outcome, str):
                    self._count(outcome)
                    continue
                yield outcome

    def _resync(self, source: WarcByteStream, bad: _BadFraming, filepath: str) -> bool:
        """Count the record(s) lost with one that could not be delimited and move to the
        next record. Returns False when the rest of the file is unreadable."""
        source.inflight = None
        try:
            found, types = source.resync(bad.start + 1)
        except GzipFailure as failure:
            if self._maybe_doc(bad.rec_type):
                self._count("corrupt_record")
            return self._gzip_failure(source, failure, filepath)
        except Unseekable:
            found, types = False, []
        # every record header seen in the skipped bytes is a lost record (the broken one
        # included); if none is readable, the broken record alone is counted
        lost = sum(self._maybe_doc(t) for t in types) if types else int(self._maybe_doc(bad.rec_type))
        if bad.short and not found:
            self._file_failure(source, "truncated_file", filepath, lost_doc=False)
            reason = "truncated_file"
        else:
            reason = "corrupt_record"
            logger.warning(f"{filepath}: corrupt record at offset {bad.start}, {'resynced' if found else 'rest of file lost'}")
        if lost:
            self.stat_update(f"error_{reason}", value=lost)
        return found

    def _read_record(self, loader, source: WarcByteStream, line: bytes, start: int, file_format, filepath: str, ri: int):
        """Parse, process and delimit one record. Returns (outcome, file_format) where
        outcome is a Document, an error reason, or None for a non-document record."""
        from warcio.limitreader import LimitReader

        known = "warc" if line.startswith(b"WARC/") else file_format
        source.inflight = "?"
        source.header_budget = _MAX_HEADER_BYTES
        try:
            record = loader.parse_record_stream(source, statusline=line, known_format=known)
        except GzipFailure:
            raise
        except EOFError:
            raise _BadFraming(start, None, short=True) from None
        except Exception:  # noqa: BLE001 - any parse failure of untrusted bytes is a corrupt record
            raise _BadFraming(start, None) from None
        finally:
            source.header_budget = None

        rec_type = record.rec_type
        if record.format == "warc" and (rec_type or "").lower() not in _WARC_TYPES:
            rec_type = None  # unreadable type: it may have been a document
        is_doc = rec_type in self._doc_types
        source.inflight = rec_type or "?"
        if record.format == "warc":
            length = record.rec_headers.get_header("Content-Length")
            if length is None or not length.strip().isdigit():
                raise _BadFraming(start, rec_type)
        if not isinstance(record.raw_stream, LimitReader):
            raise _BadFraming(start, rec_type)
        file_format = file_format or record.format

        outcome = None
        if rec_type is None:  # framing is intact but the record's type is unreadable
            outcome = "corrupt_record"
        elif is_doc:
            with self.track_time():
                try:
                    outcome = self._extract(record, filepath, ri)
                except GzipFailure:
                    raise
                except Exception:  # noqa: BLE001 - bad chunked/content encoding of the payload
                    outcome = "corrupt_record"

        # consume the rest of the block, then check it ends where Content-Length says
        raw_stream = record.raw_stream
        while raw_stream.read(CHUNK):
            pass
        if raw_stream.limit > 0:
            raise _BadFraming(start, rec_type, short=True)
        if record.format == "warc":
            end = source.tell()
            if source.read(4) != b"\r\n\r\n":
                # tolerate other blank-line separators, but the next line must start a record
                try:
                    source.seek(end)
                    nxt = source.next_record_line()
                    if nxt and not nxt.startswith(b"WARC/"):
                        raise _BadFraming(start, rec_type)
                    source.seek(source.tell() - len(nxt))
                except Unseekable:
                    raise _BadFraming(start, rec_type) from None
        source.settle()
        return outcome, file_format

    def _extract(self, record, filepath: str, ri: int):
        """A Document from a response/conversion record, or the reason it is not one."""
        import magic

        headers = record.rec_headers
        conversion = record.rec_type == "conversion"
        accepted = _HTML_TYPES + (("text/plain",) if conversion else ())
        http = record.http_headers
        http_content_type = http.get_header("Content-Type") if http is not None else record.content_type
        if http is not None and not conversion:
            try:
                code = int(http.get_statuscode())
            except (TypeError, ValueError):
                code = -1
            if code not in self.http_status_keep:
                return http_status_reason(code)

        mime = headers.get_header("WARC-Identified-Payload-Type")
        if mime is not None:
            mime = mime.split(";")[0].strip().lower()
            if mime not in accepted:
                return "non_html"
        elif conversion and record.content_type:
            declared = record.content_type.split(";")[0].strip().lower()
            if declared in accepted:
                mime = declared

        stream = record.content_stream()
        content = bytearray()
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            if len(content) + len(chunk) > self.max_doc_bytes:
                return "too_large"  # the caller drains the rest in chunks
            content += chunk
        content = bytes(content)
        if not content:
            return "empty"
        if mime is None:
            mime = magic.from_buffer(content, mime=True)
            if mime not in accepted:
                return "non_html"

        decoded = decode_page(content, http_content_type)
        if decoded.text is None:
            return "charset"
        if decoded.how == "fallback":
            self.stat_update("charset_fallback")
        text = decoded.text

        data = {"text": text}
        record_id = headers.get_header("WARC-Record-ID")
        if record_id:
            data["id"] = record_id
        url = headers.get_header("WARC-Target-URI") or headers.get_header("uri")
        date = headers.get_header("WARC-Date") or headers.get_header("archive-date")
        data.update({"url": url, "date": date, "warc_file": filepath})
        document = self.get_document_from_dict(data, filepath, ri)
        if document is None:
            return "empty"
        return document
