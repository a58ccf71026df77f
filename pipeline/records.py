"""Readers of a user's own records (JSON Lines, Parquet) that account for every record and never raise
on bad data, for new data (``curate.input``) and replay (``replay``).

datatrove's stock ``JsonlReader`` and ``ParquetReader`` skip a line that is not JSON and a record without
text with a log line only, drop the rest of a file at its first invalid UTF-8 byte, and raise out of the
task on a text that is not a string or a truncated ``.gz``. Their documents then keep each record's
own fields as metadata, whose types the Parquet writer fixes from the first document: an ``id`` of 1 in
one record and ``"x"`` in the next fails the stage. Here every record that does not become a document is
counted once as ``error_<reason>`` (the read row of the funnel), so that

    documents + sum(error_*) == records in the input

and every document has the same metadata, all strings: ``url`` ("" when the record has none, which the
URL filter keeps and notes as ``no_url``), ``dump`` (the record's own when it is a string, else the
configured one: the funnel counts per dump), ``file_path`` (the input file), and
``fields``: the record's other fields as one JSON object (non-JSON values such as dates as strings).

Reasons: ``bad_json`` (a line that does not parse), ``not_an_object`` (a line holding a list, number or
string), ``undecodable`` (a line that is not UTF-8), ``no_text`` (the text field missing, null or ""),
``text_not_a_string``, ``too_large`` (a record over ``max_record_bytes``, skipped without loading it),
``truncated_file`` (a compressed file that ends early or is corrupt: 1, the records after the cut are
unknowable), ``unreadable_file`` (a file that is not Parquet: 1), ``corrupt_row_group`` (a Parquet row group
that does not decode: its records not yet read, counted from the file's footer). A blank line is not a
record. A UTF-8 byte-order mark at the start of a file is skipped. A line whose escapes hold a lone UTF-16
surrogate (a cut emoji) is kept with U+FFFD in its place and noted as ``lone_surrogates``."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from typing import BinaryIO, Iterator

import zstandard

from datatrove.data import Document
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.utils.logging import logger

from pipeline.errors import InputError
from pipeline.inputs import check_some_usable

BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_RECORD_BYTES = 10_000_000
SURROGATES_NOTE = "lone_surrogates"  # a note, not a removal: records kept with U+FFFD for each lone surrogate
_CHUNK = 1 << 20
_SNIFF_BYTES = 1 << 20  # what the pre-check reads of a JSONL file's first record
# gzip cut short, not gzip, bad CRC; corrupt xz or zstd
_STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError)


def decompressed(raw: BinaryIO, name: str) -> BinaryIO:
    """``raw`` decompressed by its file name's suffix (.gz, .bz2, .xz, .zst, else as is), with
    ``readline``. zstd is read across every frame (fsspec's reader stops after the first, and has no
    ``readline``)."""
    name = name.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw)
    if name.endswith(".bz2"):
        return bz2.BZ2File(raw)
    if name.endswith((".xz", ".lzma")):
        return lzma.LZMAFile(raw)
    if name.endswith((".zst", ".zstd")):
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True))
    return raw


def _json(value) -> str:
    """Compact JSON, keys sorted; values JSON cannot hold (dates, bytes) as their ``str``."""
    import orjson

    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # an integer over 64 bits (the standard library parses them)
        import json

        return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _as_text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else _json(value)


class _RecordReader(BaseDiskReader):
    """What the JSONL and Parquet readers share: a record (a dict) to a document, or the reason it is not one."""

    def __init__(self, data_folder, paths_file=None, *, text_key: str = "text", id_key: str = "id",
                 default_metadata: dict | None = None, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES, **kwargs):
        super().__init__(data_folder, paths_file, text_key=text_key, id_key=id_key,
                         default_metadata=default_metadata, **kwargs)
        self.max_record_bytes = max_record_bytes

    def document(self, record, filepath: str, index: int) -> Document | str:
        if not isinstance(record, dict):
            return "not_an_object"
        text = record.get(self.text_key)
        if text is None or text == "":
            return "no_text"
        if not isinstance(text, str):
            return "text_not_a_string"
        if len(text) > self.max_record_bytes:  # characters: a lower bound of the bytes
            return "too_large"
        record_id = record.get(self.id_key)
        rest = {k: v for k, v in record.items() if k not in (self.text_key, self.id_key, "url")}
        dump = record.get("dump")
        metadata = {**(self.default_metadata or {}), **({"dump": dump} if dump and isinstance(dump, str) else {}),
                    "url": _as_text(record.get("url")),
                    "file_path": self.data_folder.resolve_paths(filepath),
                    "fields": _json(rest)}
        return Document(text=text, id=f"{filepath}/{index}" if record_id in (None, "") else _as_text(record_id),
                        metadata=metadata)

    def count(self, reason: str, filepath: str, detail: str = "", value: int = 1) -> None:
        self.stat_update(f"error_{reason}", value=value)
        if detail:
            logger.warning(f"{filepath}: {detail}; counted as error_{reason}, reading goes on")


def _loads_lone_surrogates(line: bytes):
    """A JSON line whose escapes hold a lone UTF-16 surrogate, which no UTF-8 writer can store: parsed by
    the standard library, each lone surrogate replaced by U+FFFD (None if the line is not JSON at all)."""
    import json

    def clean(value):
        if isinstance(value, str):
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        return value

    try:
        return clean(json.loads(line))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


class AccountedJsonlReader(_RecordReader):
    """JSON Lines, plain or compressed (by extension: :func:`decompressed`)."""

    name = "🐿 Jsonl (accounted)"

    def read_file(self, filepath: str) -> Iterator[Document]:
        index = 0
        try:
            with self.data_folder.open(filepath, "rb") as raw, decompressed(raw, filepath) as f:
                first = True
                while True:
                    line = f.readline(self.max_record_bytes + 1)
                    if not line:
                        break
                    if first and line.startswith(BOM):
                        line = line[len(BOM):]
                    first = False
                    if len(line) > self.max_record_bytes and not line.endswith(b"\n"):
                        self._skip_rest_of_line(f)
                        self.count("too_large", filepath)
                        index += 1
                        continue
                    if not line.strip():
                        continue
                    with self.track_time():
                        doc = self._parse(line, filepath, index)
                    index += 1
                    if isinstance(doc, str):
                        self.count(doc, filepath)
                    else:
                        yield doc
        except _STREAM_ERRORS as exc:
            self.count("truncated_file", filepath, f"the file ends early or is corrupt after {index} records "
                                                   f"({type(exc).__name__}: {exc})")

    def _parse(self, line: bytes, filepath: str, index: int) -> Document | str:
        import orjson

        try:
            record = orjson.loads(line)  # orjson rejects invalid UTF-8 with its own error
        except orjson.JSONDecodeError as exc:
            if "utf-8" in str(exc).lower():
                return "undecodable"
            if "surrogate" not in str(exc):
                return "bad_json"
            record = _loads_lone_surrogates(line)  # "\ud83d" alone: a cut emoji, common in scraped text
            if record is None:
                return "bad_json"
            self.stat_update(SURROGATES_NOTE)
        return self.document(record, filepath, index)

    def _skip_rest_of_line(self, f) -> None:
        while True:
            chunk = f.readline(_CHUNK)
            if not chunk or chunk.endswith(b"\n"):
                return


class AccountedParquetReader(_RecordReader):
    """Parquet, row group by row group; a file or row group that does not decode is counted, the rest read."""

    name = "📒 Parquet (accounted)"

    def __init__(self, *args, batch_size: int = 1000, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch_size = batch_size

    def read_file(self, filepath: str) -> Iterator[Document]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        with self.data_folder.open(filepath, "rb") as f:
            try:
                pqf = pq.ParquetFile(f)
            except (pa.ArrowException, OSError) as exc:
                self.count("unreadable_file", filepath, f"not a readable Parquet file ({exc})")
                return
            index = 0
            for group in range(pqf.num_row_groups):
                expected, seen = pqf.metadata.row_group(group).num_rows, 0
                try:
                    for batch in pqf.iter_batches(batch_size=self.batch_size, row_groups=[group]):
                        for record in batch.to_pylist():
                            seen += 1
                            with self.track_time():
                                doc = self.document(record, filepath, index)
                            index += 1
                            if isinstance(doc, str):
                                self.count(doc, filepath)
                            else:
                                yield doc
                except (pa.ArrowException, OSError, ValueError) as exc:
                    self.count("corrupt_row_group", filepath, f"row group {group} does not decode after {seen} "
                               f"of its {expected} records ({exc})", value=expected - seen)
                    index += expected - seen


def record_file_problem(path: str, fmt: str, text_key: str) -> str | None:
    """Why an input file cannot give a document (or None): it cannot be opened, is not Parquet, is a JSON
    array rather than JSON Lines, or its first record has no ``text_key`` field (naming the fields it has).
    Sniffs the start of the file only. A file the filesystem will not let us read is an error."""
    import fsspec

    try:
        if fmt == "parquet":
            return _parquet_problem(path, text_key)
        with fsspec.open(str(path), "rb") as raw, decompressed(raw, str(path)) as f:
            head = f.readline(_SNIFF_BYTES)
            while head and not head.strip():
                head = f.readline(_SNIFF_BYTES)
    except (EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError) as exc:
        return f"it does not decompress ({exc})"
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise InputError(f"cannot read input file {path}: {exc.strerror or exc}") from None
        return f"it does not decompress ({exc})"
    head = head.removeprefix(BOM).strip()
    if len(head) >= _SNIFF_BYTES - len(BOM) - 1 and not head.startswith(b"["):
        return None  # a first record longer than the sniff (a book): the reader reads and counts it
    return _first_line_problem(head, text_key)


def _first_line_problem(head: bytes, text_key: str) -> str | None:
    import orjson

    if not head:
        return "it is empty"
    if head.startswith(b"["):
        return "it is a JSON array, not JSON Lines (one object per line): convert it with jq -c '.[]'"
    try:
        record = orjson.loads(head)
    except orjson.JSONDecodeError:
        return "its first line is not JSON"
    if not isinstance(record, dict):
        return "its first line is not a JSON object"
    if text_key not in record:
        return f"its first record has no {text_key!r} field (it has: {', '.join(sorted(record)[:12])})"
    return None


def _parquet_problem(path: str, text_key: str) -> str | None:
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    with fsspec.open(str(path), "rb") as f:
        try:
            schema = pq.ParquetFile(f).schema_arrow
        except (pa.ArrowException, OSError) as exc:
            return f"it is not a readable Parquet file ({exc})"
    if text_key not in schema.names:
        return f"it has no {text_key!r} column (it has: {', '.join(schema.names[:12])})"
    return None


def check_record_files(files: list[str], fmt: str, text_key: str, setting: str, log) -> None:
    """Fails when no file can give a document (naming the first and ``setting``, the text field's key);
    otherwise warns of each file that cannot, whose records the reader then counts."""
    def hint(why: str) -> str:
        return f"; name the text field with {setting}=<field>" if "field" in why or "column" in why else ""

    check_some_usable(files, lambda f: record_file_problem(f, fmt, text_key), f"usable {fmt}", log, hint)
