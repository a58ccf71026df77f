"""The ``curate`` stage: extracted text -> language ID -> Gopher -> C4 -> FineWeb -> decontamination -> Parquet.

Kept documents go to ``docs/``; a deterministic sample of each filter's rejects goes to
``rejects/<filter>/`` for audit (all of decontamination's); ``funnel.parquet`` holds per-step, per-dump
removals; ``decont_report.json`` what decontamination matched (see :mod:`pipeline.curate.decontaminate`)."""

from __future__ import annotations

from pipeline.curate.accounting import EXTRACTED_TEXT_DIR, SampledParquetWriter, with_tallies
from pipeline.curate.decontaminate import Decontamination
from pipeline.curate.funnel import DECONT_STEP, build_funnel, combine, write_funnel_parquet
from pipeline.curate.filter_steps import filter_steps
from pipeline.executor import Job
from pipeline.errors import CptError
from pipeline.registry import StageContext, output_version
from pipeline.stage_config import StageConfig

DOCS_DIR = "docs"


@output_version(2)
def run(ctx: StageContext) -> dict:
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    # tasks, filter_impl, rejects_sample_rate, recipe (its name) and the filters: language, gopher_repetition,
    # gopher_quality, c4, fineweb; decontaminate and eval_tasks (None: no decontamination)
    cfg: StageConfig = ctx.config
    extracted = ctx.inputs["extract"]
    src = extracted.path / EXTRACTED_TEXT_DIR
    files = sorted(src.glob("*.parquet"))
    if not files:
        raise CptError(f"curate: extraction kept no documents (see {extracted.path / 'logs'})")
    steps = filter_steps(cfg, fast=cfg.filter_impl == "fast")
    decont = None
    if cfg.decontaminate is not None:  # the last filter: documents sharing an n-gram with an eval item
        decont = Decontamination.build(cfg, ctx.inputs, ctx.out_dir)
        steps.append((DECONT_STEP, decont.filter))
    for key, step in steps:  # every filter keeps an audit sample of what it removed; decontamination all of it
        rate = 1.0 if key == DECONT_STEP else cfg.rejects_sample_rate
        step.exclusion_writer = SampledParquetWriter(str(ctx.out_dir / "rejects" / key), rate)
    tasks = min(cfg.tasks, len(files))
    reader = ParquetReader(str(src), glob_pattern="*.parquet")
    writer = ParquetWriter(output_folder=str(ctx.out_dir / DOCS_DIR), output_filename="${rank}.parquet")
    step_stats = ctx.executor.run(Job(with_tallies(reader, steps, writer), ctx.out_dir / "logs", tasks,
                                      ctx.workers or tasks, "curate"))
    funnel = build_funnel(step_stats, [k for k, _ in steps], extracted.stats["dump"])
    write_funnel_parquet(funnel, "curate", ctx.out_dir / "funnel.parquet")
    whole = combine(extracted.stats["funnel"], funnel)
    ctx.log(f"{whole['documents_in']} documents in, {whole['kept']} kept (recipe {cfg.recipe!r})")
    stats = {"dump": extracted.stats["dump"], "recipe": cfg.recipe, "tasks": tasks, "filter_impl": cfg.filter_impl,
             "funnel": whole, "filter_funnel": funnel}
    if decont is not None:
        stats["decontamination"] = decont.report(ctx.out_dir, funnel, ctx.log)
    return stats
