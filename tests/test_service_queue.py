"""The service's database and queue on SQLite and on a real PostgreSQL: migrations, fair claiming,
limits, leases, and two processes racing to claim the same jobs."""

import json
import multiprocessing
import time

import pytest
import sqlalchemy as sa

from service_server import database_for

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def engine(request, tmp_path):
    from pipeline.service.db import connect, database_url, migrate

    eng = connect(database_url(database_for(request.param), str(tmp_path)))
    migrate(eng)
    yield eng
    eng.dispose()


def queue_job(engine, user: str, i: int = 0, max_queued: int = 1000) -> str:
    from pipeline.service import queue

    job_id = queue.new_id()
    queue.submit(engine, job_id=job_id, user=user, command="sample", args=[f"sample.seed={i}"], config=None,
                 idempotency_key=None, resolved={}, plan={}, max_queued=max_queued)
    return job_id


def test_migrations_create_the_schema_the_code_uses_and_an_upgrade_keeps_the_jobs(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pipeline.service import queue
    from pipeline.service.db import metadata, migrate

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    job_id = queue_job(engine, "alice")
    migrate(engine)  # a restart (or an upgrade with nothing new) keeps every job
    assert queue.get(engine, job_id)["state"] == "queued"
    with engine.connect() as conn:
        assert conn.execute(sa.text("select version_num from alembic_version")).scalar_one() == "0003"


def test_an_upgrade_from_the_first_schema_keeps_the_jobs_and_adds_the_list_index(tmp_path):
    from pipeline.service import queue
    from pipeline.service.db import connect, database_url, migrate

    eng = connect(database_url("", str(tmp_path)))
    migrate(eng, "0001")
    job_id = queue_job(eng, "alice")
    migrate(eng)
    assert queue.get(eng, job_id)["state"] == "queued"
    with eng.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN SELECT id FROM jobs ORDER BY created_at DESC LIMIT 100").all()
    assert "ix_jobs_created_at" in str(plan), plan


def test_sqlite_runs_in_wal_mode(tmp_path):
    from pipeline.service.db import connect, database_url, migrate

    eng = connect(database_url("", str(tmp_path)))
    migrate(eng)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_queue_is_fair_across_users_and_keeps_the_running_limit(engine):
    """One user's 50 queued jobs do not starve another's 2: claims alternate between the users."""
    from pipeline.service import queue

    for i in range(50):
        queue_job(engine, "alice", i)
    bob = {queue_job(engine, "bob", i) for i in range(2)}
    claimed = [queue.claim(engine, worker_id="w", host="h", lease_s=60, max_running_per_user=2) for _ in range(5)]
    users = [c["user"] if c else None for c in claimed]
    assert users[:4].count("bob") == 2 and users[:4].count("alice") == 2, users
    assert {c["id"] for c in claimed if c and c["user"] == "bob"} == bob
    assert users[4] is None  # both users at max_running_per_user=2
    assert all(c["attempt"] == 1 for c in claimed if c)


def test_queued_limit_and_idempotency_key(engine):
    from pipeline.service import queue

    for i in range(3):
        queue_job(engine, "carol", i, max_queued=3)
    with pytest.raises(queue.QueueFull, match="already has 3 queued jobs"):
        queue_job(engine, "carol", 9, max_queued=3)
    kw = dict(user="dave", command="run", args=[], config=None, idempotency_key="k1", resolved={}, plan={}, max_queued=9)
    first, created = queue.submit(engine, job_id=queue.new_id(), **kw)
    again, created_again = queue.submit(engine, job_id=queue.new_id(), **kw)
    assert created and not created_again and again["id"] == first["id"]


def test_an_expired_lease_is_taken_over_by_exactly_one_worker(engine):
    from pipeline.service import queue

    queue_job(engine, "erin")
    job = queue.claim(engine, worker_id="w1", host="h", lease_s=0.2, max_running_per_user=1)
    assert queue.expired(engine) == []
    time.sleep(0.3)
    (expired,) = queue.expired(engine)
    assert queue.take_over(engine, expired, "w2", 60) and not queue.take_over(engine, expired, "w3", 60)
    assert queue.renew(engine, "w1", [job["id"]], 60) == {}  # the old worker no longer holds it
    assert queue.interrupt(engine, {**expired, "worker_id": "w2"}, "w2", 3, "lost") == "queued"
    kinds = [e["data"]["state"] for e in queue.events_after(engine, job["id"]) if e["kind"] == "state"]
    assert kinds == ["queued", "running", "interrupted", "queued"]


def _claim_all(url: str, worker: str, out) -> None:
    from pipeline.service import queue
    from pipeline.service.db import connect

    eng = connect(url)
    got = []
    while True:
        job = queue.claim(eng, worker_id=worker, host="h", lease_s=60, max_running_per_user=100)
        if job is None:
            break
        got.append(job["id"])
    out.put(got)


def test_two_processes_racing_claim_each_job_exactly_once(engine):
    from pipeline.service import queue

    ids = {queue_job(engine, f"user{i % 3}", i) for i in range(20)}
    url = engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(url, f"w{i}", out)) for i in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    claimed = results[0] + results[1]
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    for job_id in ids:
        running = [e for e in queue.events_after(engine, job_id) if e["data"].get("state") == "running"]
        assert len(running) == 1
    assert json.loads(queue.get(engine, claimed[0])["args"])


def test_a_job_lost_too_often_ends_interrupted(engine):
    """Requeueing is bounded: at service.max_attempts the job stays interrupted."""
    from pipeline.service import queue

    queue_job(engine, "frank")
    for attempt in (1, 2):
        job = queue.claim(engine, worker_id="w", host="h", lease_s=60, max_running_per_user=1)
        assert job["attempt"] == attempt
        state = queue.interrupt(engine, job, "w", 2, "lost")
    assert state == "interrupted" and queue.get(engine, job["id"])["finished_at"]
    assert queue.claim(engine, worker_id="w", host="h", lease_s=60, max_running_per_user=1) is None
