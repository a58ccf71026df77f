"""Who a request is, for the API and the pages alike: a bearer token (the CLI, scripts) or the browser's
session cookie (the pages), plus what a browser needs against cross-site requests.

- Signing in with a token opens a session: the cookie holds a random session id (never the API token,
  so a leaked cookie is not a key to the API), whose digest the database keeps with the token's and an
  expiry (``SESSION_SECONDS``). The cookie is HttpOnly (no script reads it), SameSite=Strict (no other
  site's page sends it) and Secure over HTTPS. Signing out ends the session on the server, so a copy of
  the cookie is refused too; revoking the token (``cpt serve token revoke``) ends every session of it.
- Every unsafe request the browser makes carries a CSRF token: a form field, or the ``X-CSRF-Token``
  header from the page's scripts. It is an HMAC of who the session is under the server's secret
  (``<workdir>/service.secret``, made once, mode 0600), so it survives a restart and needs no table.
- :class:`SameOrigin` refuses any unsafe request a browser marks as cross-site, with or without auth.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Optional

import sqlalchemy as sa
from fastapi import HTTPException, Request
from starlette.responses import JSONResponse

from pipeline.service import auth
from pipeline.service.db import read, tokens, web_sessions, write

COOKIE = "cpt_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SECRET_FILE = "service.secret"
SESSION_PREFIX = "cpts_"
SESSION_SECONDS = 12 * 3600  # a sign-in lasts a working day


def open_session(engine: sa.Engine, token: str) -> Optional[str]:
    """A new session id for a valid API token (None for an invalid one); expired sessions are dropped."""
    if auth.authenticate(engine, f"Bearer {token}") is None:
        return None
    session_id, now = SESSION_PREFIX + secrets.token_urlsafe(32), time.time()
    with write(engine) as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
        conn.execute(web_sessions.insert().values(digest=auth.digest(session_id), token_digest=auth.digest(token),
                                                  created_at=now, expires_at=now + SESSION_SECONDS))
    return session_id


def session_user(engine: sa.Engine, session_id: str) -> Optional[auth.User]:
    """The user of a live session: not expired, not signed out, and its token not revoked."""
    if not session_id.startswith(SESSION_PREFIX):
        return None
    joined = web_sessions.join(tokens, tokens.c.digest == web_sessions.c.token_digest)
    with read(engine) as conn:
        row = conn.execute(sa.select(tokens.c.name, tokens.c.admin).select_from(joined).where(
            web_sessions.c.digest == auth.digest(session_id), web_sessions.c.expires_at > time.time(),
            tokens.c.revoked_at.is_(None))).first()
    return auth.User(row.name, bool(row.admin)) if row else None


def close_session(engine: sa.Engine, session_id: str) -> None:
    with write(engine) as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.digest == auth.digest(session_id)))


def server_secret(workdir: str | Path) -> bytes:
    """The server's CSRF key, made on first start (O_EXCL, 0600: two servers starting at once agree)."""
    path = Path(workdir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    for _ in range(50):  # another process may have created it and not yet written it
        key = path.read_text().strip()
        if len(key) == 64:
            return bytes.fromhex(key)
        time.sleep(0.02)
    raise RuntimeError(f"{path}: not a 64-hex-digit secret; delete it and restart")


class Sessions:
    def __init__(self, engine: sa.Engine, auth_on: bool, secret: bytes):
        self.engine, self.auth_on, self.secret = engine, auth_on, secret

    def cookie_token(self, request: Request) -> Optional[str]:
        token = request.cookies.get(COOKIE)
        return token if token and len(token) <= 128 else None

    def user(self, request: Request) -> Optional[auth.User]:
        """The request's user: the bearer token if there is one, else the session cookie; None if neither is valid."""
        if not self.auth_on:
            return auth.LOCAL_USER
        header = request.headers.get("authorization")
        if header is not None:
            return auth.authenticate(self.engine, header)
        session_id = self.cookie_token(request)
        return session_user(self.engine, session_id) if session_id else None

    def identity(self, request: Request) -> str:
        """What a CSRF token is bound to: the session (its id's digest), else "anonymous"."""
        token = self.cookie_token(request) if self.auth_on else None
        return "session:" + auth.digest(token) if token else "anonymous"

    def csrf_token(self, request: Request) -> str:
        return hmac.new(self.secret, self.identity(request).encode(), hashlib.sha256).hexdigest()[:40]

    def check_csrf(self, request: Request, sent: Optional[str]) -> None:
        if not sent or not hmac.compare_digest(sent.encode()[:64], self.csrf_token(request).encode()):
            raise HTTPException(403, "CSRF token missing or stale: reload the page and try again")

    def require_api_user(self, request: Request) -> auth.User:
        """The API's check: 401 without a valid token; a cookie session's unsafe request needs the CSRF header."""
        who = self.user(request)
        if who is None:
            raise HTTPException(401, "a valid bearer token is required (Authorization: Bearer cpt_...)",
                                headers={"WWW-Authenticate": "Bearer"})
        if request.method not in SAFE_METHODS and "authorization" not in request.headers and self.auth_on:
            self.check_csrf(request, request.headers.get(CSRF_HEADER))
        return who


def cookie_settings(request: Request) -> dict:
    """The session cookie's attributes (setting it adds ``max_age=SESSION_SECONDS``)."""
    return {"key": COOKIE, "httponly": True, "samesite": "strict", "secure": request.url.scheme == "https",
            "path": "/"}


class SameOrigin:
    """403 for an unsafe request that a browser says comes from another site (``Sec-Fetch-Site``) or
    another origin (``Origin``). Clients that are not browsers send neither header."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
            site = headers.get("sec-fetch-site")
            origin = headers.get("origin")
            host = headers.get("host", "")
            if site in ("cross-site", "same-site") or (origin is not None and origin.split("://", 1)[-1] != host):
                response = JSONResponse({"detail": "cross-origin request refused"}, 403)
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)
