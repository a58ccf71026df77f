"""CPU training speed per torch intra-op thread count, on an idle node and beside busy processes.

    .venv/bin/python benchmarks/cpu_threads.py                       # 1 thread vs every core, idle
    .venv/bin/python benchmarks/cpu_threads.py --busy 1              # ... with one other process spinning
    .venv/bin/python benchmarks/cpu_threads.py --threads 1,2,default # "default": what configure_threads picks
    # a real model: the checkpoint `cpt import-hf` wrote (docs/models.md, "A real model: SmolLM2-135M"), seq 256
    .venv/bin/python benchmarks/cpu_threads.py --init-from /tmp/smollm2.cpt --seq-length 256 --steps 6 --warmup 1

One process, one run after another on the same synthetic data (``train_throughput.py``'s learnable
stream and presets, through ``pipeline.launch.training.run_training`` on one rank). For each count,
``OMP_NUM_THREADS`` is set (so ``pipeline.train.loop.configure_threads`` keeps it) together with
``torch.set_num_threads``; ``default`` unsets ``OMP_NUM_THREADS`` and lets ``configure_threads`` choose.
Seconds per step are the median over the steps after ``--warmup`` (from ``metrics.jsonl``'s tokens/s);
``--busy N`` starts N pure-Python spinning processes for the duration of every run (another job on the
node), and stops them by PID. ``--init-from CKPT`` times an imported model instead of a preset (its
architecture and vocabulary, a weights-only start, micro-batch 4, global batch 8, ``--seq-length``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from train_throughput import PRESETS, write_data  # noqa: E402
from pipeline.config import PrecisionConfig, ScheduleConfig, TrainConfig  # noqa: E402
importlib.import_module("pipeline.train")  # mutes megatron's import-time fallback warnings

SPIN = "import time\nwhile True:\n    pass\n"


def imported_preset(checkpoint: Path, seq_length: int) -> dict:
    """A preset for the model in an imported checkpoint (``cpt import-hf``)."""
    from pipeline.config import ModelConfig
    from pipeline.train.checkpoint import read_meta, resolve_checkpoint

    meta = read_meta(resolve_checkpoint(checkpoint))
    model = ModelConfig(**{**meta["model"], "seq_length": seq_length})
    return dict(model=model, vocab=int(meta.get("real_vocab_size") or meta["vocab_size"]), micro_batch=4,
                global_batch=8, init_from=str(checkpoint))


def run_once(preset: dict, data: dict, steps: int, warmup: int, out_dir: Path) -> dict:
    from pipeline.launch.training import run_training

    train_cfg = TrainConfig(train_iters=steps, micro_batch_size=preset["micro_batch"],
                            global_batch_size=preset["global_batch"], eval_interval=steps, eval_iters=1,
                            log_interval=1, save_interval=0, keep_checkpoints=1, device="cpu")
    schedule = ScheduleConfig(name="rewarm_cosine", peak_lr=3e-4, min_lr_ratio=0.1, warmup_fraction=0.1)
    stats = run_training(1, model_cfg=preset["model"], train_cfg=train_cfg, schedule_cfg=schedule,
                         precision_cfg=PrecisionConfig(dtype="fp32"), train_blend=[(1.0, data["train"])],
                         valid_prefixes={"valid": data["valid"]}, tokenizer_path=data["tokenizer"],
                         out_dir=out_dir, init_from=preset.get("init_from"), progress=False)
    records = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    tokens_per_step = preset["global_batch"] * preset["model"].seq_length
    step_s = [tokens_per_step / r["tokens_per_s"] for r in records if r["kind"] == "train" and r["step"] > warmup]
    losses = [r["loss"] for r in records if r["kind"] == "train"]
    return {"s_per_step": statistics.median(step_s), "torch_threads": stats.get("torch_threads"),
            "first_loss": losses[0], "final_loss": losses[-1], "eval_loss": stats["eval_loss"]["valid"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cores = len(os.sched_getaffinity(0))
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    parser.add_argument("--threads", default=f"1,{cores}", help="comma-separated counts, or 'default'")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--busy", type=int, default=0, help="spinning processes beside each run")
    parser.add_argument("--init-from", type=Path, help="an imported checkpoint to time instead of --preset")
    parser.add_argument("--seq-length", type=int, default=256, help="with --init-from")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    import torch

    preset = imported_preset(args.init_from, args.seq_length) if args.init_from else PRESETS[args.preset]
    tokens_per_step = preset["global_batch"] * preset["model"].seq_length
    rows = []
    print(f"{cores} cores in this process's affinity; {args.init_from or 'preset ' + args.preset}; "
          f"{args.busy} busy process(es)")
    with tempfile.TemporaryDirectory(prefix="cpt-threads-bench-") as tmp:
        data = write_data(Path(tmp) / "data", preset["vocab"], train_tokens=int(1.2 * args.steps * tokens_per_step),
                          valid_tokens=4 * tokens_per_step)
        if args.init_from:  # its own tokenizer (the start checks it); the stream's ids are below its vocabulary
            data["tokenizer"] = str(args.init_from / "tokenizer" / "tokenizer.json")
        for i, spec in enumerate(s.strip() for s in args.threads.split(",")):
            if spec == "default":
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = spec
                torch.set_num_threads(int(spec))
            spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.busy)]
            try:
                t0 = time.time()
                row = run_once(preset, data, args.steps, args.warmup, Path(tmp) / f"run{i}")
            finally:
                for p in spinners:
                    p.kill()
                    p.wait()
            row = {"threads": spec, "busy": args.busy, **row, "wall_s": time.time() - t0}
            rows.append(row)
            print(f"threads={spec:>7} (torch {row['torch_threads']}): {row['s_per_step']:.3f} s/step "
                  f"(median of steps {args.warmup + 1}-{args.steps}), loss {row['first_loss']:.4f} -> "
                  f"{row['final_loss']:.4f}, eval {row['eval_loss']:.4f}, wall {row['wall_s']:.1f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
