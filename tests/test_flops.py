"""The MFU numerator: the model-FLOPs formula against torch's FLOP counter on a real megatron
forward + backward pass, and the peak-FLOPs table."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from train_runner import FP32, MODEL  # noqa: E402

from pipeline.train.flops import device_peak_tflops, forward_flops_per_token, peak_tflops, training_flops_per_token  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*(Apex|Transformer Engine).*:UserWarning")]


@pytest.mark.parametrize("untied", [False, True])
def test_formula_matches_counted_flops(untied):
    """megatron's local attention does full seq x seq matmuls, as the formula counts: equal exactly."""
    from megatron.core.models.gpt import GPTModel
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
    from torch.utils.flop_counter import FlopCounterMode

    from pipeline.train.distributed import distributed_session
    from pipeline.train.model import transformer_config

    model_cfg = replace(MODEL, untie_embeddings_and_output_weights=untied)
    vocab, b, s = 512, 2, model_cfg.seq_length
    with distributed_session(torch.device("cpu"), seed=3):
        model = GPTModel(config=transformer_config(model_cfg, FP32, torch.device("cpu")),
                         transformer_layer_spec=get_gpt_layer_local_spec(normalization="RMSNorm"),
                         vocab_size=vocab, max_sequence_length=s, position_embedding_type="rope",
                         share_embeddings_and_output_weights=not untied)
        tokens = torch.randint(0, vocab, (b, s))
        mask = ~torch.tril(torch.ones(s, s, dtype=torch.bool)).expand(1, 1, s, s)
        with FlopCounterMode(display=False) as counter:
            model(tokens, torch.arange(s).expand(b, s), mask, labels=tokens).float().sum().backward()
    assert counter.get_total_flops() == training_flops_per_token(model_cfg, vocab) * b * s


def test_formula_scales_like_6n_for_a_large_model():
    """For an 8B-class model at short context, FLOPs/token ~ 6 x non-embedding params + logits."""
    from pipeline.config import ModelConfig

    llama8b = ModelConfig(num_layers=32, hidden_size=4096, ffn_hidden_size=14336, num_attention_heads=32,
                          num_query_groups=8, seq_length=128, untie_embeddings_and_output_weights=True)
    h, f, layers, vocab = 4096, 14336, 32, 128256
    params = layers * (h * (h + 2 * 1024) + h * h + 3 * h * f) + h * vocab  # layers + output layer
    assert training_flops_per_token(llama8b, vocab) == pytest.approx(6 * params, rel=0.01)
    assert forward_flops_per_token(llama8b, vocab) * 3 == training_flops_per_token(llama8b, vocab)


def test_peak_table():
    assert peak_tflops("NVIDIA H100 80GB HBM3", "bf16") == 989.4
    assert peak_tflops("NVIDIA H100 80GB HBM3", "fp8") == 1978.9
    assert peak_tflops("NVIDIA H100 PCIe", "bf16") == 756.0
    assert peak_tflops("NVIDIA H200", "bf16") == 989.4
    assert peak_tflops("NVIDIA H200 NVL", "bf16") == 835.0  # not the SXM figure
    assert peak_tflops("NVIDIA GB200", "fp8") == 5000.0 and peak_tflops("NVIDIA B200", "fp8") == 4500.0
    assert peak_tflops("NVIDIA A100-SXM4-80GB", "fp8") is None  # no FP8 on Ampere
    assert peak_tflops("NVIDIA H100 80GB HBM3", "fp32") is None
    assert peak_tflops("Some Future GPU", "bf16") is None
    assert device_peak_tflops(torch.device("cpu"), "bf16") is None
    assert device_peak_tflops(torch.device("cpu"), "fp32", override=1.5) == 1.5


def test_train_throughput_benchmark_runs_on_cpu(tmp_path):
    """The GPU benchmark's code path (data, loop, table) on the CPU, so it is ready when a GPU is lent."""
    import json
    import subprocess

    root = Path(__file__).resolve().parent.parent
    rows_path = tmp_path / "rows.json"
    result = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "train_throughput.py"), "--preset", "tiny", "--device", "cpu",
         "--precisions", "fp32,fp8:tensorwise", "--steps", "4", "--warmup", "1", "--json", str(rows_path)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "fp8:tensorwise: skipped: invalid value for 'precision.dtype'" in result.stdout
    [row] = json.loads(rows_path.read_text())
    assert row["precision"] == "fp32" and row["tokens_per_s"] > 0 and row["tflops"] > 0 and row["mfu"] is None
    assert row["final_loss"] > 0 and row["eval_loss"] > 0
    assert "fp32" in result.stdout.splitlines()[-1]  # the side-by-side table
