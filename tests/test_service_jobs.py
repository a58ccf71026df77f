"""``cpt serve`` with real jobs: uvicorn on loopback, ``cpt`` processes on the embedded sample at
reduced sizes, SQLite and PostgreSQL. One uninterrupted run is the baseline the killed runs must
equal."""

import json
import os
import re
import signal
import subprocess
import sys

import psutil
import pytest

from service_server import (SMALL_RUN, Server, database_for, events, job, request, submit, train_progress, wait_for,
                            wait_state)

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
pytestmark = pytest.mark.slow


def manifest(workdir, stage: str, fingerprint: str) -> dict:
    return json.loads((workdir / stage / fingerprint / "manifest.json").read_text())


def final_metrics(workdir, fingerprint: str) -> dict:
    """What an interruption must not change in training: its results (no timings)."""
    stats = manifest(workdir, "train", fingerprint)["stats"]
    return {k: stats[k] for k in ("final_train_loss", "eval_loss", "iterations", "tokens_seen")}


def live_processes(pgid: int) -> list:
    out = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except (ProcessLookupError, psutil.Error):
            pass
    return out


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """One server (SQLite) that ran SMALL_RUN uninterrupted, still up for the tests that read it."""
    root = tmp_path_factory.mktemp("svc")
    server = Server(root / "work").start()
    job_id = submit(server, "run", SMALL_RUN)
    done = wait_state(server, job_id)
    assert done["state"] == "succeeded", (done["error"], (root / "work" / "jobs" / job_id / "log.txt").read_text()[-3000:])
    yield server, job_id, root / "work"
    server.stop()


def test_a_job_runs_every_stage_with_events_stages_and_artifacts(baseline):
    server, job_id, workdir = baseline
    j = job(server, job_id)
    assert [s["name"] for s in j["stages"]] == ["sample", "extract", "curate", "dedup", "tokenize", "replay", "mix",
                                                 "pretrain", "train", "evaluate", "report"]
    assert all(s["status"] == "completed" and not s["cached"] and s["duration_s"] is not None for s in j["stages"])
    assert j["resolved"]["workdir"] == str(workdir) and j["plan"]["budget"]["train_iters"] == 80
    evs = events(server, job_id)
    states = [e["data"]["state"] for e in evs if e["kind"] == "state"]
    assert states == ["queued", "running", "succeeded"]
    assert [e["id"] for e in evs] == sorted(e["id"] for e in evs)
    assert any(e["kind"] == "warning" and e["data"]["message"] for e in evs)  # e.g. megatron's deprecations
    assert any(e["kind"] == "progress" and e["data"]["metric"] == "tasks" for e in evs)  # data stages: tasks done
    progress = [e["data"] for e in evs if e["kind"] == "progress" and e["data"]["metric"] == "train"]
    assert progress and progress[-1]["step"] == 80 and progress[-1]["total"] == 80
    stage, read = None, {}  # data stages: documents read, per task, the last count of each task
    for e in evs:
        if e["kind"] == "stage_started":
            stage = e["data"]["stage"]
        elif e["kind"] == "progress" and e["data"]["metric"] == "documents" and stage == "curate":
            read[e["data"]["task"]] = e["data"]["documents"]
    curate = next(s for s in j["stages"] if s["name"] == "curate")
    assert read and curate["documents"] == sum(read.values()) > 0
    funnel = manifest(workdir, "curate", curate["fingerprint"])["stats"]["filter_funnel"]
    assert curate["documents"] == funnel["documents_in"]  # what curate's reader read, counted on the way
    status, listing = request(server, "GET", f"/jobs/{job_id}/artifacts")
    paths = {f["path"] for f in listing["files"]}
    assert {"report/report.html", "train/metrics.jsonl", "curate/manifest.json"} <= paths
    status, html = request(server, "GET", f"/jobs/{job_id}/artifacts/report/report.html")
    assert status == 200 and "<html" in html
    status, log = request(server, "GET", f"/jobs/{job_id}/log")
    assert status == 200 and "[report] completed" in log


def test_pages_on_loopback_without_auth_still_need_the_csrf_token_and_the_same_origin(baseline):
    """Auth off (loopback): no sign-in, one "local" user, but a page on another site still cannot make
    the browser cancel or retry a job."""
    import urllib.error
    import urllib.request

    server, job_id, _ = baseline
    page = urllib.request.urlopen(f"{server.url}/jobs/{job_id}", timeout=60).read().decode()
    assert 'id="user-name">local<' in page and 'id="job-state" class="badge s-succeeded"' in page
    csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)

    def post(body: bytes, **headers) -> int:
        req = urllib.request.Request(f"{server.url}/jobs/{job_id}/retry", data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
        try:
            with urllib.request.urlopen(req, timeout=60):
                return 200
        except urllib.error.HTTPError as exc:
            return exc.code

    assert post(b"") == 403 and post(b"csrf=" + b"0" * 40) == 403
    assert post(f"csrf={csrf}".encode(), Origin="http://evil.example") == 403
    assert post(f"csrf={csrf}".encode(), **{"Sec-Fetch-Site": "cross-site"}) == 403
    assert request(server, "POST", f"/jobs/{job_id}/cancel", headers={"Origin": "http://evil.example"})[0] == 403


def test_sse_resumes_after_last_event_id(baseline):
    server, job_id, _ = baseline
    evs = events(server, job_id)
    status, text = request(server, "GET", f"/jobs/{job_id}/events", headers={"Last-Event-ID": str(evs[4]["id"])})
    from service_server import parse_sse

    resumed = parse_sse(text)
    assert status == 200 and [e["id"] for e in resumed] == [e["id"] for e in evs[5:]]


def test_runs_show_the_registry_with_lineage_both_ways(baseline):
    server, job_id, _ = baseline
    status, runs = request(server, "GET", "/runs")
    assert status == 200 and {r["stage"] for r in runs} >= {"curate", "train", "report"}
    mix = next(r for r in runs if r["stage"] == "mix")
    status, one = request(server, "GET", f"/runs/mix/{mix['fingerprint']}")
    assert set(one["upstream"]) == {"tokenize", "replay"}
    assert any(d.startswith("train/") for d in one["downstream"])
    assert request(server, "GET", "/runs/mix/../../etc")[0] == 404


def test_validate_shows_the_plan_with_cache_hits_and_refuses_a_bad_key_in_one_line(baseline):
    server, _, _ = baseline
    status, dry = request(server, "POST", "/jobs/validate",
                          {"command": "run", "overrides": [*SMALL_RUN, "train.train_iters=81"]})
    assert status == 200
    cached = {s["name"]: s["cached"] for s in dry["plan"]["stages"]}
    assert cached["curate"] and cached["pretrain"] and not cached["train"] and not cached["report"]
    assert dry["plan"]["memory_per_gpu_bytes"]["total"] > 0 and dry["resolved"]["train"]["train_iters"] == 81
    status, err = request(server, "POST", "/jobs", {"command": "run", "overrides": ["train.trian_iters=3"]})
    assert status == 422 and err["detail"].startswith("unknown config key 'train.trian_iters'")


def test_cli_client_submit_jobs_job_logs_and_the_same_one_line_errors(baseline, tmp_path):
    server, job_id, _ = baseline
    env = {**os.environ, "CPT_SERVER": server.url}
    cli = [sys.executable, "-m", "pipeline.cli"]

    def cpt(*args):
        return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=300)

    bad = cpt("submit", "run", "train.trian_iters=3")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("cpt: error: unknown config key 'train.trian_iters'")
    assert len(bad.stderr.strip().splitlines()) == 1
    (tmp_path / "exp.yaml").write_text("defaults:\n  - override /recipe: fineweb_no_c4\ntrain:\n  train_iters: 3\n")
    dry = cpt("submit", "sample", *SMALL_RUN[:2], "--config", str(tmp_path / "exp.yaml"), "--dry-run")
    assert dry.returncode == 0 and "sample" in dry.stdout and "cache hit" in dry.stdout
    listed = cpt("jobs")
    assert job_id in listed.stdout and "succeeded" in listed.stdout
    shown = cpt("job", job_id)
    assert "state succeeded" in shown.stdout and "report" in shown.stdout
    logs = cpt("logs", job_id, "-f")
    assert logs.returncode == 0 and "[train] completed" in logs.stdout
    down = subprocess.run([*cli, "jobs"], env={**env, "CPT_SERVER": "http://127.0.0.1:9"}, capture_output=True, text=True)
    assert down.returncode == 2 and "cannot reach the cpt server at http://127.0.0.1:9" in down.stderr


def test_retry_reuses_every_completed_stage(baseline):
    server, job_id, _ = baseline
    status, body = request(server, "POST", f"/jobs/{job_id}/retry")
    assert status == 201 and body["retry_of"] == job_id
    again = wait_state(server, body["id"], timeout=300)
    assert again["state"] == "succeeded" and all(s["cached"] for s in again["stages"])


def test_cancel_stops_training_with_a_checkpoint_leaves_no_process_and_a_retry_resumes(baseline):
    server, _, workdir = baseline
    long_run = [*SMALL_RUN, "train.train_iters=1000", "train.save_interval=5"]
    job_id = submit(server, "run", long_run)
    wait_for(lambda: train_progress(server, job_id) >= 0.01, 300, "training to be under way")
    status, body = request(server, "POST", f"/jobs/{job_id}/cancel")
    assert status == 200 and body["state"] == "cancelling"
    done = wait_state(server, job_id, timeout=120)
    assert done["state"] == "cancelled"
    log = (workdir / "jobs" / job_id / "log.txt").read_text()
    assert "training stopped by SIGTERM" in log and "checkpoint saved" in log
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{workdir / 'service.sqlite'}")
    with engine.connect() as conn:
        leader = conn.execute(sa.text("select pid from jobs where id = :i"), {"i": job_id}).scalar_one()
    assert live_processes(leader) == []  # no orphan: the job's whole process group is gone
    checkpoints = list(workdir.glob("train/*.partial/checkpoints/iter_*"))
    assert checkpoints, "the cancelled training saved no checkpoint"
    saved_step = int(re.search(r"checkpoints/iter_(\d+)", log).group(1))
    status, retry = request(server, "POST", f"/jobs/{job_id}/retry")

    def first_train_step():
        steps = [e["data"]["step"] for e in events(server, retry["id"])
                 if e["kind"] == "progress" and e["data"].get("metric") == "train"]
        return steps[0] if steps else None

    assert wait_for(first_train_step, 300, "the retry's first training step") > saved_step  # resumed, not restarted
    request(server, "POST", f"/jobs/{retry['id']}/cancel")
    assert wait_state(server, retry["id"], timeout=120)["state"] == "cancelled"


def test_cancel_past_the_grace_period_kills_every_process_of_the_job(baseline, tmp_path):
    """service.cancel_grace_s=0: SIGTERM, then SIGKILL at once to the group and everything it started."""
    import sqlalchemy as sa

    _, _, base_workdir = baseline
    url = database_for("sqlite", tmp_path)
    server = Server(base_workdir, "service.cancel_grace_s=0", database=url).start()
    try:
        job_id = submit(server, "run", [*SMALL_RUN, "train.train_iters=3000"])
        wait_for(lambda: train_progress(server, job_id) > 0, 300, "training to be under way")
        with sa.create_engine(url).connect() as conn:
            leader = conn.execute(sa.text("select pid from jobs where id = :i"), {"i": job_id}).scalar_one()
        request(server, "POST", f"/jobs/{job_id}/cancel")
        assert wait_state(server, job_id, timeout=120)["state"] == "cancelled"
        assert live_processes(leader) == []
    finally:
        server.stop()


@pytest.mark.parametrize("database", DATABASES)
def test_server_sigkilled_mid_training_reattaches_to_the_running_job(baseline, database, tmp_path):
    """The job's process outlives the server; the restarted server finds it by pid and start time."""
    _, _, base_workdir = baseline
    url = database_for(database, tmp_path)  # its own database: the baseline's server must not take the job
    # upstream stages: cache hits from the baseline; training: one of its own per database
    overrides = [*SMALL_RUN, f"train.train_iters={120 if database == 'sqlite' else 121}"]
    server = Server(base_workdir, database=url).start()
    try:
        job_id = submit(server, "run", overrides)
        wait_for(lambda: train_progress(server, job_id) >= 0.1, 300, "training to be under way")
        server.kill()
        server = Server(base_workdir, database=url)
        server.start()
        done = wait_state(server, job_id, timeout=300)
        assert done["state"] == "succeeded" and done["attempt"] == 1, done["error"]
        kinds = [e["kind"] for e in events(server, job_id)]
        assert "reattached" in kinds
        assert [s["name"] for s in done["stages"] if not s["cached"]] == ["mix", "train", "evaluate", "report"]
    finally:
        server.stop()


@pytest.mark.parametrize("database", DATABASES)
def test_server_and_job_sigkilled_mid_training_requeue_resume_and_equal_an_uninterrupted_run(baseline, database,
                                                                                                 tmp_path):
    import sqlalchemy as sa

    _, _, base_workdir = baseline
    url = database_for(database)
    workdir = tmp_path / "work"
    server = Server(workdir, database=url).start()
    try:
        job_id = submit(server, "run", SMALL_RUN)
        wait_for(lambda: train_progress(server, job_id) >= 0.3, 600, "training to pass 30%")
        db_url = url.replace("postgresql://", "postgresql+psycopg://") if url else f"sqlite:///{workdir / 'service.sqlite'}"
        with sa.create_engine(db_url).connect() as conn:
            leader = conn.execute(sa.text("select pid from jobs where id = :i"), {"i": job_id}).scalar_one()
        server.kill()
        os.killpg(leader, signal.SIGKILL)  # the machine lost the job too: nothing records how it ended
        wait_for(lambda: not live_processes(leader), 30, "the job's processes to die")
        server = Server(workdir, database=url)
        server.start()
        done = wait_state(server, job_id, timeout=600)
        assert done["state"] == "succeeded" and done["attempt"] == 2, done["error"]
        states = [e["data"]["state"] for e in events(server, job_id) if e["kind"] == "state"]
        assert states == ["queued", "running", "interrupted", "queued", "running", "succeeded"]
        by_name = {s["name"]: s for s in done["stages"]}
        assert all(by_name[s]["cached"] for s in ("sample", "extract", "curate", "dedup", "tokenize", "mix", "pretrain"))
        fp = {name: s["fingerprint"] for name, s in by_name.items()}
        train = manifest(workdir, "train", fp["train"])["stats"]
        assert train["resumed"] and train["start_iteration"] >= 20  # its checkpoint before the kill (every 10 steps)
        # the same run uninterrupted (the baseline's job: same config, so the same fingerprints)
        assert final_metrics(workdir, fp["train"]) == final_metrics(base_workdir, fp["train"])
        assert (manifest(workdir, "evaluate", fp["evaluate"])["stats"]
                == manifest(base_workdir, "evaluate", fp["evaluate"])["stats"])
    finally:
        server.stop()


def test_two_workers_race_for_20_jobs_and_each_runs_exactly_once(tmp_path):
    """An API-only server and two ``cpt worker`` processes sharing its database."""
    workdir = tmp_path / "work"
    server = Server(workdir, "service.local_workers=0", "service.max_running_per_user=20").start()
    workers = []
    try:
        ids = [submit(server, "sample", ["sample.web_pages=10", "sample.original_docs=20", f"sample.seed={i}"])
               for i in range(20)]
        for i in range(2):
            log = open(tmp_path / f"worker{i}.log", "wb")
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "pipeline.cli", "worker", f"workdir={workdir}", "service.heartbeat_s=0.5",
                 "service.lease_s=3", "service.local_workers=1", "service.max_running_per_user=20"],
                stdout=log, stderr=subprocess.STDOUT))
        done = [wait_state(server, i, timeout=600) for i in ids]
        assert all(d["state"] == "succeeded" and d["attempt"] == 1 for d in done)
        ran_by = {}
        for job_id in ids:
            starts = [e for e in events(server, job_id) if e["kind"] == "state" and e["data"]["state"] == "running"]
            assert len(starts) == 1
            ran_by[job_id] = starts[0]["data"]["worker"]
        assert len(set(ran_by.values())) == 2  # both workers took jobs
    finally:
        for w in workers:
            w.terminate()
            w.wait(timeout=30)
        server.stop()
