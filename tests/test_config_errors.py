"""Bad config gives one clear line naming the key, a non-zero exit, and no manifest at all."""

import pytest


@pytest.mark.parametrize(
    "override, expected",
    [
        ("curate.bogus=1", "unknown config key 'curate.bogus'"),
        ("recipe.filters.gopher_quality.nope=3", "unknown config key 'recipe.filters.gopher_quality.nope'"),
        ("train.train_iters=abc", "invalid value for 'train.train_iters'"),
        ("mix.replay_fraction=1.5", "invalid value for 'mix.replay_fraction'"),
        ("sample.general_share=0.9", "invalid value for 'sample.general_share'"),
        ("recipe.filters.language.threshold=2", "invalid value for 'recipe.filters.language.threshold'"),
        ("model=huge", "unknown option 'huge' for config group 'model'"),
        ("train.nproc_per_node=3", "invalid value for 'train.global_batch_size'"),
        ("train.keep_checkpoints=-1", "invalid value for 'train.keep_checkpoints'"),
        ("precision.fp8_bf16_edge_layers=-1", "invalid value for 'precision.fp8_bf16_edge_layers'"),
        ("schedule.peak_lr=-0.1", "invalid value for 'schedule.peak_lr'"),
        ("train.peak_tflops=0", "invalid value for 'train.peak_tflops'"),
        ("curate.http_status_keep=[200,999]", "invalid value for 'curate.http_status_keep'"),
        ("code_version=fast", "invalid value for 'code_version'"),
        ("ablate.grid={train-seed: [1]}", "invalid value for 'ablate.grid.train-seed'"),
        ("ablate.grid={train.a: [%s], train.b: [%s]}" % ((",".join(map(str, range(17))),) * 2),
         "1156 runs (578 variants x 2 seeds) is more than 256"),
    ],
)
def test_bad_config_fails_before_any_work(cpt, tmp_path, override, expected):
    r = cpt("run", override)
    assert r.returncode != 0
    err_lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(err_lines) == 1, r.stderr
    assert err_lines[0].startswith("cpt: error: ") and expected in err_lines[0], r.stderr
    assert not list(tmp_path.glob("work/*/*/manifest.json"))


def test_runs_why_needs_a_stage(cpt, tmp_path):
    r = cpt("runs", "--why", "recipe=fineweb")
    assert r.returncode != 0 and "cpt runs --why needs a stage" in r.stderr, r.stderr
    assert not (tmp_path / "work").exists()


def test_unknown_command(cpt):
    r = cpt("frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr


def test_cfg_job_shows_resolved_config(cpt):
    r = cpt("run", "--cfg", "job", "mix.replay_fraction=0.25")
    assert r.returncode == 0, r.stderr
    assert "replay_fraction: 0.25" in r.stdout
    assert "char_duplicates_ratio: 0.01" in r.stdout  # FineWeb v1, from data_recipes/fineweb.yaml


def test_doctor_checks_the_training_plan(cpt, tmp_path):
    """cpt doctor fails, naming the fix, for a plan this CPU machine cannot run."""
    ok = cpt("doctor")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "[ok  ] train.nproc_per_node: 1 rank(s) on cpu" in ok.stdout
    bad = cpt("doctor", "precision=fp8", f"base_model.checkpoint={tmp_path}")
    assert bad.returncode == 1
    assert "[FAIL] precision=fp8: needs TransformerEngine on a GPU; use precision=bf16" in bad.stdout
    assert f"[FAIL] base_model.checkpoint: no checkpoint at {tmp_path}" in bad.stdout
    assert "2 required check(s) failed" in bad.stdout
    assert not (tmp_path / "work" / "hydra").exists()  # composed and run here, not as a Hydra job


def test_multirun_checks_every_sweep_combination_first(cpt, tmp_path):
    """``-m``: each combination is composed and validated before Hydra starts any job."""
    r = cpt("run", "-m", "mix.replay_fraction=0.01,1.5", "train.train_iters=5,6")
    assert r.returncode == 2
    err_lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(err_lines) == 1, r.stderr
    assert err_lines[0].startswith("cpt: error: invalid value for 'mix.replay_fraction'"), r.stderr
    assert "(sweep combination: mix.replay_fraction=1.5 train.train_iters=5)" in err_lines[0]
    assert not (tmp_path / "work").exists()  # no job, no multirun folder, no manifest
    bad_key = cpt("curate", "-m", "curate.tasks=1,2", "dedup.nope=3")
    assert bad_key.returncode == 2 and "unknown config key 'dedup.nope'" in bad_key.stderr
    assert len([ln for ln in bad_key.stderr.splitlines() if ln.strip()]) == 1, bad_key.stderr


def test_cfg_job_shows_the_steps_a_token_budget_implies(cpt):
    r = cpt("run", "--cfg", "job", "mix.token_budget=100000", "train.global_batch_size=32")
    assert r.returncode == 0, r.stderr
    # ceil(100000 / (32 x 128)) = 25
    assert "# mix.token_budget=100000 -> train.train_iters=25 (" in r.stdout
    assert "token_budget: 100000" in r.stdout


def test_tools_leave_no_hydra_output_folder(cpt, tmp_path):
    for command in ("runs", "status"):
        r = cpt(command)
        assert r.returncode == 0 and "no runs under" in r.stdout, r.stderr
    bad = cpt("runs", "curate.bogus=1")
    assert bad.returncode == 2 and "unknown config key 'curate.bogus'" in bad.stderr
    assert not (tmp_path / "work" / "hydra").exists() and not (tmp_path / "outputs").exists()


def test_a_checked_config_file_is_forgotten():
    """A server composes many users' files in one process: none stays selectable after its own check."""
    from hydra.core.config_store import ConfigStore

    from pipeline.compose import CONFIG_FILE_GROUP, preflight

    (cfg,) = preflight([], config_file={"train": {"train_iters": 7}})
    assert cfg.train.train_iters == 7
    assert not ConfigStore.instance().repo.get(CONFIG_FILE_GROUP)
