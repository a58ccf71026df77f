"""Bad records in a real crawl go through ``cpt extract``: each is counted under a reason in the
funnel's first row, the task never crashes, and in = kept + Σ removed still holds."""

import json

from test_readers import html_page, warc_bytes


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
    r = cpt("extract", f"curate.input.paths=[{tmp_path}/crawl]", "curate.max_doc_bytes=1048576",
            "recipe.extraction.timeout=10")
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
