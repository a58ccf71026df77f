"""A real ``cpt serve`` (uvicorn on loopback) in a subprocess for the service tests, stopped by PID;
fresh PostgreSQL databases on the server that ``.ci/postgres/start_postgres.sh`` starts; a small
HTTP client (urllib, no test-only dependency)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Optional

import pytest

CANARY = "cpt-canary-" + uuid.uuid4().hex  # in every test server's environment; must never come back out

# a run that takes ~30 s cold on 2 CPU cores; its training (80 steps, a checkpoint every 10) is long
# enough to be killed in the middle
SMALL_RUN = ["sample.web_pages=40", "sample.original_docs=100", "base_model.pretrain_iters=10",
             "train.train_iters=80", "train.save_interval=10", "train.eval_interval=40", "train.log_interval=5",
             "evaluate.max_samples=8"]  # extraction keeps its 1 s default: CPU time, so load cannot drop pages
TERMINAL = ("succeeded", "failed", "cancelled", "interrupted")


def token(workdir: Path, name: str, admin: bool = False) -> str:
    """A new token for user ``name`` in the server's default database (``cpt serve token create``)."""
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "serve", "token", "create", name,
                          *(["--admin"] if admin else []), f"workdir={workdir}"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_postgres() -> str:
    url = os.environ.get("CPT_TEST_POSTGRES")
    if not url:
        pytest.fail("CPT_TEST_POSTGRES is not set: run the tests through `make test` (.ci/cluster/with_clusters.sh "
                    "starts PostgreSQL with .ci/postgres/start_postgres.sh)")
    return url


def new_postgres_database() -> str:
    """A fresh, empty database on the test PostgreSQL; its URL."""
    import psycopg

    admin = require_postgres()
    name = "cpt_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def database_for(kind: str, folder: Optional[Path] = None) -> str:
    """A fresh database: SQLite in ``folder`` (None: the server's default, in its workdir) or PostgreSQL."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'service.sqlite'}" if folder else ""
    return new_postgres_database()


class Server:
    """``cpt serve`` on a free loopback port, with :data:`CANARY` in its environment."""

    def __init__(self, workdir: Path, *overrides: str, database: str = "", env: Optional[dict] = None):
        self.workdir, self.overrides, self.database = Path(workdir), list(overrides), database
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "CPT_CANARY_SECRET": CANARY, **(env or {})}
        self.proc: Optional[subprocess.Popen] = None
        self.log = self.workdir.parent / f"serve-{self.port}.log"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "pipeline.cli", "serve", f"workdir={self.workdir}", f"service.port={self.port}",
                "service.heartbeat_s=0.5", "service.lease_s=3", *([f"service.database={self.database}"]
                                                                   if self.database else []), *self.overrides]

    def start(self, timeout: float = 90) -> "Server":
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"cpt serve exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            try:
                if request(self, "GET", "/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"cpt serve did not answer in {timeout}s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind (the jobs it started run on in their own process groups)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def request(server, method: str, path: str, body: Any = None, token: Optional[str] = None,
            headers: Optional[dict] = None, raw: Optional[bytes] = None, timeout: float = 120) -> tuple[int, Any]:
    """(status, JSON body or text) of one request to ``/api/v1{path}``."""
    url = server.url if hasattr(server, "url") else server
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"{url}/api/v1{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, payload = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    text = payload.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def submit(server, command: str, overrides: list[str], token: Optional[str] = None, **extra) -> str:
    status, body = request(server, "POST", "/jobs", {"command": command, "overrides": overrides, **extra}, token)
    assert status == 201, (status, body)
    return body["id"]


def job(server, job_id: str, token: Optional[str] = None) -> dict:
    status, body = request(server, "GET", f"/jobs/{job_id}", token=token)
    assert status == 200, (status, body)
    return body


def events(server, job_id: str, token: Optional[str] = None) -> list[dict]:
    """The job's events so far (the SSE stream without following), parsed."""
    status, text = request(server, "GET", f"/jobs/{job_id}/events?follow=false", token=token)
    assert status == 200, (status, text)
    return parse_sse(text)


def parse_sse(text: str) -> list[dict]:
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "id" in fields:
            out.append({"id": int(fields["id"]), "kind": fields["event"], "data": json.loads(fields["data"])})
    return out


def wait_for(predicate, timeout: float, what: str, interval: float = 0.3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_state(server, job_id: str, states=TERMINAL, timeout: float = 600, token: Optional[str] = None) -> dict:
    def reached():
        j = job(server, job_id, token)
        return j if j["state"] in states else None

    return wait_for(reached, timeout, f"job {job_id} to reach {states}")


def train_progress(server, job_id: str) -> float:
    """How far the job's train stage is (0 before it starts); an error once the job has finished."""
    j = job(server, job_id)
    assert j["state"] not in TERMINAL, f"job {job_id} is {j['state']} before training got under way: {j['error']}"
    for st in j["stages"]:
        if st["name"] == "train" and st["status"] == "running":
            return st.get("progress") or 0.0
    return 0.0


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
