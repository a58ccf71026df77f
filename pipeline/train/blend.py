"""``blend.json``: training's input, written by the mix stage and read by training and evaluation.

It holds the training blend (``train``: weights and dataset prefixes), one validation set per domain
(``valid``: ``new`` for adaptation, ``old`` for forgetting) and the tokenizer. Prefixes are relative to
the workdir. A leaf module: it imports nothing from the project.
"""

from __future__ import annotations

import json
from pathlib import Path

BLEND = "blend.json"


def load_blend(mix_dir: Path) -> dict:
    return json.loads((Path(mix_dir) / BLEND).read_text())
