"""The byte stream under the accounted WARC reader (:mod:`pipeline.curate.readers`): a raw WARC file's
bytes, decompressed here so that gzip damage is seen, and navigable past that damage and past records
that cannot be delimited."""

from __future__ import annotations

import re
import zlib

__all__ = ["CHUNK", "WarcByteStream", "GzipFailure", "TruncatedGzip", "CorruptGzip", "Unseekable"]

CHUNK = 1 << 16  # unit of every read: raw, decompressed, payload
_MAX_LINE = 1 << 20  # a single header line longer than this is split (and will not parse)
_GZIP_MAGIC = b"\x1f\x8b\x08"  # gzip id bytes + deflate method
_SNIFF_BYTES = 16 << 10  # how much of a damaged gzip member's start is searched for its WARC-Type
_WARC_TYPE_RE = re.compile(rb"(?im)^WARC-Type:[ \t]*([a-z]+)")
# mandatory WARC headers, also where a broken line start glued them to other text
_HEADER_LINE_RE = re.compile(rb"(WARC-Type|WARC-Record-ID|WARC-Date):[ \t]*([!-~]+)", re.IGNORECASE)
_HEADER_SPAN = 4096  # header lines further apart than this belong to different records


class GzipFailure(Exception):
    """The file's gzip data is damaged; ``reason`` is the reader's stat name for it."""

    reason = "corrupt_file"


class TruncatedGzip(GzipFailure):
    reason = "truncated_gzip"


class CorruptGzip(GzipFailure):
    reason = "corrupt_file"


class _HeadersTooLong(Exception):
    pass


class Unseekable(Exception):
    """The position asked for is no longer reachable (the file cannot seek, or its gzip member is forgotten)."""


def _group_headers(seen: dict[int, tuple[bytes, bytes]]) -> list[str | None]:
    """Group mandatory WARC header lines (WARC-Type, WARC-Record-ID, WARC-Date: one of
    each per record, close together) found at the given offsets into records; return
    each record's type (None where its WARC-Type line is gone)."""
    records: list[dict] = []
    last_off = None
    for off in sorted(seen):
        name, value = seen[off]
        name = name.lower()
        if not records or name in records[-1] or off - last_off > _HEADER_SPAN:
            records.append({})
        records[-1][name] = value
        last_off = off
    return [rec[b"warc-type"].decode("ascii").lower() if b"warc-type" in rec else None for rec in records]


class WarcByteStream:
    """Buffered byte stream over one raw (plain or multi-member gzip) WARC file.

    Offers what warcio's record loader needs (``read``, ``readline``, ``tell``) plus
    ``seek`` back to recent positions (to resync after a corrupt record) and
    ``recover`` past a damaged gzip member.  Decompression is done here with zlib so
    that a truncated or garbled gzip stream raises ``TruncatedGzip``/``CorruptGzip``
    instead of being silently cut short (what warcio's own decompressor does) or
    killing the task (what gzip/fsspec do).  Offsets (``tell``) are positions in the
    decompressed stream; they stay monotonic across a recovered gzip gap.
    """

    def __init__(self, raw):
        head = raw.read(len(_GZIP_MAGIC))  # enough to tell gzip from plain
        self._raw = raw
        try:
            self._seekable = bool(raw.seekable())
        except Exception:  # noqa: BLE001 - a file object without seekable() cannot seek
            self._seekable = False
        self.gz = head.startswith(b"\x1f\x8b")
        self._pending = head  # raw bytes read but not yet consumed
        self._raw_off = len(head)  # position of self._raw
        self._dec = None  # decompressor of the current gzip member
        self._member_raw = 0
        self._fail_raw = 0
        self._members: list[tuple[int, int]] = []  # (raw offset, stream offset) of gzip member starts
        self._buf = b""
        self._pos = 0
        self._virt = 0  # stream offset of self._buf[0]
        self.header_budget: int | None = None
        self.damaged = False  # a file-level failure was counted for this file
        self.record_start = 0
        self.resume_raw = 0  # raw offset where reading resumed after a gzip failure (or end of file)
        self.inflight: str | None = None  # record being read: None (between records), "?" or its WARC-Type

    # ---------------------------------------------------------------- low level
    def _end(self) -> int:
        return self._virt + len(self._buf)

    def _raw_read(self, n: int) -> bytes:
        data = self._raw.read(n)
        self._raw_off += len(data)
        return data

    def _produce(self, new_member: bool = True) -> bytes:
        """Next chunk of decompressed bytes; b"" at a clean end of file (or, with
        ``new_member=False``, at the end of the current gzip member)."""
        if not self.gz:
            if self._pending:
                data, self._pending = self._pending, b""
                return data
            return self._raw_read(CHUNK)
        while True:
            if self._dec is None:
                if not new_member:
                    return b""
                if len(self._pending) < len(_GZIP_MAGIC):
                    self._pending += self._raw_read(CHUNK)
                if not self._pending:
                    return b""
                member_raw = self._raw_off - len(self._pending)
                if not self._pending.startswith(_GZIP_MAGIC):
                    self._fail_raw = member_raw
                    if len(self._pending) < len(_GZIP_MAGIC) and _GZIP_MAGIC.startswith(self._pending):
                        raise TruncatedGzip()
                    raise CorruptGzip()
                self._members.append((member_raw, self._end()))
                self._member_raw = member_raw
                self._dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
            dec = self._dec
            if dec.unconsumed_tail:
                data = dec.unconsumed_tail
            elif self._pending:
                data, self._pending = self._pending, b""
            else:
                data = self._raw_read(CHUNK)
                if not data:
                    self._fail_raw = self._member_raw
                    raise TruncatedGzip()
            try:
                out = dec.decompress(data, CHUNK)  # bounded output: no zip bomb in memory
            except zlib.error:
                self._fail_raw = self._member_raw
                raise CorruptGzip() from None
            if dec.eof:
                self._pending = dec.unused_data
                self._dec = None
            if out:
                return out

    def _set_buf(self, data: bytes):
        self._virt = self._end()
        self._buf = data
        self._pos = 0

    def _fill(self) -> bool:
        if self._pos < len(self._buf):
            return True
        data = self._produce()
        if not data:
            return False
        self._set_buf(data)
        return True

    def _spend(self, n: int):
        if self.header_budget is not None:
            self.header_budget -= n
            if self.header_budget < 0:
                raise _HeadersTooLong()

    # ------------------------------------------------------- file-like surface
    def tell(self) -> int:
        return self._virt + self._pos

    def read(self, n: int | None = None) -> bytes:
        parts = []
        remaining = -1 if n is None or n < 0 else n
        while remaining != 0:
            if not self._fill():
                break
            avail = len(self._buf) - self._pos
            take = avail if remaining < 0 else min(avail, remaining)
            parts.append(self._buf[self._pos : self._pos + take])
            self._pos += take
            if remaining > 0:
                remaining -= take
        out = b"".join(parts)
        self._spend(len(out))
        return out

    def readline(self, limit: int | None = None) -> bytes:
        cap = _MAX_LINE if limit is None or limit < 0 else min(limit, _MAX_LINE)
        parts = []
        got = 0
        while got < cap:
            if not self._fill():
                break
            stop = min(len(self._buf), self._pos + cap - got)
            nl = self._buf.find(b"\n", self._pos, stop)
            end = nl + 1 if nl >= 0 else stop
            parts.append(self._buf[self._pos : end])
            got += end - self._pos
            self._pos = end
            if nl >= 0:
                break
        out = b"".join(parts)
        self._spend(len(out))
        return out

    def close(self):  # warcio may call close() on wrapped streams; the file is closed by its owner
        pass

    # ------------------------------------------------------------- navigation
    def forget_before(self, pos: int):
        """Drop gzip member bookkeeping no longer needed to seek back to ``pos``."""
        keep = 0
        for i, (_, virt) in enumerate(self._members):
            if virt <= pos:
                keep = i
        if keep:
            del self._members[:keep]

    def seek(self, target: int):
        if self._virt <= target <= self._end():
            self._pos = target - self._virt
            return
        if not self._seekable:
            raise Unseekable()
        self._pending = b""
        self._dec = None
        self._buf = b""
        self._pos = 0
        if not self.gz:
            self._raw.seek(target)
            self._raw_off = self._virt = target
            return
        idx = max((i for i, (_, virt) in enumerate(self._members) if virt <= target), default=None)
        if idx is None:
            raise Unseekable()
        raw_off, self._virt = self._members[idx]
        del self._members[idx:]  # re-registered when the member is decompressed again
        self._raw.seek(raw_off)
        self._raw_off = raw_off
        remaining = target - self._virt
        while remaining > 0:
            if not self._fill():
                break
            step = min(remaining, len(self._buf) - self._pos)
            self._pos += step
            remaining -= step

    def next_record_line(self) -> bytes:
        """Skip blank lines; return the first non-blank line (b"" at end of file)."""
        while True:
            line = self.readline()
            if not line or line.strip():
                return line

    def settle(self):
        """Make sure the current gzip member has been fully checked (CRC and size) if
        nothing of it is left unread, without touching the next member."""
        if self._pos < len(self._buf):
            return
        while self._dec is not None:
            data = self._produce(new_member=False)
            if data:
                self._set_buf(data)
                return

    def resync(self, pos: int) -> tuple[bool, list[str | None]]:
        """Position the stream at the next line starting with ``WARC/`` that begins at
        or after ``pos``. Returns whether one was found, and the WARC-Type values of the
        records whose header remnants are seen in the skipped bytes (None: type unreadable)."""
        base = max(pos - 1, 0)
        self.seek(base)
        seen: dict[int, tuple[bytes, bytes]] = {}
        tail = b""
        while True:
            chunk = self.read(CHUNK)
            if not chunk:
                return False, _group_headers(seen)
            data = tail + chunk
            i = data.find(b"\nWARC/")
            for m in _HEADER_LINE_RE.finditer(data, 0, i if i >= 0 else len(data)):
                seen.setdefault(base + m.start(), (m.group(1).lower(), m.group(2)))
            if i >= 0:
                self.seek(base + i + 1)
                return True, _group_headers(seen)
            tail = data[-256:]
            base += len(data) - len(tail)

    def recover(self, failure: GzipFailure) -> bool:
        """After a damaged gzip member, move to the next gzip member that decompresses
        to a WARC record. Returns False when nothing more can be read."""
        if isinstance(failure, TruncatedGzip) or not self._seekable:
            return False
        scan = self._fail_raw + 1
        tail = b""
        while True:
            self._raw.seek(scan)
            chunk = self._raw.read(CHUNK)
            if not chunk:
                self.resume_raw = scan
                return False
            data = tail + chunk
            base = scan - len(tail)
            i = data.find(_GZIP_MAGIC)
            while i >= 0:
                if self._valid_member_at(base + i):
                    self._restart_at(base + i)
                    return True
                i = data.find(_GZIP_MAGIC, i + 1)
            tail = data[-(len(_GZIP_MAGIC) - 1) :]
            scan += len(chunk)

    def examine_failed_member(self, record_start: int) -> tuple[str | None, int | None]:
        """For the gzip member that just failed, if it holds only the record starting at
        ``record_start`` (one member per record, the usual layout): the record's WARC-Type
        if its beginning still decompresses, and the raw offset where the member's
        deflate data ended intact (only a checksum/length check failed), else None."""
        if not self._seekable or not self._members:
            return None, None
        raw_off, virt = self._members[-1]
        if raw_off != self._fail_raw or virt != record_start:
            return None, None
        self._raw.seek(raw_off)
        dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = b""
        fed = 0
        end = None
        try:
            while not dec.eof:
                # small steps: output decompressed before an error is not lost with it, and
                # the error's position is known to within a step
                data = dec.unconsumed_tail
                if not data:
                    data = self._raw.read(64)
                    fed += len(data)
                if not data:
                    break
                piece = dec.decompress(data, 256)
                if len(out) < _SNIFF_BYTES:
                    out += piece
        except zlib.error as exc:
            if "check" in str(exc):  # "incorrect data check" / "incorrect length check"
                end = raw_off + fed
        head = out.partition(b"\r\n\r\n")[0]
        match = _WARC_TYPE_RE.search(head) if head.startswith(b"WARC/") else None
        return (match.group(1).decode("ascii").lower() if match else None), end

    def _valid_member_at(self, off: int) -> bool:
        self._raw.seek(off)
        dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = b""
        try:
            for _ in range(16):
                data = dec.unconsumed_tail or self._raw.read(4096)
                if not data:
                    break
                out += dec.decompress(data, 64)
                if len(out) >= 5 or dec.eof:
                    break
        except zlib.error:
            return False
        return out.startswith(b"WARC/")

    def _restart_at(self, off: int):
        self.resume_raw = off
        self._raw.seek(off)
        self._raw_off = off
        self._pending = b""
        self._dec = None
        self._virt = self._end()
        self._buf = b""
        self._pos = 0
        self._members = []
