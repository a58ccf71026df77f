"""``cpt serve`` (the API, the scheduler and local workers in one process) and ``cpt worker`` (a
worker alone, for team mode: several hosts sharing one PostgreSQL database)."""

from __future__ import annotations

import sys
import threading

from pipeline.config import CptConfig
from pipeline.service import auth
from pipeline.service.db import connect, database_url, migrate


def open_database(server: CptConfig):
    url = database_url(server.service.database, server.workdir)
    engine = connect(url)
    migrate(engine)
    return engine


def describe_database(engine) -> str:
    """The database without its password."""
    return engine.url.render_as_string(hide_password=True)


def serve(server: CptConfig) -> int:
    import uvicorn

    from pipeline.service.api import create_app
    from pipeline.service.worker import Worker

    s = server.service
    engine = open_database(server)
    app = create_app(engine, server)  # refuses auth=off off loopback before binding
    auth_on = auth.auth_enabled(s.auth, s.host)
    if auth_on and not auth.listing(engine):
        print("cpt serve: auth is on and there are no tokens yet: cpt serve token create NAME [--admin]", file=sys.stderr)
    worker = Worker(engine, server, slots=s.local_workers, name="serve") if s.local_workers else None
    thread = threading.Thread(target=worker.run_forever, name="cpt-worker", daemon=True) if worker else None
    if thread:
        thread.start()
    print(f"cpt serve: http://{s.host}:{s.port} (API /api/v1, docs /docs); database {describe_database(engine)}; "
          f"auth {'on' if auth_on else 'off (loopback)'}; {s.local_workers} local job slot(s); workdir {server.workdir}",
          file=sys.stderr, flush=True)
    config = uvicorn.Config(app, host=s.host, port=s.port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run()
    finally:
        if worker:
            worker.stopping.set()  # the jobs keep running in their own process groups; the next start re-attaches
            thread.join(timeout=10)
    return 0


def run_worker(server: CptConfig) -> int:
    from pipeline.service.worker import Worker

    engine = open_database(server)
    worker = Worker(engine, server, slots=max(1, server.service.local_workers))
    print(f"cpt worker {worker.id}: database {describe_database(engine)}; {worker.slots} job slot(s)",
          file=sys.stderr, flush=True)
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        worker.stopping.set()
    return 0


def token_command(server: CptConfig, args: list[str]) -> int:
    """``cpt serve token create NAME [--admin] | revoke NAME | list``."""
    from pipeline.errors import ConfigError

    engine = open_database(server)
    if args[:1] == ["create"] and len(args) in (2, 3) and (len(args) == 2 or args[2] == "--admin"):
        token = auth.create(engine, args[1], admin="--admin" in args)
        print(token)
        print(f"# the token of '{args[1]}'{' (admin)' if '--admin' in args else ''}: shown once; "
              "clients use CPT_TOKEN=<token>", file=sys.stderr)
        return 0
    if args[:1] == ["revoke"] and len(args) == 2:
        if not auth.revoke(engine, args[1]):
            raise ConfigError(f"no active token named '{args[1]}'")
        print(f"revoked {args[1]}")
        return 0
    if args == ["list"]:
        for t in auth.listing(engine):
            state = "revoked" if t["revoked_at"] else "active"
            print(f"{t['name']:<24} {'admin' if t['admin'] else 'user':<6} {state}")
        return 0
    raise ConfigError("usage: cpt serve token create NAME [--admin] | revoke NAME | list  [service.database=...]")
