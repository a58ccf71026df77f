"""The dedup passes, each a chain of datatrove stages that reads one Parquet folder and writes the
documents it keeps to another: URL and exact-content dedup (datatrove's ExactDedup, three stages) and
MinHash (datatrove's four stages, FineWeb settings).

Every pass reads its input with the same reader and task count in its signature and filter stages:
datatrove addresses documents by their position within a task's input. Each datatrove run logs under
its own folder, so a rerun after a crash skips the tasks that completed (resume)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pipeline.curate.accounting import DumpTally, tally_by_dump
from pipeline.executor import Executor, Job, stat
from pipeline.errors import CptError

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import DedupConfig


@dataclass
class PassResult:
    name: str
    documents_in: int
    removed: int
    kept: int
    by_dump: dict  # {dump: {"in": n, "removed": n}}


def _reader(folder: Path):
    from datatrove.pipeline.readers import ParquetReader

    return ParquetReader(str(folder), glob_pattern="*.parquet")


def _writer(folder: Path, prefix: str):
    from datatrove.pipeline.writers import ParquetWriter

    return ParquetWriter(output_folder=str(folder), output_filename=f"{prefix}${{rank}}.parquet")


def normalized_url(doc) -> str:
    """URL identity: scheme and host lowercased, default port and fragment dropped. Documents without a
    URL are never URL duplicates of each other (their id stands in)."""
    url = doc.metadata.get("url")
    if not url:
        return f"no-url:{doc.id}"
    try:
        p = urlsplit(str(url).strip())
        host = (p.hostname or "").lower()
        if p.port and not (p.scheme == "http" and p.port == 80 or p.scheme == "https" and p.port == 443):
            host = f"{host}:{p.port}"
        return urlunsplit((p.scheme.lower(), host, p.path or "/", p.query, ""))
    except ValueError:
        return str(url)


def document_text(doc) -> str:
    return doc.text


def _filter_job(name: str, src: Path, dst: Path, prefix: str, dedup_filter, *, logs: Path, tasks: int,
                workers: int) -> Job:
    """Reader -> tally -> a dedup filter -> tally -> writer."""
    return Job([_reader(src), DumpTally("in"), dedup_filter, DumpTally("kept"), _writer(dst, prefix)],
               logs, tasks, workers, f"dedup {name} filter")


def _filter_result(name: str, steps: list[dict]) -> PassResult:
    """The filter run's accounting, checked per dump: in = kept + removed."""
    read, tally_in, filt, tally_kept, _ = steps
    docs_in = stat(read, "documents")
    dropped = stat(filt, "dropped")
    t_in, t_kept = tally_by_dump(tally_in), tally_by_dump(tally_kept)
    kept = sum(t["docs"] for t in t_kept.values())
    if sum(t["docs"] for t in t_in.values()) != docs_in or docs_in != kept + dropped:
        raise CptError(f"dedup {name}: accounting broke: in {docs_in} != kept {kept} + removed {dropped}")
    by_dump = {d: {"in": t["docs"], "removed": t["docs"] - t_kept.get(d, {"docs": 0})["docs"]}
               for d, t in t_in.items()}
    return PassResult(name, docs_in, dropped, kept, by_dump)


def exact_pass(executor: Executor, name: str, src: Path, dst: Path, work: Path, prefix: str, cfg: DedupConfig,
               tasks: int, workers: int) -> PassResult:
    """``name`` is "url" (normalized URL) or "exact" (the text, byte for byte). Three datatrove runs,
    chained (on Slurm: submitted together, each after the one before)."""
    from datatrove.pipeline.dedup.exact_dedup import (
        ExactDedupConfig,
        ExactDedupFilter,
        ExactDedupSignature,
        ExactFindDedups,
    )
    from datatrove.utils.hashing import HashConfig

    getter = normalized_url if name == "url" else document_text
    ec = ExactDedupConfig(content_getter=getter, hash_config=HashConfig(precision=64, hash_fc="sha1"))
    *_, filter_stats = executor.run_chain([
        Job([_reader(src), ExactDedupSignature(output_folder=str(work / "sigs"), config=ec)],
            work / "logs" / "1_signatures", tasks, workers, f"dedup {name} signatures"),
        Job([ExactFindDedups(data_folder=str(work / "sigs"), output_folder=str(work / "dups"), config=ec)],
            work / "logs" / "2_find", 1, 1, f"dedup {name} find"),
        _filter_job(name, src, dst, prefix,
                    ExactDedupFilter(data_folder=str(work / "dups"), config=ec,
                                     exclusion_writer=_writer(work / "removed", "")),
                    logs=work / "logs" / "3_filter", tasks=tasks, workers=workers),
    ])
    return _filter_result(name, filter_stats)


def minhash_config(cfg: DedupConfig):
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig

    m = cfg.minhash
    return MinhashConfig(n_grams=m.n_grams, num_buckets=m.num_buckets, hashes_per_bucket=m.hashes_per_bucket,
                         seed=m.seed, hash_config=HashConfig(precision=m.precision, hash_fc=m.hash_fc))


def signature_step(cfg: DedupConfig, output_folder: Path, language: str = "eng"):
    """The MinHash signature step; ``language`` is datatrove's word-tokenizer code for the shingles."""
    from datatrove.pipeline.dedup import MinhashDedupSignature

    from pipeline.dedup.fast_signature import FastMinhashDedupSignature

    cls = FastMinhashDedupSignature if cfg.signature_impl == "fast" else MinhashDedupSignature
    return cls(output_folder=str(output_folder), config=minhash_config(cfg), language=language)


def minhash_pass(executor: Executor, src: Path, dst: Path, work: Path, prefix: str, cfg: DedupConfig, tasks: int,
                 workers: int, memory_limit_bytes: int, language: str = "eng") -> PassResult:
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupFilter

    from pipeline.dedup.memory import BoundedMinhashDedupCluster

    mh = minhash_config(cfg)
    sig_stats = executor.run(Job([_reader(src), signature_step(cfg, work / "signatures", language)],
                                 work / "logs" / "1_signatures", tasks, workers, "dedup signatures"))
    # the clustering's memory bound needs the signature count: the last three runs are one chain
    *_, filter_stats = executor.run_chain([
        Job([MinhashDedupBuckets(input_folder=str(work / "signatures"), output_folder=str(work / "buckets"),
                                 config=mh)], work / "logs" / "2_buckets", mh.num_buckets, workers, "dedup buckets"),
        Job([BoundedMinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove_ids"),
                                        config=mh, save_cluster_id=True, save_cluster_size=True,
                                        memory_limit_bytes=memory_limit_bytes,
                                        documents=stat(sig_stats[1], "total"))],
            work / "logs" / "3_clusters", 1, 1, "dedup clustering"),
        _filter_job("minhash", src, dst, prefix,
                    MinhashDedupFilter(input_folder=str(work / "remove_ids"), load_cluster_ids=True,
                                       load_cluster_sizes=True, exclusion_writer=_writer(work / "removed", "")),
                    logs=work / "logs" / "4_filter", tasks=tasks, workers=workers),
    ])
    return _filter_result("minhash", filter_stats)
