"""Curation: raw web data -> FineWeb filter chain (datatrove) -> Parquet documents + funnel."""

from __future__ import annotations

from pipeline import inputs as inputs_mod
from pipeline.config import CurateConfig, RecipeConfig
from pipeline.curate.funnel import build_funnel
from pipeline.curate.recipe_steps import build_steps
from pipeline.datatrove_run import run_local
from pipeline.registry import StageContext

DOCS_DIR = "docs"


def resolve_inputs(cfg: CurateConfig, sample) -> tuple[list, str, str]:
    """(files, format, dump). Empty ``curate.input.paths`` means the embedded sample's crawl."""
    if not cfg.input.paths:
        files = [sample.path / w for w in sample.stats["warcs"]]
        return files, "warc", cfg.input.dump or sample.stats["dump"]
    files = inputs_mod.expand(cfg.input.paths, cfg.input.format, cfg.input.glob)
    return files, cfg.input.format, cfg.input.dump or "unknown"


def make_reader(fmt: str, root, paths_file, dump: str):
    from datatrove.pipeline.readers import JsonlReader, ParquetReader, WarcReader

    common = dict(data_folder=str(root), paths_file=str(paths_file), default_metadata={"dump": dump})
    if fmt == "warc":
        return WarcReader(**common)
    if fmt == "jsonl":
        return JsonlReader(**common)
    return ParquetReader(**common)


def run(ctx: StageContext) -> dict:
    cfg: CurateConfig = ctx.config["curate"]
    recipe: RecipeConfig = ctx.config["recipe"]
    sample = ctx.inputs.get("sample")
    files, fmt, dump = resolve_inputs(cfg, sample)
    if fmt == "warc":
        for f in files:
            inputs_mod.check_warc_readable(f)
    root = inputs_mod.common_root(files)
    paths_file = ctx.out_dir / "input_files.txt"
    inputs_mod.write_paths_file(files, root, paths_file)
    tasks = min(cfg.tasks, len(files))  # datatrove shards by file
    ctx.log(f"{len(files)} {fmt} file(s) under {root}, dump {dump!r}, recipe {recipe.name!r}, {tasks} task(s)")

    from datatrove.pipeline.writers import ParquetWriter

    steps = build_steps(recipe, extract=(fmt == "warc"))
    writer = ParquetWriter(output_folder=str(ctx.out_dir / DOCS_DIR), output_filename="${rank}.parquet")
    pipeline = [make_reader(fmt, root, paths_file, dump), *[s for _, s in steps], writer]
    step_stats = run_local(pipeline, logging_dir=ctx.out_dir / "logs", tasks=tasks, workers=cfg.workers,
                           what="curate")
    funnel = build_funnel(step_stats, [k for k, _ in steps])
    ctx.log(f"{funnel['documents_in']} documents in, {funnel['kept']} kept")
    return {"dump": dump, "input_files": len(files), "format": fmt, "recipe": recipe.name,
            "tasks": tasks, "funnel": funnel}
