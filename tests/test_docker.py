"""The Dockerfiles parse: known instructions only, the right bases, and COPY sources that exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTIONS = {"FROM", "ARG", "ENV", "WORKDIR", "COPY", "RUN", "ENTRYPOINT", "CMD", "LABEL", "USER", "EXPOSE"}


def logical_lines(path: Path) -> list[str]:
    lines, buf = [], ""
    for raw in path.read_text().splitlines():
        line = raw.rstrip()
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buf += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            lines.append(buf.strip())
            buf = ""
    assert not buf, f"{path}: dangling line continuation"
    return lines


@pytest.mark.parametrize("name, base", [("Dockerfile.gpu", "nvcr.io/nvidia/pytorch:"), ("Dockerfile.cpu", "python:3.11")])
def test_dockerfile_parses(name, base):
    lines = logical_lines(ROOT / "docker" / name)
    args = {}
    for line in lines:
        instr = line.split()[0]
        assert instr in INSTRUCTIONS, f"{name}: unknown instruction {instr!r}"
        if instr == "ARG" and "=" in line:
            k, v = line.split(None, 1)[1].split("=", 1)
            args[k] = v
        if instr == "COPY":
            for src in line.split()[1:-1]:
                if not src.startswith("--"):
                    assert (ROOT / src).exists(), f"{name}: COPY source {src} missing"
    frm = next(line for line in lines if line.startswith("FROM")).split()[1]
    frm = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], frm)
    assert frm.startswith(base)
    assert any(line.startswith("ENTRYPOINT") and "cpt" in line for line in lines)
