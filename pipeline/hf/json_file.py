"""A JSON file of a Hugging Face model directory that must hold an object (config.json,
tokenizer_config.json, model.safetensors.index.json): anything else is one error naming the file."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import InputError


def json_object(path: Path) -> dict:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not a JSON file ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(f"{path}: not a JSON object")
    return value
