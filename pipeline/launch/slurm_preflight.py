"""Submission-time checks, each a one-line error before anything is queued: an unknown partition, a
time over the partition's MaxTime, a request no node of the partition can hold, a missing venv or
container image. (With ``EnforcePartLimits`` Slurm rejects some of these itself, with a less
specific message; without it such a job pends forever.)"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import SlurmConfig
from pipeline.errors import ConfigError
from pipeline.launch import slurm_cli
from pipeline.slurm_time import format_slurm_time, parse_slurm_time


@dataclass
class Request:
    """What one job asks for, per node."""

    time: str
    cpus: int  # per task
    mem_mb: int  # per node (0 = not requested)
    gpus: int = 0  # per node
    nodes: int = 1
    tasks_per_node: int = 1


def venv_activate(cfg: SlurmConfig) -> str | None:
    """The ``bin/activate`` a job sources (None with a container image, which brings its own Python)."""
    if cfg.container_image:
        return None
    venv = Path(cfg.venv or sys.prefix)
    activate = venv / "bin" / "activate"
    if not activate.is_file():
        key = "cluster.slurm.venv" if cfg.venv else "cluster.slurm.venv (default: the venv cpt runs from)"
        raise ConfigError(f"invalid value for '{key}': {activate} does not exist; point it at a venv on a "
                          f"shared filesystem, or set cluster.slurm.container_image")
    return str(activate)


def _gpus(gres: str) -> int:
    m = re.search(r"gpu(?::[^:(,]+)?:(\d+)", gres or "")
    return int(m.group(1)) if m else 0


def check(cfg: SlurmConfig, request: Request) -> str:
    """Raise ConfigError naming the key to change; return the partition the job will use."""
    if cfg.container_image and not re.match(r"^[\w.-]+[/:]", cfg.container_image) and not Path(cfg.container_image).exists():
        raise ConfigError(f"invalid value for 'cluster.slurm.container_image': {cfg.container_image} does not exist")
    venv_activate(cfg)
    parts = slurm_cli.partitions()
    by_name = {p.get("PartitionName"): p for p in parts}
    name = cfg.partition or next((p["PartitionName"] for p in parts if p.get("Default") == "YES"), "")
    if not name:
        raise ConfigError(f"cluster.slurm.partition is empty and the cluster has no default partition "
                          f"(available: {', '.join(by_name) or 'none'})")
    if name not in by_name:
        raise ConfigError(f"invalid value for 'cluster.slurm.partition': unknown partition {name!r} "
                          f"(available: {', '.join(by_name) or 'none'})")
    part = by_name[name]
    limit = parse_slurm_time(part.get("MaxTime", "UNLIMITED")) or float("inf")
    wanted = parse_slurm_time(request.time)
    if wanted is not None and wanted > limit:
        raise ConfigError(f"invalid value for 'cluster.slurm.time': {request.time} is over partition {name!r}'s "
                          f"MaxTime {format_slurm_time(limit)}")
    members = set(slurm_cli.hostnames(part["Nodes"])) if part.get("Nodes") not in (None, "", "(null)") else set()
    fitting = []
    for node in slurm_cli.nodes():
        if node.get("NodeName") not in members:
            continue
        cpus, mem, gpus = int(node.get("CPUTot", 0)), int(node.get("RealMemory", 0)), _gpus(node.get("Gres", ""))
        if (cpus >= request.cpus * request.tasks_per_node and mem >= request.mem_mb and gpus >= request.gpus):
            fitting.append(node["NodeName"])
    if len(fitting) < request.nodes:
        ask = (f"{request.nodes} node(s) with {request.tasks_per_node} x {request.cpus} CPUs, "
               f"{request.mem_mb} MB memory, {request.gpus} GPUs each")
        raise ConfigError(f"no node in partition {name!r} satisfies the request ({ask}); {len(fitting)} of "
                          f"{len(members)} node(s) do: lower cluster.slurm.cpus_per_task / mem_per_cpu_gb / "
                          f"gpus_per_node / nodes, or pick another partition")
    return name
