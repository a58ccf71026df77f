"""The comparison report: one self-contained HTML file (figures inlined as PNG, no network), and its
results table as Parquet and CSV."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from pipeline.ablate import figures
from pipeline.ablate.summary import VariantSummary

COLUMNS = ["#", "variant", "rank", "adaptation", "adaptation std", "forgetting", "forgetting std",
           "adaptation vs baseline", "forgetting vs baseline", "old loss after", "new loss after",
           "downstream adaptation (acc)", "downstream adaptation std", "downstream forgetting (acc)",
           "downstream forgetting std",
           "documents in", "documents kept", "tokens kept", "seeds", "pareto"]


def _versus(v: VariantSummary, metric: str, is_baseline: bool) -> str:
    if is_baseline:
        return "baseline"
    c = v.vs_baseline[metric]
    return f"{c.delta:+.4f} (within seed noise ±{c.noise:.4f})" if c.within_noise else f"{c.delta:+.4f}"


def table_rows(variants: list[VariantSummary], baseline: str) -> list[dict]:
    """One row per variant, in ranked order (``variants`` as :func:`summary.summarize` returns them)."""
    rows = []
    for i, v in enumerate(variants):
        rows.append({
            "#": i + 1, "variant": v.label,
            "rank": f"{v.rank} (tied: within seed noise of the one above)" if v.tied_with_above else str(v.rank),
            "adaptation": round(v.adaptation.mean, 6), "adaptation std": round(v.adaptation.std, 6),
            "forgetting": round(v.forgetting.mean, 6), "forgetting std": round(v.forgetting.std, 6),
            "adaptation vs baseline": _versus(v, "adaptation", v.label == baseline),
            "forgetting vs baseline": _versus(v, "forgetting", v.label == baseline),
            "old loss after": round(v.loss_after_old.mean, 6), "new loss after": round(v.loss_after_new.mean, 6),
            **_downstream_cells(v),
            "documents in": v.documents_in, "documents kept": v.documents_kept, "tokens kept": v.tokens_kept,
            "seeds": ",".join(str(s) for s in v.seeds), "pareto": v.pareto,
        })
    return rows


def _downstream_cells(v: VariantSummary) -> dict:
    out = {}
    for name, stat in (("adaptation", v.downstream_adaptation), ("forgetting", v.downstream_forgetting)):
        out[f"downstream {name} (acc)"] = round(stat.mean, 6) if stat else None
        out[f"downstream {name} std"] = round(stat.std, 6) if stat else None
    return out


def write_tables(rows: list[dict], out_dir: Path) -> None:
    """``results.parquet`` and ``results.csv`` (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows)
    for name, write in (("results.parquet", pq.write_table), ("results.csv", pacsv.write_csv)):
        tmp = out_dir / f".{name}.tmp-{os.getpid()}"
        write(table, str(tmp))
        os.replace(tmp, out_dir / name)


def _cell(value) -> str:
    return f"<td>{html.escape('-' if value is None else str(value))}</td>"


def results_table(rows: list[dict]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(_cell(r[c]) for c in COLUMNS) + "</tr>" for r in rows)
    return f"<table id='results'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def diff_section(variants: list[VariantSummary], baseline: str) -> str:
    parts = []
    for v in variants:
        if v.label == baseline:
            continue
        rows = "".join(f"<tr><td class='k'>{html.escape(k)}</td>{_cell(a)}{_cell(b)}</tr>" for k, a, b in v.config_diff)
        rows = rows or "<tr><td colspan='3'>no difference in the configs the stages fingerprint</td></tr>"
        parts.append(f"<h3>{html.escape(v.label)}</h3><table class='diff'><thead><tr><th>key</th>"
                     f"<th>{html.escape(baseline)}</th><th>this variant</th></tr></thead><tbody>{rows}</tbody></table>")
    return "".join(parts) or "<p>Only the baseline.</p>"


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


STYLE = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:0.5em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px}"
         "td{text-align:right}td.k{text-align:left;font-family:monospace}img{max-width:100%;display:block}"
         "p.note{color:#555;font-size:13px}")


def render(variants: list[VariantSummary], baseline: str, out_dir: Path, *, title: str, notes: list[str],
           pareto_by: str = "loss") -> Path:
    """Write ``report.html``, ``results.parquet`` and ``results.csv`` into ``out_dir``."""
    rows = table_rows(variants, baseline)
    write_tables(rows, out_dir)
    figs = figures.all_figures(variants, pareto_by)
    body = [
        f"<h1>{html.escape(title)}</h1>", *[f"<p class='note'>{html.escape(n)}</p>" for n in notes],
        "<h2>Results, by adaptation</h2>", results_table(rows),
        "<p class='note'>Adaptation: the drop of the new-domain validation loss from the base model; forgetting: "
        "the rise of the old-domain loss. Mean and std over seeds. A difference smaller than the seed noise is "
        "marked as such and not ranked. Downstream: the mean accuracy gained on the domain tasks and lost on the "
        "general tasks of evaluate.tasks (lm-evaluation-harness). Also in results.parquet and results.csv.</p>",
        "<h2>Adaptation vs forgetting</h2>", _img(figs["pareto"], "adaptation vs forgetting"),
        "<h2>Filter funnel and kept tokens</h2>", _img(figs["funnel"], "filter funnel per variant"),
        "<h2>Loss curves</h2>", _img(figs["curves"], "training and validation loss per variant"),
        "<h2>Learning-rate schedule</h2>", _img(figs["lr"], "learning-rate schedule per variant"),
        f"<h2>Config differences against the baseline ({html.escape(baseline)})</h2>", diff_section(variants, baseline),
    ]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>")
    tmp = out_dir / f".report.html.tmp-{os.getpid()}"
    tmp.write_text(page)
    os.replace(tmp, out_dir / "report.html")
    return out_dir / "report.html"
