"""``cpt ablate`` end to end on a reduced embedded sample (real datatrove, real megatron-core on CPU),
``cpt compare`` on the runs it made, and the comparison logic on hand-made records."""

import csv
import json
import re
from pathlib import Path

import pytest

from conftest import run_cpt

REDUCED = [
    "sample.web_pages=120", "sample.original_docs=300", "base_model.pretrain_iters=60",
    "base_model.pretrain_peak_lr=2e-3", "train.train_iters=40", "train.eval_interval=20", "evaluate.max_samples=32",
    "progress=false",
]


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("ablate")
    cold = run_cpt("ablate", *REDUCED, cwd=cwd)
    assert cold.returncode == 0, cold.stderr[-4000:]
    warm = run_cpt("ablate", *REDUCED, cwd=cwd)
    assert warm.returncode == 0, warm.stderr[-4000:]
    report = Path(re.search(r"^report: (.+)$", cold.stdout, re.M).group(1))
    return cwd, cold, warm, report


def manifests(cwd: Path, stage: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in (cwd / "work" / stage).glob("*/manifest.json")]


def test_every_variant_and_seed_ran_from_one_base_with_one_replay_stream(ablation):
    cwd, cold, _, _ = ablation
    trains = manifests(cwd, "train")
    assert len(trains) == 4  # 2 recipes x 2 seeds
    assert len({m["inputs"]["base"] for m in trains}) == 1
    assert len({json.dumps(m["config"]["schedule"], sort_keys=True) for m in trains}) == 1
    assert len({m["stats"]["tokens_seen"] for m in trains}) == 1  # one token budget
    assert len(manifests(cwd, "pretrain")) == len(manifests(cwd, "replay")) == 1
    assert len(manifests(cwd, "extract")) == 1  # the recipes differ only in their filters
    assert len(manifests(cwd, "curate")) == 2
    evals = manifests(cwd, "evaluate")
    assert len({m["config"]["evaluate"]["new_valid"] for m in evals}) == 1  # adaptation on the same documents
    assert len({m["stats"]["loss"]["before"]["new"] for m in evals}) == 1


def test_the_output_says_how_many_stages_came_from_cache(ablation):
    _, cold, warm, _ = ablation
    ran = re.search(r"(\d+) stage runs, (\d+) reused from cache, (\d+) ran", cold.stderr)
    assert ran and int(ran.group(2)) > 0 and int(ran.group(3)) > 0
    again = re.search(r"(\d+) stage runs, (\d+) reused from cache, (\d+) ran", warm.stderr)
    assert again.group(3) == "0" and again.group(1) == again.group(2)
    assert "] running" not in warm.stderr


def test_results_table_as_parquet_and_csv(ablation):
    import pyarrow.parquet as pq

    _, _, _, report = ablation
    table = pq.read_table(report.parent / "results.parquet").to_pylist()
    assert sorted(r["variant"] for r in table) == ["recipe=fineweb", "recipe=fineweb_no_c4"]
    assert [r["adaptation"] for r in table] == sorted((r["adaptation"] for r in table), reverse=True)
    for r in table:
        assert r["seeds"] == "1,2" and r["tokens kept"] > 0 and 0 < r["documents kept"] <= r["documents in"]
        assert r["adaptation std"] >= 0 and r["forgetting std"] >= 0
        # downstream (the sample's tasks) beside the loss-based measures, with the seed spread
        assert r["downstream adaptation (acc)"] is not None and r["downstream forgetting std"] >= 0
    evals = {m["fingerprint"]: m["stats"]["downstream"] for m in manifests(ablation[0], "evaluate")}
    assert all(set(d["tasks"]) == {"sample_general", "sample_domain"} for d in evals.values())
    rows = list(csv.DictReader((report.parent / "results.csv").open()))
    assert [r["variant"] for r in rows] == [r["variant"] for r in table]
    baseline = next(r for r in table if r["variant"] == "recipe=fineweb")
    assert baseline["adaptation vs baseline"] == "baseline"


def test_config_diff_names_the_c4_filter(ablation):
    _, _, _, report = ablation
    page = report.read_text()
    assert "c4.enabled" in page
    assert "<img" in page and "http://" not in page and "https://" not in page  # self-contained


def test_compare_rebuilds_the_same_table_from_existing_runs(ablation, tmp_path):
    import pyarrow.parquet as pq

    cwd, _, _, report = ablation
    runs = json.loads((report.parent / "runs.json").read_text())
    res = run_cpt("compare", *[r["path"] for r in runs], cwd=cwd)
    assert res.returncode == 0, res.stderr[-3000:]
    again = Path(re.search(r"^report: (.+)$", res.stdout, re.M).group(1))
    new = pq.read_table(again.parent / "results.parquet").to_pylist()
    old = pq.read_table(report.parent / "results.parquet").to_pylist()
    # unlabelled runs are named by their config difference from the first run
    assert [r["adaptation"] for r in new] == [r["adaptation"] for r in old]
    labels = sorted(r["variant"] for r in new)
    assert labels[0] == "baseline" and labels[1].startswith("c4.enabled=False"), labels
    # an earlier comparison is accepted too, with its labels
    res = run_cpt("compare", str(report.parent), cwd=cwd)
    assert res.returncode == 0, res.stderr[-3000:]
    third = Path(re.search(r"^report: (.+)$", res.stdout, re.M).group(1))
    relabelled = pq.read_table(third.parent / "results.parquet").to_pylist()
    assert sorted(r["variant"] for r in relabelled) == ["recipe=fineweb", "recipe=fineweb_no_c4"]
    assert [r["adaptation"] for r in relabelled] == [r["adaptation"] for r in old]
    # the Pareto view on downstream accuracy instead of loss
    res = run_cpt("compare", str(report.parent), "--pareto", "downstream", cwd=cwd)
    assert res.returncode == 0, res.stderr[-3000:]
    pareto = Path(re.search(r"^report: (.+)$", res.stdout, re.M).group(1)).parent
    assert json.loads((pareto / "manifest.json").read_text())["config"]["pareto_by"] == "downstream"
    assert pareto != third.parent and "Downstream: the mean accuracy gained" in (pareto / "report.html").read_text()


def test_compare_refuses_what_is_not_a_report(tmp_path):
    res = run_cpt("compare", str(tmp_path), cwd=tmp_path)
    assert res.returncode != 0 and "no manifest.json" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_a_bad_grid_key_fails_in_one_line_before_any_work(tmp_path):
    res = run_cpt("ablate", "ablate.grid={recipe.filters.fineweb.no_such_thr:[0.5,0.8]}", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "recipe.filters.fineweb.no_such_thr" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "work").exists()


def test_one_seed_is_refused(tmp_path):
    res = run_cpt("ablate", "ablate.seeds=[1]", cwd=tmp_path)
    assert res.returncode == 2 and "ablate.seeds" in res.stderr


# ------------------------------------------------------------------ the comparison logic
def record(label: str, seed: int, adaptation: float, forgetting: float):
    from pipeline.ablate.records import RunRecord

    funnel = [{"step": "read", "in": 10, "removed": 0, "kept": 10}]
    loss = {"before": {"old": 3.0, "new": 5.0}, "after": {"old": 3.0 + forgetting, "new": 5.0 - adaptation}}
    return RunRecord(Path("/x"), label, seed, {"train": {"train": {"seed": seed}}, "curate": {"thr": label}},
                     funnel, 100, loss, forgetting, adaptation)


def test_a_difference_within_seed_noise_is_not_ranked():
    from pipeline.ablate.summary import summarize

    recs = [record("base", 1, 1.00, 0.20), record("base", 2, 1.10, 0.22),
            record("noisy-better", 1, 0.95, 0.21), record("noisy-better", 2, 1.25, 0.19),  # mean 1.10, wide
            record("worse", 1, 0.50, 0.30), record("worse", 2, 0.52, 0.31)]
    ranked = summarize(recs)
    assert [v.label for v in ranked] == ["noisy-better", "base", "worse"]
    assert [v.rank for v in ranked] == [1, 1, 3]
    assert ranked[1].tied_with_above and not ranked[2].tied_with_above
    by = {v.label: v for v in ranked}
    assert by["noisy-better"].vs_baseline["adaptation"].within_noise
    assert not by["worse"].vs_baseline["adaptation"].within_noise
    assert by["worse"].config_diff == [("curate.thr", "base", "worse")]  # the seed is not a difference
    assert by["noisy-better"].pareto and not by["base"].pareto and not by["worse"].pareto  # it dominates both


def test_variants_are_the_product_of_the_axes():
    from pipeline.ablate.variants import expand
    from pipeline.config import AblateConfig

    vs = expand(AblateConfig(recipes=["fineweb"], grid={"recipe.filters.fineweb.short_line_thr": [0.5, 0.8]},
                             replay_fractions=[0.01, 0.25]))
    assert [v.name for v in vs] == ["short_line_thr=0.5, replay=0.01", "short_line_thr=0.5, replay=0.25",
                                    "short_line_thr=0.8, replay=0.01", "short_line_thr=0.8, replay=0.25"]
    assert vs[0].overrides == ("recipe=fineweb", "recipe.filters.fineweb.short_line_thr=0.5",
                               "mix.replay_fraction=0.01")


# ------------------------------------------------------------------ the report in a real browser
VISIBILITY = """() => {
  const shown = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const imgs = [...document.images];
  const table = document.querySelector('table#results');
  return {images: imgs.length, loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
          shown: imgs.filter(shown).length, table: !!table && shown(table),
          rows: table ? table.tBodies[0].rows.length : 0,
          variants: table ? [...table.tBodies[0].rows].map(r => r.cells[1].textContent) : []};
}"""


def test_report_renders_in_headless_chromium(ablation, tmp_path):
    """Debian's chromium (installed by .ci/browser/install_chromium.sh), driven by playwright, no network."""
    from playwright.sync_api import sync_playwright

    _, _, _, report = ablation
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        seen = page.evaluate(VISIBILITY)
        page.screenshot(path=str(tmp_path / "screenshot.png"), full_page=True)
        browser.close()
    assert seen["images"] == 4 and seen["loaded"] == 4 and seen["shown"] == 4, seen
    assert seen["table"] and seen["rows"] == 2, seen
    assert sorted(seen["variants"]) == ["recipe=fineweb", "recipe=fineweb_no_c4"]
    assert all(u.startswith(("file://", "data:")) for u in requests), requests  # nothing from the network
    assert (tmp_path / "screenshot.png").stat().st_size > 50_000
    print(f"screenshot: {tmp_path / 'screenshot.png'}")
