"""Run the real dedup stage on a folder of curated-style Parquet, outside the full chain.

    python tests/dedup_runner.py <root> '<DedupConfig overrides as JSON>'

``<root>/curate/docs/*.parquet`` is the input; the stage writes under ``<root>/work/dedup/``."""

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_curated(root: Path, rows: list[dict], files: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs = root / "curate" / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for k in range(files):
        pq.write_table(pa.Table.from_pylist(rows[k::files]), docs / f"{k:03d}.parquet")
    return docs


def articles(n: int, seed: int = 0) -> list[str]:
    from pipeline.sample.generate import english_article

    rng = random.Random(seed)
    return ["\n\n".join(english_article(rng)[1]) for _ in range(n)]


def run_dedup(root: Path, overrides: dict, single_dump=None):
    from pipeline.config import DedupConfig
    from pipeline.dedup import stage
    from pipeline.launch.executors import executor_for
    from pipeline.registry import Artifact, Registry, Runtime

    curate = Artifact("curate", "test", root / "curate", {"stats": {"dump": single_dump}})
    return Registry(root / "work").run("dedup", stage.run, config={"dedup": DedupConfig(**overrides), "word_tokenizer": "eng"},
                                       inputs={"curate": curate}, runtime=Runtime(executor=executor_for(None)))


def read_docs(folder: Path) -> list[dict]:
    import pyarrow.parquet as pq

    out = []
    for f in sorted(folder.glob("*.parquet")):
        out.extend(pq.read_table(f).to_pylist())
    return out


if __name__ == "__main__":
    art = run_dedup(Path(sys.argv[1]), json.loads(sys.argv[2]))
    print(json.dumps(art.stats))
