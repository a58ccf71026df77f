"""Bad input: one clear line naming the thing, a non-zero exit, and no completed manifest."""

import io
import json

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def completed(tmp_path):
    return [p for p in tmp_path.glob("work/*/*/manifest.json") if json.loads(p.read_text())["status"] == "completed"]


def write_tiny_warc(path):
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        html = b"<html><body><p>" + b"The quick brown fox jumps over the lazy dog. " * 30 + b"</p></body></html>"
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record("https://example.com/a", "response", payload=io.BytesIO(html),
                                            http_headers=headers))


def one_error_line(r, expected):
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("cpt: error:")]
    assert r.returncode != 0, r.stderr[-2000:]
    assert len(lines) == 1 and expected in lines[0], r.stderr[-2000:]
    assert "Traceback" not in r.stderr


def test_missing_input_path(cpt, tmp_path):
    r = cpt("curate", f"curate.input.paths=[{tmp_path}/nope/*.warc.gz]")
    one_error_line(r, f"input glob matched no files: {tmp_path}/nope/*.warc.gz")
    r = cpt("curate", f"curate.input.paths=[{tmp_path}/missing.warc.gz]")
    one_error_line(r, f"input path not found: {tmp_path}/missing.warc.gz")
    assert not completed(tmp_path)


def test_unreadable_warc(cpt, tmp_path):
    bad = tmp_path / "broken.warc.gz"
    bad.write_bytes(b"this is not a WARC file at all\n" * 10)
    r = cpt("curate", f"curate.input.paths=[{bad}]")
    one_error_line(r, f"no readable WARC file in the input: {bad}: it does not start with a 'WARC/' record header")
    assert not completed(tmp_path)


def test_missing_language_model(cpt, tmp_path):
    good = tmp_path / "ok.warc.gz"
    write_tiny_warc(good)
    r = cpt("curate", f"curate.input.paths=[{good}]", f"recipe.filters.language.model_path={tmp_path}/lid.176.bin")
    one_error_line(r, f"missing asset 'language-id model' at {tmp_path}/lid.176.bin")
    assert not completed(tmp_path)


def test_missing_tokenizer(cpt, tmp_path):
    r = cpt("tokenize", f"tokenizer.path={tmp_path}/tok.json")
    one_error_line(r, f"missing asset 'tokenizer {tmp_path}/tok.json'")
    assert not completed(tmp_path)


def test_tokenizer_checksum_mismatch(cpt, tmp_path):
    tok = tmp_path / "tok.json"
    tok.write_text("{}")
    r = cpt("tokenize", f"tokenizer.path={tok}", "tokenizer.sha256=" + "0" * 64)
    one_error_line(r, "checksum mismatch for asset")
    assert not completed(tmp_path)


def test_a_tokenizer_that_does_not_load_fails_before_any_stage(cpt, tmp_path):
    tok = tmp_path / "tok.json"
    tok.write_text('{"model": "not a tokenizer"}')
    r = cpt("run", f"tokenizer.path={tok}")
    one_error_line(r, f"tokenizer {tok} does not load (")
    assert not list(tmp_path.glob("work/*/*/manifest.json"))  # not even the sample ran


def test_a_base_checkpoint_that_is_not_one_fails_before_any_stage(cpt, tmp_path):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "notes.txt").write_text("not a checkpoint")
    r = cpt("run", f"base_model.checkpoint={tmp_path}/ck")
    one_error_line(r, f"no checkpoint at {tmp_path}/ck")
    assert not list(tmp_path.glob("work/*/*/manifest.json"))
