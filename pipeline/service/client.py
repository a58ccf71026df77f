"""The CLI's client of a cpt server: ``cpt submit``, ``jobs``, ``job``, ``logs``, ``cancel``, ``retry``.
The server and token come from ``CPT_SERVER`` (default http://127.0.0.1:8765) and ``CPT_TOKEN``;
errors are the server's one-line messages, as the local CLI prints them."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional

from pipeline.errors import CptError

DEFAULT_SERVER = "http://127.0.0.1:8765"


class Client:
    def __init__(self, server: Optional[str] = None, token: Optional[str] = None, timeout: float = 60):
        self.server = (server or os.environ.get("CPT_SERVER") or DEFAULT_SERVER).rstrip("/")
        self.token = token if token is not None else os.environ.get("CPT_TOKEN")
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, *, raw: bool = False, headers: Optional[dict] = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.server}/api/v1{path}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                payload = resp.read()
                return (payload, dict(resp.headers)) if raw else json.loads(payload or b"null")
        except urllib.error.HTTPError as exc:
            raise CptError(self._detail(exc)) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CptError(f"cannot reach the cpt server at {self.server} ({reason}); start one with `cpt serve` "
                           "or set CPT_SERVER") from None

    @staticmethod
    def _detail(exc: urllib.error.HTTPError) -> str:
        try:
            detail = json.loads(exc.read()).get("detail")
        except Exception:
            detail = None
        if isinstance(detail, list):  # FastAPI's request validation: [{loc, msg}, ...]
            detail = "; ".join(f"{'.'.join(map(str, d.get('loc', [])[1:]))}: {d.get('msg')}" for d in detail)
        if exc.code == 401:
            detail = f"{detail or 'unauthorized'} (set CPT_TOKEN)"
        return f"{detail or exc.reason} (HTTP {exc.code})"

    # ------------------------------------------------------------------ calls
    def submit(self, command: str, overrides: list[str], config: Optional[str] = None,
               idempotency_key: Optional[str] = None, dry_run: bool = False) -> dict:
        body = {"command": command, "overrides": overrides, "config": config, "idempotency_key": idempotency_key}
        return self.request("POST", "/jobs/validate" if dry_run else "/jobs", body)

    def job(self, job_id: str) -> dict:
        return self.request("GET", f"/jobs/{urllib.parse.quote(job_id, safe='')}")

    def jobs(self, state: Optional[str] = None, user: Optional[str] = None) -> list[dict]:
        q = urllib.parse.urlencode({k: v for k, v in (("state", state), ("user", user)) if v})
        return self.request("GET", f"/jobs{'?' + q if q else ''}")

    def log(self, job_id: str, offset: int = 0) -> tuple[str, int]:
        payload, headers = self.request("GET", f"/jobs/{urllib.parse.quote(job_id, safe='')}/log?offset={offset}", raw=True)
        return payload.decode("utf-8", "replace"), int(headers.get("X-Log-Offset", offset + len(payload)))

    def cancel(self, job_id: str) -> dict:
        return self.request("POST", f"/jobs/{urllib.parse.quote(job_id, safe='')}/cancel")

    def retry(self, job_id: str) -> dict:
        return self.request("POST", f"/jobs/{urllib.parse.quote(job_id, safe='')}/retry")
