"""The tiny training setup shared by the training tests, and a runner for training in a subprocess.

    python tests/train_runner.py <corpus_root> <out_dir> '<TrainConfig overrides as JSON>' [slow_step_s]

(``nproc_per_node`` in the overrides trains on that many CPU ranks; ``slow_step_s`` then has no effect.)

Two synthetic "domains" with different token statistics are written as megatron indexed datasets;
the tokenizer is a WordLevel ``tokenizer.json`` over the same ids. The runner trains the tiny model
on the corpus at ``corpus_root`` (written there if missing) and exits with the code the CLI uses
for the error (128 + signal for a preemption). ``slow_step_s`` makes every step sleep that long
before it runs, so a test can signal the process mid-run; the steps themselves are unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import ModelConfig, PrecisionConfig, ScheduleConfig, TrainConfig  # noqa: E402

VOCAB = 512
EOS = "<|endoftext|>"


def _write_tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit

    vocab = {EOS: 0, "<unk>": 1, **{f"w{i}": i for i in range(2, VOCAB)}}
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = WhitespaceSplit()
    tok.save(str(path))
    return path


def _domain_docs(domain: str, n_docs: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Two bigram languages: "a" mostly steps +1 through ids 2..255, "b" mostly x -> 3x+7 over 256..511."""
    docs = []
    for _ in range(n_docs):
        length = int(rng.integers(60, 200))
        if domain == "a":
            x = np.empty(length, dtype=np.int64)
            x[0] = rng.integers(2, 256)
            for i in range(1, length):
                x[i] = 2 + (x[i - 1] - 2 + (1 if rng.random() < 0.9 else rng.integers(0, 254))) % 254
        else:
            x = np.empty(length, dtype=np.int64)
            x[0] = rng.integers(256, VOCAB)
            for i in range(1, length):
                x[i] = 256 + ((3 * (x[i - 1] - 256) + 7) % 256 if rng.random() < 0.9 else rng.integers(0, 256))
        docs.append(np.append(x, 0))  # documents end with the EOS id
    return docs


def write_indexed(prefix: Path, docs: list[np.ndarray]) -> str:
    from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder

    builder = IndexedDatasetBuilder(f"{prefix}.bin", dtype=np.uint16)
    for doc in docs:
        builder.add_document(doc, [len(doc)])
    builder.finalize(f"{prefix}.idx")
    return str(prefix)


def write_corpus(root: Path) -> dict:
    """Write (once) the two-domain corpus under ``root``; returns tokenizer path, train blend, valid prefixes."""
    root = Path(root)
    spec = root / "corpus.json"
    if spec.exists():
        return json.loads(spec.read_text())
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    prefixes = {}
    for domain in ("a", "b"):
        prefixes[f"{domain}_train"] = write_indexed(root / f"{domain}_train", _domain_docs(domain, 120, rng))
        prefixes[f"{domain}_valid"] = write_indexed(root / f"{domain}_valid", _domain_docs(domain, 20, rng))
    corpus = {
        "tokenizer": str(_write_tokenizer(root / "tokenizer.json")),
        "blend": [(0.7, prefixes["a_train"]), (0.3, prefixes["b_train"])],
        "valid": {"a": prefixes["a_valid"], "b": prefixes["b_valid"]},
    }
    spec.write_text(json.dumps(corpus))
    return corpus


MODEL = ModelConfig(num_layers=2, hidden_size=64, ffn_hidden_size=172, num_attention_heads=4,
                    num_query_groups=2, seq_length=64)
TRAIN = TrainConfig(train_iters=30, micro_batch_size=4, global_batch_size=8, eval_interval=15,
                    eval_iters=1, log_interval=5, device="cpu")
SCHEDULE = ScheduleConfig(peak_lr=3e-3, warmup_fraction=0.1)
FP32 = PrecisionConfig()


def train_tiny(corpus, out_dir, **kwargs):
    """Train the tiny model on ``corpus`` (in this process, or on ``train_cfg.nproc_per_node`` ranks)."""
    from pipeline.launch.training import run_training

    args = dict(model_cfg=MODEL, train_cfg=TRAIN, schedule_cfg=SCHEDULE, precision_cfg=FP32)
    for key in list(args):
        if key in kwargs:
            args[key] = kwargs.pop(key)
    return run_training(args["train_cfg"].nproc_per_node, **args, train_blend=corpus["blend"],
                        valid_prefixes=corpus["valid"], tokenizer_path=corpus["tokenizer"], out_dir=Path(out_dir),
                        progress=False, **kwargs)


RUNNER = Path(__file__).resolve()
TIMING_KEYS = ("tokens_per_s", "tflops", "mfu")  # wall-clock figures: differ between any two runs
# megatron-core 0.16 deprecation chatter (per layer, per step) and its TE/Apex fallback notes; not ours to fix.
MEGATRON_NOISE = ["ignore::DeprecationWarning:megatron.*", "ignore:.*(Apex|Transformer Engine).*:UserWarning"]


def read_metrics(out_dir: Path, kind: str | None = None) -> list[dict]:
    """The run's ``metrics.jsonl`` records (of one ``kind``: train or eval)."""
    records = [json.loads(line) for line in (Path(out_dir) / "metrics.jsonl").read_text().splitlines()]
    return [r for r in records if kind is None or r["kind"] == kind]


def untimed(records: list[dict]) -> list[dict]:
    """Records without the wall-clock figures, for comparing two runs."""
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in records]


def signal_mid_run(corpus_root: Path, out: Path, cfg: TrainConfig, sig: int, slow_step_s: float = 0.0,
                   timeout: float = 180) -> tuple[int, str]:
    """Train ``cfg`` in a subprocess (this file), send ``sig`` once it has written its first train
    record; returns its exit code and stderr.

    The process gets its own session. SIGKILL goes to the whole group, as a scheduler's kill does:
    megatron's checkpoint writer leaves a multiprocessing manager behind that would hold the pipes.
    """
    import os
    import signal
    import subprocess

    overrides = json.dumps(dataclasses.asdict(cfg))
    proc = subprocess.Popen([sys.executable, str(RUNNER), str(corpus_root), str(out), overrides, str(slow_step_s)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline and proc.poll() is None:
            metrics = Path(out) / "metrics.jsonl"
            if metrics.exists() and '"train"' in metrics.read_text():
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        (os.killpg if sig == signal.SIGKILL else os.kill)(proc.pid, sig)
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the process and anything it left behind
        except ProcessLookupError:
            pass
        proc.wait()
    return proc.returncode, stderr


def main(argv: list[str]) -> int:
    from pipeline.errors import CptError
    import pipeline.train.loop as loop

    corpus = write_corpus(Path(argv[0]))
    overrides = json.loads(argv[2]) if len(argv) > 2 else {}
    slow = float(argv[3]) if len(argv) > 3 else 0.0
    if slow:
        real_step = loop._train_step

        def slow_step(*args, **kwargs):
            time.sleep(slow)
            return real_step(*args, **kwargs)

        loop._train_step = slow_step
    try:
        stats = train_tiny(corpus, Path(argv[1]), train_cfg=replace(TRAIN, **overrides))
    except CptError as exc:
        print(f"cpt: error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
