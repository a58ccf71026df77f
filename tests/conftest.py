import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CPT = [sys.executable, "-m", "pipeline.cli"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run_cpt(*args: str, cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the real ``cpt`` command line in a subprocess."""
    full_env = {**os.environ, "CPT_WORKDIR": str(cwd / "work"), **(env or {})}
    return subprocess.run([*CPT, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cpt(tmp_path):
    def _run(*args, **kw):
        return run_cpt(*args, cwd=tmp_path, **kw)

    return _run


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory) -> Path:
    """The two-domain training corpus of ``train_runner.py``, written once per test module."""
    from train_runner import write_corpus

    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root)
    return root
