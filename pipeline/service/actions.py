"""What a user does to jobs, the same through the API and the pages: submit (checked like the CLI's
own run) and retry (the same submission, checked again; completed stages are cache hits)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import sqlalchemy as sa

from pipeline.config import CptConfig
from pipeline.service import queue
from pipeline.service.auth import User
from pipeline.service.submission import PATH_COMMANDS, check_submission
from pipeline.service.worker import job_dir


def submit_job(engine: sa.Engine, server: CptConfig, who: User, command: str, overrides: list[str],
               config: Optional[str], idempotency_key: Optional[str] = None) -> tuple[dict, bool]:
    """(the queued job, whether it is new); a :class:`~pipeline.errors.CptError` names what is wrong."""
    job_id = queue.new_id()
    sub = check_submission(server, command, overrides, config, job_dir(server.workdir, job_id))
    return queue.submit(engine, job_id=job_id, user=who.name, command=sub.command, args=sub.args, config=config,
                        idempotency_key=idempotency_key, resolved=sub.resolved, plan=sub.plan,
                        max_queued=server.service.max_queued_per_user)


def retry_job(engine: sa.Engine, server: CptConfig, old: dict) -> dict:
    """A new attempt of the finished job ``old``, queued for the same user."""
    if old["state"] not in queue.TERMINAL:
        raise queue.Conflict(f"job {old['id']} is {old['state']}; retry a finished job")
    new_id = queue.new_id()
    args = json.loads(old["args"])
    if old["command"] in PATH_COMMANDS:  # DEST: the new job's own outputs
        args = [args[0], Path(args[1]).name, *args[2:]]
    sub = check_submission(server, old["command"], args, old["config"], job_dir(server.workdir, new_id))
    job, _ = queue.submit(engine, job_id=new_id, user=old["user"], command=sub.command, args=sub.args,
                          config=old["config"], idempotency_key=None, resolved=sub.resolved, plan=sub.plan,
                          max_queued=server.service.max_queued_per_user, retry_of=old["id"])
    return job
