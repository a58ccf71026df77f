"""Training as one Slurm job: ``nodes`` x ``train.nproc_per_node`` ranks, one per GPU, through ``srun``.

cpt writes the ranks' spec and an sbatch script into the run's own directory, submits it, and waits
(a line per state change, and the training step). In the job:

* every ``srun`` task is one rank; :func:`pipeline.train.contract.adopt_slurm_rank_env` maps
  ``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_LOCALID`` to torch's variables; the master is the job's
  first node, on a port derived from the job id;
* ``--signal=USR1@<signal_before_end_s>`` (no ``B:``) reaches the ranks themselves, not the batch
  shell; so does a scheduler's SIGTERM on preemption. The ranks checkpoint together and exit; the
  script sees their ``TrainingPreempted`` results, runs ``scontrol requeue`` on its own job, and the
  next attempt resumes from the checkpoints in this run's directory (the spec names it: never another
  run's);
* the job's state, restarts and exit reason are kept in ``<run>/slurm/job.json`` for ``cpt status``.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

from pipeline import events
from pipeline.config import SlurmConfig
from pipeline.errors import ConfigError, CptError
from pipeline.launch import slurm_cli, slurm_preflight
from pipeline.train.contract import RANK_PROGRAM, RANKS_FROM_SLURM_ENV, result_path
from pipeline.launch.local_ranks import error_from_result, read_results, write_spec
from pipeline.registry import write_json_atomic

JOB_DIR = "slurm"
JOB_RECORD = "job.json"
SCRIPT = "train.sbatch"


def job_record(out_dir: Path) -> dict | None:
    try:
        return json.loads((Path(out_dir) / JOB_DIR / JOB_RECORD).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _save(out_dir: Path, record: dict) -> None:
    write_json_atomic(Path(out_dir) / JOB_DIR / JOB_RECORD, record)


def sbatch_script(cfg: SlurmConfig, *, nproc: int, partition: str, spec_path: Path, job_dir: Path,
                  job_name: str, program: str = RANK_PROGRAM) -> str:
    directives = {
        "job-name": job_name, "partition": partition, "nodes": cfg.nodes, "ntasks-per-node": nproc,
        "cpus-per-task": cfg.train_cpus_per_rank, "time": cfg.train_time or cfg.time,
        "output": str(job_dir / "job-%j.out"), "open-mode": "append", "requeue": "",
        "signal": f"USR1@{cfg.signal_before_end_s}",
    }
    if cfg.gpus_per_node:
        directives["gpus-per-node"] = cfg.gpus_per_node
    if cfg.train_mem_gb:
        directives["mem"] = f"{cfg.train_mem_gb}G"
    if cfg.qos:
        directives["qos"] = cfg.qos
    if cfg.account:
        directives["account"] = cfg.account
    directives.update({str(k): v for k, v in cfg.sbatch_args.items()})
    lines = ["#!/bin/bash", "# written by cpt (pipeline/launch/slurm_training.py); resubmitted as is on requeue"]
    lines += [f"#SBATCH --{k}={v}" if v != "" else f"#SBATCH --{k}" for k, v in directives.items()]
    activate = slurm_preflight.venv_activate(cfg)
    srun = ["srun", "--wait=60", f"--cpus-per-task={cfg.train_cpus_per_rank}"]
    if cfg.container_image:
        srun.append(f"--container-image={cfg.container_image}")
        if cfg.container_mounts:
            srun.append(f"--container-mounts={cfg.container_mounts}")
    launch = shlex.quote(str(spec_path.parent))
    lines += [
        'echo "cpt: job $SLURM_JOB_ID attempt $(( ${SLURM_RESTART_COUNT:-0} + 1 )) on $SLURM_JOB_NODELIST '
        'at $(date -u +%FT%TZ)"',
        f"source {shlex.quote(activate)}" if activate else "# the container image brings its Python",
        'export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        "export MASTER_PORT=$(( 20000 + SLURM_JOB_ID % 30000 ))",
        f"export {RANKS_FROM_SLURM_ENV}=1 OMP_NUM_THREADS={cfg.train_cpus_per_rank} PYTHONUNBUFFERED=1",
        f"rm -f {launch}/result-*.json",
        f"{' '.join(srun)} python -m {program} {shlex.quote(str(spec_path))}",
        "rc=$?",
        f"if grep -qs '\"error\": \"TrainingPreempted\"' {launch}/result-*.json; then",
        '    echo "cpt: the ranks checkpointed after a preemption signal; requeueing job $SLURM_JOB_ID"',
        '    scontrol requeue "$SLURM_JOB_ID" && sleep 30',
        "fi",
        'echo "cpt: srun exited with $rc"',
        "exit $rc",
    ]
    return "\n".join(lines) + "\n"


def check_plan(nproc: int, cfg: SlurmConfig, train_cfg) -> None:
    if cfg.gpus_per_node and nproc != cfg.gpus_per_node:
        raise ConfigError(f"invalid value for 'train.nproc_per_node': {nproc} ranks per node but "
                          f"cluster.slurm.gpus_per_node={cfg.gpus_per_node}: one rank per GPU, set them equal "
                          f"(gpus_per_node=0 trains on CPU ranks)")
    world = nproc * cfg.nodes
    if train_cfg.global_batch_size % (train_cfg.micro_batch_size * world):
        raise ConfigError(f"invalid value for 'train.global_batch_size': {train_cfg.global_batch_size} is not a "
                          f"multiple of train.micro_batch_size x {world} ranks ({cfg.nodes} node(s))")


def submit(nproc: int, cfg: SlurmConfig, train_kwargs: dict, program: str = RANK_PROGRAM) -> dict:
    out_dir = Path(train_kwargs["out_dir"])
    check_plan(nproc, cfg, train_kwargs["train_cfg"])
    partition = slurm_preflight.check(cfg, slurm_preflight.Request(
        time=cfg.train_time or cfg.time, cpus=cfg.train_cpus_per_rank, mem_mb=cfg.train_mem_gb * 1024,
        gpus=cfg.gpus_per_node, nodes=cfg.nodes, tasks_per_node=nproc))
    spec_path = write_spec(out_dir, train_kwargs)
    job_dir = out_dir / JOB_DIR
    job_dir.mkdir(parents=True, exist_ok=True)
    script = job_dir / SCRIPT
    script.write_text(sbatch_script(cfg, nproc=nproc, partition=partition, spec_path=spec_path, job_dir=job_dir,
                                    job_name=f"cpt-{out_dir.parent.name}", program=program))
    job_id = slurm_cli.submit(str(script))
    record = {"job_id": job_id, "script": str(script), "log": str(job_dir / f"job-{job_id}.out"),
              "spec": str(spec_path), "world_size": nproc * cfg.nodes, "nodes": cfg.nodes, "partition": partition,
              "submitted_at": time.time(), "state": "PENDING", "reason": "", "exit_code": "", "restarts": 0}
    _save(out_dir, record)
    events.emit("slurm_submitted", what="train", job_ids=[job_id])
    print(f"[train] submitted Slurm job {job_id} ({cfg.nodes} node(s) x {nproc} rank(s), partition "
          f"{partition}); log {record['log']}", file=sys.stderr, flush=True)
    return record


def _last_step(out_dir: Path) -> int | None:
    path = Path(out_dir) / "metrics.jsonl"
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 4096))
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("kind") == "train":
            return rec.get("step")
    return None


def wait(out_dir: Path, record: dict, cfg: SlurmConfig, train_iters: int) -> dict:
    """Poll the job until it ends; keep its state in the job record; return the final record."""
    last = None
    try:
        while True:
            info = slurm_cli.job_info(record["job_id"])
            if info is None:  # Slurm forgot the job (it ended more than MinJobAge ago)
                record.update(state=record["state"] if record["state"] in slurm_cli.TERMINAL_STATES else "UNKNOWN")
                break
            record.update(state=info.get("JobState", "?"), reason=info.get("Reason", ""),
                          exit_code=info.get("ExitCode", ""), restarts=int(info.get("Restarts", 0) or 0),
                          nodelist=info.get("NodeList", ""))
            step = _last_step(out_dir)
            line = (f"slurm job {record['job_id']}: {record['state']}"
                    + (f" ({record['reason']})" if record["reason"] not in ("", "None") else "")
                    + (f", requeued {record['restarts']}x" if record["restarts"] else "")
                    + (f", step {step}/{train_iters}" if step is not None else ""))
            if line != last:
                last = line
                record["updated_at"] = time.time()
                _save(out_dir, record)
                print(f"[train] {line}", file=sys.stderr, flush=True)
            if record["state"] in slurm_cli.TERMINAL_STATES:
                break
            time.sleep(cfg.poll_interval_s)
    except KeyboardInterrupt:
        slurm_cli.cancel([record["job_id"]])
        record.update(state="CANCELLED", reason="interrupted")
        _save(out_dir, record)
        raise
    _save(out_dir, record)
    return record


def run_slurm_training(nproc: int, cfg: SlurmConfig, train_kwargs: dict, program: str = RANK_PROGRAM) -> dict:
    """Submit (or, after cpt itself was stopped, rejoin the still-queued job of this run), wait, and
    return rank 0's stats or raise the error a rank reported."""
    out_dir = Path(train_kwargs["out_dir"])
    record = job_record(out_dir)
    if record and (info := slurm_cli.job_info(record["job_id"])) and info.get("JobState") not in slurm_cli.TERMINAL_STATES:
        print(f"[train] rejoining Slurm job {record['job_id']} ({info.get('JobState')}) submitted earlier",
              file=sys.stderr, flush=True)
    else:
        record = submit(nproc, cfg, train_kwargs, program)
    record = wait(out_dir, record, cfg, train_kwargs["train_cfg"].train_iters)
    spec_path = Path(record["spec"])
    results = read_results(spec_path, record["world_size"])
    if results.get(0, {}).get("ok") and record["state"] == "COMPLETED":
        return results[0]["stats"]
    failed = [results[r] for r in sorted(results) if not results[r]["ok"]]
    preempted = [r for r in failed if r["error"] == "TrainingPreempted"]
    if preempted or failed:
        raise error_from_result((preempted or failed)[0])
    raise CptError(f"training job {record['job_id']} ended {record['state']} (reason {record['reason'] or '-'}, "
                   f"exit code {record['exit_code'] or '-'}) without a result from rank 0 "
                   f"({result_path(spec_path, 0)}); see its log {record['log']}")
