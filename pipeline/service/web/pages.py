"""The service's web pages, rendered on the server (Jinja2, autoescaped) with a few small scripts of our
own for the live parts (SSE, the log tail, the charts). Everything is served from this process: no
CDN, no external font, no request that leaves the server.

Pages: ``/`` jobs, ``/jobs/<id>`` a job, ``/submit``, ``/compare?jobs=..``, ``/runs``, ``/signin``,
``/docs`` (the API's reference, from its OpenAPI schema)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, quote

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.config import CptConfig
from pipeline.errors import CptError
from pipeline.service import actions, artifacts, auth, queue
from pipeline.service.sessions import (CSRF_FIELD, CSRF_HEADER, SESSION_SECONDS, Sessions, close_session,
                                       cookie_settings, open_session)
from pipeline.service.submission import JOB_COMMANDS, check_submission
from pipeline.service.web import views
from pipeline.service.worker import LOG_FILE, job_dir

HERE = Path(__file__).parent
JOB_ID = re.compile(r"^[0-9a-f]{16}$")
LOG_TAIL = 32 * 1024
MAX_FORM_FIELDS = 50
MAX_COMPARED = 8
CURVE_EVENTS = ("progress", "stage_started")


class SignInRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = next_path


def safe_next(path: Optional[str]) -> str:
    """Where to go after signing in: a path on this site only (no scheme, no ``//host``)."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")) or len(path) > 512 \
            or any(c in path for c in "\r\n\\"):
        return "/"
    return path


def templates():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=views.when, duration=views.duration, size=views.size)
    return env


async def form_fields(request: Request) -> dict[str, list[str]]:
    """An urlencoded form (the body limit applies upstream)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise HTTPException(415, "a form (application/x-www-form-urlencoded) is expected")
    body = (await request.body()).decode("utf-8", "replace")
    try:
        return parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise HTTPException(413, f"a form of more than {MAX_FORM_FIELDS} fields") from None


def one(fields: dict[str, list[str]], name: str, default: str = "") -> str:
    values = fields.get(name) or [default]
    return values[0]


def mount(app: FastAPI, engine: sa.Engine, server: CptConfig, sessions: Sessions) -> None:
    """The pages' routes on ``app``. One function, as ``api.create_app`` is: each route closes over the
    database, the server's config and the sessions; the work is in :mod:`views` and the templates."""
    env = templates()
    workdir = server.workdir
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(SignInRequired)
    async def _sign_in(_request: Request, exc: SignInRequired):
        return RedirectResponse(f"/signin?next={quote(exc.next_path)}", 303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        """A page the browser navigated to gets an HTML error; the API and the pages' scripts get JSON."""
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return await http_exception_handler(request, exc)
        return render(request, "error.html", exc.status_code, code=exc.status_code, message=str(exc.detail))

    def page_user(request: Request) -> auth.User:
        who = request.state.user = sessions.user(request)  # render() shows it without asking again
        if who is None:
            raise SignInRequired(safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else "")))
        return who

    def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        who = getattr(request.state, "user", None) or sessions.user(request)
        html = env.get_template(name).render(user=who, auth_on=sessions.auth_on, csrf=sessions.csrf_token(request),
                                             path=request.url.path, **context)
        return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})

    def own_job(job_id: str, who: auth.User) -> dict:
        job = queue.get(engine, job_id) if JOB_ID.match(job_id) else None
        if job is None or (job["user"] != who.name and not who.admin):
            raise HTTPException(404, f"no job {job_id[:40]}")
        return job

    async def checked_form(request: Request) -> dict[str, list[str]]:
        fields = await form_fields(request)
        sessions.check_csrf(request, one(fields, CSRF_FIELD))
        return fields

    # ------------------------------------------------------------------ jobs
    def job_rows(who: auth.User, state: str, command: str, user_name: str, before: Optional[float]) -> list[dict]:
        rows = queue.list_jobs(engine, user=(user_name or None) if who.admin else who.name,
                               state=state if state in queue.STATES else None,
                               command=command if command in JOB_COMMANDS else None,
                               before=before, limit=100, detail=True)
        now = time.time()
        return [{**r, "overrides": json.loads(r["args"]), "strip": views.strip(r),
                 "duration": views.job_duration(r, now)} for r in rows]

    def filters(request: Request) -> dict:
        q = request.query_params
        before = q.get("before", "")
        return {"state": q.get("state", "")[:16], "command": q.get("command", "")[:32], "user_name": q.get("user", "")[:128],
                "before": float(before) if re.fullmatch(r"\d{1,12}(\.\d{1,9})?", before) else None}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def jobs_page(request: Request):
        who = page_user(request)
        f = filters(request)
        rows = job_rows(who, **f)
        return render(request, "jobs.html", rows=rows, filters=f, states=queue.STATES, commands=JOB_COMMANDS,
                      older=rows[-1]["created_at"] if len(rows) == 100 else None)

    @app.get("/jobs/rows", response_class=HTMLResponse, include_in_schema=False)
    def jobs_rows(request: Request):
        who = page_user(request)
        return render(request, "_job_rows.html", rows=job_rows(who, **filters(request)))

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def job_page(job_id: str, request: Request):
        who = page_user(request)
        after = queue.last_event_id(engine, job_id) if JOB_ID.match(job_id) else 0  # before the reads below: the
        # stream starts after it, so an event that lands during this render is shown twice at most, never lost
        job = own_job(job_id, who)
        nodes = views.stage_nodes(job)
        progress = views.curves(queue.events_of_kind(engine, job_id, CURVE_EVENTS), views.curve_stage(nodes))
        running = next((n for n in nodes if n["name"] == progress["stage"]), None)
        log_path = job_dir(workdir, job_id) / LOG_FILE
        log_text, log_offset = read_tail(log_path)
        live = {"id": job_id, "state": job["state"], "after": after, "progress_after": progress["last_event_id"],
                "started_at": job["started_at"],
                "log_offset": log_offset, "train": progress["train"], "eval": progress["eval"],
                "curve_stage": progress["curve_stage"], "stage": progress["stage"],
                "stage_started_at": running.get("started_at") if running else None,
                "terminal": job["state"] in queue.TERMINAL}
        return render(request, "job.html", job=job, nodes=nodes, graph=views.stage_graph(nodes), progress=progress,
                      eta=views.training_eta(progress["last"], live["stage_started_at"]),
                      events=[{**e, "text": views.event_text(e)} for e in
                              queue.events_of_kind(engine, job_id, views.EVENT_KINDS, newest=200)][::-1],
                      overrides=json.loads(job["args"]), resolved=resolved_yaml(job), log_text=log_text, live=live,
                      duration=views.job_duration(job), terminal=job["state"] in queue.TERMINAL,
                      **results_context(job, nodes))

    def results_context(job: dict, nodes: list[dict]) -> dict:
        files, truncated = artifacts.listing(workdir, job)
        return {"results": views.results(workdir, nodes), "files": files, "files_truncated": truncated}

    @app.get("/jobs/{job_id}/results", response_class=HTMLResponse, include_in_schema=False)
    def job_results(job_id: str, request: Request):
        job = own_job(job_id, page_user(request))
        return render(request, "_results.html", job=job, **results_context(job, views.stage_nodes(job)))

    @app.post("/jobs/{job_id}/cancel", include_in_schema=False)
    async def cancel_form(job_id: str, request: Request):
        who = page_user(request)
        await checked_form(request)
        own_job(job_id, who)
        try:
            await run_in_threadpool(queue.request_cancel, engine, job_id)
        except queue.Conflict:
            pass  # finished meanwhile: the page shows the state it ended in
        return RedirectResponse(f"/jobs/{job_id}", 303)

    @app.post("/jobs/{job_id}/retry", include_in_schema=False)
    async def retry_form(job_id: str, request: Request):
        who = page_user(request)
        await checked_form(request)
        job = await run_in_threadpool(actions.retry_job, engine, server, own_job(job_id, who))
        return RedirectResponse(f"/jobs/{job['id']}", 303)

    # ------------------------------------------------------------------ submit
    def locate_error(command: str, overrides: list[str], config: Optional[str]) -> tuple[Optional[str], str, Optional[dict]]:
        """(the field at fault or None, its one-line error, the plan when valid)."""
        if command not in JOB_COMMANDS:
            return "command", f"unknown job command '{command[:40]}' (commands: {', '.join(JOB_COMMANDS)})", None
        try:
            sub = check_submission(server, command, overrides, config, job_dir(workdir, "validate"))
            return None, "", {"plan": sub.plan, "overrides": sub.args}
        except CptError as exc:
            message = str(exc).splitlines()[0][:1000]
        if config and overrides:  # whose fault: the file, or what the overrides add to it?
            try:
                check_submission(server, command, [], config, job_dir(workdir, "validate"))
                return "overrides", message, None
            except CptError:
                return "config", message, None
        return ("config" if config else "overrides"), message, None

    def submission_fields(fields: dict) -> tuple[str, list[str], Optional[str]]:
        command = fields.get("command", "run") if isinstance(fields.get("command", ""), str) else "run"
        text = fields.get("overrides", "")
        overrides = [line.strip() for line in (text if isinstance(text, str) else "").splitlines() if line.strip()]
        config = fields.get("config") if isinstance(fields.get("config"), str) and fields.get("config").strip() else None
        return command.strip(), overrides[:200], config

    @app.get("/submit", response_class=HTMLResponse, include_in_schema=False)
    def submit_page(request: Request, experiment: Optional[str] = None):
        page_user(request)
        from pipeline.compose import conf_dir

        choices = views.experiment_choices(Path(conf_dir()) / "experiment")
        form = {"command": "run", "config": "", "overrides": ""}
        chosen = next((c for c in choices if c["name"] == experiment), None)  # only a listed name is used
        if chosen:  # the server's own file, selected by override: the user adds their paths below it
            form = {"command": chosen["command"], "config": "", "overrides": f"+experiment={chosen['name']}\n"}
        return render(request, "submit.html", commands=JOB_COMMANDS, form=form, error=None, plan=None,
                      experiments=choices, chosen=chosen)

    @app.post("/submit/validate", include_in_schema=False)
    async def submit_validate(request: Request):
        page_user(request)
        sessions.check_csrf(request, request.headers.get(CSRF_HEADER))
        try:
            body = await request.json()
        except (ValueError, RecursionError):
            raise HTTPException(422, "a JSON object is expected") from None
        if not isinstance(body, dict):
            raise HTTPException(422, "a JSON object is expected")
        command, overrides, config = submission_fields(body)
        field, error, ok = await run_in_threadpool(locate_error, command, overrides, config)
        plan_html = env.get_template("_plan.html").render(plan=ok["plan"]) if ok else ""
        return JSONResponse({"ok": field is None, "field": field, "error": error, "plan_html": plan_html})

    @app.post("/submit", include_in_schema=False)
    async def submit_form(request: Request):
        who = page_user(request)
        fields = {k: v[0] for k, v in (await checked_form(request)).items()}
        command, overrides, config = submission_fields(fields)
        field, error, _ = await run_in_threadpool(locate_error, command, overrides, config)
        if field is None:
            try:
                job, _ = await run_in_threadpool(actions.submit_job, engine, server, who, command, overrides, config)
                return RedirectResponse(f"/jobs/{job['id']}", 303)
            except CptError as exc:
                field, error = "command", str(exc).splitlines()[0][:1000]
        form = {"command": command, "config": fields.get("config", ""), "overrides": fields.get("overrides", "")}
        return render(request, "submit.html", 422, commands=JOB_COMMANDS, form=form, error={"field": field, "text": error},
                      plan=None)

    # ------------------------------------------------------------------ compare
    def compared_jobs(request: Request, who: auth.User) -> list[dict]:
        ids = [i for i in request.query_params.getlist("jobs") if JOB_ID.match(i)]
        return [own_job(i, who) for i in list(dict.fromkeys(ids))[:MAX_COMPARED]]

    def compare_series(jobs: list[dict]) -> list[dict]:
        out = []
        for job in jobs:
            c = views.curves(queue.events_of_kind(engine, job["id"], CURVE_EVENTS),
                             views.curve_stage(views.stage_nodes(job)))
            out.append({"id": job["id"], "state": job["state"], "train": c["train"], "eval": c["eval"]})
        return out

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(request: Request):
        who = page_user(request)
        jobs = compared_jobs(request, who)
        if len(jobs) < 2:
            rows = job_rows(who, state="", command="", user_name="", before=None)
            return render(request, "compare.html", jobs=jobs, pick=rows, diff=[], evaluated={}, series=[])
        resolved = [json.loads(j["resolved"] or "null") for j in jobs]
        return render(request, "compare.html", jobs=jobs, pick=[], diff=views.config_diff(resolved),
                      evaluated=views.evaluated(workdir, jobs), series=compare_series(jobs))

    @app.get("/compare/data", include_in_schema=False)
    def compare_data(request: Request):
        return {"series": compare_series(compared_jobs(request, page_user(request)))}

    # ------------------------------------------------------------------ runs
    @app.get("/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(request: Request):
        who = page_user(request)
        stage = request.query_params.get("stage", "")[:32] or None
        uses = queue.stage_uses(engine, None if who.admin else who.name)
        return render(request, "runs.html", runs=views.runs_index(workdir, uses, stage), stage=stage or "")

    # ------------------------------------------------------------------ sign-in
    @app.get("/signin", response_class=HTMLResponse, include_in_schema=False)
    def signin_page(request: Request):
        if not sessions.auth_on:
            return RedirectResponse("/", 303)
        return render(request, "signin.html", next=safe_next(request.query_params.get("next")), error=None)

    @app.post("/signin", include_in_schema=False)
    async def signin(request: Request):
        fields = await form_fields(request)
        sessions.check_csrf(request, one(fields, CSRF_FIELD))
        token, next_path = one(fields, "token").strip(), safe_next(one(fields, "next"))
        session_id = await run_in_threadpool(open_session, engine, token) if sessions.auth_on else None
        if session_id is None:
            return render(request, "signin.html", 401, next=next_path, error="That token is not valid (or was revoked).")
        response = RedirectResponse(next_path, 303)
        response.set_cookie(value=session_id, max_age=SESSION_SECONDS, **cookie_settings(request))
        return response

    @app.post("/signout", include_in_schema=False)
    async def signout(request: Request):
        await checked_form(request)
        session_id = sessions.cookie_token(request)
        if session_id:
            await run_in_threadpool(close_session, engine, session_id)
        response = RedirectResponse("/signin", 303)
        response.delete_cookie(**{k: v for k, v in cookie_settings(request).items()})
        return response

    # ------------------------------------------------------------------ API reference
    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request):
        """The API's routes from its OpenAPI schema (``/openapi.json``), without Swagger UI's CDN."""
        operations = [{"method": m.upper(), "path": p, "summary": op.get("summary", ""),
                       "description": op.get("description", "")}
                      for p, item in app.openapi()["paths"].items() for m, op in item.items()]
        return render(request, "docs.html", operations=operations)


def read_tail(path: Path, limit: int = LOG_TAIL) -> tuple[str, int]:
    """(the last ``limit`` bytes of the log, decoded; the offset where it ends)."""
    try:
        with open(path, "rb") as f:
            end = f.seek(0, 2)
            f.seek(max(0, end - limit))
            return f.read(limit).decode("utf-8", "replace"), end
    except OSError:
        return "", 0


def resolved_yaml(job: dict) -> str:
    import yaml

    resolved = json.loads(job["resolved"] or "null")
    return yaml.safe_dump(resolved, sort_keys=False, default_flow_style=False) if resolved is not None else ""
