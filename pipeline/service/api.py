"""The REST API (FastAPI; OpenAPI at ``/docs``), versioned under ``/api/v1``."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import AsyncIterator, Optional

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from pipeline.config import CptConfig
from pipeline.errors import CptError
from pipeline.service import artifacts, auth, queue
from pipeline.service.actions import retry_job, submit_job
from pipeline.service.hosts import KnownHost, allowed_hosts
from pipeline.service.sessions import SameOrigin, Sessions, server_secret
from pipeline.service.submission import check_submission
from pipeline.service.web import pages
from pipeline.service.worker import LOG_FILE, job_dir

API = "/api/v1"
_JOB_ID = re.compile(r"^[0-9a-f]{16}$")
# an artifact shown in the browser (the report in its frame) runs no script and loads nothing from anywhere
ARTIFACT_CSP = "sandbox allow-same-origin; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: str = Field(max_length=32, examples=["run"])
    overrides: list[str] = Field(default_factory=list, max_length=200, examples=[["mix.replay_fraction=0.25"]])
    config: Optional[str] = Field(default=None, description="a config file (experiment YAML), applied before the overrides")
    idempotency_key: Optional[str] = Field(default=None, max_length=128)


class BodyLimit:
    """413 for a request body over ``limit`` bytes, counted as it arrives (Content-Length can lie)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared and (not declared.isdigit() or int(declared) > self.limit):
            return await JSONResponse({"detail": f"request body over {self.limit // 1024} KiB"}, 413)(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, f"request body over {self.limit // 1024} KiB")
            return message

        return await self.app(scope, limited, send)


class SecurityHeaders:
    """Headers on every response: no MIME sniffing, no referrer off the site, no framing by other sites,
    and the pages' Content-Security-Policy (scripts, styles, requests: this server only)."""

    HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
               (b"x-frame-options", b"SAMEORIGIN")]
    PAGE_CSP = (b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                b"connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                headers += [h for h in self.HEADERS if h[0] not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self.PAGE_CSP))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, with_headers)


def create_app(engine: sa.Engine, server: CptConfig) -> FastAPI:
    s = server.service
    auth_on = auth.auth_enabled(s.auth, s.host)
    sessions = Sessions(engine, auth_on, server_secret(server.workdir))
    app = FastAPI(title="cpt", version="1", description="continued-pretraining pipeline service",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SameOrigin)
    app.add_middleware(BodyLimit, limit=s.max_body_kb * 1024)
    app.add_middleware(KnownHost, allowed=allowed_hosts(s))  # added last: runs first

    @app.exception_handler(CptError)
    async def _cpt_error(_request: Request, exc: CptError):
        status = 429 if isinstance(exc, queue.QueueFull) else 409 if isinstance(exc, queue.Conflict) else 422
        return JSONResponse({"detail": str(exc).splitlines()[0][:2000]}, status)

    def user(request: Request) -> auth.User:
        return sessions.require_api_user(request)

    def own_job(job_id: str, who: auth.User) -> dict:
        job = queue.get(engine, job_id) if _JOB_ID.match(job_id) else None
        if job is None or (job["user"] != who.name and not who.admin):
            raise HTTPException(404, f"no job {job_id[:40]}")
        return job

    # ------------------------------------------------------------------ jobs
    @app.post(f"{API}/jobs/validate")
    def validate(req: JobRequest, who: auth.User = Depends(user)):
        """The dry run: the resolved config and the plan (stages, cache hits, budget, memory per GPU)."""
        sub = check_submission(server, req.command, req.overrides, req.config, job_dir(server.workdir, "validate"))
        return {"command": sub.command, "overrides": sub.args, "resolved": sub.resolved, "plan": sub.plan}

    @app.post(f"{API}/jobs", status_code=201)
    def submit(req: JobRequest, who: auth.User = Depends(user)):
        job, created = submit_job(engine, server, who, req.command, req.overrides, req.config, req.idempotency_key)
        return JSONResponse({"id": job["id"], "state": job["state"]}, 201 if created else 200)

    @app.get(f"{API}/jobs")
    def list_jobs(state: Optional[str] = Query(default=None), user_name: Optional[str] = Query(default=None, alias="user"),
                  limit: int = Query(default=100, ge=1, le=1000), who: auth.User = Depends(user)):
        if state is not None and state not in queue.STATES:
            raise HTTPException(422, f"state must be one of {', '.join(queue.STATES)}")
        if not who.admin and user_name not in (None, who.name):
            raise HTTPException(403, "only an admin lists other users' jobs")
        rows = queue.list_jobs(engine, user=user_name if who.admin else who.name, state=state, limit=limit)
        return [{**r, "overrides": json.loads(r.pop("args"))} for r in rows]

    @app.get(f"{API}/jobs/{{job_id}}")
    def get_job(job_id: str, who: auth.User = Depends(user)):
        return job_view(own_job(job_id, who))

    @app.post(f"{API}/jobs/{{job_id}}/cancel")
    def cancel(job_id: str, who: auth.User = Depends(user)):
        own_job(job_id, who)
        return {"id": job_id, "state": queue.request_cancel(engine, job_id)}

    @app.post(f"{API}/jobs/{{job_id}}/retry", status_code=201)
    def retry(job_id: str, who: auth.User = Depends(user)):
        """A new attempt of a finished job: the same submission, checked again; completed stages are cache hits."""
        job = retry_job(engine, server, own_job(job_id, who))
        return {"id": job["id"], "state": job["state"], "retry_of": job_id}

    @app.get(f"{API}/jobs/{{job_id}}/events")
    def job_events(job_id: str, follow: bool = True, last_event_id: Optional[str] = Header(default=None),
                   after: int = Query(default=0, ge=0), who: auth.User = Depends(user)):
        """Server-Sent Events: every event after ``Last-Event-ID`` (or ``?after=``); with ``follow``
        (the default) the stream stays open until the job has finished."""
        own_job(job_id, who)
        start = int(last_event_id) if last_event_id and last_event_id.isdigit() else after
        return StreamingResponse(event_stream(job_id, start, follow), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def event_stream(job_id: str, after: int, follow: bool) -> AsyncIterator[str]:
        """Async, so an open stream holds no worker thread between polls (many watchers, one server)."""
        last_sent = time.time()
        while True:
            batch = await run_in_threadpool(queue.events_after, engine, job_id, after)
            if batch:  # one write per batch, not per event: a replay of thousands of events is one chunk a page
                after = batch[-1]["id"]
                yield "".join(f"id: {ev['id']}\nevent: {ev['kind']}\ndata: {json.dumps({**ev['data'], 'ts': ev['ts']})}\n\n"
                              for ev in batch)
                last_sent = time.time()
                continue
            job = await run_in_threadpool(queue.get, engine, job_id)
            if not follow or job is None or job["state"] in queue.TERMINAL:
                return
            if time.time() - last_sent > 15:
                yield ": keep-alive\n\n"
                last_sent = time.time()
            await asyncio.sleep(0.5)

    @app.get(f"{API}/jobs/{{job_id}}/log", response_class=PlainTextResponse)
    def job_log(job_id: str, offset: int = Query(default=0, ge=0), limit: int = Query(default=1 << 20, ge=1, le=8 << 20),
                who: auth.User = Depends(user)):
        """The job's log from byte ``offset``; ``X-Log-Offset`` is where the next read starts."""
        own_job(job_id, who)
        path = job_dir(server.workdir, job_id) / LOG_FILE
        data = b""
        if path.is_file():
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read(limit)
        return PlainTextResponse(data.decode("utf-8", "replace"), headers={"X-Log-Offset": str(offset + len(data))})

    # ------------------------------------------------------------------ artifacts
    @app.get(f"{API}/jobs/{{job_id}}/artifacts")
    def job_artifacts(job_id: str, who: auth.User = Depends(user)):
        """The job's outputs: each completed stage's files (report, results tables, funnel, metrics, the
        exported model) and ``outputs/`` (import-hf / export-hf)."""
        files, truncated = artifacts.listing(server.workdir, own_job(job_id, who))
        return {"files": files, "truncated": truncated}

    @app.get(f"{API}/jobs/{{job_id}}/artifacts/{{path:path}}")
    def artifact(job_id: str, path: str, inline: bool = False, who: auth.User = Depends(user)):
        """One artifact file; ``?inline=true`` shows it in the browser (sandboxed: no script runs)."""
        target = artifacts.resolve(server.workdir, own_job(job_id, who), path)
        if target is None:
            raise HTTPException(404, "no such artifact")
        return FileResponse(target, filename=target.name, content_disposition_type="inline" if inline else "attachment",
                            headers={"Content-Security-Policy": ARTIFACT_CSP})

    # ------------------------------------------------------------------ runs
    @app.get(f"{API}/runs")
    def runs(stage: Optional[str] = None, who: auth.User = Depends(user)):
        from pipeline.registry import Registry

        rows = Registry(server.workdir).list_runs()
        return [{k: v for k, v in r.items() if k != "path"} for r in rows if stage is None or r["stage"] == stage]

    @app.get(f"{API}/runs/{{stage}}/{{fingerprint}}")
    def run(stage: str, fingerprint: str, who: auth.User = Depends(user)):
        """One stage run: its manifest, its inputs (upstream) and the runs that consumed it (downstream)."""
        from pipeline.registry import Registry

        if not artifacts.STAGE_NAME.match(stage) or not artifacts.FINGERPRINT.match(fingerprint):
            raise HTTPException(404, "no such run")
        path = Path(server.workdir) / stage / fingerprint / "manifest.json"
        if not path.is_file():
            raise HTTPException(404, "no such run")
        manifest = json.loads(path.read_text())
        me = f"{stage}/{fingerprint}"
        downstream = [f"{r['stage']}/{r['fingerprint']}" for r in Registry(server.workdir).list_runs()
                      if me in (r.get("inputs") or {}).values()]
        return {"manifest": manifest, "upstream": manifest.get("inputs", {}), "downstream": downstream}

    @app.get(f"{API}/health")
    def health():
        from pipeline.service.db import workers

        with engine.connect() as conn:
            alive = conn.execute(sa.select(sa.func.count()).select_from(workers).where(
                workers.c.heartbeat_at > time.time() - s.lease_s)).scalar_one()
        return {"status": "ok", "database": engine.dialect.name, "workers": alive, "auth": auth_on}

    pages.mount(app, engine, server, sessions)
    return app


def job_view(job: dict) -> dict:
    """A job as the API shows it (no worker internals)."""
    return {
        "id": job["id"], "user": job["user"], "command": job["command"], "overrides": json.loads(job["args"]),
        "config": job["config"], "state": job["state"], "attempt": job["attempt"], "retry_of": job["retry_of"],
        "created_at": job["created_at"], "started_at": job["started_at"], "finished_at": job["finished_at"],
        "error": job["error"], "exit_code": job["exit_code"], "cancel_requested": bool(job["cancel_requested"]),
        "resolved": json.loads(job["resolved"] or "null"), "plan": json.loads(job["plan"] or "null"),
        "stages": json.loads(job["stages"] or "[]"), "slurm_job_ids": json.loads(job["slurm_job_ids"] or "[]"),
    }

