"""The ``extract`` stage: raw input -> URL filter -> text extraction -> Parquet of extracted text.

Extraction is the slow part of curation (trafilatura: ~37 pages/s/core), so it is its own
cached artifact: filter ablations rerun only :mod:`pipeline.curate.stage` on top of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline import inputs as inputs_mod
from pipeline.curate.accounting import EXTRACTED_TEXT_DIR, with_tallies
from pipeline.curate.funnel import build_funnel, write_funnel_parquet
from pipeline.curate.extract_steps import extract_steps
from pipeline.executor import Job
from pipeline.registry import StageContext, output_version
from pipeline.stage_config import StageConfig

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import InputConfig


def resolve_inputs(cfg: InputConfig, sample) -> tuple[list, str, str]:
    """(files, format, dump). Empty ``curate.input.paths`` means the embedded sample's crawl."""
    if not cfg.paths:
        files = [sample.path / w for w in sample.stats["warcs"]]
        return files, "warc", cfg.dump or sample.stats["dump"]
    files = inputs_mod.expand(cfg.paths, cfg.format, cfg.glob)
    return files, cfg.format, cfg.dump or "unknown"


def check_warc_files(files: list, log) -> None:
    """Broken files are counted by the reader and the job goes on; only a set with no readable file fails."""
    inputs_mod.check_some_usable(files, inputs_mod.warc_file_problem, "readable WARC", log)


def make_reader(fmt: str, root, paths_file, dump: str, max_doc_bytes: int, http_status_keep=(200,),
                text_key: str = "text"):
    """Every reader counts a record it cannot use under error_<reason>, never loses it silently."""
    from pipeline.curate.readers import AccountedWarcReader
    from pipeline.records import AccountedJsonlReader, AccountedParquetReader

    common = dict(data_folder=str(root), paths_file=str(paths_file), default_metadata={"dump": dump})
    if fmt == "warc":  # WARC or WET
        return AccountedWarcReader(**common, max_doc_bytes=max_doc_bytes, http_status_keep=tuple(http_status_keep))
    reader = AccountedJsonlReader if fmt == "jsonl" else AccountedParquetReader
    return reader(**common, text_key=text_key, max_record_bytes=max_doc_bytes)


@output_version(3)
def run(ctx: StageContext) -> dict:
    from datatrove.pipeline.writers import ParquetWriter

    cfg: StageConfig = ctx.config  # input, tasks, max_doc_bytes, http_status_keep, url, extraction
    files, fmt, dump = resolve_inputs(cfg.input, ctx.inputs.get("sample"))
    if fmt == "warc":
        check_warc_files(files, ctx.log)
    else:
        from pipeline.records import check_record_files

        check_record_files(files, fmt, cfg.input.text_key, "curate.input.text_key", ctx.log)
    root = inputs_mod.common_root(files)
    paths_file = ctx.out_dir / "input_files.txt"
    inputs_mod.write_paths_file(files, root, paths_file)
    tasks = min(cfg.tasks, len(files))  # datatrove shards by file
    ctx.log(f"{len(files)} {fmt} file(s) under {root}, dump {dump!r}, {tasks} task(s)")

    steps = extract_steps(cfg.url, cfg.extraction, extract=(fmt == "warc"))
    writer = ParquetWriter(output_folder=str(ctx.out_dir / EXTRACTED_TEXT_DIR), output_filename="${rank}.parquet")
    reader = make_reader(fmt, root, paths_file, dump, cfg.max_doc_bytes, cfg.http_status_keep, cfg.input.text_key)
    pipeline = with_tallies(reader, steps, writer)
    step_stats = ctx.executor.run(Job(pipeline, ctx.out_dir / "logs", tasks, ctx.workers or tasks, "extract"))
    funnel = build_funnel(step_stats, [k for k, _ in steps], dump)
    write_funnel_parquet(funnel, "extract", ctx.out_dir / "funnel.parquet")
    ctx.log(f"{funnel['documents_in']} records in, {funnel['kept']} with text")
    return {"dump": dump, "input_files": len(files), "format": fmt, "tasks": tasks, "funnel": funnel}
