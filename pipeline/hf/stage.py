"""The ``hf_import`` and ``export`` stages. What ``base_model.hf=SRC`` changes in a run's config is
:func:`pipeline.resolve.resolve`'s. The import is a cached stage, so a rerun (or an ablation over the
same base) converts once.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.registry import StageContext, output_version

IMPORTED_CHECKPOINT = "checkpoints/iter_0000000"  # inside the hf_import stage directory


@output_version(1)
def run_import(ctx: StageContext) -> dict:
    """The HF directory (input ``source``) as a cpt checkpoint; config: ``pad_vocab_multiple``, ``seq_length``."""
    from pipeline.hf.convert import import_hf

    cfg = ctx.config
    meta = import_hf(ctx.inputs["source"].path, ctx.out_dir / IMPORTED_CHECKPOINT,
                     pad_vocab_multiple=cfg.pad_vocab_multiple, seq_length=cfg.seq_length, progress=ctx.progress)
    return {"architecture": meta["hf"]["architecture"], "vocab_size": meta["vocab_size"],
            "real_vocab_size": meta["real_vocab_size"], "dtype": meta["hf"]["dtype"],
            "checkpoint": IMPORTED_CHECKPOINT}


@output_version(2)  # 2: keeps the source model's context length, special-token ids and generation config
def run_export(ctx: StageContext) -> dict:
    """The trained model as an HF directory ``<stage>/hf/`` (``export.hf=true``); config: ``tokenizer_path``
    (shipped with it) and ``tokenizer_file`` (its sha256)."""
    from pipeline.hf.convert import export_hf
    from pipeline.train.stage import checkpoint_of

    train = ctx.inputs["train"]
    out = export_hf(checkpoint_of(train), ctx.out_dir / "hf", tokenizer=Path(ctx.config.tokenizer_path),
                    progress=ctx.progress)
    return {"hf_dir": str(ctx.final_dir / out.name)}
