"""Which ``Host`` a request may name. A server on loopback answers only to loopback names, so a web
page whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) cannot drive it from the victim's
browser: the browser still sends the page's own name as ``Host``."""

from __future__ import annotations

from typing import Optional

from fastapi.responses import JSONResponse

from pipeline.config import ServiceConfig
from pipeline.service.auth import LOOPBACK

LOOPBACK_NAMES = frozenset({*LOOPBACK, "[::1]"})
WILDCARD = ("0.0.0.0", "::", "")


def allowed_hosts(s: ServiceConfig) -> Optional[frozenset[str]]:
    """The names accepted in ``Host`` (lower case, no port); None: any (bound to every interface with
    no ``service.allowed_hosts``, where auth is on and a rebound page carries no credential)."""
    named = {h.lower() for h in s.allowed_hosts}
    if s.host in LOOPBACK:
        return frozenset(LOOPBACK_NAMES | named)
    if s.host in WILDCARD:
        return frozenset(named) if named else None
    return frozenset({s.host.lower(), f"[{s.host.lower()}]", *named})


def host_name(header: str) -> str:
    """``Host`` without its port: ``[::1]:8765`` -> ``[::1]``, ``Example:80`` -> ``example``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[:header.find("]") + 1] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class KnownHost:
    """421 for a request whose ``Host`` is not one of :func:`allowed_hosts` (a request without one,
    which no browser sends, is let through)."""

    def __init__(self, app, allowed: Optional[frozenset[str]]):
        self.app, self.allowed = app, allowed

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.allowed is not None:
            host = next((v.decode("latin-1") for k, v in scope.get("headers") or [] if k == b"host"), None)
            if host is not None and host_name(host) not in self.allowed:
                response = JSONResponse({"detail": "unknown Host: this server answers to "
                                         + ", ".join(sorted(self.allowed))
                                         + " (add a name to service.allowed_hosts)"}, 421)
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)
