"""A worker: claims jobs from the queue and runs each as a ``cpt`` process in a process group of its
own (:mod:`pipeline.service.job_process` leads it), with a scrubbed environment and the server's
policy as its config file. While a job runs the worker renews its lease, copies the job's events
(:mod:`pipeline.events`) into the database and acts on a cancel: SIGTERM to the group (training
checkpoints and exits), SIGKILL after ``service.cancel_grace_s``, ``scancel`` for its Slurm jobs.

A worker that starts finds the jobs whose lease expired (their worker was killed): a job whose
process still runs on this host (same pid and start time) is re-attached; one that finished while
no worker watched gets its recorded exit status; any other is interrupted and requeued.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import psutil
import sqlalchemy as sa
import yaml

from pipeline.compose import parse_config_file
from pipeline.config import CptConfig
from pipeline.events import EVENTS_FILE_ENV
from pipeline.service import queue
from pipeline.service.job_process import EXIT_FILE
from pipeline.service.submission import PATH_COMMANDS, job_config_file

# what a job's environment keeps from the server's (plus service.job_env): no tokens, no secrets
JOB_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "VIRTUAL_ENV",
           "SLURM_CONF", "CUDA_VISIBLE_DEVICES", "CPT_HOME", "OMP_NUM_THREADS")
EVENTS_FILE, LOG_FILE, CONFIG_FILE = "events.jsonl", "log.txt", "config.yaml"


def job_dir(workdir: str | Path, job_id: str) -> Path:
    return Path(workdir) / "jobs" / job_id


def process_alive(pid: Optional[int], started: Optional[float]) -> bool:
    """The process ``pid`` that started at ``started`` still runs (a reused pid is another process)."""
    if not pid or started is None:
        return False
    try:
        p = psutil.Process(pid)
        return abs(p.create_time() - started) < 0.05 and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def last_error(log: Path) -> str:
    """The job's one-line error: cpt's ``cpt: error:`` line, else the log's last line."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - 16384))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    for ln in reversed(lines):
        if ln.startswith("cpt: error:"):
            return ln.removeprefix("cpt: error:").strip()[:2000]
    for ln in reversed(lines):  # an uncaught exception: its last "SomeError: message" line
        if re.match(r"^[\w.]*(Error|Exception|Interrupt)\b", ln):
            return ln[:2000]
    return lines[-1][:2000] if lines else ""


@dataclass
class RunningJob:
    job: dict
    dir: Path
    proc: Optional[subprocess.Popen] = None  # None when re-attached (not this worker's child)
    offset: int = 0
    stages: list = field(default_factory=list)
    slurm_job_ids: list = field(default_factory=list)
    cancel_sent: Optional[float] = None
    killed: bool = False
    descendants: set = field(default_factory=set)  # (pid, start time) of every process the job started

    def note_descendants(self) -> None:
        """Remember the job's processes: local training ranks run in sessions of their own, and once the
        leader is gone they are no longer its descendants; a SIGKILL must still reach them."""
        try:
            leader = psutil.Process(self.job["pid"])
            for p in leader.children(recursive=True):
                self.descendants.add((p.pid, p.create_time()))
        except psutil.Error:
            pass

    def kill_all(self) -> None:
        """SIGKILL to the job's process group and to every process it started."""
        self.note_descendants()
        if process_alive(self.job["pid"], self.job["pid_started"]):  # else its pid may be another's by now
            try:
                os.killpg(self.job["pid"], signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid, started in self.descendants:
            if process_alive(pid, started):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    @property
    def id(self) -> str:
        return self.job["id"]

    def ended(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is not None
        return not process_alive(self.job["pid"], self.job["pid_started"])


class Worker:
    def __init__(self, engine: sa.Engine, server: CptConfig, *, slots: int = 1, name: str = "worker"):
        self.engine, self.server, self.slots = engine, server, slots
        self.host = socket.gethostname()
        self.id = f"{self.host}:{os.getpid()}:{name}:{uuid.uuid4().hex[:6]}"
        self.running: dict[str, RunningJob] = {}
        self.stopping = threading.Event()
        self._last_beat = 0.0

    # ------------------------------------------------------------------ loop
    def run_forever(self, poll_s: float = 0.5) -> None:
        queue.register_worker(self.engine, self.id, self.host, os.getpid())
        self.recover()
        while not self.stopping.is_set():
            try:
                self.tick()
            except sa.exc.OperationalError as exc:  # the database restarting: try again next tick
                print(f"cpt worker: database unavailable ({str(exc).splitlines()[0]}); retrying", file=sys.stderr)
            except Exception:  # a bug must not silently stop the queue: say so, keep serving the jobs
                traceback.print_exc()
                self.stopping.wait(5)
            self.stopping.wait(poll_s)

    def tick(self) -> None:
        s = self.server.service
        if time.time() - self._last_beat >= s.heartbeat_s:
            self._last_beat = time.time()
            flags = queue.renew(self.engine, self.id, list(self.running), s.lease_s)
            for job_id in [j for j in self.running if j not in flags]:  # another worker took it: not ours
                self.running.pop(job_id)
            for job_id, cancel in flags.items():
                self.running[job_id].note_descendants()
                if cancel:
                    self.running[job_id].job["cancel_requested"] = True
            queue.worker_heartbeat(self.engine, self.id)
            self.recover()
        for rj in list(self.running.values()):
            self.watch(rj)
        while len(self.running) < self.slots and not self.stopping.is_set():
            job = queue.claim(self.engine, worker_id=self.id, host=self.host, lease_s=s.lease_s,
                              max_running_per_user=s.max_running_per_user)
            if job is None:
                break
            self.start(job)

    # ------------------------------------------------------------------ start / watch / finish
    def argv(self, job: dict, directory: Path) -> list[str]:
        args = json.loads(job["args"])
        cli = [sys.executable, "-m", "pipeline.cli", job["command"], *args]
        if job["command"] not in PATH_COMMANDS:
            body = parse_config_file(job["config"]) if job["config"] else None
            path = directory / CONFIG_FILE
            tmp = path.with_name(f".{CONFIG_FILE}.tmp")
            tmp.write_text(yaml.safe_dump(job_config_file(body, self.server), sort_keys=False))
            os.replace(tmp, path)
            cli += ["--config", str(path)]
        return [sys.executable, "-m", "pipeline.service.job_process", str(directory), "--", *cli]

    def environment(self, directory: Path) -> dict[str, str]:
        keep = set(JOB_ENV) | set(self.server.service.job_env)
        env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("LC_")}
        env.update({EVENTS_FILE_ENV: str(directory / EVENTS_FILE), "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
                    "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
        return env

    def start(self, job: dict) -> None:
        directory = job_dir(self.server.workdir, job["id"])
        try:
            (directory / "outputs").mkdir(parents=True, exist_ok=True, mode=0o700)
            (directory / EXIT_FILE).unlink(missing_ok=True)
            argv = self.argv(job, directory)
            proc = subprocess.Popen(argv, cwd=directory, env=self.environment(directory), start_new_session=True,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except Exception as exc:  # cannot even start (disk full, ...): the job failed, the worker goes on
            queue.finish(self.engine, job["id"], self.id, queue.FAILED, exit_code=None,
                         error=f"could not start the job: {type(exc).__name__}: {exc}")
            return
        started = psutil.Process(proc.pid).create_time()
        queue.set_process(self.engine, job["id"], proc.pid, started)
        job.update(pid=proc.pid, pid_started=started)
        rj = RunningJob(job, directory, proc, offset=job["events_offset"] or 0,
                        stages=json.loads(job["stages"] or "[]"), slurm_job_ids=json.loads(job["slurm_job_ids"] or "[]"))
        self.running[job["id"]] = rj

    def watch(self, rj: RunningJob) -> None:
        self.ingest(rj)
        grace = self.server.service.cancel_grace_s
        if rj.job.get("cancel_requested") and not rj.ended():
            if rj.cancel_sent is None:
                rj.cancel_sent = time.time()
                rj.note_descendants()
                try:
                    os.kill(rj.job["pid"], signal.SIGTERM)  # the leader passes it on to cpt
                except ProcessLookupError:
                    pass
            elif not rj.killed and time.time() - rj.cancel_sent > grace:
                rj.killed = True
                rj.kill_all()
                self.scancel(rj)
        if rj.ended():
            self.ingest(rj)
            self.conclude(rj)

    def scancel(self, rj: RunningJob) -> None:
        if rj.slurm_job_ids:
            from pipeline.launch import slurm_cli

            try:
                slurm_cli.cancel(rj.slurm_job_ids)
            except Exception:  # Slurm unreachable: the jobs end at their time limit
                pass

    def conclude(self, rj: RunningJob) -> None:
        """The job's process has exited: its state from cpt's exit status (or its absence)."""
        self.running.pop(rj.id, None)
        rj.kill_all()  # nothing the job started may outlive it
        try:
            code: Optional[int] = int((rj.dir / EXIT_FILE).read_text())
        except (OSError, ValueError):
            code = None
        if rj.job.get("cancel_requested"):
            self.scancel(rj)
            queue.finish(self.engine, rj.id, self.id, queue.CANCELLED, exit_code=code, error=None)
        elif code == 0:
            queue.finish(self.engine, rj.id, self.id, queue.SUCCEEDED, exit_code=0, error=None)
        elif code is None:  # killed with no record (OOM killer, a node reboot): another attempt
            queue.interrupt(self.engine, {**rj.job, "state": queue.RUNNING}, self.id,
                            self.server.service.max_attempts, "the job's process was killed")
        else:
            queue.finish(self.engine, rj.id, self.id, queue.FAILED, exit_code=code,
                         error=last_error(rj.dir / LOG_FILE) or f"exit status {code}")

    # ------------------------------------------------------------------ events
    def ingest(self, rj: RunningJob) -> None:
        path = rj.dir / EVENTS_FILE
        try:
            with open(path, "rb") as f:
                f.seek(rj.offset)
                chunk = f.read(4 << 20)
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n") + 1
        if not end:
            return
        new = []
        for line in chunk[:end].splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict) and isinstance(ev.get("kind"), str):
                new.append(ev)
                self.apply(rj, ev)
        rj.offset += end
        queue.record_events(self.engine, rj.id, new, rj.offset, rj.stages, rj.slurm_job_ids)

    @staticmethod
    def apply(rj: RunningJob, ev: dict) -> None:
        """A job event's effect on the job's per-stage summary."""
        kind = ev["kind"]
        if kind == "slurm_submitted":
            rj.slurm_job_ids += [str(j) for j in ev.get("job_ids", [])]
            return
        if kind == "progress":
            st = next((s for s in reversed(rj.stages) if s["status"] == "running"), None)
            if st is None:
                return
            if ev.get("metric") == "documents":  # documents read so far, per task of a datatrove stage
                counts = st.setdefault("task_documents", {})
                counts[str(ev.get("task"))] = ev.get("documents", 0)
                st["documents"] = sum(counts.values())
            elif ev.get("total"):
                st["progress"] = round(ev.get("step", 0) / ev["total"], 4)
            return
        if not kind.startswith("stage_"):
            return
        name = ev.get("stage")
        st = next((s for s in rj.stages if s["name"] == name and s["fingerprint"] == ev.get("fingerprint")), None)
        if st is None:
            st = {"name": name, "fingerprint": ev.get("fingerprint"), "status": "running", "cached": False,
                  "started_at": ev.get("ts"), "duration_s": None, "progress": 0.0}
            rj.stages.append(st)
        if kind == "stage_cached":
            st.update(status="cached", cached=True, progress=1.0)
        elif kind == "stage_started":
            st.update(status="running", cached=False, started_at=ev.get("ts"))
        elif kind == "stage_completed":
            st.update(status="completed", duration_s=ev.get("duration_s"), progress=1.0)
        elif kind == "stage_failed":
            st.update(status="failed", error=ev.get("error"))

    # ------------------------------------------------------------------ recovery
    def recover(self) -> None:
        """Jobs whose worker was lost: re-attach, conclude, or interrupt and requeue."""
        for job in queue.expired(self.engine):
            if job["id"] in self.running or not queue.take_over(self.engine, job, self.id, self.server.service.lease_s):
                continue
            directory = job_dir(self.server.workdir, job["id"])
            job["worker_id"] = self.id
            rj = RunningJob(job, directory, None, offset=job["events_offset"] or 0,
                            stages=json.loads(job["stages"] or "[]"),
                            slurm_job_ids=json.loads(job["slurm_job_ids"] or "[]"))
            if job["host"] == self.host and (process_alive(job["pid"], job["pid_started"])
                                             or (directory / EXIT_FILE).exists()):
                self.running[job["id"]] = rj  # still running, or ended while unwatched: watch() concludes it
            else:
                state = queue.interrupt(self.engine, job, self.id, self.server.service.max_attempts,
                                        f"worker {job['worker_id']} was lost and the job's process is gone")
                if state == queue.CANCELLED:
                    self.scancel(rj)
