"""Report: the filter funnel, dedup, token counts, the LR schedule, loss curves, and the loss
before and after on both domains. Markdown (``report.md``) and HTML (``report.html``) with PNG plots."""

from __future__ import annotations

import html
import json
from pathlib import Path

from pipeline.registry import StageContext, output_version, write_json_atomic
from pipeline.report import plots, task_tables


def read_metrics(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def schedule_curve(train_stats: dict) -> list[tuple[int, float]]:
    """LR per step from the formulas, for the schedule the training run resolved (peak LR included)."""
    from pipeline.config import ScheduleConfig
    from pipeline.train.schedule import lr_at

    schedule, n = ScheduleConfig(**train_stats["schedule"]), train_stats["iterations"]
    return [(step, lr_at(schedule, step, n)) for step in range(1, n + 1)]


def funnel_rows(curate: dict, dedup: dict) -> list[dict]:
    """Documents in and kept per step, from the raw input to the deduplicated output."""
    rows = list(curate["funnel"]["steps"])
    for p in dedup.get("passes") or []:
        if p["step"] != "none":
            rows.append({"step": f"{p['step']} dedup", "in": p["in"], "removed": p["removed"], "kept": p["kept"],
                         "reasons": {}})
    return rows


def dedup_table(dedup: dict) -> tuple[list[str], list[list]]:
    """Per dump: documents in, removed by each dedup pass, kept (in = kept + removed)."""
    names = [p["step"] for p in dedup.get("passes") or [] if p["step"] != "none"]
    rows = [[d, v["in"], *[v["removed"].get(n, 0) for n in names], v["kept"]]
            for d, v in sorted((dedup.get("by_dump") or {}).items())]
    return ["dump", "docs in", *[f"removed: {n}" for n in names], "kept"], rows


def markdown_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def html_table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@output_version(2)
def run(ctx: StageContext) -> dict:
    ins = {name: art.stats for name, art in ctx.inputs.items()}
    out = ctx.out_dir
    funnel = funnel_rows(ins["curate"], ins["dedup"])
    ev = ins["evaluate"]
    loss = ev["loss"]
    train_metrics = read_metrics(ctx.inputs["train"].path / "metrics.jsonl")
    pre_metrics = read_metrics(ctx.inputs["pretrain"].path / "metrics.jsonl") if "pretrain" in ctx.inputs else []

    figures = {
        "funnel.png": plots.funnel(funnel, out / "funnel.png"),
        "losses.png": plots.before_after(loss, out / "losses.png"),
        "training.png": plots.training_curves(pre_metrics, train_metrics, loss["before"], out / "training.png"),
        "lr.png": plots.lr_schedule(schedule_curve(ins["train"]), train_metrics, out / "lr.png"),
    }
    figures = {name: ok for name, ok in figures.items() if ok}

    funnel_table = (["step", "docs in", "removed", "kept", "removed by reason"],
                    [[r["step"], r["in"], r["removed"], r["kept"],
                      (", ".join(f"{k}: {v}" for k, v in r["reasons"].items()) or "-")
                      + ("; kept, noted: " + ", ".join(f"{k}: {v}" for k, v in r["notes"].items())
                         if r.get("notes") else "")] for r in funnel])
    mix = ins["mix"]
    token_table = (["data", "documents", "tokens"], [
        ["new (train)", mix["new_split"]["train"]["documents"], mix["new_split"]["train"]["tokens"]],
        ["new (validation: adaptation)", mix["new_split"]["valid"]["documents"], mix["new_split"]["valid"]["tokens"]],
        ["original (replay source)", mix["replay_split"]["train"]["documents"], mix["replay_split"]["train"]["tokens"]],
        ["original (validation: forgetting)", mix["replay_split"]["valid"]["documents"],
         mix["replay_split"]["valid"]["tokens"]],
    ])
    loss_table = (["domain", "before (base)", "after (CPT)", "change"], [
        ["old (forgetting)", f"{loss['before']['old']:.4f}", f"{loss['after']['old']:.4f}",
         f"{loss['after']['old'] - loss['before']['old']:+.4f}"],
        ["new (adaptation)", f"{loss['before']['new']:.4f}", f"{loss['after']['new']:.4f}",
         f"{loss['after']['new'] - loss['before']['new']:+.4f}"],
    ])
    train = ins["train"]
    mfu = train.get("mfu")
    training_table = (["steps", "tokens", "precision", "device", "tokens/s", "model TFLOP/s", "MFU", "start"], [[
        train.get("iterations"), f"{train.get('tokens_seen', 0):,}", train.get("precision", "-"), train.get("device"),
        f"{train.get('tokens_per_s', 0):,.0f}", f"{train.get('tflops', 0):.3g}",
        f"{mfu:.1%}" if mfu is not None else "- (no peak for this device)",
        "weights-only from the base model" + (f"; last launch resumed at step {train['start_iteration']}"
                                              if train.get("resumed") else ""),
    ]])
    summary = {
        "documents_in": funnel[0]["in"],
        "documents_kept": funnel[-1]["kept"],
        "replay_fraction": mix["replay_fraction"],
        "train_tokens": train.get("tokens_seen"),
        "loss": loss,
        "forgetting": ev["forgetting"],
        "adaptation": ev["adaptation"],
        "downstream": {k: v for k, v in (ev.get("downstream") or {}).items() if k != "tasks"},
    }
    sections = [
        ("Filter funnel", funnel_table, "funnel.png"),
        (f"Dedup per dump (scope: {ins['dedup'].get('scope', 'per_dump')})", dedup_table(ins["dedup"]), None),
        ("Tokens", token_table, None),
        ("Loss before and after continued pretraining", loss_table, "losses.png"),
        ("Downstream tasks before and after (lm-evaluation-harness; general: forgetting, domain: adaptation)",
         task_tables.downstream_table(ev), None),
        ("Decontamination of the curated data against the tasks", task_tables.decontamination_table(ins["curate"]),
         None),
        ("Contamination check on the model (Min-K%, Min-K%++)", task_tables.contamination_table(ev), None),
        ("Training", training_table, "training.png"),
        ("Learning-rate schedule", None, "lr.png"),
    ]
    rep = (mix.get("realized") or {}).get("sources", {}).get("replay")
    realized = (f", realized {rep['realized_fraction']:.4g} over the {mix['realized']['tokens']:,}-token budget "
                f"({rep['epochs']:.2f} replay epochs)" if rep else "")
    md = ["# Continued-pretraining report", "",
          f"Replay fraction {mix['replay_fraction']:.3g} requested (by tokens){realized}. "
          f"Forgetting (old-domain loss change) {ev['forgetting']:+.4f}; "
          f"adaptation (new-domain loss drop) {ev['adaptation']:+.4f}. {task_tables.downstream_sentence(ev)}".strip(),
          ""]
    body = [f"<h1>Continued-pretraining report</h1><p>{html.escape(md[2])}</p>"]
    notes = {"Contamination check on the model (Min-K%, Min-K%++)": task_tables.contamination_caveat(ev),
             "Decontamination of the curated data against the tasks": task_tables.decontamination_note(ins["curate"])}
    sections = [s for s in sections if s[1] is not None or s[2] is not None]
    for title, table, fig in sections:
        md += [f"## {title}", ""]
        body.append(f"<h2>{html.escape(title)}</h2>")
        if table:
            md += [markdown_table(*table), ""]
            body.append(html_table(*table))
        if notes.get(title):
            md += [notes[title], ""]
            body.append(f"<p>{html.escape(notes[title])}</p>")
        if fig and fig in figures:
            md += [f"![{title}]({fig})", ""]
            body.append(f'<img src="{fig}" alt="{html.escape(title)}">')
    (out / "report.md").write_text("\n".join(md))
    style = ("body{font-family:sans-serif;max-width:960px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{max-width:100%}")
    (out / "report.html").write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>cpt report</title>"
                                     f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
    write_json_atomic(out / "summary.json", summary)
    ctx.log(f"report: {ctx.final_dir / 'report.html'}")
    return summary
