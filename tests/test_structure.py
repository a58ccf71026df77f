"""The import graph is the cache key: each stage's closure holds what it runs and nothing of where it
runs or of other stages; packages import downward, without cycles or private names across them; and
with declared output versions a refactor keeps every cache while a declared change reruns exactly the
stage and what follows."""

import ast
import shutil
from pathlib import Path

import pytest

from pipeline.codeversion import PACKAGE_DIR, closure, imported_names, module_file

STAGE_ENTRIES = {
    "sample": "pipeline.sample.stage", "extract": "pipeline.curate.extract", "curate": "pipeline.curate.stage",
    "dedup": "pipeline.dedup.stage", "tokenize": "pipeline.tokenize.stage", "mix": "pipeline.mix.stage",
    "train": "pipeline.train.stage", "evaluate": "pipeline.evaluate.stage", "report": "pipeline.report.stage",
    "hf": "pipeline.hf.stage",
}
EVERYWHERE_FORBIDDEN = ("pipeline/launch/", "pipeline/chain.py", "pipeline/cli.py", "pipeline/doctor.py",
                        "pipeline/resolve.py", "pipeline/ablate/")
# The data stages read their config as data (its values are in the fingerprint): the schema's code, and
# what it validates with (the Slurm time format, the FineWeb-2 table), is outside their closure.
CONFIG_CODE = ("pipeline/config.py", "pipeline/slurm_time.py")
FORBIDDEN = {
    "extract": ("pipeline/curate/fast_filters.py", "pipeline/curate/filter_steps.py", "pipeline/languages.py",
                "pipeline/train/") + CONFIG_CODE,
    "curate": ("pipeline/train/", "pipeline/dedup/", "pipeline/curate/extractors.py") + CONFIG_CODE,
    "dedup": ("pipeline/train/", "pipeline/curate/filter_steps.py") + CONFIG_CODE,
    "tokenize": ("pipeline/train/", "pipeline/curate/", "pipeline/dedup/") + CONFIG_CODE,
    "sample": ("pipeline/train/", "pipeline/curate/") + CONFIG_CODE,
    "mix": ("pipeline/curate/", "pipeline/dedup/"),
    "train": ("pipeline/curate/", "pipeline/dedup/", "pipeline/mix/"),
}


def closure_files(entry: str, root: Path = PACKAGE_DIR) -> set[str]:
    return {str(f.relative_to(root.parent)) for f in closure(entry, root)[0]}


@pytest.mark.parametrize("stage", sorted(STAGE_ENTRIES))
def test_a_stage_closure_holds_nothing_of_where_it_runs_or_of_other_stages(stage):
    files = closure_files(STAGE_ENTRIES[stage])
    for bad in EVERYWHERE_FORBIDDEN + FORBIDDEN.get(stage, ()):
        assert not [f for f in files if f.startswith(bad)], f"{stage} closure holds {bad}: {sorted(files)}"


def test_a_stage_closure_holds_what_it_runs():
    assert {"pipeline/curate/extractors.py", "pipeline/curate/extract_steps.py"} <= closure_files("pipeline.curate.extract")
    assert "pipeline/curate/filter_steps.py" in closure_files("pipeline.curate.stage")
    train = closure_files("pipeline.train.stage")
    assert {"pipeline/train/worker.py", "pipeline/train/loop.py", "pipeline/train/model.py"} <= train


def _modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE_DIR.rglob("*.py"):
        rel = f.relative_to(PACKAGE_DIR.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join(parts)] = f
    return out


def _package(module: str) -> str:
    """``pipeline.curate.x`` -> ``curate``; a top-level module is its own package (``config``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pipeline"


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, f in _modules().items():
        src = _package(name)
        for imported in imported_names(f.read_bytes(), name, f.name == "__init__.py"):
            if imported.startswith("pipeline.") and module_file(imported):
                dst = _package(imported)
                if dst != src:
                    graph.setdefault(src, set()).add(dst)
    return graph


def test_packages_import_without_cycles():
    graph = _package_graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError(f"package cycle: {' -> '.join(path[path.index(nxt):] + [nxt])}")
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_no_private_name_is_imported_across_packages():
    offenders = []
    for name, f in _modules().items():
        for node in ast.walk(ast.parse(f.read_bytes())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline."):
                if _package(node.module) == _package(name):
                    continue
                offenders += [f"{name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert not offenders, offenders


# ---------------------------------------------------------------------------- declared output versions
def _plan(root: Path, workdir: Path, code_mode: str) -> dict[str, str]:
    """Every stage's fingerprint for the default run, computed from the package at ``root``."""
    from pipeline.chain import Chain
    from pipeline.config import CptConfig, RecipeConfig

    cfg = CptConfig(recipe=RecipeConfig(), workdir=str(workdir), code_version=code_mode, progress=False)
    chain = Chain(cfg, plan_only=True, package_root=root)
    chain.report()
    return {s: a.fingerprint for s, a in chain.artifacts().items()}


@pytest.fixture
def package_copy(tmp_path) -> Path:
    root = tmp_path / "src" / "pipeline"
    shutil.copytree(PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "assets"))
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def test_a_pure_refactor_of_a_shared_module_keeps_every_cache(package_copy, tmp_path):
    before = _plan(package_copy, tmp_path / "work", "declared")
    # rename a private helper of the registry, which every stage imports
    registry = package_copy / "registry.py"
    _edit(registry, "def _now()", "def _utc_now()")
    _edit(registry, '"started_at": _now()', '"started_at": _utc_now()')
    registry.write_text(registry.read_text().replace("finished_at=_now()", "finished_at=_utc_now()"))
    (package_copy / "slurm_time.py").write_text((package_copy / "slurm_time.py").read_text() + "\n# edited\n")
    assert _plan(package_copy, tmp_path / "work", "declared") == before
    # the same refactor in closure mode (editing cpt in a checkout) reruns every stage that imports it
    closure_before = _plan(PACKAGE_DIR, tmp_path / "work", "closure")
    closure_after = _plan(package_copy, tmp_path / "work", "closure")
    assert all(closure_after[s] != closure_before[s] for s in ("extract", "curate", "tokenize", "report"))


def test_a_declared_filter_change_reruns_curate_and_what_follows_and_nothing_else(package_copy, tmp_path):
    before = _plan(package_copy, tmp_path / "work", "declared")
    _edit(package_copy / "curate" / "fast_filters.py", "class ", "# a behaviour change would be here\nclass ", )
    _edit(package_copy / "curate" / "stage.py", "@output_version(2)", "@output_version(3)")
    after = _plan(package_copy, tmp_path / "work", "declared")
    changed = {s for s in before if after[s] != before[s]}
    assert changed == {"curate", "dedup", "tokenize", "mix", "train", "evaluate", "report"}, changed


def test_closure_mode_edits_invalidate_only_the_stages_that_run_the_code(package_copy, tmp_path):
    before = _plan(package_copy, tmp_path / "work", "closure")
    for f in ("curate/fast_filters.py", "launch/slurm_cli.py", "launch/datatrove_exec.py"):
        (package_copy / f).write_text((package_copy / f).read_text() + "\n# edited\n")
    after = _plan(package_copy, tmp_path / "work", "closure")
    changed = {s for s in before if after[s] != before[s]}
    # fast_filters: curate, and dedup (its shingles split words the same way), and what follows them
    assert changed == {"curate", "dedup", "tokenize", "mix", "train", "evaluate", "report"}, changed
