"""A user's own JSONL and Parquet records: every record that cannot become a document is counted under a
reason and reading goes on (documents + errors = records); every document has the same string metadata,
so records whose fields differ in type go through the Parquet writer; a file set that cannot give a
document is refused up front, in one line naming the fix."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import InputError
from pipeline.records import AccountedJsonlReader, AccountedParquetReader, check_record_files

TEXT = "A paragraph of plain text about the night sky, the planets and the comets we saw in May. " * 3


def read(reader) -> tuple[list, dict[str, int]]:
    docs = list(reader.run())
    errors = {k[len("error_"):]: int(v.total) for k, v in reader.stats.stats.items() if k.startswith("error_")}
    return docs, errors


def test_every_bad_jsonl_line_is_counted_and_reading_goes_on(tmp_path):
    lines = [b'\xef\xbb\xbf{"text": "first, after a byte-order mark", "id": 7}',  # id becomes "7"
             b'{"text": null}', b'{"id": "no text field"}', b'{"text": ""}',
             b'{"text": 42}', b'{"text": {"nested": 1}}',
             b'[1, 2]', b'"a string"', b'{broken',
             b'{"text": "bad byte \xff here"}',  # the rest of the file is still read
             b'', b'   ',  # blank lines are not records
             b'{"text": "' + b"x" * 5000 + b'"}',  # over max_record_bytes, skipped without being loaded
             b'{"text": "last", "url": "https://a.example/p", "date": 2020, "meta": {"k": [1, 2]}}']
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    docs, errors = read(AccountedJsonlReader(str(tmp_path), max_record_bytes=4096))
    assert errors == {"no_text": 3, "text_not_a_string": 2, "not_an_object": 2, "bad_json": 1, "undecodable": 1,
                      "too_large": 1}
    assert [d.text for d in docs] == ["first, after a byte-order mark", "last"]
    assert len(docs) + sum(errors.values()) == len([line for line in lines if line.strip()])
    first, last = docs
    assert first.id == "7" and first.metadata["url"] == ""
    assert last.metadata["url"] == "https://a.example/p"
    assert json.loads(last.metadata["fields"]) == {"date": 2020, "meta": {"k": [1, 2]}}
    assert {k for d in docs for k in d.metadata} == {"url", "file_path", "fields"}
    assert all(isinstance(v, str) for d in docs for v in d.metadata.values())


def test_a_cut_gzip_keeps_what_came_before_and_counts_the_cut(tmp_path):
    data = "".join(json.dumps({"text": f"document {i} " * 30}) + "\n" for i in range(300)).encode()
    packed = gzip.compress(data)
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    docs, errors = read(AccountedJsonlReader(str(tmp_path)))
    assert errors == {"truncated_file": 1}
    assert 0 < len(docs) < 300 and [d.text for d in docs] == [f"document {i} " * 30 for i in range(len(docs))]


def test_every_compression_is_read_whole_and_a_corrupt_one_counted(tmp_path):
    """.zst as The Pile and SlimPajama ship it (several frames), .xz and .bz2; a corrupt .xz and a .zst that
    is not zstd are one error_truncated_file each, never a traceback."""
    import bz2
    import lzma

    import zstandard

    data = "".join(json.dumps({"text": f"document {i} " * 30}) + "\n" for i in range(200)).encode()
    frames = zstandard.ZstdCompressor()
    (tmp_path / "a.jsonl.zst").write_bytes(frames.compress(data[:5000]) + frames.compress(data[5000:]))
    (tmp_path / "b.jsonl.xz").write_bytes(lzma.compress(data))
    (tmp_path / "c.jsonl.bz2").write_bytes(bz2.compress(data))
    docs, errors = read(AccountedJsonlReader(str(tmp_path)))
    assert errors == {} and len(docs) == 600
    assert sorted(d.text for d in docs) == sorted(f"document {i} " * 30 for i in range(200) for _ in range(3))
    (tmp_path / "d.jsonl.xz").write_bytes(lzma.compress(data)[:400])
    (tmp_path / "e.jsonl.zst").write_bytes(b"not zstd at all\n" * 10)
    docs, errors = read(AccountedJsonlReader(str(tmp_path)))
    assert errors == {"truncated_file": 2} and len(docs) >= 600


def test_parquet_bad_rows_a_corrupt_row_group_and_a_file_that_is_not_parquet(tmp_path):
    rows = [{"id": str(i), "text": f"document number {i} " * 40} for i in range(300)]
    rows[5]["text"] = None
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "groups.parquet", row_group_size=100,
                   compression="snappy")
    column = pq.ParquetFile(tmp_path / "groups.parquet").metadata.row_group(1).column(0)
    start = min(o for o in (column.dictionary_page_offset, column.data_page_offset) if o is not None)
    raw = bytearray((tmp_path / "groups.parquet").read_bytes())
    raw[start + 40: start + column.total_compressed_size - 10] = b"\xab" * (column.total_compressed_size - 50)
    (tmp_path / "groups.parquet").write_bytes(bytes(raw))
    pq.write_table(pa.table({"text": [1, 2, 3]}), tmp_path / "ints.parquet")  # a text column of integers
    (tmp_path / "not.parquet").write_text("this is not a Parquet file")
    docs, errors = read(AccountedParquetReader(str(tmp_path)))
    assert errors == {"corrupt_row_group": 100, "no_text": 1, "text_not_a_string": 3, "unreadable_file": 1}
    assert len(docs) == 199 and {d.id for d in docs} == {str(i) for i in range(300) if i != 5 and not 100 <= i < 200}


def test_a_file_set_without_documents_is_refused_in_one_line_naming_the_fix(tmp_path):
    (tmp_path / "array.json").write_text(json.dumps([{"text": TEXT}]))
    with pytest.raises(InputError, match=r"JSON array, not JSON Lines"):
        check_record_files([str(tmp_path / "array.json")], "jsonl", "text", "curate.input.text_key", print)
    (tmp_path / "content.jsonl").write_text(json.dumps({"id": 1, "content": TEXT}) + "\n")
    with pytest.raises(InputError, match=r"no 'text' field \(it has: content, id\); name the text field with "
                                         r"curate.input.text_key=<field>"):
        check_record_files([str(tmp_path / "content.jsonl")], "jsonl", "text", "curate.input.text_key", print)
    pq.write_table(pa.table({"raw_content": [TEXT]}), tmp_path / "rc.parquet")
    with pytest.raises(InputError, match=r"no 'text' column \(it has: raw_content\); .* replay.text_key=<field>"):
        check_record_files([str(tmp_path / "rc.parquet")], "parquet", "text", "replay.text_key", print)
    warned = []  # one good file: the others are warned of and their records counted by the reader
    check_record_files([str(tmp_path / "content.jsonl"), str(tmp_path / "array.json")], "jsonl", "content",
                       "curate.input.text_key", warned.append)
    assert len(warned) == 1 and "array.json" in warned[0]
    docs, _ = read(AccountedJsonlReader(str(tmp_path), glob_pattern="content.jsonl", text_key="content"))
    assert [d.text for d in docs] == [TEXT] and docs[0].id == "1"


def _messy_folder(folder) -> int:
    """Records whose fields differ in type from one record to the next (which stops datatrove's Parquet
    writer), and bad lines; returns the number of records."""
    folder.mkdir()
    good = [{"id": 1, "text": TEXT + " one", "meta": {"a": 1}}, {"id": "x", "text": TEXT + " two", "meta": "s"},
            {"text": TEXT + " three", "url": "https://sky.example/3", "date": 2020},
            {"text": TEXT + " four", "date": "2020-01-01", "url": None}]
    bad = ['{"text": 5}', "{oops", '{"id": "empty"}']
    (folder / "messy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in good) + "\n".join(bad) + "\n")
    return len(good) + len(bad)


def test_extraction_of_messy_jsonl_accounts_for_every_record(cpt, tmp_path):
    records = _messy_folder(tmp_path / "data")
    r = cpt("extract", f"curate.input.paths=[{tmp_path}/data]", "curate.input.format=jsonl")
    assert r.returncode == 0, r.stderr[-3000:]
    (manifest,) = [json.loads(p.read_text()) for p in (tmp_path / "work" / "extract").glob("*/manifest.json")]
    funnel = manifest["stats"]["funnel"]
    read_row = funnel["steps"][0]
    assert funnel["documents_in"] == records and read_row["kept"] == 4
    assert read_row["reasons"] == {"text_not_a_string": 1, "bad_json": 1, "no_text": 1}
    assert funnel["kept"] + funnel["removed"] == records
    (text,) = (tmp_path / "work" / "extract").glob("*/text")
    table = pa.concat_tables([pq.read_table(p) for p in sorted(text.glob("*.parquet"))])
    assert sorted(table.column("id").to_pylist()) == ["1", "messy.jsonl/2", "messy.jsonl/3", "x"]

    r = cpt("extract", f"curate.input.paths=[{tmp_path}/data]", "curate.input.format=jsonl",
            "curate.input.text_key=body")
    assert r.returncode != 0 and "curate.input.text_key=<field>" in r.stderr and "Traceback" not in r.stderr


def test_replay_records_that_cannot_be_read_are_counted(cpt, tmp_path):
    folder = tmp_path / "replay"
    folder.mkdir()
    lines = [json.dumps({"text": f"{TEXT} replay document {i}."}) for i in range(40)] + ['{"text": null}', "[]"]
    (folder / "r.jsonl").write_text("\n".join(lines) + "\n")
    r = cpt("replay", f"replay.paths=[{folder}]")
    assert r.returncode == 0, r.stderr[-3000:]
    (manifest,) = [json.loads(p.read_text()) for p in (tmp_path / "work" / "replay").glob("*/manifest.json")]
    assert manifest["stats"]["documents"] == 40 and manifest["stats"]["skipped"] == {"no_text": 1, "not_an_object": 1}
    assert "2 replay record(s) skipped" in r.stderr

    other = tmp_path / "other"  # records whose text is under another name: refused before any stage runs
    other.mkdir()
    (other / "o.jsonl").write_text("".join(json.dumps({"raw_content": f"{TEXT} {i}"}) + "\n" for i in range(4)))
    r = cpt("run", f"replay.paths=[{other}]", f"workdir={tmp_path}/work2")
    assert r.returncode != 0 and "replay.text_key=<field>" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "work2" / "sample").exists()
    r = cpt("replay", f"replay.paths=[{other}]", "replay.text_key=raw_content", f"workdir={tmp_path}/work2")
    assert r.returncode == 0, r.stderr[-3000:]


def test_a_first_record_longer_than_the_sniff_is_left_to_the_reader(tmp_path):
    book = json.dumps({"text": "A long book about the sky. " * 60_000})  # 1.6 MB on one line
    (tmp_path / "books.jsonl").write_text(book + "\n" + json.dumps({"text": TEXT}) + "\n")
    check_record_files([str(tmp_path / "books.jsonl")], "jsonl", "text", "curate.input.text_key", print)
    docs, errors = read(AccountedJsonlReader(str(tmp_path)))
    assert len(docs) == 2 and not errors


def test_a_lone_surrogate_is_replaced_and_the_record_kept(tmp_path):
    lines = [rb'{"text": "a cut emoji \ud83d here, a whole one \ud83d\ude00", "tags": ["\udc00"]}',
             rb'{"text": "\ud83d and not JSON',
             rb'{"text": "\ud83d nested too deep", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
             rb'{"text": "\ud83d with a big number", "n": 123456789012345678901234567890}']
    (tmp_path / "s.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    reader = AccountedJsonlReader(str(tmp_path))
    docs, errors = read(reader)
    assert [d.text for d in docs] == ["a cut emoji \ufffd here, a whole one \U0001F600", "\ufffd with a big number"]
    assert json.loads(docs[0].metadata["fields"]) == {"tags": ["\ufffd"]}
    assert json.loads(docs[1].metadata["fields"]) == {"n": 123456789012345678901234567890}
    assert errors == {"bad_json": 2} and reader.stats.stats["lone_surrogates"].total == 2
    pq.write_table(pa.Table.from_pylist([{"text": d.text} for d in docs]), tmp_path / "written.parquet")
