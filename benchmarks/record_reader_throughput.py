"""Record reader throughput: the accounted JSONL and Parquet readers (``pipeline/records.py``) against
datatrove's stock readers on the same files, one process, one core. Records are shaped as FineWeb's are
(text, id, dump, url, date, file_path, language, language_score, token_count), with the generated
English articles of the sample as text. Prints documents/s and MB/s of each, and the ratio.

    .venv/bin/python benchmarks/record_reader_throughput.py [--docs 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def records(n: int) -> list[dict]:
    from pipeline.sample.generate import english_article

    rng = random.Random(0)
    out = []
    for i in range(n):
        text = "\n\n".join(english_article(rng)[1])
        out.append({"text": text, "id": f"<urn:uuid:{i:08x}-0000-0000-0000-000000000000>",
                    "dump": "CC-MAIN-2024-10", "url": f"https://site{i % 997}.example/page/{i}",
                    "date": "2024-02-21T12:00:00Z", "file_path": f"s3://commoncrawl/crawl-data/{i % 64}.warc.gz",
                    "language": "en", "language_score": round(rng.random(), 4), "token_count": len(text) // 4})
    return out


def best_of(repeats: int, reader_factory) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeats):
        reader = reader_factory()
        t0 = time.perf_counter()
        count = sum(1 for _ in reader.run())
        times.append(time.perf_counter() - t0)
    return min(times), count


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    import pyarrow as pa
    import pyarrow.parquet as pq
    from datatrove.pipeline.readers import JsonlReader, ParquetReader
    from datatrove.utils.logging import logger

    from pipeline.records import AccountedJsonlReader, AccountedParquetReader

    logger.remove()
    rows = records(args.docs)
    with tempfile.TemporaryDirectory(prefix="cpt-readbench-") as tmp:
        jsonl, parquet = Path(tmp) / "jsonl", Path(tmp) / "parquet"
        jsonl.mkdir()
        parquet.mkdir()
        (jsonl / "part.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        pq.write_table(pa.Table.from_pylist(rows), parquet / "part.parquet")
        mb = (jsonl / "part.jsonl").stat().st_size / 1e6
        print(f"{args.docs} FineWeb-shaped records, {mb:.1f} MB of JSONL; best of {args.repeats}")
        for fmt, folder, stock, ours in (("jsonl", jsonl, JsonlReader, AccountedJsonlReader),
                                          ("parquet", parquet, ParquetReader, AccountedParquetReader)):
            base_s, base_n = best_of(args.repeats, lambda: stock(str(folder)))
            ours_s, ours_n = best_of(args.repeats, lambda: ours(str(folder)))
            assert base_n == ours_n == args.docs, (base_n, ours_n)
            print(f"  {fmt:8s} stock {args.docs / base_s:9,.0f} docs/s ({mb / base_s:6.1f} MB/s)   accounted "
                  f"{args.docs / ours_s:9,.0f} docs/s ({mb / ours_s:6.1f} MB/s)   accounted/stock time "
                  f"{ours_s / base_s:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
