"""Dedup: datatrove's four MinHash stages (signatures -> buckets -> clusters -> filter).

One document is kept per cluster; it carries its cluster id and size in the metadata."""

from __future__ import annotations

from pipeline.config import DedupConfig
from pipeline.datatrove_run import run_local, stat
from pipeline.errors import CptError
from pipeline.registry import StageContext

DOCS_DIR = "docs"


def minhash_config(cfg: DedupConfig):
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig

    m = cfg.minhash
    return MinhashConfig(n_grams=m.n_grams, num_buckets=m.num_buckets, hashes_per_bucket=m.hashes_per_bucket,
                         seed=m.seed, hash_config=HashConfig(precision=m.precision, hash_fc=m.hash_fc))


def run(ctx: StageContext) -> dict:
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    cfg: DedupConfig = ctx.config
    src = ctx.inputs["curate"].path / "docs"
    files = sorted(p.name for p in src.glob("*.parquet"))
    if not files:
        raise CptError(f"dedup: no curated documents in {src} (did curation keep anything?)")
    out, logs = ctx.out_dir, ctx.out_dir / "logs"
    # The same reader, same task count, in the signature and filter stages: documents are
    # addressed by their position within each task's input.
    tasks = min(cfg.tasks, len(files))

    def reader():
        return ParquetReader(str(src), glob_pattern="*.parquet")

    writer = ParquetWriter(output_folder=str(out / DOCS_DIR), output_filename="${rank}.parquet")
    if cfg.method == "none":
        step_stats = run_local([reader(), writer], logging_dir=logs / "copy", tasks=tasks, workers=tasks,
                               what="dedup (copy)")
        n = stat(step_stats[0], "documents")
        return {"method": "none", "documents_in": n, "kept": n, "removed_duplicates": 0}

    mh = minhash_config(cfg)
    run_local([reader(), MinhashDedupSignature(output_folder=str(out / "signatures"), config=mh)],
              logging_dir=logs / "1_signatures", tasks=tasks, workers=tasks, what="dedup signatures")
    run_local([MinhashDedupBuckets(input_folder=str(out / "signatures"), output_folder=str(out / "buckets"),
                                   config=mh)],
              logging_dir=logs / "2_buckets", tasks=mh.num_buckets, workers=2, what="dedup buckets")
    run_local([MinhashDedupCluster(input_folder=str(out / "buckets"), output_folder=str(out / "remove_ids"),
                                   config=mh, save_cluster_id=True, save_cluster_size=True)],
              logging_dir=logs / "3_clusters", tasks=1, workers=1, what="dedup clustering")
    step_stats = run_local(
        [reader(),
         MinhashDedupFilter(input_folder=str(out / "remove_ids"), load_cluster_ids=True, load_cluster_sizes=True,
                            exclusion_writer=ParquetWriter(output_folder=str(out / "removed"),
                                                           output_filename="${rank}.parquet")),
         writer],
        logging_dir=logs / "4_filter", tasks=tasks, workers=tasks, what="dedup filter")
    docs_in = stat(step_stats[0], "documents")
    kept, dropped = stat(step_stats[1], "forwarded"), stat(step_stats[1], "dropped")
    if docs_in != kept + dropped or stat(step_stats[2], "total") != kept:
        raise CptError(f"dedup accounting broke: in {docs_in} != kept {kept} + removed {dropped}")
    ctx.log(f"{docs_in} documents in, {dropped} removed as near-duplicates, {kept} kept")
    return {"method": "minhash", "documents_in": docs_in, "kept": kept, "removed_duplicates": dropped,
            "minhash": str(mh)}
