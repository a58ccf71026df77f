"""Training throughput, MFU, memory and loss of the project's megatron-core loop, per precision, side by side.

    # the issue's GPU check (one H100/H200): BF16 vs FP8 at width 4096
    python benchmarks/train_throughput.py --preset wide4096 --precisions bf16,fp8:delayed,fp8:tensorwise
    # the same code path on a CPU (smoke run; no FP8 without TransformerEngine on a GPU), 1 and 2 ranks
    .venv/bin/python benchmarks/train_throughput.py --preset tiny --device cpu --precisions fp32,bf16 --nprocs 1,2

Every run goes through ``pipeline.launch.training.run_training`` on ``--nprocs`` data-parallel ranks
(megatron DDP, megatron's optimizer with fp32
master weights, the rewarm-cosine schedule, the TE layer spec when TransformerEngine imports) on the
same synthetic data, one after another in this process. The data is a learnable token stream
(mostly ``next = previous + 1``) so the loss columns mean something. Tokens/s and MFU are taken
over the steps after ``--warmup`` (first steps include compilation and FP8 calibration); MFU uses
the spec-sheet dense peak for the precision (``pipeline/train/flops.py``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.config import ModelConfig, PrecisionConfig, ScheduleConfig, TrainConfig  # noqa: E402
from pipeline.errors import CptError  # noqa: E402
import pipeline.train  # noqa: E402,F401  (mutes megatron's import-time fallback warnings)

PRESETS = {
    # NOTES.md's wide config (hidden 4096, 4 layers, ffn 14336, seq 4096): FP8 measured 1.28x BF16.
    "wide4096": dict(model=ModelConfig(name="wide4096", num_layers=4, hidden_size=4096, ffn_hidden_size=14336,
                                       num_attention_heads=32, num_query_groups=8, seq_length=4096,
                                       untie_embeddings_and_output_weights=True),
                     vocab=32768, micro_batch=2, global_batch=8),
    # NOTES.md's 0.37B (hidden 1024, 24 layers, seq 2048): FP8 measured 0.94x BF16 (the warning's case).
    "narrow1024": dict(model=ModelConfig(name="narrow1024", num_layers=24, hidden_size=1024, ffn_hidden_size=2816,
                                         num_attention_heads=16, num_query_groups=4, seq_length=2048),
                       vocab=32768, micro_batch=8, global_batch=16),
    "tiny": dict(model=ModelConfig(), vocab=4096, micro_batch=4, global_batch=8),
}


def write_data(root: Path, vocab: int, train_tokens: int, valid_tokens: int, seed: int = 0) -> dict:
    """A WordLevel tokenizer over ``vocab`` ids and train/valid indexed datasets of a learnable stream."""
    from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    root.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(WordLevel({"<|endoftext|>": 0, "<unk>": 1, **{f"w{i}": i for i in range(2, vocab)}},
                              unk_token="<unk>"))
    tok.save(str(root / "tokenizer.json"))
    rng = np.random.default_rng(seed)
    prefixes = {}
    for split, n_tokens in (("train", train_tokens), ("valid", valid_tokens)):
        builder = IndexedDatasetBuilder(str(root / f"{split}.bin"), dtype=np.int32)
        written = 0
        while written < n_tokens:
            length = int(rng.integers(512, 4096))
            jumps = np.where(rng.random(length) < 0.9, 1, rng.integers(2, vocab - 2, length))
            doc = 2 + (int(rng.integers(0, vocab - 2)) + np.cumsum(jumps)) % (vocab - 2)
            doc = np.append(doc, 0).astype(np.int32)
            builder.add_document(doc, [len(doc)])
            written += len(doc)
        builder.finalize(str(root / f"{split}.idx"))
        prefixes[split] = str(root / split)
    return {"tokenizer": str(root / "tokenizer.json"), "train": prefixes["train"], "valid": prefixes["valid"]}


def parse_precision(spec: str) -> PrecisionConfig:
    dtype, _, recipe = spec.partition(":")
    return PrecisionConfig(dtype=dtype, fp8_recipe=recipe or "delayed",
                           fp8_bf16_edge_layers=0)  # every layer in FP8: the recipes' own speed


def run_one(preset: dict, precision: PrecisionConfig, data: dict, steps: int, warmup: int, device: str,
            out_dir: Path, nproc: int = 1) -> dict:
    """One training run on ``nproc`` data-parallel ranks (peak memory is measured for one rank only)."""
    import torch

    from pipeline.launch.training import run_training

    model = preset["model"]
    train_cfg = TrainConfig(train_iters=steps, micro_batch_size=preset["micro_batch"],
                            global_batch_size=preset["global_batch"], eval_interval=steps, eval_iters=1,
                            log_interval=1, save_interval=0, keep_checkpoints=1, device=device,
                            nproc_per_node=nproc)
    schedule = ScheduleConfig(name="rewarm_cosine", peak_lr=3e-4, min_lr_ratio=0.1, warmup_fraction=0.1)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    stats = run_training(nproc, model_cfg=model, train_cfg=train_cfg, schedule_cfg=schedule, precision_cfg=precision,
                         train_blend=[(1.0, data["train"])], valid_prefixes={"valid": data["valid"]},
                         tokenizer_path=data["tokenizer"], out_dir=out_dir, progress=False)
    records = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    timed = [r for r in records if r["kind"] == "train" and r["step"] > warmup]
    tokens_per_step = preset["global_batch"] * model.seq_length
    seconds = sum(tokens_per_step / r["tokens_per_s"] for r in timed)
    tokens_per_s = len(timed) * tokens_per_step / seconds
    tflops = tokens_per_s * stats["model_flops_per_token"] / nproc / 1e12  # per device
    train_losses = [r["loss"] for r in records if r["kind"] == "train"]
    return {
        "precision": precision.dtype + (f":{precision.fp8_recipe}" if precision.dtype == "fp8" else ""),
        "ranks": nproc,
        "tokens_per_s": tokens_per_s,
        "tflops": tflops,
        "mfu": tflops / stats["peak_tflops"] if stats["peak_tflops"] else None,
        "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() and nproc == 1
        else None,
        "first_loss": train_losses[0],
        "final_loss": train_losses[-1],
        "eval_loss": stats["eval_loss"]["valid"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="wide4096")
    parser.add_argument("--precisions", default="bf16,fp8:delayed,fp8:tensorwise",
                        help="comma-separated: fp32, bf16, fp8:delayed|tensorwise|blockwise")
    parser.add_argument("--nprocs", default="1", help="comma-separated data-parallel rank counts, e.g. 1,2")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=10, help="steps left out of the throughput figure")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if args.warmup >= args.steps:
        parser.error("--warmup must be smaller than --steps")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)

    preset = PRESETS[args.preset]
    tokens_per_step = preset["global_batch"] * preset["model"].seq_length
    rows = []
    with tempfile.TemporaryDirectory(prefix="cpt-train-bench-") as tmp:
        t0 = time.time()
        data = write_data(Path(tmp) / "data", preset["vocab"], train_tokens=int(1.2 * args.steps * tokens_per_step),
                          valid_tokens=4 * tokens_per_step)
        print(f"data: {time.time() - t0:.1f}s; preset {args.preset}: {preset['model']}", flush=True)
        runs = [(int(n), spec.strip()) for n in args.nprocs.split(",") for spec in args.precisions.split(",")]
        for nproc, spec in runs:
            precision = parse_precision(spec)
            t0 = time.time()
            run_dir = Path(tmp) / f"{spec}-{nproc}"
            try:
                row = run_one(preset, precision, data, args.steps, args.warmup, args.device, run_dir, nproc)
            except CptError as exc:
                print(f"{spec}: skipped: {exc} ({nproc} rank(s))", flush=True)
                continue
            finally:
                shutil.rmtree(run_dir, ignore_errors=True)  # ~14 bytes/parameter of checkpoint
            row["wall_s"] = time.time() - t0
            rows.append(row)
            print(json.dumps(row), flush=True)

    base = next((r for r in rows if r["precision"] == "bf16"), rows[0] if rows else None)
    print(f"\n{'precision':<15} {'ranks':>5} {'tok/s':>10} {'vs base':>8} {'TFLOP/s':>8} {'MFU':>6} {'mem GiB':>8} "
          f"{'loss@1':>7} {'loss@end':>8} {'eval':>7}   (base: the first bf16 row; TFLOP/s and MFU per device)")
    for r in rows:
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "-"
        mem = f"{r['peak_mem_gib']:.1f}" if r["peak_mem_gib"] is not None else "-"
        print(f"{r['precision']:<15} {r['ranks']:>5} {r['tokens_per_s']:>10,.0f} {r['tokens_per_s'] / base['tokens_per_s']:>7.2f}x "
              f"{r['tflops']:>8.1f} {mfu:>6} {mem:>8} {r['first_loss']:>7.3f} {r['final_loss']:>8.3f} "
              f"{r['eval_loss']:>7.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
