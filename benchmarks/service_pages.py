"""Latency of ``cpt serve``'s web pages and the API reads behind them, on a job store of realistic
size: per route, the median and p95 of N sequential requests, the status and bytes; the database's
fill time and size.

    .venv/bin/python benchmarks/service_pages.py [--jobs 1000] [--events 10000] [--heavy-events 3000]
                                                 [--users 10] [--runs 200] [--repeat 20]
                                                 [--database postgresql://...] [--workdir DIR] [--keep]

The input: a fresh workdir whose database holds ``--jobs`` jobs of ``--users`` users over the last
30 days (the newest queued, a few running, the rest succeeded / failed / cancelled), each with the
resolved config and plan of a real default ``cpt run`` (checked and planned once, by the service's own
``check_submission``), a ``stages`` summary as the worker writes it, and ``--events`` events in all:
``state``, ``stage_started`` / ``stage_completed`` / ``stage_cached`` / ``stage_failed``, and mostly
training ``progress`` (step, loss, lr, grad_norm, tokens_per_s, ...; an eval record every 20th).
``--heavy-events`` of them belong to one running job (the "heavy" job, in training): its pages are
the ones measured. ``--runs`` stage-run manifests in the workdir feed the registry (``/runs``).
The rows are bulk-inserted into the service's tables (as ``pipeline.service.queue`` writes them).

A real ``cpt serve`` (``service.local_workers=0``: no job runs, auth off on loopback) then answers,
per route, one warm-up request and ``--repeat`` timed ones (urllib, one at a time, wall clock). A
route that does not answer 200 is reported as an error and not timed. The routes: the API reads
(``/api/v1/jobs``, a job, its events replayed with ``follow=false``, ``/api/v1/runs``) and the pages
(``/`` and the ``/jobs/rows`` fragment it polls, ``/jobs/<id>`` and its ``/results`` fragment,
``/runs``, ``/compare`` and the ``/compare/data`` it polls).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from service_server import Server  # noqa: E402

DAY = 86400.0
USERS = ["alice", "bob", "chen", "dana", "eli", "farah", "goran", "hana", "ivan", "julia", "kofi", "lena",
         "mateo", "nadia", "omar", "priya"]
OVERRIDES = ["mix.replay_fraction=0.25", "mix.replay_fraction=0.1", "train.train_iters=300", "train.train_iters=2000",
             "train.lr=3e-4", "train.lr=1e-4", "sample.web_pages=2000", "recipe.extraction.extractor=resiliparse",
             "dedup.threshold=0.8", "train.global_batch_size=64", "cluster.executor=slurm", "model=small"]
ERRORS = ["RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB", "TrainingPreempted: preempted at step 1840",
          "CptError: replay.paths: no files match /data/replay/*.jsonl", "ValueError: loss is NaN at step 512"]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--events", type=int, default=10000, help="events in all, the heavy job's included")
    ap.add_argument("--heavy-events", type=int, default=3000, help="events of the one running job measured")
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--runs", type=int, default=200, help="stage-run manifests in the workdir (the registry)")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--database", default="", help="a fresh postgresql://... database (default: SQLite in the workdir)")
    ap.add_argument("--workdir", default="", help="default: a temporary folder")
    ap.add_argument("--keep", action="store_true", help="keep the workdir (and its database)")
    ap.add_argument("--seed", type=int, default=0)
    ns = ap.parse_args()
    if ns.jobs < 3 or not 0 < ns.heavy_events <= ns.events or not 1 <= ns.users <= len(USERS):
        ap.error(f"need --jobs >= 3, 0 < --heavy-events <= --events, 1 <= --users <= {len(USERS)}")

    if ns.workdir and Path(ns.workdir).exists() and any(Path(ns.workdir).iterdir()):
        ap.error(f"--workdir {ns.workdir} is not empty: give a fresh folder")
    root = Path(ns.workdir).resolve() if ns.workdir else Path(tempfile.mkdtemp(prefix="cpt-pages-"))
    workdir = root if ns.workdir else root / "work"
    server = None
    try:
        fill = fill_workdir(workdir, ns)
        server = Server(workdir, "service.local_workers=0", database=ns.database)
        server.log = workdir / "serve.log"
        t0 = time.perf_counter()
        server.start()
        started = time.perf_counter() - t0
        report(server, fill, started, ns)
    finally:
        if server is not None:
            server.stop()  # by PID: SIGTERM, SIGKILL after 30 s
        if ns.keep:
            print(f"kept {workdir} (server log: {workdir / 'serve.log'})")
        else:
            shutil.rmtree(root, ignore_errors=True)


STAGE_NAMES = ("sample", "extract", "curate", "dedup", "tokenize", "replay", "mix", "pretrain", "train", "evaluate",
               "report")


# ---------------------------------------------------------------------------- the input
def real_submission(workdir: Path, database: str) -> tuple[dict, dict]:
    """(resolved, plan) of a default ``cpt run``, as the server checks and plans a submission."""
    from pipeline.compose import compose_config
    from pipeline.service.submission import check_submission
    from pipeline.service.worker import job_dir

    server_cfg = compose_config([f"workdir={workdir}", "service.local_workers=0",
                                 *([f"service.database={database}"] if database else [])])
    sub = check_submission(server_cfg, "run", [], None, job_dir(server_cfg.workdir, "benchmark"))
    return sub.resolved, sub.plan


def fp(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def train_record(step: int, total: int, rng: random.Random) -> dict:
    x = step / total
    return {"step": step, "loss": round(2.1 + 8.2 * math.exp(-6 * x) + rng.gauss(0, 0.03), 4),
            "lr": round(3e-4 * min(1.0, step / max(1, total * 0.02)) * (0.1 + 0.45 * (1 + math.cos(math.pi * x))), 8),
            "grad_norm": round(abs(0.9 * math.exp(-3 * x) + 0.25 + rng.gauss(0, 0.05)), 4),
            "tokens_per_s": round(412_000 + rng.gauss(0, 6000), 1), "tflops": round(181.0 + rng.gauss(0, 2.5), 2),
            "mfu": round(0.46 + rng.gauss(0, 0.006), 4), "tokens": step * 64 * 4096, "metric": "train", "total": total}


def job_events(job: dict, stages: list[dict], n_progress: int, rng: random.Random, *, history: bool = True,
               log_interval: int = 10) -> list[dict]:
    """A job's event log: its states, with ``history`` its stages as they ran and ``n_progress`` progress
    events (training metrics during ``train``, datatrove task counts during the data stages when
    training never started)."""
    evs = [(job["created_at"], "state", {"state": "queued"})]
    if job["started_at"] is None:
        return [{"job_id": job["id"], "ts": ts, "kind": k, "data": json.dumps(d)} for ts, k, d in evs]
    evs.append((job["started_at"], "state", {"state": "running", "worker": "gpu-node-03:4121:serve:1a2b3c"}))
    train = next((s for s in stages if s["name"] == "train" and not s["cached"]), None)
    if not history:
        stages, n_progress = [], 0
    for st in stages:
        t = st["started_at"]
        if st["cached"]:
            evs.append((t, "stage_cached", {"stage": st["name"], "fingerprint": st["fingerprint"]}))
            continue
        evs.append((t, "stage_started", {"stage": st["name"], "fingerprint": st["fingerprint"]}))
        if st["status"] == "completed":
            evs.append((t + st["duration_s"], "stage_completed", {
                "stage": st["name"], "fingerprint": st["fingerprint"], "duration_s": st["duration_s"],
                "path": f"/srv/cpt/work/{st['name']}/{st['fingerprint']}"}))
        elif st["status"] == "failed":
            evs.append((t + 60, "stage_failed", {"stage": st["name"], "fingerprint": st["fingerprint"],
                                                 "error": job["error"] or "KeyboardInterrupt"}))
    if n_progress:
        if train is not None:  # training metrics, an eval record every 20th
            total = max(n_progress * log_interval * (1 if train["status"] == "completed" else 2), 100)
            step_s = train["duration_s"] / total if train["duration_s"] else 0.35
            for i in range(1, n_progress + 1):
                step = i * log_interval
                ts = train["started_at"] + step * step_s
                if i % 20 == 0:
                    evs.append((ts, "progress", {"step": step, "eval_loss": {
                        "new": round(2.3 + 7 * math.exp(-6 * step / total), 4),
                        "replay": round(2.6 + 0.1 * step / total, 4)}, "metric": "eval", "total": total}))
                else:
                    evs.append((ts, "progress", train_record(step, total, rng)))
        else:  # datatrove tasks of the last stage that ran
            st = stages[-1] if stages else {"started_at": job["started_at"]}
            for i in range(1, n_progress + 1):
                evs.append((st["started_at"] + i * 2.0, "progress",
                            {"metric": "tasks", "step": i, "total": n_progress * 2}))
    if job["state"] in ("succeeded", "failed", "cancelled"):
        data = {"state": job["state"]}
        if job["state"] != "cancelled":
            data["exit_code"] = job["exit_code"]
        if job["error"]:
            data["error"] = job["error"]
        evs.append((job["finished_at"], "state", data))
    return [{"job_id": job["id"], "ts": round(ts, 3), "kind": k, "data": json.dumps(d, default=str)}
            for ts, k, d in evs]


def stage_summary(plan_stages: list[dict], state: str, started: float, rng: random.Random,
                  heavy: bool = False) -> tuple[list[dict], float]:
    """The job's ``stages`` column (as the worker keeps it) and when its last stage ended."""
    names = [s["name"] for s in plan_stages]
    if state == "queued":
        return [], started
    if state == "running":
        upto = names.index("train") if heavy else rng.randrange(len(names))
    elif state == "succeeded":
        upto = len(names)
    else:
        upto = rng.randrange(len(names))
    n_cached = rng.choice([0, 0, 0, 2, 5, 7]) if not heavy else 5
    out, t = [], started
    for i, name in enumerate(names[:upto + 1] if upto < len(names) else names):
        cached = i < n_cached and i < upto
        st = {"name": name, "fingerprint": plan_stages[i]["fingerprint"] if cached or heavy else fp(rng),
              "status": "cached" if cached else "completed", "cached": cached, "started_at": round(t, 3),
              "duration_s": None, "progress": 1.0}
        if not cached:
            dur = {"train": rng.uniform(1800, 20000), "pretrain": rng.uniform(600, 3000)}.get(name,
                                                                                             rng.uniform(20, 900))
            if i == upto and state != "succeeded":
                st.update(status="running" if state == "running" else "failed", progress=round(rng.random(), 4))
                if state != "running":
                    st["error"] = "KeyboardInterrupt" if state == "cancelled" else rng.choice(ERRORS)
            else:
                st["duration_s"] = round(dur, 3)
                t += dur
        out.append(st)
    return out, t


def stage_stats(stage: str, rng: random.Random) -> dict:
    """A stage run's ``stats`` as the stage returns them (the shapes the pages read: the curate funnel,
    the dedup passes, the evaluation's losses); a document count for the other stages."""
    dump = "CC-MAIN-2024-18"
    if stage == "curate":
        steps, n = [], rng.randrange(200_000, 2_000_000)
        for name, share, reasons in (("read", 0.001, ("decode",)), ("extraction", 0.08, ("timeout", "empty")),
                                     ("language", 0.35, ("not_target_language_or_low_score",)),
                                     ("gopher_repetition", 0.12, ("dup_line_frac", "top_2_gram")),
                                     ("gopher_quality", 0.15, ("gopher_short_doc", "gopher_below_alpha_threshold")),
                                     ("c4", 0.05, ("too_few_sentences", "lorem_ipsum")),
                                     ("fineweb", 0.07, ("line_punct_ratio", "short_line_ratio"))):
            removed = int(n * share * rng.uniform(0.7, 1.3))
            cut = [rng.random() for _ in reasons]
            split = {r: int(removed * c / sum(cut)) for r, c in zip(reasons, cut)}
            steps.append({"step": name, "in": n, "removed": removed, "kept": n - removed, "reasons": split,
                          "by_dump": {dump: {"in": n, "removed": {"docs": removed, "words": removed * 410,
                                                                  "chars": removed * 2600}}}})
            n -= removed
        return {"dump": dump, "recipe": "default", "tasks": 16, "filter_impl": "fast",
                "funnel": {"documents_in": steps[0]["in"], "kept": n, "removed": steps[0]["in"] - n, "steps": steps}}
    if stage == "dedup":
        n = rng.randrange(50_000, 600_000)
        removed = int(n * rng.uniform(0.05, 0.3))
        return {"method": "minhash", "scope": "dump", "documents_in": n, "kept": n - removed,
                "removed_duplicates": removed, "memory_limit_gb": 32.0, "minhash": "MinhashConfig(...)",
                "passes": [{"step": "minhash", "in": n, "removed": removed, "kept": n - removed,
                            "by_dump": {dump: {"in": n, "removed": removed}}}],
                "by_dump": {dump: {"in": n, "removed": {"minhash": removed}, "kept": n - removed}}}
    if stage == "evaluate":
        before = {"old": round(rng.uniform(2.4, 2.8), 4), "new": round(rng.uniform(3.2, 3.8), 4)}
        after = {"old": round(before["old"] + rng.uniform(-0.02, 0.15), 4),
                 "new": round(before["new"] - rng.uniform(0.2, 0.8), 4)}
        return {"loss": {"before": before, "after": after}, "forgetting": round(after["old"] - before["old"], 4),
                "adaptation": round(before["new"] - after["new"], 4)}
    return {"documents": rng.randrange(10**6)}


def fill_workdir(workdir: Path, ns) -> dict:
    """Fill the fresh workdir's database (and registry); figures of the fill."""
    from pipeline.service import db
    from pipeline.service.worker import job_dir

    rng = random.Random(ns.seed)
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    resolved, plan = real_submission(workdir, ns.database)
    plan_s = time.perf_counter() - t0
    resolved_json, plan_json = json.dumps(resolved), json.dumps(plan)
    plan_stages = plan["stages"]

    engine = db.connect(db.database_url(ns.database, str(workdir)))
    db.migrate(engine)

    # the jobs, oldest first: the newest ~5% queued, ~3% of the rest running, the rest finished
    now = time.time()
    users = USERS[:ns.users]
    created = sorted(now - rng.uniform(0, 30 * DAY) for _ in range(ns.jobs))
    n_queued = max(1, ns.jobs // 20)
    heavy_index = ns.jobs - n_queued - 1  # the newest job that is not queued
    jobs, stage_lists = [], []
    for i, c in enumerate(created):
        if i >= ns.jobs - n_queued:
            state = "queued"
        elif i == heavy_index or (i > ns.jobs * 0.9 and rng.random() < 0.3):
            state = "running"
        else:
            state = rng.choices(["succeeded", "failed", "cancelled"], [0.72, 0.18, 0.10])[0]
        heavy = i == heavy_index
        started = None if state == "queued" else c + rng.uniform(1, 600)
        stages, end = stage_summary(plan_stages, state, started or c, rng, heavy)
        if heavy:  # the job that has trained for a few hours, still training
            started = now - 6 * 3600
            stages, end = stage_summary(plan_stages, state, started, rng, heavy)
        finished = None if state in ("queued", "running") else end + rng.uniform(1, 30)
        error = None
        if state == "failed":
            error = next(s.get("error") for s in stages if s["status"] == "failed")
        args = rng.sample(OVERRIDES, rng.choice([0, 1, 2, 2, 3, 4]))
        jid = f"{rng.getrandbits(64):016x}"
        jobs.append({
            "id": jid, "user": rng.choice(users), "command": rng.choices(["run", "train", "ablate", "curate"],
                                                                         [0.7, 0.15, 0.05, 0.1])[0],
            "args": json.dumps(args), "config": None, "idempotency_key": None, "state": state,
            "attempt": 0 if state == "queued" else rng.choices([1, 2], [0.95, 0.05])[0], "retry_of": None,
            "created_at": c, "started_at": started, "finished_at": finished, "error": error,
            "resolved": resolved_json, "plan": plan_json, "stages": json.dumps(stages),
            "cancel_requested": state == "cancelled",
            "worker_id": "gpu-node-03:4121:serve:1a2b3c" if state == "running" else None,
            "lease_expires": now + 3600 if state == "running" else None,
            "host": None if state == "queued" else "gpu-node-03",
            "pid": None if state == "queued" else rng.randrange(1000, 60000), "pid_started": started,
            "exit_code": {"succeeded": 0, "failed": 1, "cancelled": -15}.get(state), "events_offset": 0,
            "slurm_job_ids": json.dumps([])})
        stage_lists.append(stages)
    heavy_job = jobs[heavy_index]

    # the events. Every job has its state events; the heavy job --heavy-events in all; of the rest of
    # the budget, up to half gives the newest jobs their stage histories, the remainder is progress
    # spread over those jobs (a few with long training logs, most with short ones)
    n_state = [len(job_events(j, s, 0, rng, history=False)) for j, s in zip(jobs, stage_lists)]
    n_full = [len(job_events(j, s, 0, rng)) for j, s in zip(jobs, stage_lists)]
    heavy_progress = ns.heavy_events - n_full[heavy_index]
    budget = ns.events - ns.heavy_events - sum(n for i, n in enumerate(n_state) if i != heavy_index)
    if heavy_progress < 0 or budget < 0:
        raise SystemExit(f"--events {ns.events} / --heavy-events {ns.heavy_events} cannot hold the state events of "
                         f"{ns.jobs} jobs and the heavy job's history: at least "
                         f"{sum(n_state) - n_state[heavy_index] + n_full[heavy_index]} / {n_full[heavy_index]} needed")
    histories, left = [], budget // 2
    for i in sorted((i for i, j in enumerate(jobs) if j["started_at"] is not None and i != heavy_index),
                    key=lambda i: -jobs[i]["created_at"]):
        if n_full[i] - n_state[i] > left:
            break
        histories.append(i)
        left -= n_full[i] - n_state[i]
    spread = budget - sum(n_full[i] - n_state[i] for i in histories)
    share = dict.fromkeys(histories, 0)
    if histories:
        for i in rng.choices(histories, [rng.paretovariate(1.5) for _ in histories], k=spread):
            share[i] += 1
    else:
        heavy_progress += spread
    total = max(heavy_progress * 10 * 2, 100)  # as job_events() sets it: the heavy job is half-way through training
    for st in stage_lists[heavy_index]:
        if st["status"] == "running":
            st["progress"] = round(heavy_progress * 10 / total, 4)
    heavy_job.update(command="run", args=json.dumps([f"train.train_iters={total}", "mix.replay_fraction=0.1"]),
                     stages=json.dumps(stage_lists[heavy_index]))
    events = []
    for i, (j, s) in enumerate(zip(jobs, stage_lists)):
        if i == heavy_index:
            events += job_events(j, s, heavy_progress, rng)
        else:
            events += job_events(j, s, share.get(i, 0), rng, history=i in share)
    events.sort(key=lambda e: e["ts"])  # ids in time order, the jobs interleaved, as a live server writes them

    t1 = time.perf_counter()
    with db.write(engine) as conn:
        conn.execute(db.jobs.insert(), jobs)
    for k in range(0, len(events), 5000):
        with db.write(engine) as conn:
            conn.execute(db.events.insert(), events[k:k + 5000])
    insert_s = time.perf_counter() - t1

    # the registry: the stage runs of the heavy and the typical job (its pages read their manifests), and
    # --runs more
    succeeded = [i for i, j in enumerate(jobs) if j["state"] == "succeeded"]
    if not succeeded:
        raise SystemExit("no succeeded job to measure: use more --jobs")
    typical = max(succeeded, key=lambda i: jobs[i]["created_at"])
    runs = {(st["name"], st["fingerprint"]): "running" if st["status"] == "running" else "completed"
            for i in (heavy_index, typical) for st in stage_lists[i]}
    for _ in range(ns.runs):
        runs[(rng.choice(STAGE_NAMES), fp(rng))] = rng.choices(["completed", "failed"], [0.9, 0.1])[0]
    for (stage, fprint), status in runs.items():
        d = workdir / stage / (f"{fprint}.partial" if status == "running" else fprint)
        d.mkdir(parents=True, exist_ok=True)
        begun = datetime.fromtimestamp(now - rng.uniform(0, 30 * DAY), timezone.utc).isoformat(timespec="seconds")
        (d / "manifest.json").write_text(json.dumps({
            "stage": stage, "fingerprint": fprint, "config": {stage: resolved.get(stage) or {}},
            "inputs": {"upstream": f"{rng.choice(STAGE_NAMES)}/{fp(rng)}"}, "code_mode": "declared",
            "code_key": fp(rng), "code_version": fp(rng) * 4,
            "code_module_digests": {f"pipeline.{stage}.m{k}": fp(rng) for k in range(8)},
            "library_versions": {"datatrove": "0.4.0", "torch": "2.5.1", "megatron-core": "0.9.0"},
            "cpt_version": "0.1.0", "host": "gpu-node-03", "status": status, "started_at": begun,
            **({} if status == "running" else {"duration_s": round(rng.uniform(10, 5000), 3),
                                               "stats": stage_stats(stage, rng)}),
            **({"error": rng.choice(ERRORS)} if status == "failed" else {})}))
        if status == "completed":
            (d / "stats.json").write_text(json.dumps(stage_stats(stage, rng)))
    job_dir(workdir, heavy_job["id"]).mkdir(parents=True, exist_ok=True)

    if db.is_postgres(engine):
        with engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in workdir.glob("service.sqlite*"))
    engine.dispose()
    counts = {s: sum(j["state"] == s for j in jobs) for s in ("queued", "running", "succeeded", "failed", "cancelled")}
    typical = jobs[typical]
    return {"plan_s": plan_s, "insert_s": insert_s, "fill_s": time.perf_counter() - t0, "size": size,
            "jobs": len(jobs), "events": len(events), "histories": len(histories),
            "progress": sum(e["kind"] == "progress" for e in events), "states": counts, "heavy": heavy_job["id"],
            "heavy_events": sum(e["job_id"] == heavy_job["id"] for e in events), "typical": typical["id"],
            "typical_events": sum(e["job_id"] == typical["id"] for e in events),
            "db": "postgresql" if db.is_postgres(engine) else "sqlite", "resolved_bytes": len(resolved_json),
            "plan_bytes": len(plan_json)}


# ---------------------------------------------------------------------------- the measurement
def routes(fill: dict) -> list[tuple[str, str]]:
    heavy, typical = fill["heavy"], fill["typical"]
    return [
        ("api: jobs list", "/api/v1/jobs?limit=100"),
        ("api: jobs list, running", "/api/v1/jobs?limit=100&state=running"),
        ("api: heavy job", f"/api/v1/jobs/{heavy}"),
        ("api: heavy job events", f"/api/v1/jobs/{heavy}/events?follow=false"),
        ("api: typical job events", f"/api/v1/jobs/{typical}/events?follow=false"),
        ("api: runs", "/api/v1/runs"),
        ("page: jobs", "/"),
        ("page: jobs, running", "/?state=running"),
        ("page: jobs rows", "/jobs/rows"),
        ("page: heavy job", f"/jobs/{heavy}"),
        ("page: typical job", f"/jobs/{typical}"),
        ("page: heavy job results", f"/jobs/{heavy}/results"),
        ("page: runs", "/runs"),
        ("page: compare", f"/compare?jobs={heavy}&jobs={typical}"),
        ("page: compare data", f"/compare/data?jobs={heavy}&jobs={typical}"),
    ]


def fetch(url: str) -> tuple[int, int, float]:
    """(status, bytes, seconds) of one GET, the body read to its end."""
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=300) as resp:
            status, size = resp.status, len(resp.read())
    except urllib.error.HTTPError as exc:
        status, size = exc.code, len(exc.read())
    return status, size, time.perf_counter() - t0


def report(server: Server, fill: dict, started: float, ns) -> None:
    s = fill["states"]
    print(f"service pages: database {fill['db']}, {fill['jobs']:,} jobs of {ns.users} users "
          f"({', '.join(f'{v} {k}' for k, v in s.items())}), {ns.runs} registry runs")
    print(f"{fill['events']:,} events ({fill['progress']:,} progress); stage histories on the heavy job and the newest "
          f"{fill['histories']} others (the older ones: their state events only)")
    print(f"heavy job {fill['heavy']} (running, {fill['heavy_events']:,} events); typical job {fill['typical']} "
          f"(succeeded, {fill['typical_events']} events); resolved config {fill['resolved_bytes']:,} B, "
          f"plan {fill['plan_bytes']:,} B per job")
    print(f"fill: {fill['fill_s']:.1f}s ({fill['plan_s']:.1f}s checking and planning the real submission, "
          f"{fill['insert_s']:.2f}s bulk insert); database {fill['size'] / 2**20:.1f} MiB; server up in {started:.1f}s")
    print(f"{ns.repeat} sequential requests per route after one warm-up (urllib, wall clock)")
    print(f"{'route':<26} {'status':>6} {'bytes':>10} {'median ms':>10} {'p95 ms':>9} {'max ms':>9}  url")
    errors = 0
    for name, path in routes(fill):
        url = server.url + path
        try:
            status, size, _ = fetch(url)
        except OSError as exc:
            status, size = f"{type(exc).__name__}", 0
        if status != 200:
            errors += 1
            print(f"{name:<26} {status:>6} {size:>10,} {'error':>10} {'':>9} {'':>9}  {path}")
            continue
        times, bad = [], 0
        for _ in range(ns.repeat):
            try:
                st, size, dt = fetch(url)
            except OSError:
                st = None
            if st != 200:
                bad += 1
            else:
                times.append(dt)
        if bad:
            errors += 1
        if not times:
            print(f"{name:<26} {f'{bad} bad':>6} {size:>10,} {'error':>10} {'':>9} {'':>9}  {path}")
            continue
        print(f"{name:<26} {status if not bad else f'{bad} bad':>6} {size:>10,} "
              f"{statistics.median(times) * 1e3:>10.1f} {percentile(times, 95) * 1e3:>9.1f} {max(times) * 1e3:>9.1f}  "
              f"{path}")
    print(f"routes in error: {errors}")


if __name__ == "__main__":
    main()
