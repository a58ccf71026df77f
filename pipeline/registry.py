"""Run registry and stage cache.

A stage's output lives at ``<workdir>/<stage>/<fingerprint>/`` with a ``manifest.json``. The
fingerprint hashes exactly the config the stage receives (a :class:`StageConfig`), its inputs'
fingerprints, the code of every project module the stage's entry module imports (transitively) and
the versions of the third-party distributions those modules import, so a completed fingerprint is a
cache hit. Where the stage runs (cluster, local workers, progress bars) is a runtime argument, in no
fingerprint. Work happens in ``<fingerprint>.partial/`` (kept between
attempts so datatrove completions and checkpoints can resume) and is renamed into place only
when the stage succeeds: a crash never leaves a "completed" manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Optional

import pipeline
from pipeline.codeversion import PACKAGE_DIR, CodeVersion, code_version, declared_output_version
from pipeline.stage_config import StageConfig

if TYPE_CHECKING:  # the stages get one; the registry only hands it over
    from pipeline.config import TrackingConfig
    from pipeline.executor import Executor

MANIFEST = "manifest.json"
CODE_MODES = ("declared", "closure")


def output_version(version: int):
    """Declare the version of what a stage function writes: ``@output_version(2)``.

    With ``code_version=declared`` (the default) this number, not the code's bytes, is the stage's code
    in its fingerprint, so an upgrade of cpt that changes nothing a stage writes keeps every cache.
    Bump it whenever the stage's output changes for the same config and inputs: CI runs every stage
    on a fixed input and fails when the output's digest differs from the one recorded for this
    version (``tests/stage_outputs.json``), so a stale cache cannot ship."""
    return lambda fn: fn  # a marker: the registry reads N from the source (codeversion.declared_output_version)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON through a temporary file and a rename, so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def fingerprint(stage: str, config: dict, inputs: dict[str, str], code: str,
                versions: Optional[dict[str, str]] = None) -> str:
    """Hash of a stage's config (``StageConfig.to_dict()``), input refs, code digest and library versions."""
    blob = json.dumps({"stage": stage, "config": config, "inputs": inputs, "code": code,
                       "versions": versions or {}}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Artifact:
    """A completed stage output."""

    stage: str
    fingerprint: str
    path: Path
    manifest: dict = field(default_factory=dict)
    cached: bool = False

    @property
    def stats(self) -> dict:
        return self.manifest.get("stats", {})

    @property
    def ref(self) -> str:
        return f"{self.stage}/{self.fingerprint}"


@dataclass
class StageContext:
    """What a stage function receives: its config, its inputs and a directory to write into.

    ``config`` is fingerprinted; the fields after ``final_dir`` are runtime only (where and how the
    stage runs), in no fingerprint, and must not change what the stage writes."""

    stage: str
    config: StageConfig
    inputs: dict[str, Artifact]
    out_dir: Path  # the ``.partial`` directory being written
    final_dir: Path  # where ``out_dir`` is renamed to on success; record references to this
    progress: bool = True  # progress bars on stderr
    executor: Optional[Executor] = None  # runs the stage's datatrove jobs and training ranks
    workers: Optional[int] = None  # tasks run at once on the local executor (None = the stage's default)
    tracking: Optional[TrackingConfig] = None  # experiment trackers the training metrics also go to

    def log(self, msg: str) -> None:
        print(f"[{self.stage}] {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Runtime:
    """Where and how a stage runs: handed to the stage (:class:`StageContext`), never fingerprinted."""

    progress: bool = True
    executor: Optional[Executor] = None
    workers: Optional[int] = None
    tracking: Optional[TrackingConfig] = None


class Registry:
    def __init__(self, workdir: str | Path, *, package_root: Path = PACKAGE_DIR, code_mode: str = "declared"):
        """``package_root``: the project package whose sources are a stage's code (a copy in tests).
        ``code_mode``: what stands for a stage's code in its fingerprint: ``declared``, its
        :func:`output_version` (a stage that declares none: its closure); ``closure``, the digest of every
        project module it imports (for people editing cpt: any edit reruns what imports it)."""
        if code_mode not in CODE_MODES:
            raise ValueError(f"code_mode {code_mode!r} is not one of {', '.join(CODE_MODES)}")
        self.workdir = Path(workdir).resolve()
        self.package_root = Path(package_root)
        self.code_mode = code_mode

    def code_key(self, fn: Callable, code: CodeVersion, module: Optional[str] = None) -> str:
        """What stands for ``fn``'s code in its fingerprint (see ``code_mode``). The declared version is
        read from the stage module's source under ``package_root``, as its closure is."""
        if self.code_mode == "declared":
            declared = declared_output_version(module or fn.__module__, fn.__name__, self.package_root)
            if declared is not None:
                return f"output-v{declared}"
        return code.digest

    def fingerprint_for(self, stage: str, fn: Callable, *, config: StageConfig, inputs: dict[str, Artifact],
                        module: Optional[str] = None) -> tuple[str, CodeVersion, str, dict[str, str]]:
        """(the fingerprint ``run`` would give, the stage's code, what stands for it in the fingerprint,
        its input refs), running nothing."""
        code = code_version(module or fn.__module__, self.package_root)
        input_fps = {name: art.ref for name, art in sorted(inputs.items())}
        key = self.code_key(fn, code, module)
        return fingerprint(stage, config.to_dict(), input_fps, key, code.distributions), code, key, input_fps

    def stage_dir(self, stage: str, fp: str) -> Path:
        return self.workdir / stage / fp

    def lookup(self, stage: str, fp: str) -> Optional[Artifact]:
        path = self.stage_dir(stage, fp)
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            return None
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("status") != "completed":
            return None
        return Artifact(stage, fp, path, manifest, cached=True)

    def run(
        self,
        stage: str,
        fn: Callable[[StageContext], dict],
        *,
        config: StageConfig | Mapping[str, Any],
        inputs: dict[str, Artifact],
        module: Optional[str] = None,
        force: bool = False,
        runtime: Runtime = Runtime(),
    ) -> Artifact:
        """Run ``fn`` unless its fingerprint is completed. ``config`` is exactly what ``fn`` reads
        (a mapping becomes a :class:`StageConfig`); ``module`` is the stage's entry module, whose
        import closure is its code (default: the module defining ``fn``)."""
        if not isinstance(config, StageConfig):
            config = StageConfig(**config)
        fp, code, key, input_fps = self.fingerprint_for(stage, fn, config=config, inputs=inputs, module=module)
        with self._exclusive(stage, fp):
            return self._run_locked(stage, fp, fn, config=config, inputs=inputs, input_fps=input_fps,
                                    code=code, code_key=key, force=force, runtime=runtime)

    @contextlib.contextmanager
    def _exclusive(self, stage: str, fp: str) -> Iterator[None]:
        """One process at a time per stage fingerprint (parallel sweep jobs share upstream stages): the
        second waits, then finds the first one's result as a cache hit."""
        import fcntl

        lock_path = self.stage_dir(stage, fp).with_name(f"{fp}.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"[{stage}] {fp} is being run by another cpt process; waiting for it", file=sys.stderr, flush=True)
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _run_locked(self, stage: str, fp: str, fn, *, config: StageConfig, inputs: dict, input_fps: dict,
                    code: CodeVersion, code_key: str, force: bool, runtime: Runtime) -> Artifact:
        final = self.stage_dir(stage, fp)
        if not force and (hit := self.lookup(stage, fp)):
            print(f"[{stage}] cache hit {fp} (completed {hit.manifest.get('finished_at', '?')}); skipped",
                  file=sys.stderr, flush=True)
            return hit

        partial = final.with_name(f"{fp}.partial")
        if force and partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True, exist_ok=True)
        manifest = {
            "stage": stage,
            "fingerprint": fp,
            "config": config.to_dict(),
            "inputs": input_fps,
            "code_mode": self.code_mode,
            "code_key": code_key,
            "output_version": declared_output_version(fn.__module__, fn.__name__, self.package_root),
            "code_version": code.digest,
            "code_modules": list(code.modules),
            "code_module_digests": code.module_digests,
            "library_versions": code.distributions,
            "cpt_version": pipeline.__version__,
            "host": socket.gethostname(),
            "status": "running",
            "started_at": _now(),
        }
        write_json_atomic(partial / MANIFEST, manifest)
        print(f"[{stage}] running {fp} -> {final}", file=sys.stderr, flush=True)
        t0 = time.time()
        ctx = StageContext(stage, config, inputs, partial, final, progress=runtime.progress, executor=runtime.executor,
                           workers=runtime.workers, tracking=runtime.tracking)
        try:
            stats = fn(ctx) or {}
        except BaseException as exc:
            # A preempted training run is resumable: its status says so (TrainingPreempted).
            manifest.update(status=getattr(exc, "manifest_status", "failed"), error=f"{type(exc).__name__}: {exc}", finished_at=_now(),
                            duration_s=round(time.time() - t0, 3))
            write_json_atomic(partial / MANIFEST, manifest)
            raise
        manifest.update(status="completed", stats=stats, finished_at=_now(), duration_s=round(time.time() - t0, 3))
        write_json_atomic(partial / MANIFEST, manifest)
        if final.exists():  # --force over a completed run: swap it out, then drop it
            old = final.with_name(f"{fp}.old-{os.getpid()}")
            os.rename(final, old)
            os.rename(partial, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(partial, final)
        print(f"[{stage}] completed {fp} in {manifest['duration_s']:.1f}s", file=sys.stderr, flush=True)
        return Artifact(stage, fp, final, manifest)

    def list_runs(self) -> list[dict]:
        """Every stage run under the workdir, completed or not, oldest first."""
        rows = []
        if not self.workdir.is_dir():
            return rows
        for manifest_path in self.workdir.glob(f"*/*/{MANIFEST}"):
            try:
                m = json.loads(manifest_path.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            status = m.get("status", "?")
            if manifest_path.parent.name.endswith(".partial") and status == "running":
                status = "incomplete"  # a running manifest left behind: crashed, or still running
            rows.append({
                "stage": m.get("stage", manifest_path.parent.parent.name),
                "fingerprint": m.get("fingerprint", manifest_path.parent.name),
                "status": status,
                "started_at": m.get("started_at", ""),
                "duration_s": m.get("duration_s"),
                "inputs": m.get("inputs", {}),
                "path": str(manifest_path.parent),
                "error": m.get("error"),
            })
        rows.sort(key=lambda r: r["started_at"])
        return rows
