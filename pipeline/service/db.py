"""The service's database: SQLite in WAL mode (the one-process default) or PostgreSQL (team mode),
through SQLAlchemy Core; the schema is created and upgraded by Alembic (``migrations/``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy import event

from pipeline.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"

metadata = sa.MetaData()

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user", sa.String(128), nullable=False, index=True),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("args", sa.Text, nullable=False),  # JSON list: the overrides (or positional args)
    sa.Column("config", sa.Text),  # the submitted config file, as sent
    sa.Column("idempotency_key", sa.String(128)),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retry_of", sa.String(32)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("resolved", sa.Text),  # JSON: the resolved config
    sa.Column("plan", sa.Text),  # JSON: stages, cache hits, budget
    sa.Column("stages", sa.Text),  # JSON: per stage as the run goes
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("worker_id", sa.String(128)),
    sa.Column("lease_expires", sa.Float),
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
    sa.Column("pid_started", sa.Float),
    sa.Column("exit_code", sa.Integer),
    sa.Column("events_offset", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("slurm_job_ids", sa.Text),  # JSON list
    sa.UniqueConstraint("user", "idempotency_key", name="uq_jobs_user_idempotency_key"),
    sa.Index("ix_jobs_created_at", "created_at"),  # migration 0002
    sa.Index("ix_jobs_user_created_at", "user", "created_at"),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(32), nullable=False, index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # JSON object
)

tokens = sa.Table(
    "tokens", metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),  # sha256 of the token
    sa.Column("admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float),
)

web_sessions = sa.Table(  # the pages' sign-ins: the cookie holds a session id, never the API token
    "web_sessions", metadata,
    sa.Column("digest", sa.String(64), primary_key=True),  # sha256 of the session id
    sa.Column("token_digest", sa.String(64), nullable=False, index=True),  # the token that signed in
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

workers = sa.Table(
    "workers", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
)


def database_url(setting: str, workdir: str) -> str:
    """``service.database`` as a SQLAlchemy URL: "" = SQLite in the workdir; postgresql:// uses psycopg 3."""
    if not setting:
        Path(workdir).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(workdir).resolve() / 'service.sqlite'}"
    if setting.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + setting.split("://", 1)[1]
    if setting.startswith(("sqlite:///", "postgresql+psycopg://")):
        return setting
    raise ConfigError("service.database must be empty (SQLite in the workdir), sqlite:///PATH or postgresql://...")


def connect(url: str) -> sa.Engine:
    """An engine. SQLite: WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for :func:`write` transactions, so
    two writers queue for the lock instead of failing mid-transaction."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  pool_size=8, max_overflow=16)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # transactions are begun below, not by the driver
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.pop("immediate", False) else "BEGIN")

        return engine
    return sa.create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)


def is_postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextlib.contextmanager
def write(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read-write transaction (SQLite: ``BEGIN IMMEDIATE``, the write lock up front)."""
    with engine.connect() as conn:
        conn.info["immediate"] = True
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to the newest migration (Alembic; ``revision`` for tests of an
    upgrade). Servers starting together on PostgreSQL take turns (an advisory lock)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        if is_postgres(engine):
            conn.exec_driver_sql("SELECT pg_advisory_lock(424242)")
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if is_postgres(engine):
                conn.exec_driver_sql("SELECT pg_advisory_unlock(424242)")
                conn.commit()
