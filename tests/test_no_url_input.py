"""A user's own JSONL or Parquet records need only ``text``: a record without a ``url`` (no field, null or
empty) passes the URL filter, kept and counted under the url row's ``no_url`` note, and records that have
one are still checked (a block-listed domain is removed)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_curate_robustness import extract_manifest

TEXT = "A paragraph of plain text about the night sky, the planets and the comets we saw in May. " * 3


def _records() -> dict[str, list[dict]]:
    """Three files: every record with a URL (one block-listed), none with a URL, and a few without."""
    with_url = [{"id": f"a{i}", "text": TEXT, "url": f"https://astro.example/{i}"} for i in range(8)]
    with_url.append({"id": "a-blocked", "text": TEXT, "url": "https://pornhub.com/x"})
    without = [{"id": f"b{i}", "text": TEXT} for i in range(6)]
    mixed = [{"id": f"c{i}", "text": TEXT, "url": f"https://sky.example/{i}"} for i in range(7)]
    mixed += [{"id": "c-null", "text": TEXT, "url": None}, {"id": "c-empty", "text": TEXT, "url": ""},
              {"id": "c-none", "text": TEXT}]
    return {"with_url": with_url, "without_url": without, "some_without": mixed}


def _write(folder, fmt: str) -> None:
    folder.mkdir()
    for name, rows in _records().items():
        if fmt == "jsonl":
            (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        else:
            columns = sorted({k for r in rows for k in r})
            pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in columns} for r in rows]),
                           folder / f"{name}.parquet")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_records_without_url_are_kept_and_noted(cpt, tmp_path, fmt):
    _write(tmp_path / "data", fmt)
    r = cpt("extract", f"curate.input.paths=[{tmp_path}/data]", f"curate.input.format={fmt}")
    assert r.returncode == 0, r.stderr[-3000:]
    funnel = extract_manifest(tmp_path)["stats"]["funnel"]
    assert funnel["documents_in"] == 9 + 6 + 10
    (url,) = [row for row in funnel["steps"] if row["step"] == "url"]
    assert url["notes"] == {"no_url": 6 + 3}  # the file without the field, and null / empty / missing
    assert url["removed"] == 1 and sum(url["reasons"].values()) == 1  # the block-listed one, checked as before
    assert funnel["kept"] + funnel["removed"] == funnel["documents_in"]
    assert funnel["kept"] == 24
