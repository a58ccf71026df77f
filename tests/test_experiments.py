"""The journeys' experiment files (``conf/experiment/``) compose, validate and say what they promise; with
the user's paths pointed at real local data (a tiny Hugging Face model, a JSONL crawl, replay records),
``cpt doctor`` passes every required check for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.compose import compose_one, conf_dir, hydra_context

EXPERIMENTS = sorted(p.stem for p in (Path(conf_dir()) / "experiment").glob("*.yaml"))


def test_every_journey_has_an_experiment_file():
    assert {"continue_hf_on_crawl", "continue_hf_on_slurm", "ablate_one_filter"} <= set(EXPERIMENTS)
    for name in EXPERIMENTS:
        text = (Path(conf_dir()) / "experiment" / f"{name}.yaml").read_text()
        assert text.startswith("# @package _global_") and f"+experiment={name}" in text, name


def test_continue_on_a_crawl_with_replay():
    with hydra_context():
        cfg = compose_one(["+experiment=continue_hf_on_crawl"])
    assert cfg.model.name == "llama3-8b" and cfg.precision.dtype == "bf16"
    assert cfg.mix.replay_fraction == 0.05 and cfg.train.nproc_per_node == 8
    assert cfg.base_model.hf and cfg.curate.input.paths and cfg.replay.paths
    with hydra_context():
        slurm = compose_one(["+experiment=continue_hf_on_slurm"])
    assert slurm.cluster.executor == "slurm" and slurm.cluster.slurm.gpus_per_node == slurm.train.nproc_per_node
    assert (slurm.base_model.hf, slurm.mix.replay_fraction) == (cfg.base_model.hf, cfg.mix.replay_fraction)


def test_ablate_one_filter_composes_every_variant():
    with hydra_context():
        cfg = compose_one(["+experiment=ablate_one_filter"])
        (key, values), = cfg.ablate.grid.items()
        assert key == "recipe.filters.fineweb.short_line_thr" and len(values) == 3
        for v in values:  # each variant is a valid config
            variant = compose_one(["+experiment=ablate_one_filter", f"{key}={v}"])
            assert variant.recipe.filters.fineweb.short_line_thr == v


@pytest.mark.parametrize("experiment", ["continue_hf_on_crawl", "ablate_one_filter"])
def test_doctor_passes_with_local_data(cpt, tmp_path, experiment):
    from hf_models import make_hf_model

    model = make_hf_model("llama3", tmp_path / "hf")
    (tmp_path / "crawl").mkdir()
    (tmp_path / "crawl" / "a.jsonl").write_text(json.dumps({"text": "Some words of a page. " * 20}) + "\n")
    (tmp_path / "replay.jsonl").write_text(json.dumps({"text": "Original data. " * 20}) + "\n")
    paths = [f"base_model.hf={model}", f"curate.input.paths=[{tmp_path}/crawl]", "curate.input.format=jsonl",
             f"replay.paths=[{tmp_path}/replay.jsonl]", "train.gpu_memory_gb=80"]
    r = cpt("doctor", f"+experiment={experiment}", *(paths if experiment.startswith("continue") else []))
    assert r.returncode == 0 and "all required checks passed" in r.stdout, r.stdout[-2500:] + r.stderr[-2500:]
