"""Which stages' fingerprints an edit of one module changes, in both code modes.

For each edit (a comment appended to the module, in a copy of the package), every stage of the default
``cpt run`` is planned (fingerprints computed, nothing run) from the copy and compared with the plan of
the unedited copy. ``declared`` (the default) fingerprints a stage by its declared output version;
``closure`` by the bytes of every module it imports.

    .venv/bin/python benchmarks/fingerprint_table.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

EDITS = ["slurm_time.py", "languages.py", "launch/slurm_cli.py", "curate/fast_filters.py",
         "registry.py", "config.py", "executor.py", "train/loop.py"]


def plan(root: Path, workdir: Path, mode: str) -> dict[str, str]:
    from pipeline.chain import Chain
    from pipeline.config import CptConfig, RecipeConfig

    chain = Chain(CptConfig(recipe=RecipeConfig(), workdir=str(workdir), code_version=mode, progress=False),
                  plan_only=True, package_root=root)
    chain.report()
    return {s: a.fingerprint for s, a in chain.artifacts().items()}


def main() -> None:
    from pipeline.codeversion import PACKAGE_DIR

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("| edit | declared (default): stages rerun | closure: stages rerun |")
        print("|---|---|---|")
        for edit in EDITS:
            root = tmp / edit.replace("/", "_") / "pipeline"
            shutil.copytree(PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "assets"))
            row = []
            for mode in ("declared", "closure"):
                before = plan(root, tmp / "work", mode)
                f = root / edit
                f.write_text(f.read_text() + "\n# edited\n")
                after = plan(root, tmp / "work", mode)
                f.write_text(f.read_text().removesuffix("\n# edited\n"))
                changed = [s for s in before if after[s] != before[s]]
                row.append(", ".join(changed) or "none")
            print(f"| `{edit}` | {row[0]} | {row[1]} |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
