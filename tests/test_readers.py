"""AccountedWarcReader: every response/conversion record is either yielded or counted.

All inputs are real WARC/WET files written with warcio into tmp_path, then damaged
in the ways real crawls get damaged. For each case:

    documents yielded + sum(error_*) == response/conversion records in the file
"""

import gzip
import io
import json
import random
import tracemalloc
from pathlib import Path

import pytest
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import WarcReader
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.curate.readers import AccountedWarcReader

TOPICS = ["river deltas", "bread baking", "lighthouse keepers", "tide pools", "glass blowing", "alpine huts"]


def html_page(i: int, extra: str = "") -> bytes:
    topic = TOPICS[i % len(TOPICS)]
    return (
        f"<!DOCTYPE html>\n<html><head><title>Notes on {topic} #{i}</title></head><body>\n"
        f"<h1>Notes on {topic}</h1>\n"
        f"<p>This is page {i}. It collects a few plain observations about {topic}, written for a test "
        f"of the curation reader. Nothing here is meant to be profound.</p>\n"
        f"<p>A second paragraph adds detail: people who care about {topic} tend to keep notebooks, "
        f"compare them with friends and argue politely about small things.</p>\n"
        f"<p>The last paragraph closes page {i}. {extra}</p>\n</body></html>\n"
    ).encode()


def warc_bytes(rec_type: str, url: str, payload: bytes, *, content_type="text/html", warc_headers=None,
               http=True, gz=False, status="200 OK") -> bytes:
    """One WARC record as written by warcio (a whole gzip member when gz=True)."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    if rec_type == "warcinfo":
        record = writer.create_warcinfo_record(url, {"software": "test-suite", "format": "WARC 1.0"})
    elif rec_type == "response" and http:
        headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=headers,
                                           warc_headers_dict=warc_headers)
    else:
        record = writer.create_warc_record(url, rec_type, payload=io.BytesIO(payload),
                                           warc_content_type=content_type, warc_headers_dict=warc_headers)
    writer.write_record(record)
    return buf.getvalue()


def response(i: int, gz=False, **kw) -> bytes:
    return warc_bytes("response", f"https://example.org/page/{i}", html_page(i), gz=gz, **kw)


def request(i: int, gz=False) -> bytes:
    return warc_bytes("request", f"https://example.org/page/{i}", b"GET /page HTTP/1.1\r\nHost: example.org\r\n\r\n",
                      content_type="application/http; msgtype=request", gz=gz)


def metadata(i: int, gz=False) -> bytes:
    return warc_bytes("metadata", f"https://example.org/page/{i}", b"fetchTimeMs: 12\r\n",
                      content_type="application/warc-fields", gz=gz)


def warcinfo(gz=False) -> bytes:
    return warc_bytes("warcinfo", "test.warc", b"", gz=gz)


def read_all(folder: Path, **kw):
    reader = AccountedWarcReader(str(folder), **kw)
    docs = list(reader.run())
    stats = reader.stats.to_dict()["stats"]
    return docs, {k: (v if isinstance(v, (int, float)) else v["total"]) for k, v in stats.items()}


def errors(stats: dict) -> dict:
    return {k: v for k, v in stats.items() if k.startswith("error_")}


def assert_accounted(docs, stats, n_records):
    assert stats.get("documents", 0) == len(docs)
    assert len(docs) + sum(errors(stats).values()) == n_records, (len(docs), errors(stats))


def record_ids(data: bytes) -> list[str]:
    return [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(io.BytesIO(data))
            if r.rec_type == "response"]


# --------------------------------------------------------------------------- clean input
@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_clean_file_matches_stock_warc_reader(tmp_path, gz):
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / ("clean.warc.gz" if gz else "clean.warc"), "wb") as f:
        writer = WARCWriter(f, gzip=gz)
        writer.write_record(writer.create_warcinfo_record("clean.warc", {"software": "test-suite"}))
        for i in range(8):
            f.write(request(i, gz=gz))
            f.write(response(i, gz=gz, warc_headers={"WARC-Identified-Payload-Type": "text/html"} if i % 2 else None))
            f.write(metadata(i, gz=gz))

    stock = list(WarcReader(str(folder)).run())
    docs, stats = read_all(folder, default_metadata={"dump": "CC-TEST"})

    key = lambda d: (d.id, d.text, d.metadata["url"], d.metadata["date"])  # noqa: E731
    assert [key(d) for d in docs] == [key(d) for d in stock]
    assert len(docs) == 8
    assert errors(stats) == {}
    assert_accounted(docs, stats, 8)
    assert all(d.metadata["dump"] == "CC-TEST" for d in docs)
    assert {d.metadata["warc_file"] for d in docs} == {"clean.warc.gz" if gz else "clean.warc"}
    # datatrove reader options behave as usual
    assert [d.id for d in AccountedWarcReader(str(folder), limit=3).run()] == [d.id for d in stock[:3]]
    assert [d.id for d in AccountedWarcReader(str(folder), skip=5).run()] == [d.id for d in stock[5:]]


def test_pipeline_run_over_bad_folder_counts_everything(tmp_path):
    """A real datatrove run over a folder mixing good and damaged files finishes and its
    stats.json accounts for every record."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    good = warcinfo(gz=True) + b"".join(response(i, gz=True) for i in range(4))
    (folder / "good.warc.gz").write_bytes(good)
    members = [response(i, gz=True) for i in range(4)]
    cut = len(members[0]) + len(members[1]) // 2
    (folder / "sub" / "cut.warc.gz").write_bytes(b"".join(members)[:cut])  # 1 yielded, 1 lost
    pdf = warc_bytes("response", "https://example.org/a.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
                     content_type="application/pdf")
    (folder / "mixed.warc").write_bytes(response(10) + pdf + response(11))

    logs = tmp_path / "logs"
    LocalPipelineExecutor(pipeline=[AccountedWarcReader(str(folder), glob_pattern="**/*.warc*")],
                          tasks=1, workers=1, logging_dir=str(logs)).run()
    step = json.loads((logs / "stats.json").read_text())[0]["stats"]
    total = lambda v: v if isinstance(v, (int, float)) else v["total"]  # noqa: E731
    stats = {k: total(v) for k, v in step.items()}
    assert stats["input_files"] == 3
    assert stats["documents"] == 4 + 1 + 2
    assert errors(stats) == {"error_truncated_gzip": 1, "error_non_html": 1}
    assert stats["files_damaged"] == 1
    assert stats["documents"] + sum(errors(stats).values()) == 4 + 2 + 3


# --------------------------------------------------------------------------- gzip damage
def test_truncated_gzip_keeps_earlier_records_and_counts_loss(tmp_path):
    data = warcinfo(gz=True) + b"".join(response(i, gz=True) for i in range(6))
    offsets = [(r.rec_type, it_off) for r, it_off in _offsets(data)]
    starts = [off for kind, off in offsets if kind == "response"]
    # cut inside the deflate data of the 4th response's member
    cut = (starts[3] + starts[4]) // 2
    (tmp_path / "t.warc.gz").write_bytes(data[:cut])

    docs, stats = read_all(tmp_path)
    assert [d.id for d in docs] == record_ids(data)[:3]
    assert errors(stats) == {"error_truncated_gzip": 1}
    assert stats["files_damaged"] == 1
    # records 5 and 6 are gone from the file entirely; the 4 that start before the cut are accounted for
    assert_accounted(docs, stats, 4)


def _offsets(data: bytes):
    it = ArchiveIterator(io.BytesIO(data))
    for record in it:
        yield record, it.get_record_offset()


def test_garbage_inside_gzip_member_resumes_at_next_member(tmp_path):
    members = [warcinfo(gz=True)] + [response(i, gz=True) for i in range(6)]
    bad = bytearray(members[3])
    rnd = random.Random(7)
    for j in range(40, len(bad) - 40):
        bad[j] = rnd.randrange(256)
    members[3] = bytes(bad)
    (tmp_path / "g.warc.gz").write_bytes(b"".join(members))

    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == [f"https://example.org/page/{i}" for i in (0, 1, 3, 4, 5)]
    assert errors(stats) == {"error_corrupt_file": 1}
    assert_accounted(docs, stats, 6)


# --------------------------------------------------------------------------- record damage
def _garble(rec: bytes, how: str) -> bytes:
    head, sep, body = rec.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if how == "length_not_a_number":
        lines = [b"Content-Length: 1x7" if ln.startswith(b"Content-Length") else ln for ln in lines]
    elif how in ("length_too_small", "length_too_large"):
        delta = -25 if how == "length_too_small" else 60
        lines = [b"Content-Length: %d" % (int(ln.split(b":")[1]) + delta) if ln.startswith(b"Content-Length") else ln
                 for ln in lines]
    elif how == "length_missing":
        lines = [ln for ln in lines if not ln.startswith(b"Content-Length")]
    elif how == "status_line":
        lines[0] = b"WXRC/1.0 garbled"
    elif how == "header_garbage":
        lines[2:3] = [b"\x00\xff\xfe" * 30]
        lines = [b"Content-Length: 12345678" if ln.startswith(b"Content-Length") else ln for ln in lines]
    return b"\r\n".join(lines) + sep + body


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("how", ["length_not_a_number", "length_too_small", "length_too_large", "length_missing",
                                 "status_line", "header_garbage"])
def test_corrupt_record_is_counted_and_reading_resyncs(tmp_path, how, gz):
    records = [warcinfo()] + [response(i) for i in range(6)]
    records[3] = _garble(records[3], how)  # the 3rd response (page 2)
    data = b"".join(gzip.compress(r) for r in records) if gz else b"".join(records)
    (tmp_path / ("c.warc.gz" if gz else "c.warc")).write_bytes(data)

    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == [f"https://example.org/page/{i}" for i in (0, 1, 3, 4, 5)]
    assert [d.text for d in docs] == [html_page(i).decode() for i in (0, 1, 3, 4, 5)]
    assert errors(stats) == {"error_corrupt_record": 1}
    assert_accounted(docs, stats, 6)


def test_plain_file_cut_mid_record(tmp_path):
    data = warcinfo() + b"".join(response(i) for i in range(3))
    (tmp_path / "p.warc").write_bytes(data[:-200])
    docs, stats = read_all(tmp_path)
    assert len(docs) == 2
    assert errors(stats) == {"error_truncated_file": 1}
    assert_accounted(docs, stats, 3)


def test_not_a_warc_at_all(tmp_path):
    (tmp_path / "notes.warc").write_bytes(b"just some notes\nnothing to see\n" * 50)
    docs, stats = read_all(tmp_path)
    assert docs == []
    assert errors(stats) == {"error_not_warc": 1}
    assert stats["damaged_not_warc"] == 1 and stats["files_damaged"] == 1


def test_broken_file_kinds_are_counted_and_reading_goes_on(tmp_path):
    """Zero-byte .warc.gz (an aborted upload), an uncompressed WARC named .warc.gz (read: compression is
    sniffed from the magic bytes), a gzip of nothing, an HTML page saved as .warc.gz, a gzipped JSON file."""
    good = warcinfo(gz=True) + b"".join(response(i, gz=True) for i in range(3))
    (tmp_path / "a-good.warc.gz").write_bytes(good)
    (tmp_path / "b-empty.warc.gz").write_bytes(b"")
    (tmp_path / "c-plain-named-gz.warc.gz").write_bytes(warcinfo() + response(10) + response(11))
    (tmp_path / "d-gzip-of-nothing.warc.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "e-html.warc.gz").write_bytes(html_page(20))
    (tmp_path / "f-json.warc.gz").write_bytes(gzip.compress(b'{"text": "not a crawl"}\n' * 20))
    docs, stats = read_all(tmp_path)
    assert sorted(d.metadata["url"] for d in docs) == [f"https://example.org/page/{i}" for i in (0, 1, 10, 11, 2)]
    assert errors(stats) == {"error_empty_file": 2, "error_not_warc": 2}
    assert stats["files_damaged"] == 4
    assert_accounted(docs, stats, 5 + 4)  # each broken file: at least one record lost


def test_http_status_is_filtered_and_counted_by_class(tmp_path):
    article = html_page(5, extra="It reads like an article, but the server said it was not found.")
    records = [warcinfo(), response(0)]
    for status in ("404 Not Found", "410 Gone", "503 Service Unavailable", "301 Moved Permanently",
                   "302 Found", "206 Partial Content", "999 Odd"):
        records.append(warc_bytes("response", f"https://example.org/{status.split()[0]}", article, status=status))
    records.append(response(1))
    (tmp_path / "status.warc").write_bytes(b"".join(records))
    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == ["https://example.org/page/0", "https://example.org/page/1"]
    assert errors(stats) == {"error_http_4xx": 2, "error_http_5xx": 1, "error_http_3xx": 2, "error_http_2xx": 1,
                             "error_http_other": 1}
    assert_accounted(docs, stats, 9)
    # configurable: keep redirects' bodies and 404s too
    docs, stats = read_all(tmp_path, http_status_keep=(200, 301, 302, 404))
    assert len(docs) == 5
    assert errors(stats) == {"error_http_4xx": 1, "error_http_5xx": 1, "error_http_2xx": 1, "error_http_other": 1}


def test_wet_conversion_records_have_no_status_and_are_kept(tmp_path):
    text = b"Plain text of a page, as Common Crawl's WET files hold it.\nA second line of it.\n"
    (tmp_path / "x.warc.wet").write_bytes(warcinfo() + warc_bytes("conversion", "https://example.org/t", text,
                                                                content_type="text/plain"))
    docs, stats = read_all(tmp_path)
    assert len(docs) == 1 and errors(stats) == {}


# --------------------------------------------------------------------------- payload problems
def test_pdf_and_image_payloads_are_non_html(tmp_path):
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    records = [
        warcinfo(),
        response(0),
        # CC-style identified payload type: rejected without reading the payload
        warc_bytes("response", "https://example.org/a.pdf", pdf, content_type="application/pdf",
                   warc_headers={"WARC-Identified-Payload-Type": "application/pdf"}),
        # no identified type: sniffed with libmagic, as datatrove does
        warc_bytes("response", "https://example.org/b.pdf", pdf, content_type="application/pdf"),
        warc_bytes("response", "https://example.org/c.png", png, content_type="image/png"),
        response(1),
    ]
    (tmp_path / "pdf.warc.gz").write_bytes(b"".join(gzip.compress(r) for r in records))
    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == ["https://example.org/page/0", "https://example.org/page/1"]
    assert errors(stats) == {"error_non_html": 3}
    assert_accounted(docs, stats, 5)


def test_undecodable_charset_is_counted(tmp_path):
    rnd = random.Random(3)
    garbage = bytes(rnd.randrange(0x80, 0x100) for _ in range(3000))
    with pytest.raises(UnicodeDecodeError):  # the premise: not UTF-8
        garbage.decode("utf-8")
    cyrillic = ("<html><body><p>" + "Это обычный абзац о речных дельтах и о том, как они меняются со временем. " * 8
                + "</p></body></html>").encode("cp1251")
    records = [
        warcinfo(),
        warc_bytes("response", "https://example.org/bin", garbage, content_type="text/html; charset=x-mystery",
                   warc_headers={"WARC-Identified-Payload-Type": "text/html"}),
        warc_bytes("response", "https://example.org/ru", cyrillic, content_type="text/html; charset=windows-1251",
                   warc_headers={"WARC-Identified-Payload-Type": "text/html"}),
        response(0),
    ]
    (tmp_path / "cs.warc").write_bytes(b"".join(records))
    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == ["https://example.org/ru", "https://example.org/page/0"]
    assert "дельтах" in docs[0].text  # the declared charset, which decodes it
    assert errors(stats) == {"error_charset": 1}
    assert "charset_fallback" not in stats
    assert_accounted(docs, stats, 3)


@pytest.mark.parametrize("label", ["undefined", "punycode", "unicode_escape", "base64", "rot13"])
def test_a_python_codec_that_is_no_page_charset_counts_as_unknown(label):
    """``charset=undefined`` raised a plain UnicodeError (not UnicodeDecodeError): the page was lost."""
    from pipeline.curate.charsets import decode_page

    page = "<p>A café by the river, and a page of UTF-8 text about it.</p>".encode()
    decoded = decode_page(page, f"text/html; charset={label}")
    assert decoded.text == page.decode() and decoded.encoding == "utf-8"


MISDECLARED = "<p>You’re right: the river’s delta isn’t what it was, and “every” café owner agrees – twice.</p>"


@pytest.mark.parametrize("encoding, declared, expected", [
    ("cp1252", "text/html; charset=utf-8", "You’re right"),      # the case seen on real crawls
    ("utf-8", "text/html; charset=iso-8859-1", "café owner"),    # UTF-8 bytes declared latin-1: not "cafÃ©"
    ("cp1251", "text/html; charset=utf-8", "дельтах"),
])
def test_misdeclared_charset_is_detected_and_counted(tmp_path, encoding, declared, expected):
    body = MISDECLARED if encoding != "cp1251" else "<p>" + "Это абзац о речных дельтах и о том, как они меняются. " * 6
    body = ("<html><body>" + body * 4 + "</body></html>").encode(encoding)
    (tmp_path / "m.warc").write_bytes(warcinfo() + warc_bytes("response", "https://example.org/m", body,
                                                            content_type=declared) + response(0))
    docs, stats = read_all(tmp_path)
    assert len(docs) == 2 and errors(stats) == {}
    assert expected in docs[0].text
    assert "í" not in docs[0].text and "Ã" not in docs[0].text and "\ufffd" not in docs[0].text
    assert stats["charset_fallback"] == 1


def test_meta_charset_is_honoured_when_the_header_has_none(tmp_path):
    body = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body>'
            + MISDECLARED * 4 + "</body></html>").encode("cp1252")
    (tmp_path / "meta.warc").write_bytes(warcinfo() + warc_bytes("response", "https://example.org/m", body))
    docs, stats = read_all(tmp_path)
    assert "You’re right" in docs[0].text
    assert "charset_fallback" not in stats  # declared correctly, in the page itself


def test_huge_page_is_skipped_without_loading_it(tmp_path):
    size = 50 * 1024 * 1024
    paragraph = html_page(99)[:-len(b"</body></html>\n")]
    big = paragraph + b"<p>filler line for a very large page</p>\n" * (size // 41) + b"</body></html>\n"
    assert len(big) > size
    path = tmp_path / "big.warc.gz"
    with open(path, "wb") as f:
        f.write(response(0, gz=True))
        writer = WARCWriter(f, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://example.org/huge", "response",
                                                      payload=io.BytesIO(big), http_headers=headers))
        f.write(response(1, gz=True))
    del big

    tracemalloc.start()
    try:
        docs, stats = read_all(tmp_path, max_doc_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [d.metadata["url"] for d in docs] == ["https://example.org/page/0", "https://example.org/page/1"]
    assert errors(stats) == {"error_too_large": 1}
    assert_accounted(docs, stats, 3)
    assert peak < 8 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB"


def test_empty_html_payload(tmp_path):
    records = [warcinfo(), response(0),
               warc_bytes("response", "https://example.org/empty", b"",
                          warc_headers={"WARC-Identified-Payload-Type": "text/html"}),
               response(1)]
    (tmp_path / "e.warc").write_bytes(b"".join(records))
    docs, stats = read_all(tmp_path)
    assert len(docs) == 2
    assert errors(stats) == {"error_empty": 1}
    assert_accounted(docs, stats, 3)


# --------------------------------------------------------------------------- WET
@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_wet_file(tmp_path, gz):
    texts = [f"Notes on {t}\nA short paragraph of plain text about {t}, extracted from a page.\n" for t in TOPICS]
    records = [warcinfo(gz=gz)] + [
        warc_bytes("conversion", f"https://example.org/wet/{i}", t.encode(), content_type="text/plain", gz=gz,
                   warc_headers={"WARC-Refers-To": f"<urn:uuid:00000000-0000-0000-0000-00000000000{i}>"})
        for i, t in enumerate(texts)
    ]
    (tmp_path / ("x.warc.wet.gz" if gz else "x.warc.wet")).write_bytes(b"".join(records))
    docs, stats = read_all(tmp_path)
    assert [d.text for d in docs] == texts
    assert [d.metadata["url"] for d in docs] == [f"https://example.org/wet/{i}" for i in range(len(texts))]
    assert errors(stats) == {}
    assert_accounted(docs, stats, len(texts))

    # formats="warc" reads only response records: conversions are not documents then
    docs, stats = read_all(tmp_path, formats="warc")
    assert docs == [] and errors(stats) == {}


# --------------------------------------------------------------------------- damage across records
def _crawl_records() -> list[bytes]:
    """Common Crawl layout: warcinfo, then request / response / metadata per page."""
    return [warcinfo()] + [r for i in range(6) for r in (request(i), response(i), metadata(i))]


def test_damage_spanning_two_records_counts_the_lost_response(tmp_path):
    records = _crawl_records()
    data = b"".join(records)
    # delete from inside the 3rd request's payload through the start of the following response
    req_start = sum(len(r) for r in records[:7])
    cut_from = req_start + len(records[7]) - 30
    (tmp_path / "s.warc").write_bytes(data[:cut_from] + data[cut_from + 60:])
    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == [f"https://example.org/page/{i}" for i in (0, 1, 3, 4, 5)]
    assert errors(stats) == {"error_corrupt_record": 1}  # the response; the broken request is not a document
    assert_accounted(docs, stats, 6)


def test_checksum_damage_in_a_non_document_member_loses_no_document(tmp_path):
    members = [gzip.compress(r) for r in _crawl_records()]
    bad = bytearray(members[4])  # request record of page 1
    bad[-6] ^= 0xFF  # CRC32 trailer
    members[4] = bytes(bad)
    (tmp_path / "m.warc.gz").write_bytes(b"".join(members))
    docs, stats = read_all(tmp_path)
    assert len(docs) == 6
    assert errors(stats) == {}
    assert stats["damaged_corrupt_file"] == 1 and stats["files_damaged"] == 1
    assert_accounted(docs, stats, 6)


def test_random_single_damage_never_raises_nor_hides_a_loss(tmp_path):
    """Flip, zero, insert or delete a few bytes anywhere: the reader never raises, and
    documents + errors never fall below the 6 responses (a loss is never silent;
    an unidentifiable lost record is counted as a possible document)."""
    rnd = random.Random(11)
    records = _crawl_records()
    for case in range(120):
        gz = case % 2 == 0
        data = bytearray(b"".join(gzip.compress(r) for r in records) if gz else b"".join(records))
        p = rnd.randrange(len(data))
        op = rnd.choice(["flip", "zero", "insert", "delete"])
        if op == "flip":
            data[p] ^= 1 << rnd.randrange(8)
        elif op == "zero":
            data[p:p + 20] = bytes(len(data[p:p + 20]))
        elif op == "insert":
            data[p:p] = bytes(rnd.randrange(256) for _ in range(50))
        else:
            del data[p:p + 50]
        folder = tmp_path / str(case)
        folder.mkdir()
        (folder / "f.warc").write_bytes(bytes(data))
        docs, stats = read_all(folder)
        assert len(docs) + sum(errors(stats).values()) >= 6, (case, op, gz, p, len(docs), errors(stats))
        assert len(docs) <= 6
