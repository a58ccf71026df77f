"""Bearer tokens. A token is 32 random bytes shown once; the database keeps its SHA-256 (a token has
256 bits of entropy, so a fast hash is as safe as a slow one and keeps a status read cheap). A
token's name is its user: users see and cancel only their own jobs; admins see all."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa

from pipeline.errors import ConfigError
from pipeline.service.db import read, tokens, web_sessions, write

PREFIX = "cpt_"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class User:
    name: str
    admin: bool


LOCAL_USER = User("local", True)  # auth off (loopback only): the one person at this machine


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(engine: sa.Engine, name: str, admin: bool = False) -> str:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise ConfigError("a token's name (its user) is 1-64 letters, digits, '-', '_' or '.'")
    token = PREFIX + secrets.token_urlsafe(32)
    with write(engine) as conn:
        if conn.execute(sa.select(tokens.c.name).where(tokens.c.name == name, tokens.c.revoked_at.is_(None))).first():
            raise ConfigError(f"a token named '{name}' exists; revoke it first (cpt serve token revoke {name})")
        conn.execute(tokens.delete().where(tokens.c.name == name))
        conn.execute(tokens.insert().values(name=name, digest=digest(token), admin=admin, created_at=time.time()))
    return token


def revoke(engine: sa.Engine, name: str) -> bool:
    """Revoke the live token of ``name`` and end its page sessions."""
    with write(engine) as conn:
        live = conn.execute(sa.select(tokens.c.digest).where(tokens.c.name == name, tokens.c.revoked_at.is_(None))).first()
        if live is None:
            return False
        conn.execute(tokens.update().where(tokens.c.name == name).values(revoked_at=time.time()))
        conn.execute(web_sessions.delete().where(web_sessions.c.token_digest == live.digest))
        return True


def listing(engine: sa.Engine) -> list[dict]:
    with read(engine) as conn:
        rows = conn.execute(sa.select(tokens.c.name, tokens.c.admin, tokens.c.created_at, tokens.c.revoked_at)
                            .order_by(tokens.c.name)).all()
    return [dict(r._mapping) for r in rows]


def authenticate(engine: sa.Engine, header: Optional[str]) -> Optional[User]:
    """The user of an ``Authorization: Bearer <token>`` header; None for anything else."""
    if not header or not header.startswith("Bearer ") or len(header) > 256:
        return None
    token = header[len("Bearer "):].strip()
    if not token.startswith(PREFIX):
        return None
    d = digest(token)
    with read(engine) as conn:
        row = conn.execute(sa.select(tokens.c.name, tokens.c.admin, tokens.c.digest)
                           .where(tokens.c.digest == d, tokens.c.revoked_at.is_(None))).first()
    if row is None or not hmac.compare_digest(row.digest, d):
        return None
    return User(row.name, bool(row.admin))


def auth_enabled(setting: str, host: str) -> bool:
    """``service.auth``: auto = on unless bound to loopback; off is refused off loopback."""
    loopback = host in LOOPBACK
    if setting == "off" and not loopback:
        raise ConfigError(f"service.auth=off on {host}: the server refuses to listen off loopback without auth")
    return setting == "on" or (setting == "auto" and not loopback)
