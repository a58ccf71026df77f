"""The job queue in the database: states, the append-only event log, fair claiming with leases.

States: queued -> running -> succeeded | failed | cancelled; running -> cancelling -> cancelled;
a running job whose worker is lost is ``interrupted`` and requeued until ``service.max_attempts``.
A worker claims a job with a compare-and-set on its state, inside ``BEGIN IMMEDIATE`` (SQLite) or
with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so a job runs on exactly one worker at a time.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Optional

import sqlalchemy as sa

from pipeline.errors import CptError
from pipeline.service.db import events, is_postgres, jobs, read, write

QUEUED, RUNNING, CANCELLING = "queued", "running", "cancelling"
SUCCEEDED, FAILED, CANCELLED, INTERRUPTED = "succeeded", "failed", "cancelled", "interrupted"
STATES = (QUEUED, RUNNING, CANCELLING, CANCELLED, FAILED, SUCCEEDED, INTERRUPTED)
ACTIVE = (RUNNING, CANCELLING)
TERMINAL = (SUCCEEDED, FAILED, CANCELLED, INTERRUPTED)


class QueueFull(CptError):
    """The user already has ``service.max_queued_per_user`` jobs waiting (HTTP 429)."""


class Conflict(CptError):
    """The job is not in a state that allows this (HTTP 409)."""


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def add_event(conn: sa.Connection, job_id: str, kind: str, data: Optional[dict] = None, ts: Optional[float] = None) -> None:
    conn.execute(events.insert().values(job_id=job_id, ts=ts or time.time(), kind=kind,
                                        data=json.dumps(data or {}, default=str)))


def _set_state(conn: sa.Connection, job_id: str, state: str, **fields) -> None:
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(state=state, **fields))
    add_event(conn, job_id, "state", {"state": state, **{k: v for k, v in fields.items() if k in ("error", "exit_code")}})


# ---------------------------------------------------------------------------- submit / read
def submit(engine: sa.Engine, *, job_id: str, user: str, command: str, args: list[str], config: Optional[str],
           idempotency_key: Optional[str], resolved: dict, plan: dict, max_queued: int,
           retry_of: Optional[str] = None) -> tuple[dict, bool]:
    """Queue a checked job: (the job, True), or (the job already submitted with this idempotency key,
    False). :class:`QueueFull` past the user's limit."""
    with write(engine) as conn:
        if idempotency_key:
            existing = conn.execute(sa.select(jobs).where(jobs.c.user == user,
                                                          jobs.c.idempotency_key == idempotency_key)).first()
            if existing:
                return dict(existing._mapping), False
        waiting = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(
            jobs.c.user == user, jobs.c.state == QUEUED)).scalar_one()
        if waiting >= max_queued:
            raise QueueFull(f"{user} already has {waiting} queued jobs (service.max_queued_per_user={max_queued})")
        conn.execute(jobs.insert().values(
            id=job_id, user=user, command=command, args=json.dumps(args), config=config,
            idempotency_key=idempotency_key, state=QUEUED, attempt=0, retry_of=retry_of, created_at=time.time(),
            resolved=json.dumps(resolved), plan=json.dumps(plan), stages=json.dumps([])))
        add_event(conn, job_id, "state", {"state": QUEUED, **({"retry_of": retry_of} if retry_of else {})})
        return dict(conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).one()._mapping), True


def get(engine: sa.Engine, job_id: str) -> Optional[dict]:
    with read(engine) as conn:
        row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    return dict(row._mapping) if row else None


def list_jobs(engine: sa.Engine, *, user: Optional[str] = None, state: Optional[str] = None,
              command: Optional[str] = None, before: Optional[float] = None, limit: int = 100,
              detail: bool = False) -> list[dict]:
    """Newest first; ``before``: only jobs submitted earlier (the next page); ``detail`` adds the plan and
    the stages (the jobs page's stage strip)."""
    cols = [jobs.c.id, jobs.c.user, jobs.c.command, jobs.c.args, jobs.c.state, jobs.c.attempt, jobs.c.created_at,
            jobs.c.started_at, jobs.c.finished_at, jobs.c.error, jobs.c.retry_of]
    q = sa.select(*cols, *([jobs.c.plan, jobs.c.stages] if detail else []))
    if user is not None:
        q = q.where(jobs.c.user == user)
    if state is not None:
        q = q.where(jobs.c.state == state)
    if command is not None:
        q = q.where(jobs.c.command == command)
    if before is not None:
        q = q.where(jobs.c.created_at < before)
    with read(engine) as conn:
        rows = conn.execute(q.order_by(jobs.c.created_at.desc()).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def stage_uses(engine: sa.Engine, user: Optional[str] = None) -> list[tuple[str, str]]:
    """(job id, its stages JSON) of every job (of ``user``), oldest first: which jobs made or reused a run."""
    q = sa.select(jobs.c.id, jobs.c.stages).order_by(jobs.c.created_at)
    if user is not None:
        q = q.where(jobs.c.user == user)
    with read(engine) as conn:
        return [(r.id, r.stages) for r in conn.execute(q)]


def events_of_kind(engine: sa.Engine, job_id: str, kinds: tuple[str, ...], *, newest: Optional[int] = None) -> list[dict]:
    """The job's events of these kinds, oldest first (``newest``: only the last so many)."""
    q = sa.select(events).where(events.c.job_id == job_id, events.c.kind.in_(kinds))
    q = q.order_by(events.c.id.desc()).limit(newest) if newest is not None else q.order_by(events.c.id)
    with read(engine) as conn:
        rows = conn.execute(q).all()
    if newest is not None:
        rows.reverse()
    return [{"id": r.id, "ts": r.ts, "kind": r.kind, "data": json.loads(r.data)} for r in rows]


def last_event_id(engine: sa.Engine, job_id: str) -> int:
    with read(engine) as conn:
        return conn.execute(sa.select(sa.func.max(events.c.id)).where(events.c.job_id == job_id)).scalar() or 0


def events_after(engine: sa.Engine, job_id: str, after: int = 0, limit: int = 500) -> list[dict]:
    with read(engine) as conn:
        rows = conn.execute(sa.select(events).where(events.c.job_id == job_id, events.c.id > after)
                            .order_by(events.c.id).limit(limit)).all()
    return [{"id": r.id, "ts": r.ts, "kind": r.kind, "data": json.loads(r.data)} for r in rows]


# ---------------------------------------------------------------------------- cancel / retry
def request_cancel(engine: sa.Engine, job_id: str) -> str:
    """A queued job is cancelled at once; a running one becomes ``cancelling`` (its worker stops it)."""
    with write(engine) as conn:
        state = conn.execute(sa.select(jobs.c.state).where(jobs.c.id == job_id)).scalar_one()
        if state == QUEUED:
            _set_state(conn, job_id, CANCELLED, finished_at=time.time(), cancel_requested=True)
            return CANCELLED
        if state == RUNNING:
            _set_state(conn, job_id, CANCELLING, cancel_requested=True)
            return CANCELLING
        if state == CANCELLING:
            return state
        raise Conflict(f"job {job_id} is {state}; only a queued or running job can be cancelled")


# ---------------------------------------------------------------------------- workers
def claim(engine: sa.Engine, *, worker_id: str, host: str, lease_s: float, max_running_per_user: int) -> Optional[dict]:
    """The next job for this worker, fairly: among users under their running limit, the one with the
    fewest running jobs (then the longest waiting), and that user's oldest queued job."""
    now = time.time()
    with write(engine) as conn:
        running = dict(conn.execute(sa.select(jobs.c.user, sa.func.count()).where(jobs.c.state.in_(ACTIVE))
                                    .group_by(jobs.c.user)).all())
        q = (sa.select(jobs.c.id, jobs.c.user, jobs.c.created_at).where(jobs.c.state == QUEUED)
             .order_by(jobs.c.created_at).limit(500))
        if is_postgres(engine):
            q = q.with_for_update(skip_locked=True)
        oldest: dict[str, Any] = {}
        for r in conn.execute(q).all():
            if r.user not in oldest and running.get(r.user, 0) < max_running_per_user:
                oldest[r.user] = r
        if not oldest:
            return None
        pick = min(oldest.values(), key=lambda r: (running.get(r.user, 0), r.created_at))
        took = conn.execute(jobs.update().where(jobs.c.id == pick.id, jobs.c.state == QUEUED).values(
            state=RUNNING, worker_id=worker_id, host=host, lease_expires=now + lease_s, started_at=now,
            attempt=jobs.c.attempt + 1, pid=None, pid_started=None, exit_code=None)).rowcount
        if took != 1:
            return None
        add_event(conn, pick.id, "state", {"state": RUNNING, "worker": worker_id})
        return dict(conn.execute(sa.select(jobs).where(jobs.c.id == pick.id)).one()._mapping)


def renew(engine: sa.Engine, worker_id: str, job_ids: list[str], lease_s: float) -> dict[str, bool]:
    """Extend this worker's leases; returns {job id: cancel requested} for the jobs it still holds."""
    if not job_ids:
        return {}
    with write(engine) as conn:
        conn.execute(jobs.update().where(jobs.c.id.in_(job_ids), jobs.c.worker_id == worker_id)
                     .values(lease_expires=time.time() + lease_s))
        rows = conn.execute(sa.select(jobs.c.id, jobs.c.cancel_requested).where(
            jobs.c.id.in_(job_ids), jobs.c.worker_id == worker_id)).all()
    return {r.id: bool(r.cancel_requested) for r in rows}


def set_process(engine: sa.Engine, job_id: str, pid: int, started: float) -> None:
    with write(engine) as conn:
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(pid=pid, pid_started=started))


def record_events(engine: sa.Engine, job_id: str, new: list[dict], offset: int, stages: list[dict],
                  slurm_job_ids: list[str]) -> None:
    with write(engine) as conn:
        for ev in new:
            add_event(conn, job_id, ev.pop("kind"), ev, ts=ev.pop("ts", None))
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(
            events_offset=offset, stages=json.dumps(stages), slurm_job_ids=json.dumps(slurm_job_ids)))


def finish(engine: sa.Engine, job_id: str, worker_id: str, state: str, *, exit_code: Optional[int],
           error: Optional[str]) -> None:
    with write(engine) as conn:
        conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.worker_id == worker_id)
                     .values(worker_id=None, lease_expires=None))
        _set_state(conn, job_id, state, finished_at=time.time(), exit_code=exit_code, error=error)


def expired(engine: sa.Engine) -> list[dict]:
    """Active jobs whose worker has not renewed its lease in time."""
    with read(engine) as conn:
        rows = conn.execute(sa.select(jobs).where(jobs.c.state.in_(ACTIVE), jobs.c.lease_expires < time.time())).all()
    return [dict(r._mapping) for r in rows]


def take_over(engine: sa.Engine, job: dict, worker_id: str, lease_s: float) -> bool:
    """Take an expired lease (compare-and-set on the old holder and expiry): True if this worker has it."""
    with write(engine) as conn:
        took = conn.execute(jobs.update().where(
            jobs.c.id == job["id"], jobs.c.worker_id.is_(None) if job["worker_id"] is None
            else jobs.c.worker_id == job["worker_id"], jobs.c.lease_expires < time.time(),
            jobs.c.state.in_(ACTIVE)).values(worker_id=worker_id, lease_expires=time.time() + lease_s)).rowcount
        if took == 1:
            add_event(conn, job["id"], "reattached", {"worker": worker_id, "pid": job["pid"]})
        return took == 1


def interrupt(engine: sa.Engine, job: dict, worker_id: str, max_attempts: int, reason: str) -> str:
    """A job whose process is gone with no result: ``interrupted``, and requeued while it has attempts
    left (a cancelling one is ``cancelled``). Returns the new state."""
    with write(engine) as conn:
        if job["state"] == CANCELLING or job["cancel_requested"]:
            _set_state(conn, job["id"], CANCELLED, finished_at=time.time(), worker_id=None, lease_expires=None)
            return CANCELLED
        _set_state(conn, job["id"], INTERRUPTED, error=reason, worker_id=None, lease_expires=None)
        if job["attempt"] < max_attempts:
            _set_state(conn, job["id"], QUEUED, pid=None, pid_started=None)
            return QUEUED
        conn.execute(jobs.update().where(jobs.c.id == job["id"]).values(finished_at=time.time()))
        return INTERRUPTED


def register_worker(engine: sa.Engine, worker_id: str, host: str, pid: int) -> None:
    from pipeline.service.db import workers

    now = time.time()
    with write(engine) as conn:
        conn.execute(workers.delete().where(workers.c.heartbeat_at < now - 86400))
        conn.execute(workers.insert().values(id=worker_id, host=host, pid=pid, started_at=now, heartbeat_at=now))


def worker_heartbeat(engine: sa.Engine, worker_id: str) -> None:
    from pipeline.service.db import workers

    with write(engine) as conn:
        conn.execute(workers.update().where(workers.c.id == worker_id).values(heartbeat_at=time.time()))
