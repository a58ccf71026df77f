"""Bad records in a real crawl go through ``cpt extract``: each is counted under a reason in the
funnel's first row, the task never crashes, and in = kept + Σ removed still holds."""

import gzip
import json

import pyarrow.parquet as pq
from test_readers import MISDECLARED, html_page, warc_bytes


def write_crawl(folder):
    folder.mkdir()
    good = b"".join(warc_bytes("response", f"https://ok.example/{i}.html", html_page(i), gz=True) for i in range(6))
    pdf = warc_bytes("response", "https://ok.example/doc.pdf", b"%PDF-1.4\n" + b"0" * 500, gz=True,
                     content_type="application/pdf", warc_headers={"WARC-Identified-Payload-Type": "application/pdf"})
    huge = warc_bytes("response", "https://ok.example/huge.html",
                      b"<html><body><p>" + b"big page " * 300_000 + b"</p></body></html>", gz=True)
    charset = warc_bytes("response", "https://ok.example/bytes.html", bytes(range(128, 256)) * 40, gz=True,
                         warc_headers={"WARC-Identified-Payload-Type": "text/html"})
    (folder / "a.warc.gz").write_bytes(good + pdf + huge + charset)
    whole = b"".join(warc_bytes("response", f"https://cut.example/{i}.html", html_page(10 + i), gz=True)
                     for i in range(4))
    (folder / "b.warc.gz").write_bytes(whole[: len(whole) * 5 // 8])  # a truncated gzip


def extract_manifest(tmp_path):
    (m,) = [json.loads(p.read_text()) for p in (tmp_path / "work" / "extract").glob("*/manifest.json")]
    return m


def test_bad_records_are_counted_not_lost(cpt, tmp_path):
    write_crawl(tmp_path / "crawl")
    r = cpt("extract", f"curate.input.paths=[{tmp_path}/crawl]", "curate.max_doc_bytes=1048576")
    assert r.returncode == 0, r.stderr[-3000:]
    funnel = extract_manifest(tmp_path)["stats"]["funnel"]
    read = funnel["steps"][0]
    assert read["step"] == "read"
    assert read["reasons"]["non_html"] == 1 and read["reasons"]["too_large"] == 1
    assert read["reasons"]["charset"] == 1 and read["reasons"]["truncated_gzip"] == 1
    assert funnel["documents_in"] == funnel["kept"] + sum(s["removed"] for s in funnel["steps"])
    assert funnel["kept"] >= 6


def test_extractor_timeouts_are_counted(cpt, tmp_path):
    write_crawl(tmp_path / "crawl")
    r = cpt("extract", f"curate.input.paths=[{tmp_path}/crawl]", "recipe.extraction.timeout=0.000001")
    assert r.returncode == 0, r.stderr[-3000:]
    funnel = extract_manifest(tmp_path)["stats"]["funnel"]
    extraction = next(s for s in funnel["steps"] if s["step"] == "extraction")
    assert extraction["reasons"].get("timeout", 0) >= 1
    assert funnel["documents_in"] == funnel["kept"] + sum(s["removed"] for s in funnel["steps"])


def test_fsspec_url_with_glob(cpt, tmp_path):
    """Inputs may be fsspec URLs with globs (here file://; s3:// and friends need their fsspec backend)."""
    write_crawl(tmp_path / "crawl")
    r = cpt("extract", f"curate.input.paths=[file://{tmp_path}/crawl/a.*.gz]", "curate.input.dump=CC-TEST-01",
            "curate.max_doc_bytes=1048576")
    assert r.returncode == 0, r.stderr[-3000:]
    m = extract_manifest(tmp_path)
    assert m["stats"]["input_files"] == 1 and m["stats"]["dump"] == "CC-TEST-01"
    assert m["stats"]["funnel"]["documents_in"] == 9


def write_broken_crawl(folder):
    """Every kind of broken file and record seen on real crawls, beside good files."""
    folder.mkdir()
    page = lambda i, **kw: warc_bytes("response", f"https://ok.example/{i}.html", html_page(i), **kw)  # noqa: E731
    (folder / "00-good.warc.gz").write_bytes(b"".join(page(i, gz=True) for i in range(5)))
    (folder / "01-aborted-upload.warc.gz").write_bytes(b"")
    (folder / "02-uncompressed.warc.gz").write_bytes(b"".join(page(i) for i in range(5, 8)))
    (folder / "03-html-saved-as.warc.gz").write_bytes(html_page(30))
    (folder / "04-gzip-of-nothing.warc.gz").write_bytes(gzip.compress(b""))
    whole = b"".join(page(i, gz=True) for i in range(10, 14))
    (folder / "05-truncated.warc.gz").write_bytes(whole[: len(whole) * 5 // 8])
    statuses = b"".join(warc_bytes("response", f"https://err.example/{s.split()[0]}", html_page(40 + n), gz=True,
                                   status=s)
                        for n, s in enumerate(["404 Not Found", "503 Service Unavailable", "301 Moved Permanently"]))
    misdeclared = warc_bytes("response", "https://ok.example/cp1252.html", gz=True,
                             payload=("<html><body>" + MISDECLARED * 6 + "</body></html>").encode("cp1252"),
                             content_type="text/html; charset=utf-8")
    (folder / "06-statuses.warc.gz").write_bytes(statuses + misdeclared + page(20, gz=True))


def test_broken_files_are_counted_in_the_read_funnel_and_the_job_goes_on(cpt, tmp_path):
    write_broken_crawl(tmp_path / "crawl")
    r = cpt("extract", f"curate.input.paths=[{tmp_path}/crawl]", "recipe.extraction.timeout=10")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "01-aborted-upload.warc.gz: it is empty; counted in the read funnel" in r.stderr
    m = extract_manifest(tmp_path)
    funnel = m["stats"]["funnel"]
    read = funnel["steps"][0]
    assert read["reasons"] == {"empty_file": 2, "not_warc": 1, "truncated_gzip": 1,
                               "http_4xx": 1, "http_5xx": 1, "http_3xx": 1}
    assert read["notes"] == {"charset_fallback": 1}
    assert read["kept"] == 5 + 3 + 2 + 1 + 1  # good, uncompressed, before the cut, the cp1252 page, page 20
    written = pq.read_table(tmp_path / "work" / "extract" / m["fingerprint"] / "text").to_pylist()
    assert len(written) == funnel["kept"]
    assert funnel["documents_in"] == funnel["kept"] + sum(s["removed"] for s in funnel["steps"])
    fixed = next(d for d in written if d["metadata"]["url"].endswith("cp1252.html"))
    assert "You’re right" in fixed["text"] and "í" not in fixed["text"]
