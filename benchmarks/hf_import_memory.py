"""Peak memory of ``cpt import-hf`` and ``cpt export-hf`` against the model's size.

Writes a randomly initialised model of TinyLlama-1.1B's shape (22 layers, hidden 2048, GQA 32/4,
vocab 32000; bf16, sharded safetensors with an index, as the Hub ships it) straight with
safetensors, then runs the real CLI commands in child processes and prints each one's peak RSS
(``ru_maxrss``) divided by the bytes of the model's tensors. The converter streams tensor by
tensor into one megatron model, so the ratio should stay near 1 (plus the Python/torch/megatron
baseline, printed too).

    .venv/bin/python benchmarks/hf_import_memory.py [--layers 22] [--workdir /tmp/hf_mem]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.hf.hf_config import hf_config_from_model  # noqa: E402
from pipeline.config import ModelConfig  # noqa: E402
from pipeline.hf.weights import mappings  # noqa: E402


def write_random_model(dest: Path, model: ModelConfig, shard_bytes: int = 1 << 30) -> int:
    """An HF Llama directory of random bf16 tensors; returns the tensor bytes."""
    dest.mkdir(parents=True)
    gen = torch.Generator().manual_seed(0)
    d, h = model.head_dim, model.hidden_size
    shapes = {}
    for m in mappings(model):
        for key in m.hf:
            if "embed_tokens" in key or "lm_head" in key:
                shapes[key] = (model.vocab_size, h)
            elif "norm" in key:
                shapes[key] = (h,)
            elif "q_proj" in key:
                shapes[key] = (model.num_attention_heads * d, h)
            elif "k_proj" in key or "v_proj" in key:
                shapes[key] = (model.num_query_groups * d, h)
            elif "o_proj" in key:
                shapes[key] = (h, model.num_attention_heads * d)
            elif "down_proj" in key:
                shapes[key] = (h, model.ffn_hidden_size)
            else:
                shapes[key] = (model.ffn_hidden_size, h)
    shard, size, files, weight_map, total = {}, 0, [], {}, 0

    def flush():
        nonlocal shard, size
        name = f"model-{len(files) + 1:05d}.safetensors"
        save_file(shard, str(dest / name), metadata={"format": "pt"})
        files.append(name)
        weight_map.update({k: name for k in shard})
        shard, size = {}, 0

    for key, shape in shapes.items():
        t = (torch.randn(shape, generator=gen) * 0.02).to(torch.bfloat16)
        if size and size + t.numel() * 2 > shard_bytes:
            flush()
        shard[key] = t
        size += t.numel() * 2
        total += t.numel() * 2
    flush()
    (dest / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": total},
                                                                   "weight_map": weight_map}))
    (dest / "config.json").write_text(json.dumps(hf_config_from_model(model, model.vocab_size, "bfloat16")))
    shutil.copy2(ROOT / "pipeline/assets/tokenizer/cpt-sample-bpe.json", dest / "tokenizer.json")
    return total


def peak_rss_of(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in bytes, seconds) of a child process."""
    code = ("import resource, subprocess, sys, json; r = subprocess.run(sys.argv[1:]); "
            "print(json.dumps([r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, cwd=ROOT)
    rc, maxrss_kb = json.loads(out.stdout.strip().splitlines()[-1])
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return maxrss_kb * 1024.0, time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--workdir", default="/tmp/cpt_hf_import_memory")
    args = ap.parse_args()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    model = ModelConfig(name="tinyllama-shape", num_layers=args.layers, hidden_size=2048, ffn_hidden_size=5632,
                        num_attention_heads=32, num_query_groups=4, seq_length=2048, vocab_size=32000,
                        untie_embeddings_and_output_weights=True)
    model_bytes = write_random_model(work / "hf", model)
    cpt = [str(Path(sys.executable).with_name("cpt"))]
    baseline, _ = peak_rss_of([sys.executable, "-c", "import torch, megatron.core, pipeline.hf.convert"])
    imp, t_imp = peak_rss_of(cpt + ["import-hf", str(work / "hf"), str(work / "cpt")])
    exp, t_exp = peak_rss_of(cpt + ["export-hf", str(work / "cpt"), str(work / "out")])
    gib = 1024**3
    print(f"model: {model_bytes / 1e9:.2f} GB of bf16 tensors ({args.layers} layers, TinyLlama-1.1B shape), "
          f"{len(list((work / 'hf').glob('*.safetensors')))} shards")
    print(f"baseline process (python + torch + megatron imported): peak RSS {baseline / gib:.2f} GiB")
    for name, rss, secs in (("import-hf", imp, t_imp), ("export-hf", exp, t_exp)):
        print(f"{name}: peak RSS {rss / gib:.2f} GiB = {rss / model_bytes:.2f} x model bytes "
              f"({(rss - baseline) / model_bytes:.2f} x above the baseline), {secs:.0f} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
