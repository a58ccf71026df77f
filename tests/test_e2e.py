"""End to end: ``cpt run`` on a reduced embedded sample, with real datatrove and megatron-core on CPU.

One cold run, then a second run that must be all cache hits."""

import json
import re

import pytest

REDUCED = [
    "sample.web_pages=120", "sample.original_docs=300",
    "base_model.pretrain_iters=60", "base_model.pretrain_peak_lr=2e-3", "train.train_iters=40", "train.eval_interval=20",
    "evaluate.max_samples=32",
    # the golden counts must not depend on the machine's load: no page may hit trafilatura's 1 s limit
    "recipe.extraction.timeout=10",
]
STAGES = ["sample", "extract", "curate", "dedup", "tokenize", "replay", "mix", "pretrain", "train", "evaluate", "report"]


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    from conftest import run_cpt

    cwd = tmp_path_factory.mktemp("e2e")
    cold = run_cpt("run", *REDUCED, cwd=cwd)
    assert cold.returncode == 0, cold.stderr[-4000:]
    warm = run_cpt("run", *REDUCED, cwd=cwd)
    assert warm.returncode == 0, warm.stderr[-4000:]
    return cwd, cold, warm


def manifests(cwd):
    out = {}
    for p in (cwd / "work").glob("*/*/manifest.json"):
        m = json.loads(p.read_text())
        out[m["stage"]] = m
    return out


def test_every_stage_completed_with_a_manifest(e2e):
    cwd, cold, _ = e2e
    ms = manifests(cwd)
    assert set(ms) == set(STAGES)
    for stage, m in ms.items():
        assert m["status"] == "completed", stage
        assert m["code_version"] and m["fingerprint"] and "finished_at" in m
    assert ms["train"]["inputs"]["base"] == f"pretrain/{ms['pretrain']['fingerprint']}"
    assert ms["mix"]["inputs"] == {"replay": f"replay/{ms['replay']['fingerprint']}",
                                   "tokenize": f"tokenize/{ms['tokenize']['fingerprint']}"}
    assert not list((cwd / "work").glob("*/*.partial"))


def test_second_run_is_all_cache_hits(e2e):
    _, _, warm = e2e
    for stage in STAGES:
        assert re.search(rf"\[{stage}\] cache hit [0-9a-f]{{16}}", warm.stderr), stage
    assert "running" not in warm.stderr


def test_funnel_accounts_for_every_document(e2e):
    cwd, _, _ = e2e
    ms = manifests(cwd)
    funnel = ms["curate"]["stats"]["funnel"]
    assert funnel["documents_in"] == ms["sample"]["stats"]["web_pages"] == 120
    assert funnel["documents_in"] == funnel["kept"] + sum(s["removed"] for s in funnel["steps"])
    removed = {s["step"]: s["removed"] for s in funnel["steps"]}
    by_kind = ms["sample"]["stats"]["by_kind"]
    assert removed["url"] == by_kind["url_blocked"]
    assert removed["language"] == by_kind["non_english"]
    dedup = ms["dedup"]["stats"]
    assert dedup["documents_in"] == funnel["kept"] == dedup["kept"] + dedup["removed_duplicates"]
    assert dedup["removed_duplicates"] >= by_kind["exact_duplicate"]


def test_cpt_rewarms_to_the_base_models_peak(e2e):
    """schedule.peak_lr: null (the default) = the peak the base model was pretrained with."""
    from pipeline.config import ScheduleConfig
    from pipeline.train.schedule import lr_at

    cwd, cold, _ = e2e
    ms = manifests(cwd)
    train = ms["train"]["stats"]
    assert ms["train"]["config"]["schedule"]["peak_lr"] is None
    assert train["schedule"]["peak_lr"] == 2e-3 and not train["resumed"] and train["start_iteration"] == 0
    assert "re-warm to peak LR 0.002 (rewarm_cosine)" in cold.stderr
    metrics = [json.loads(line) for line in
               (cwd / "work" / "train" / ms["train"]["fingerprint"] / "metrics.jsonl").read_text().splitlines()]
    logged = {r["step"]: r["lr"] for r in metrics if r["kind"] == "train"}
    schedule = ScheduleConfig(**train["schedule"])
    assert logged and all(lr == pytest.approx(lr_at(schedule, step, 40)) for step, lr in logged.items())
    assert "| 40 | " in (cwd / "work" / "report" / ms["report"]["fingerprint"] / "report.md").read_text()


def test_replay_mix_and_report(e2e):
    cwd, cold, _ = e2e
    ms = manifests(cwd)
    blend = ms["mix"]["stats"]["blend"]
    assert [e["name"] for e in blend["train"]] == ["new", "replay"]
    assert blend["train"][1]["weight"] == pytest.approx(0.05)
    ev = ms["evaluate"]["stats"]
    assert ev["loss"]["after"]["new"] < ev["loss"]["before"]["new"]  # continuing on new data adapts
    report_dir = cwd / "work" / "report" / ms["report"]["fingerprint"]
    html = (report_dir / "report.html").read_text()
    md = (report_dir / "report.md").read_text()
    assert "Filter funnel" in html and "<table>" in html
    for fig in ("funnel.png", "losses.png", "training.png", "lr.png"):
        assert (report_dir / fig).stat().st_size > 1000 and fig in html
    assert f"| old (forgetting) | {ev['loss']['before']['old']:.4f} | {ev['loss']['after']['old']:.4f}" in md
    assert f"| minhash dedup | {ms['dedup']['stats']['documents_in']} |" in md
    assert "## Dedup per dump (scope: per_dump)" in md
    assert str(report_dir / "report.html") in cold.stdout
    down = ev["downstream"]  # the sample's own tasks, through lm-evaluation-harness
    assert set(down["tasks"]) == {"sample_general", "sample_domain"}
    domain = down["tasks"]["sample_domain"]
    assert domain["n"] == 100 and domain["after"]["acc"] > domain["before"]["acc"]  # adaptation shows downstream
    assert domain["after"]["n_clean"] == 97  # the three planted items decontamination found
    assert down["adaptation_acc"] == pytest.approx(domain["after"]["acc"] - domain["before"]["acc"])
    assert set(ev["contamination"]) == {"sample_general", "sample_domain"}
    assert ev["contamination"]["sample_domain"]["n_control"] == 100
    dec = ms["curate"]["stats"]["decontamination"]
    assert dec["removed_by_task"] == {"sample_general": 0, "sample_domain": 3}
    report = json.loads((cwd / "work" / "curate" / ms["curate"]["fingerprint"] / "decont_report.json").read_text())
    assert sorted(report["tasks"]["sample_domain"]["items_hit"]) == [3, 41, 77]
    assert "## Downstream tasks before and after" in md and "| sample_domain | domain | 100 |" in md
    assert "Min-K%" in md and "weak evidence" in md


def test_runs_lists_lineage(e2e):
    from conftest import run_cpt

    cwd, _, _ = e2e
    r = run_cpt("runs", cwd=cwd)
    assert r.returncode == 0, r.stderr
    ms = manifests(cwd)
    for stage in STAGES:
        assert f"{stage:<9} {ms[stage]['fingerprint']} completed" in r.stdout
    assert f"pretrain/{ms['pretrain']['fingerprint']}" in r.stdout


# Golden per-step counts of the reduced embedded sample (seed 1234, 120 pages) through the FineWeb recipe.
# A change here means the recipe, a filter or the generator changed decisions: look before updating.
GOLDEN_FUNNEL = {
    "read": (120, 0), "url": (120, 4), "extraction": (116, 0), "language": (116, 12),
    "gopher_repetition": (104, 17), "gopher_quality": (87, 3), "c4": (84, 4), "fineweb": (80, 0),
    "decontaminate": (80, 3),  # the three pages the sample plants task items in, and nothing else
}


def test_golden_per_filter_counts(e2e):
    cwd, _, _ = e2e
    steps = manifests(cwd)["curate"]["stats"]["funnel"]["steps"]
    assert {s["step"]: (s["in"], s["removed"]) for s in steps} == GOLDEN_FUNNEL


def test_per_dump_funnel_parquet(e2e):
    import pyarrow.parquet as pq

    cwd, _, _ = e2e
    ms = manifests(cwd)
    rows = pq.read_table(cwd / "work" / "curate" / ms["curate"]["fingerprint"] / "funnel.parquet").to_pylist()
    assert {r["dump"] for r in rows} == {"CC-SYNTH-2026-47"}
    for r in rows:
        assert r["docs_in"] == r["docs_removed"] + r["docs_kept"]
        if r["docs_removed"] and r["step"] != "read":
            assert r["words_removed"] > 0 and r["chars_removed"] > r["words_removed"]
    rejects = cwd / "work" / "curate" / ms["curate"]["fingerprint"] / "rejects"
    assert {p.name for p in rejects.iterdir()} <= {"language", "gopher_repetition", "gopher_quality", "c4", "fineweb",
                                                  "decontaminate"}


def test_runs_why_names_what_differs(e2e):
    """``cpt runs --why``: a cache hit says so; a changed filter threshold is named with both values."""
    from conftest import run_cpt

    cwd, _, _ = e2e
    hit = run_cpt("runs", "--why", "extract", *REDUCED, cwd=cwd)
    assert hit.returncode == 0 and "cache hit" in hit.stdout, hit.stdout + hit.stderr[-2000:]
    r = run_cpt("runs", "--why", "curate", *REDUCED, "recipe.filters.fineweb.short_line_thr=0.5", cwd=cwd)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "would run" in r.stdout and re.search(r"config\s+fineweb\.short_line_thr: 0\.67 -> 0\.5", r.stdout), r.stdout
    assert "inputs" not in r.stdout.split("What differs:")[1] and "code" not in r.stdout.split("What differs:")[1]
    downstream = run_cpt("runs", "--why", "dedup", *REDUCED, "recipe.filters.fineweb.short_line_thr=0.5", cwd=cwd)
    assert re.search(r"inputs\s+curate: curate/\w+ -> curate/\w+", downstream.stdout), downstream.stdout
    bad = run_cpt("runs", "--why", "nosuchstage", cwd=cwd)
    assert bad.returncode != 0 and "unknown stage 'nosuchstage'" in bad.stderr


def test_every_stage_output_matches_its_declared_version(e2e):
    """What each stage wrote has the digest recorded for the output version it declares: a change of
    output without a version bump fails here (so a stale cache cannot ship)."""
    import os

    from output_digest import ENFORCED, load_record, save_record, stage_digest

    cwd, _, _ = e2e
    record, recording = load_record(), os.environ.get("CPT_RECORD_STAGE_OUTPUTS") == "1"
    problems = []
    for stage, m in sorted(manifests(cwd).items()):
        version = str(m["output_version"])
        digest = stage_digest(stage, cwd / "work" / stage / m["fingerprint"])
        if recording:
            record.setdefault(stage, {})[version] = digest
        elif stage in ENFORCED and record.get(stage, {}).get(version) != digest:
            problems.append(f"{stage}: output digest {digest}, recorded for output_version {version}: "
                            f"{record.get(stage, {}).get(version)}")
    if recording:
        save_record(record)
    assert not problems, ("a stage's output changed without a new @output_version (bump it in the stage module, "
                          "then CPT_RECORD_STAGE_OUTPUTS=1 pytest tests/test_e2e.py): " + "; ".join(problems))


def test_filter_ablation_reuses_extraction(e2e):
    """Changing one filter reruns the filters only: extraction is a cache hit."""
    from conftest import run_cpt

    cwd, _, _ = e2e
    r = run_cpt("curate", *REDUCED, "recipe=fineweb_no_c4", cwd=cwd)
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"\[extract\] cache hit", r.stderr) and re.search(r"\[curate\] running", r.stderr)
    ablated = [json.loads(p.read_text()) for p in (cwd / "work" / "curate").glob("*/manifest.json")]
    variant = next(m for m in ablated if m["stats"]["recipe"] == "fineweb_no_c4")
    assert "c4" not in {s["step"] for s in variant["stats"]["funnel"]["steps"]}
    assert variant["stats"]["funnel"]["kept"] >= manifests(cwd)["curate"]["stats"]["funnel"]["kept"]


def test_continue_a_hugging_face_model(e2e):
    """The embedded base model exported to HF, the chain run from that HF directory (export.hf=true),
    and the exported result checked in transformers against cpt's own logits of the same checkpoint.
    (Last in this module: it adds stage runs to the shared workdir.)"""
    import torch
    import transformers

    from conftest import run_cpt
    from pipeline.evaluate.scorer import checkpoint_logits

    cwd, _, _ = e2e
    ms = manifests(cwd)
    hf_base = cwd / "hf_base"
    r = run_cpt("export-hf", str(cwd / "work" / "pretrain" / ms["pretrain"]["fingerprint"]), str(hf_base), cwd=cwd)
    assert r.returncode == 0, r.stderr[-3000:]
    args = [*REDUCED, f"base_model.hf={hf_base}", "export.hf=true"]
    refused = run_cpt("run", *args, cwd=cwd)  # an HF checkpoint carries no peak LR
    assert refused.returncode == 2 and "Hugging Face checkpoint carries none" in refused.stderr
    assert "running" not in refused.stderr  # refused before any work
    r = run_cpt("run", *args, "schedule.peak_lr=2e-3", cwd=cwd)
    assert r.returncode == 0, r.stderr[-4000:]
    for stage in ("hf_import", "train", "evaluate", "export"):
        assert re.search(rf"\[{stage}\] running", r.stderr), stage
    assert re.search(r"\[pretrain\]", r.stderr) is None  # the HF model replaces the pretrained base
    export = [json.loads(p.read_text()) for p in (cwd / "work" / "export").glob("*/manifest.json")]
    assert len(export) == 1 and export[0]["status"] == "completed"
    train = json.loads((cwd / "work" / export[0]["inputs"]["train"] / "manifest.json").read_text())
    assert train["inputs"]["base"].startswith("hf_import/")
    out = cwd / "work" / "export" / export[0]["fingerprint"] / "hf"
    model = transformers.AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    tokens = torch.randint(0, 4000, (2, 64), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        theirs = model(input_ids=tokens).logits
    ours = checkpoint_logits(cwd / "work" / export[0]["inputs"]["train"], tokens)
    assert (ours - theirs).abs().max().item() <= 1e-4
    assert torch.equal(ours.argmax(-1), theirs.argmax(-1))
