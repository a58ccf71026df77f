"""Dedup: URL dedup, exact dedup and MinHash (FineWeb: per dump, 5-grams, 14 buckets x 8 hashes).

Passes run in that order, each on what the previous kept (``passes.py``). With ``scope=per_dump``
every dump is deduplicated on its own; with ``global`` across all of them. MinHash keeps one document
per cluster, with ``minhash_cluster_id`` and ``minhash_cluster_size`` in its metadata.

Outputs of ``dedup/<fp>/``: ``docs/*.parquet`` (kept), ``passes/<dump>/<pass>/removed/`` (every removed
document, with its cluster id), ``funnel.parquet`` (per pass and dump: in, removed, kept)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datatrove.pipeline.base import PipelineStep

from pipeline.curate.accounting import DumpTally, tally_by_dump
from pipeline.executor import Executor, Job, stat
from pipeline.dedup.memory import GB, default_memory_limit
from pipeline.dedup.passes import PassResult, _reader, _writer, exact_pass, minhash_config, minhash_pass
from pipeline.errors import CptError
from pipeline.registry import StageContext, output_version

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import DedupConfig

DOCS_DIR = "docs"
ALL = "all"


class DefaultDump(PipelineStep):
    """Names the dump of documents that have none ("unknown"), so they can be partitioned."""

    name = "🏷️ default dump"
    type = "📊 - ACCOUNTING"

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            doc.metadata["dump"] = doc.metadata.get("dump") or "unknown"
            yield doc


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def partition_by_dump(executor: Executor, src: Path, out: Path, tasks: int, workers: int) -> list[tuple[str, Path]]:
    """Split the input into ``by_dump/<dump>/`` folders (one per dump)."""
    from datatrove.pipeline.writers import ParquetWriter

    executor.run(Job([_reader(src), DefaultDump(),
                      ParquetWriter(output_folder=str(out), output_filename="${dump}/${rank}.parquet")],
                     out.parent / "logs" / "0_partition", tasks, workers, "dedup partition by dump"))
    return [(d.name, d) for d in sorted(out.iterdir()) if d.is_dir()]


def groups_for(cfg: DedupConfig, ctx: StageContext, src: Path, tasks: int, workers: int) -> list[tuple[str, Path]]:
    if cfg.scope == "global":
        return [(ALL, src)]
    dump = ctx.inputs["curate"].stats.get("dump")
    if isinstance(dump, str) and dump:  # curation recorded a single dump: nothing to split
        return [(dump, src)]
    return partition_by_dump(ctx.executor, src, ctx.out_dir / "by_dump", tasks, workers)


def copy_pass(executor: Executor, src: Path, dst: Path, prefix: str, logs: Path, tasks: int,
              workers: int) -> PassResult:
    steps = executor.run(Job([_reader(src), DumpTally("in"), _writer(dst, prefix)], logs, tasks, workers,
                             "dedup (copy)"))
    by_dump = {d: {"in": t["docs"], "removed": 0} for d, t in tally_by_dump(steps[1]).items()}
    n = stat(steps[0], "documents")
    return PassResult("none", n, 0, n, by_dump)


@output_version(1)
def run(ctx: StageContext) -> dict:
    cfg: DedupConfig = ctx.config.dedup
    src = ctx.inputs["curate"].path / "docs"
    if not _parquet_files(src):
        raise CptError(f"dedup: no curated documents in {src} (did curation keep anything?)")
    out = ctx.out_dir
    workers = cfg.workers or cfg.tasks
    limit = int(cfg.memory_limit_gb * GB) if cfg.memory_limit_gb else default_memory_limit()
    names = [n for n, on in (("url", cfg.url), ("exact", cfg.exact), ("minhash", cfg.method == "minhash")) if on]

    results: list[PassResult] = []
    groups = groups_for(cfg, ctx, src, min(cfg.tasks, len(_parquet_files(src))), workers)
    for group, gsrc in groups:
        cur = gsrc
        for i, name in enumerate(names or ["none"]):
            last = i == max(len(names), 1) - 1
            work = out / "passes" / group / name
            dst, prefix = (out / DOCS_DIR, f"{group}_") if last else (work / "docs", "")
            files = _parquet_files(cur)
            if not files:  # an earlier pass (or the partition) left nothing for this group
                results.append(PassResult(name, 0, 0, 0, {}))
                continue
            tasks = min(cfg.tasks, len(files))
            ctx.log(f"{group}: {name} pass over {len(files)} file(s), {tasks} task(s)")
            if name == "none":
                res = copy_pass(ctx.executor, cur, dst, prefix, work / "logs", tasks, workers)
            elif name == "minhash":
                res = minhash_pass(ctx.executor, cur, dst, work, prefix, cfg, tasks, workers, limit,
                                   language=ctx.config.word_tokenizer)
            else:
                res = exact_pass(ctx.executor, name, cur, dst, work, prefix, cfg, tasks, workers)
            results.append(res)
            cur = dst
    funnel = build_funnel(results, names or ["none"])
    write_funnel(funnel, out / "funnel.parquet")
    docs_in = sum(r["in"] for r in funnel["by_dump"].values())
    kept = sum(r["kept"] for r in funnel["by_dump"].values())
    for p in funnel["passes"]:
        ctx.log(f"{p['step']}: {p['in']} in, {p['removed']} removed, {p['kept']} kept")
    return {"method": cfg.method, "scope": cfg.scope, "passes": funnel["passes"], "by_dump": funnel["by_dump"],
            "documents_in": docs_in, "kept": kept, "removed_duplicates": docs_in - kept,
            "memory_limit_gb": round(limit / GB, 2),
            "minhash": str(minhash_config(cfg)) if cfg.method == "minhash" else None}


def build_funnel(results: list[PassResult], names: list[str]) -> dict:
    """Sum the per-group results per pass; check in = kept + removed per pass and per dump."""
    passes = []
    for name in names:
        rs = [r for r in results if r.name == name]
        row = {"step": name, "in": sum(r.documents_in for r in rs), "removed": sum(r.removed for r in rs),
               "kept": sum(r.kept for r in rs), "by_dump": {}}
        for r in rs:
            for d, v in r.by_dump.items():
                acc = row["by_dump"].setdefault(d, {"in": 0, "removed": 0})
                acc["in"] += v["in"]
                acc["removed"] += v["removed"]
        if row["in"] != row["kept"] + row["removed"]:
            raise CptError(f"dedup {name}: accounting broke: {row}")
        passes.append(row)
    by_dump: dict[str, dict] = {}
    for i, row in enumerate(passes):
        for d, v in row["by_dump"].items():
            acc = by_dump.setdefault(d, {"in": v["in"] if i == 0 else 0, "removed": {}, "kept": 0})
            acc["removed"][row["step"]] = v["removed"]
    for d, acc in by_dump.items():
        last = passes[-1]["by_dump"].get(d, {"in": 0, "removed": 0})
        acc["kept"] = last["in"] - last["removed"]
        if acc["in"] != acc["kept"] + sum(acc["removed"].values()):
            raise CptError(f"dedup accounting broke for dump {d!r}: {acc}")
    return {"passes": passes, "by_dump": by_dump}


def write_funnel(funnel: dict, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"step": p["step"], "dump": d, "in": v["in"], "removed": v["removed"], "kept": v["in"] - v["removed"]}
            for p in funnel["passes"] for d, v in sorted(p["by_dump"].items())]
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(
        [("step", pa.string()), ("dump", pa.string()), ("in", pa.int64()), ("removed", pa.int64()),
         ("kept", pa.int64())])), tmp)
    tmp.rename(path)
