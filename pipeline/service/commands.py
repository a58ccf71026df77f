"""The service's commands on the ``cpt`` command line: ``serve``, ``worker`` (run here) and the
client commands (``submit``, ``jobs``, ``job``, ``logs``, ``cancel``, ``retry``)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

from pipeline.errors import CptError


def _server_config(overrides: list[str]):
    from pipeline.compose import compose_config

    return compose_config(overrides)


def service_command(command: str, args: list[str]) -> int:
    if command == "serve":
        from pipeline.service.server import serve, token_command

        if args[:1] == ["token"]:
            rest = [a for a in args[1:] if "=" not in a or a.startswith("-")]
            overrides = [a for a in args[1:] if a not in rest]
            return token_command(_server_config(overrides), rest)
        return serve(_server_config(args))
    if command == "worker":
        from pipeline.service.server import run_worker

        return run_worker(_server_config(args))
    return client_command(command, args)


def _when(ts) -> str:
    return datetime.fromtimestamp(ts).strftime("%m-%d %H:%M:%S") if ts else "-"


def client_command(command: str, args: list[str]) -> int:
    from pipeline.service.client import Client

    client = Client()
    if command == "submit":
        p = argparse.ArgumentParser(prog="cpt submit", description="queue a job on the cpt server ($CPT_SERVER)")
        p.add_argument("job_command", metavar="COMMAND")
        p.add_argument("--config", default=None, help="a config file (experiment YAML) sent with the job")
        p.add_argument("--idempotency-key", default=None)
        p.add_argument("--dry-run", action="store_true", help="validate and show the plan; queue nothing")
        ns, overrides = p.parse_known_args(args)
        config = None
        if ns.config:
            try:
                with open(ns.config, encoding="utf-8") as f:
                    config = f.read()
            except OSError as exc:
                raise CptError(f"cannot read config file {ns.config}: {exc.strerror or exc}") from None
        result = client.submit(ns.job_command, overrides, config, ns.idempotency_key, dry_run=ns.dry_run)
        if ns.dry_run:
            print_plan(result["plan"])
        else:
            print(result["id"])
        return 0
    if command == "jobs":
        p = argparse.ArgumentParser(prog="cpt jobs")
        p.add_argument("--state", default=None)
        p.add_argument("--user", default=None)
        ns = p.parse_args(args)
        rows = client.jobs(ns.state, ns.user)
        print(f"{'ID':<17} {'USER':<12} {'STATE':<11} {'CREATED':<15} COMMAND")
        for r in rows:
            print(f"{r['id']:<17} {r['user'][:12]:<12} {r['state']:<11} {_when(r['created_at']):<15} "
                  f"{r['command']} {' '.join(r['overrides'])}"[:200])
        return 0
    if len(args) < 1:
        raise CptError(f"usage: cpt {command} JOB_ID")
    job_id = args[0]
    if command == "job":
        print_job(client.job(job_id))
        return 0
    if command == "logs":
        return follow_log(client, job_id, follow="-f" in args[1:] or "--follow" in args[1:])
    if command == "cancel":
        r = client.cancel(job_id)
        print(f"{r['id']} {r['state']}")
        return 0
    if command == "retry":
        r = client.retry(job_id)
        print(r["id"])
        return 0
    raise CptError(f"unknown command {command}")


def print_plan(plan: dict) -> None:
    for st in plan.get("stages", []):
        print(f"  {st['name']:<10} {st['fingerprint']}  {'cache hit' if st['cached'] else 'runs'}")
    b = plan.get("budget") or {}
    if b:
        print(f"  budget: {b['train_iters']} steps x {b['global_batch_size']} x {b['seq_length']} = {b['tokens']:,} "
              f"tokens, replay {b['replay_fraction']:.1%}")
    mem = plan.get("memory_per_gpu_bytes")
    if mem:
        print(f"  memory per GPU (estimate): {mem['total'] / 2**30:.2f} GiB")


def print_job(job: dict) -> None:
    print(f"job {job['id']} ({job['user']}): {job['command']} {' '.join(job['overrides'])}")
    print(f"  state {job['state']} (attempt {job['attempt']}); created {_when(job['created_at'])}, started "
          f"{_when(job['started_at'])}, finished {_when(job['finished_at'])}")
    if job.get("retry_of"):
        print(f"  retry of {job['retry_of']}")
    for st in job["stages"]:
        dur = f"{st['duration_s']:.1f}s" if st.get("duration_s") is not None else ""
        prog = f"{st.get('progress', 0):.0%}" if st["status"] == "running" else ""
        print(f"  {st['name']:<10} {st['fingerprint']}  {st['status']:<9} {dur} {prog}".rstrip())
    if job.get("error"):
        print(f"  error: {job['error']}")


def follow_log(client, job_id: str, follow: bool) -> int:
    offset = 0
    while True:
        text, offset = client.log(job_id, offset)
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()
            continue
        if not follow:
            return 0
        state = client.job(job_id)["state"]
        if state in ("succeeded", "failed", "cancelled", "interrupted"):
            text, offset = client.log(job_id, offset)
            sys.stdout.write(text)
            print(f"[job {job_id} {state}]", file=sys.stderr)
            return 0 if state == "succeeded" else 1
        time.sleep(1.0)
