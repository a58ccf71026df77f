"""What a stage fingerprint covers: its config (exactly what the stage receives), the code of every
project module its entry module imports, and the versions of the libraries those modules import."""

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # dedup_runner

from pipeline.codeversion import PACKAGE_DIR, closure, code_version  # noqa: E402
from pipeline.config import CptConfig, RecipeConfig  # noqa: E402
from pipeline.registry import Registry, fingerprint  # noqa: E402
from pipeline.stage_config import StageConfig  # noqa: E402


def rel(files: list[Path], root: Path) -> set[str]:
    return {str(f.relative_to(root.parent)) for f in files}


def copy_package(tmp_path: Path) -> Path:
    root = tmp_path / "src" / "pipeline"
    shutil.copytree(PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "assets"))
    return root


def touch(path: Path) -> None:
    path.write_text(path.read_text() + "\n# edited\n")


# ---------------------------------------------------------------------------- the import closure
def test_dedup_closure_includes_the_shared_word_split():
    files, third_party = closure("pipeline.dedup.stage")
    names = rel(files, PACKAGE_DIR)
    assert {"pipeline/__init__.py", "pipeline/dedup/__init__.py", "pipeline/dedup/stage.py",
            "pipeline/dedup/fast_signature.py", "pipeline/curate/word_split.py"} <= names
    assert "pipeline/curate/fast_filters.py" not in names  # dedup uses the word split, not the filters
    assert "pipeline/sample/generate.py" not in names and "pipeline/train/loop.py" not in names
    assert "datatrove" in third_party


def test_mix_closure_includes_the_megatron_dataset_code():
    names = rel(closure("pipeline.mix.stage")[0], PACKAGE_DIR)
    assert {"pipeline/mix/realize.py", "pipeline/train/data.py", "pipeline/train/__init__.py",
            "pipeline/train/distributed.py"} <= names  # realize imports train.distributed inside a function
    versions = code_version("pipeline.mix.stage").distributions
    assert {"megatron-core", "torch"} <= set(versions) and "datatrove" not in versions


def test_hf_import_closure_includes_the_model_code_it_builds_with():
    names = rel(closure("pipeline.hf.stage")[0], PACKAGE_DIR)
    assert {"pipeline/hf/convert.py", "pipeline/hf/weights.py", "pipeline/train/model.py",
            "pipeline/train/checkpoint.py"} <= names
    assert "pipeline/curate/fast_filters.py" not in names


def test_closure_resolves_relative_lazy_and_package_imports(tmp_path):
    root = tmp_path / "pipeline"
    files = {
        "__init__.py": "",
        "a.py": "import json\n\ndef f():\n    from .b import thing\n    from . import c\n",
        "b.py": "from pipeline.pkg.d import y\nthing = 1\n",
        "c.py": "",
        "pkg/__init__.py": "",
        "pkg/d.py": "from .. import e\nfrom ..pkg import sub\nimport numpy.linalg\ny = 2\n",
        "pkg/sub.py": "",
        "e.py": "",
        "unrelated.py": "import pipeline.a\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    found, third_party = closure("pipeline.a", root)
    assert rel(found, root) == {f"pipeline/{n}" for n in files if n != "unrelated.py"}
    assert third_party == {"numpy"}  # json is the standard library's


# ---------------------------------------------------------------------------- code changes, end to end
@pytest.fixture
def curated(tmp_path):
    from dedup_runner import articles, write_curated

    texts = articles(6, seed=3)
    rows = [{"text": t, "id": f"d{i}", "metadata": {"dump": "D1", "url": f"https://x.org/{i}"}}
            for i, t in enumerate(texts + texts[:2])]  # two exact duplicates
    return write_curated(tmp_path, rows, files=1).parent


def test_editing_a_shared_module_reruns_the_stage_and_an_unrelated_one_does_not(tmp_path, curated):
    """The real dedup stage, fingerprinted from a copy of the package: editing a module of another
    stage is a cache hit; editing the curation word split (which dedup's signatures import) reruns it."""
    from pipeline.config import DedupConfig
    from pipeline.dedup import stage
    from pipeline.launch.executors import executor_for
    from pipeline.registry import Artifact, Runtime

    root = copy_package(tmp_path)
    reg = Registry(tmp_path / "work", package_root=root, code_mode="closure")
    inputs = {"curate": Artifact("curate", "test", curated, {"stats": {"dump": "D1"}})}
    config = {"dedup": DedupConfig(method="none", exact=True)}

    def run():
        return reg.run("dedup", stage.run, config=config, inputs=inputs, runtime=Runtime(executor=executor_for(None)))

    first = run()
    assert not first.cached and first.stats["kept"] == 6 and first.stats["removed_duplicates"] == 2
    assert "pipeline/curate/word_split.py" in first.manifest["code_modules"]
    assert "datatrove" in first.manifest["library_versions"]
    assert run().cached
    touch(root / "sample" / "generate.py")  # another stage's module
    assert run().cached
    touch(root / "curate" / "word_split.py")  # shared: dedup's fast signatures use the filters' word split
    again = run()
    assert not again.cached and again.fingerprint != first.fingerprint
    assert run().cached


def test_code_version_follows_the_modules_a_stage_imports(tmp_path):
    root = copy_package(tmp_path)
    stages = ("pipeline.dedup.stage", "pipeline.curate.stage", "pipeline.mix.stage", "pipeline.sample.stage")
    before = {s: code_version(s, root).digest for s in stages}
    touch(root / "train" / "data.py")  # the megatron dataset code: mix uses it, the data stages do not
    after = {s: code_version(s, root).digest for s in stages}
    assert after["pipeline.mix.stage"] != before["pipeline.mix.stage"]
    assert {s: after[s] for s in stages[:2] + stages[3:]} == {s: before[s] for s in stages[:2] + stages[3:]}


# ---------------------------------------------------------------------------- config and versions
def test_a_stage_cannot_read_a_section_it_was_not_given(tmp_path):
    from pipeline.config import MixConfig

    def reads_train(ctx):
        return {"iters": ctx.config.train.train_iters}

    with pytest.raises(AttributeError, match=r"not given config section 'train' \(given: mix\)"):
        Registry(tmp_path).run("mix", reads_train, config={"mix": MixConfig()}, inputs={})
    cfg = StageConfig(mix=MixConfig(), budget={"num_samples": 3})
    with pytest.raises(KeyError, match="'train'"):
        cfg["train"]
    with pytest.raises(AttributeError, match="immutable"):
        cfg.train = 1
    assert cfg.budget == {"num_samples": 3} and cfg.to_dict()["mix"]["replay_fraction"] == 0.05


def test_pretrain_gets_only_what_it_reads():
    """Pretraining's config is fixed by base_model.pretrain_* and the shared model/train settings:
    the CPT run's step count, eval/save intervals and schedule do not rerun it."""
    from pipeline.chain import pretrain_config

    cfg = CptConfig(recipe=RecipeConfig())
    pre = pretrain_config(cfg)
    assert sorted(pre) == ["model", "precision", "schedule", "train"]
    assert pre.train.train_iters == cfg.base_model.pretrain_iters and pre.schedule.peak_lr == 3e-3
    cpt_side = replace(cfg, train=replace(cfg.train, train_iters=7, eval_interval=3, save_interval=2),
                       schedule=replace(cfg.schedule, peak_lr=1e-4))
    assert pretrain_config(cpt_side).to_dict() == pre.to_dict()
    batch = replace(cfg, train=replace(cfg.train, global_batch_size=32))
    assert pretrain_config(batch).to_dict() != pre.to_dict()


def test_a_library_version_changes_the_fingerprint():
    code = code_version("pipeline.dedup.stage")
    versions = dict(code.distributions)
    base = fingerprint("dedup", {"dedup": {}}, {}, code.digest, versions)
    assert base == fingerprint("dedup", {"dedup": {}}, {}, code.digest, dict(versions))
    assert base != fingerprint("dedup", {"dedup": {}}, {}, code.digest, {**versions, "datatrove": "0.0.1"})
