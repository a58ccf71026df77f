"""What the pages show, as plain data for the templates: a job's stages laid out as a graph, its
progress and curves from its events, the results its stages wrote (funnel, forgetting and adaptation,
report), the registry's runs with their consumers and jobs, and a comparison of jobs."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from pipeline.registry import MANIFEST

NODE_W, NODE_H, COL_W, ROW_H = 150, 46, 180, 58
MAX_CURVE_POINTS = 1000
EVENT_KINDS = ("state", "stage_started", "stage_cached", "stage_completed", "stage_failed", "warning",
               "slurm_submitted", "reattached")


# ---------------------------------------------------------------------------- formatting
def when(ts: Optional[float]) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "-"


def duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def size(n: Optional[int]) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def job_duration(job: dict, now: Optional[float] = None) -> Optional[float]:
    if not job.get("started_at"):
        return None
    return (job.get("finished_at") or now or time.time()) - job["started_at"]


# ---------------------------------------------------------------------------- stages
def stage_nodes(job: dict) -> list[dict]:
    """The job's stages in chain order: the plan's (with their inputs and expected cache hits), updated
    with what the run reported so far. Status: queued | reuse (a planned cache hit) | running | cached |
    completed | failed."""
    plan = json.loads(job.get("plan") or "null") or {}
    ran = {(s.get("name"), s.get("fingerprint")): s for s in json.loads(job.get("stages") or "[]")}
    ran_by_name = {s.get("name"): s for s in ran.values()}
    nodes = []
    for p in plan.get("stages") or []:
        refs = p.get("inputs") or {}
        node = {"name": p["name"], "fingerprint": p["fingerprint"], "status": "reuse" if p.get("cached") else "queued",
                "inputs": sorted({ref.split("/")[0] for ref in refs.values()}), "duration_s": None, "progress": 0.0}
        node.update(_ran_fields(ran.get((p["name"], p["fingerprint"])) or ran_by_name.get(p["name"])))
        nodes.append(node)
    known = {n["name"] for n in nodes}
    for s in ran.values():
        if s.get("name") not in known:
            nodes.append({"name": s.get("name"), "fingerprint": s.get("fingerprint"), "inputs": [],
                          "status": "queued", "duration_s": None, "progress": 0.0, **_ran_fields(s)})
    return nodes


def _ran_fields(s: Optional[dict]) -> dict:
    if not s:
        return {}
    out = {k: s.get(k) for k in ("fingerprint", "status", "started_at", "duration_s", "progress", "documents", "error")
           if s.get(k) is not None}
    return out


def stage_graph(nodes: list[dict]) -> dict:
    """Columns by depth (a stage sits right of everything it reads), edges as curves: an SVG's geometry."""
    depth: dict[str, int] = {}
    names = {n["name"] for n in nodes}
    for n in nodes:  # chain order: a stage's inputs come before it
        depth[n["name"]] = 1 + max((depth.get(i, 0) for i in n["inputs"] if i in names), default=-1)
    rows: dict[int, int] = {}
    boxes = {}
    for n in nodes:
        col = depth[n["name"]]
        row = rows.get(col, 0)
        rows[col] = row + 1
        boxes[n["name"]] = {**n, "x": 10 + col * COL_W, "y": 10 + row * ROW_H, "w": NODE_W, "h": NODE_H}
    edges = []
    for n in nodes:
        for i in n["inputs"]:
            if i in boxes:
                a, b = boxes[i], boxes[n["name"]]
                x1, y1, x2, y2 = a["x"] + NODE_W, a["y"] + NODE_H / 2, b["x"], b["y"] + NODE_H / 2
                mid = (x1 + x2) / 2
                edges.append({"from": i, "to": n["name"], "d": f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"})
    width = 20 + (max(depth.values(), default=0) + 1) * COL_W
    height = 20 + max(rows.values(), default=1) * ROW_H
    return {"nodes": list(boxes.values()), "edges": edges, "width": width, "height": height}


def strip(job: dict) -> list[dict]:
    """The jobs page's row of stage states (name and status only)."""
    return [{"name": n["name"], "status": n["status"]} for n in stage_nodes(job)]


# ---------------------------------------------------------------------------- progress and curves
def curves(progress_events: list[dict], curve_stage: str = "train") -> dict:
    """From the job's ``progress`` and ``stage_started`` events: the training loss and LR per step and the
    eval losses of ``curve_stage`` (pretrain logs the same metrics), the running stage's last training
    record and the data stages' last task and document counts."""
    train, evals, last, tasks, docs, stage = [], [], None, None, {}, None
    started = docs_at = None
    for ev in progress_events:
        d = ev["data"]
        if ev["kind"] == "stage_started":
            stage, last, tasks, docs, started = d.get("stage"), None, None, {}, ev["ts"]
            continue
        metric = d.get("metric")
        if metric == "train" and isinstance(d.get("step"), (int, float)):
            last = {**d, "ts": ev["ts"]}
            if stage == curve_stage:
                train.append([d["step"], d.get("loss"), d.get("lr")])
        elif metric == "eval" and isinstance(d.get("eval_loss"), dict) and stage == curve_stage:
            evals.append([d.get("step"), d["eval_loss"]])
        elif metric == "tasks":
            tasks = {**d, "ts": ev["ts"]}
        elif metric == "documents":
            docs[str(d.get("task"))] = d.get("documents") or 0
            docs_at = ev["ts"]
    documents = sum(docs.values()) if docs else None
    rate = documents / (docs_at - started) if documents and started and docs_at and docs_at > started else None
    return {"train": thin(train), "eval": thin(evals), "last": last, "tasks": tasks, "stage": stage,
            "curve_stage": curve_stage, "documents": documents, "documents_per_s": rate,
            "last_event_id": progress_events[-1]["id"] if progress_events else 0}


def curve_stage(nodes: list[dict]) -> str:
    """The stage whose training curve a job's page draws: train, else pretrain (a pretrain-only job)."""
    names = {n["name"] for n in nodes}
    return "train" if "train" in names or "pretrain" not in names else "pretrain"


def thin(points: list, limit: int = MAX_CURVE_POINTS) -> list:
    """At most ``limit`` points, evenly strided, the last one kept."""
    if len(points) <= limit:
        return points
    stride = len(points) / limit
    out = [points[int(i * stride)] for i in range(limit - 1)]
    return out + [points[-1]]


def training_eta(last: Optional[dict], started_at: Optional[float]) -> Optional[float]:
    """Seconds left, from the pace since the train stage started."""
    if not last or not started_at or not last.get("total") or not last.get("step"):
        return None
    elapsed = last["ts"] - started_at
    return max(0.0, elapsed / last["step"] * (last["total"] - last["step"])) if elapsed > 0 else None


def event_text(ev: dict) -> str:
    d, kind = ev["data"], ev["kind"]
    if kind == "state":
        return f"{d.get('state')}" + (f": {d['error']}" if d.get("error") else "")
    if kind.startswith("stage_"):
        extra = f" in {duration(d['duration_s'])}" if d.get("duration_s") is not None else ""
        return f"{d.get('stage')} {str(d.get('fingerprint'))[:16]}{extra}" + (f": {d['error']}" if d.get("error") else "")
    if kind == "warning":
        return f"{d.get('category')}: {d.get('message')}"
    if kind == "slurm_submitted":
        return f"{d.get('what')}: Slurm job(s) {', '.join(map(str, d.get('job_ids') or []))}"
    return json.dumps({k: v for k, v in d.items() if k != "ts"})[:500]


# ---------------------------------------------------------------------------- results
def read_manifest(workdir: str | Path, stage: str, fingerprint: str) -> Optional[dict]:
    try:
        m = json.loads((Path(workdir) / stage / fingerprint / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return m if m.get("status") == "completed" else None


def results(workdir: str | Path, nodes: list[dict]) -> dict:
    """What the finished stages wrote: the funnel (curate + dedup), forgetting and adaptation (evaluate),
    whether there is a report."""
    from pipeline.report.stage import funnel_rows

    done = {n["name"]: n["fingerprint"] for n in nodes if n["status"] in ("completed", "cached")}
    stats = {name: (read_manifest(workdir, name, fp) or {}).get("stats") for name, fp in done.items()}
    out: dict = {"funnel": None, "evaluation": None, "report": "report" in done}
    if stats.get("curate") and stats.get("dedup"):
        try:
            rows = funnel_rows(stats["curate"], stats["dedup"])
        except (KeyError, TypeError):  # a manifest of an older or unknown shape: no funnel, not a broken page
            rows = []
        first = rows[0]["in"] if rows else 0
        out["funnel"] = rows and [{**r, "share": r["kept"] / first if first else 0.0,
                          "top_reasons": sorted((r.get("reasons") or {}).items(), key=lambda kv: -kv[1])[:3]}
                         for r in rows]
    if stats.get("evaluate"):
        ev = stats["evaluate"]
        out["evaluation"] = {"loss": ev.get("loss"), "forgetting": ev.get("forgetting"), "adaptation": ev.get("adaptation")}
    return out


# ---------------------------------------------------------------------------- runs
_sizes: dict[tuple[str, float], int] = {}


def disk_size(path: Path) -> Optional[int]:
    """Bytes under ``path`` (symlinks not followed), cached per manifest mtime: a completed run does not change."""
    try:
        key = (str(path), (path / MANIFEST).stat().st_mtime)
    except OSError:
        return None
    if key not in _sizes:
        total = 0
        for dirpath, _dirs, files in os.walk(path):
            for f in files:
                try:
                    total += os.lstat(os.path.join(dirpath, f)).st_size
                except OSError:
                    pass
        _sizes[key] = total
    return _sizes[key]


def runs_index(workdir: str | Path, uses: list[tuple[str, str]], stage: Optional[str] = None,
               limit: int = 500) -> list[dict]:
    """The registry's runs, newest first: inputs, consumers, the (visible) jobs that made or reused each,
    size on disk."""
    from pipeline.registry import Registry

    rows = Registry(workdir).list_runs()
    consumers: dict[str, list[str]] = {}
    for r in rows:
        for ref in (r.get("inputs") or {}).values():
            consumers.setdefault(ref, []).append(f"{r['stage']}/{r['fingerprint']}")
    jobs_of: dict[str, list[str]] = {}
    for job_id, stages in uses:
        for s in json.loads(stages or "[]"):
            ref = f"{s.get('name')}/{s.get('fingerprint')}"
            jobs_of.setdefault(ref, []).append(job_id)
    out = []
    for r in reversed(rows):
        if stage and r["stage"] != stage:
            continue
        ref = f"{r['stage']}/{r['fingerprint']}"
        out.append({**r, "ref": ref, "consumers": consumers.get(ref, []), "jobs": jobs_of.get(ref, [])[:20],
                    "size": disk_size(Path(r["path"]))})
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------------- compare
def config_diff(resolved: list[dict], limit: int = 300) -> list[dict]:
    """The keys whose resolved values differ between the jobs: [{key, values}]."""
    from pipeline.why import flatten

    flat = [flatten(r or {}) for r in resolved]
    keys = sorted(set().union(*flat)) if flat else []
    rows = []
    for k in keys:
        values = [json.dumps(f.get(k), default=str) if k in f else "(absent)" for f in flat]
        if len(set(values)) > 1:
            rows.append({"key": k, "values": values})
    return rows[:limit]


def evaluated(workdir: str | Path, jobs: list[dict]) -> dict:
    """The forgetting vs adaptation table (variants: jobs with the same config but the seed) and the
    scatter's points, over the jobs whose report exists; ``{}`` if fewer than one has."""
    from pipeline.ablate.compare import load_records
    from pipeline.ablate.render import table_rows
    from pipeline.ablate.summary import summarize
    from pipeline.errors import CptError

    runs = []
    for job in jobs:
        node = next((n for n in stage_nodes(job) if n["name"] == "report" and n["status"] in ("completed", "cached")), None)
        if node:
            runs.append((Path(workdir) / "report" / node["fingerprint"], ""))
    if not runs:
        return {}
    try:
        records = load_records(runs)
    except CptError as exc:
        return {"error": str(exc).splitlines()[0]}
    variants = summarize(records, 1.0)
    points = [{"label": v.label, "adaptation": v.adaptation.mean, "adaptation_std": v.adaptation.std,
               "forgetting": v.forgetting.mean, "forgetting_std": v.forgetting.std, "seeds": v.adaptation.n}
              for v in variants]
    return {"table": table_rows(variants, records[0].label), "points": points, "runs": len(records)}


def experiment_choices(folder: Path) -> list[dict]:
    """The experiment files a user can start from on the submit page: ``name``, the ``command`` that runs it
    (``ablate`` for an ablation) and the first line of its comment, without the journey number."""
    out = []
    for f in sorted(folder.glob("*.yaml")):
        lines = [ln[1:].strip() for ln in f.read_text(encoding="utf-8").splitlines()[:6] if ln.startswith("#")]
        about = next((ln for ln in lines if ln and not ln.startswith("@package")), "")
        about = about.split(": ", 1)[1] if about.lower().startswith("journey") and ": " in about else about
        out.append({"name": f.stem, "command": "ablate" if "ablate" in f.stem else "run", "about": about})
    return out

