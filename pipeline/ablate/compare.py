"""The ``compare`` stage: runs (report directories) -> the comparison report, cached like any stage."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.ablate import records, render, summary
from pipeline.errors import InputError
from pipeline.registry import MANIFEST, Artifact, Registry, Runtime, StageContext, write_json_atomic

PARETO_BY = ("loss", "downstream")
RUNS_FILE = "runs.json"  # the runs a comparison covers, so `cpt compare` can take a comparison too


def report_artifact(path: Path) -> Artifact:
    path = records.report_dir(path)
    manifest = json.loads((path / MANIFEST).read_text())
    return Artifact("report", manifest["fingerprint"], path, manifest)


def expand_paths(paths: list[str]) -> list[tuple[Path, str]]:
    """Report directories (label "") or earlier comparisons (their runs, with their labels)."""
    out = []
    for p in paths:
        path = Path(p).resolve()
        folder = path.parent if path.is_file() else path
        if (folder / RUNS_FILE).is_file():
            out += [(Path(r["path"]), r["label"]) for r in json.loads((folder / RUNS_FILE).read_text())]
        elif path.exists():
            out.append((records.report_dir(path), ""))
        else:
            raise InputError(f"compare: {p} does not exist")
    if not out:
        raise InputError("compare: give at least one run's report directory")
    return out


def label_from_diff(baseline: records.RunRecord, record: records.RunRecord) -> str:
    """A name for an unlabelled run: what differs from the first run's config (seeds aside)."""
    diff = summary.config_diff(baseline, record)
    if not diff:
        return "baseline"
    names = [f"{'.'.join(k.split('.')[-2:])}={b}" for k, _, b in diff[:3]]
    return ", ".join(names) + (f" (+{len(diff) - 3} more)" if len(diff) > 3 else "")


def load_records(runs: list[tuple[Path, str]]) -> list[records.RunRecord]:
    recs = [records.load(path, label) for path, label in runs]
    for r in recs:
        if not r.label:
            r.label = label_from_diff(recs[0], r)
    return recs


def run(ctx: StageContext) -> dict:
    cfg = ctx.config
    recs = load_records([(Path(p), label) for p, label in cfg["runs"]])
    variants = summary.summarize(recs, cfg["noise_sigmas"], cfg["pareto_by"])
    baseline = recs[0].label
    notes = [*cfg["notes"], f"{len(recs)} runs in {len(variants)} variants; baseline: {baseline}. Noise: a difference "
             f"within {cfg['noise_sigmas']:g} standard error(s) of the difference of the means over seeds."]
    if any(v.adaptation.n < 2 for v in variants):
        notes.append("Some variants have a single seed: their seed noise is unknown (taken as 0).")
    page = render.render(variants, baseline, ctx.out_dir, title=cfg["title"], notes=notes, pareto_by=cfg["pareto_by"])
    write_json_atomic(ctx.out_dir / RUNS_FILE, [{"path": str(r.path), "label": r.label, "seed": r.seed} for r in recs])
    ctx.log(f"report: {ctx.final_dir / page.name}")
    return {"runs": len(recs), "variants": len(variants), "table": render.table_rows(variants, baseline)}


def compare(runs: list[tuple[Path, str]], workdir: Path, *, noise_sigmas: float = 1.0, title: str = "",
            notes: list[str] = (), progress: bool = True, pareto_by: str = "loss") -> Artifact:
    """The comparison of ``runs`` (report directory, label) under ``<workdir>/compare/<fingerprint>``;
    ``pareto_by``: the Pareto view's measures, ``loss`` (validation loss) or ``downstream`` (task accuracy)."""
    if pareto_by not in PARETO_BY:
        raise InputError(f"compare: pareto_by must be one of {', '.join(PARETO_BY)}, not {pareto_by!r}")
    inputs = {f"run{i:03d}": report_artifact(path) for i, (path, _) in enumerate(runs)}
    config = {"runs": [[str(inputs[f"run{i:03d}"].path), label] for i, (_, label) in enumerate(runs)],
              "noise_sigmas": noise_sigmas, "title": title or "Continued-pretraining comparison",
              "notes": list(notes), "pareto_by": pareto_by}
    return Registry(workdir).run("compare", run, config=config, inputs=inputs, runtime=Runtime(progress=progress))
