"""What makes a submitted job safe to run, and what it will do.

A submission is a cpt command, its Hydra overrides (or, for ``import-hf``/``export-hf``, its paths)
and optionally a config file. It is hostile until checked: no ``_target_`` anywhere, no ``hydra.*``,
no resolver outside :data:`SAFE_RESOLVERS` (so ``${oc.env:...}`` never reads the server's
environment), none of the keys the server's policy sets (:data:`POLICY_KEYS`), input paths only under
``service.data_roots`` (or earlier stage outputs), output paths only inside the job's folder. It is
then composed and validated by the same function as the CLI (:func:`pipeline.compose.preflight`)
and planned by the chain itself (which stages run, which are cache hits).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from pipeline.compose import CONFIG_FILE_GROUP, hydra_context, parse_config_file, preflight
from pipeline.config import CptConfig
from pipeline.errors import CptError

STAGE_COMMANDS = ("sample", "extract", "curate", "dedup", "tokenize", "replay", "mix", "pretrain", "train",
                  "evaluate", "report")
PATH_COMMANDS = ("import-hf", "export-hf")
JOB_COMMANDS = ("run", "ablate", *STAGE_COMMANDS, *PATH_COMMANDS)

# set by the server, never by a submission (a prefix covers every key below it)
POLICY_KEYS = ("workdir", "cmd", "code_version", "service", "progress", "hydra", CONFIG_FILE_GROUP,
               "cluster.slurm.partition",
               "cluster.slurm.qos", "cluster.slurm.account", "cluster.slurm.venv", "cluster.slurm.container_image",
               "cluster.slurm.container_mounts", "cluster.slurm.sbatch_args", "cluster.ray.address",
               "tracking.wandb.dir", "tracking.mlflow.tracking_uri")  # tracker files: where the server says
# config keys that name files the job reads: under service.data_roots, or earlier stage outputs
PATH_KEYS = ("curate.input.paths", "replay.paths", "base_model.checkpoint", "base_model.hf", "tokenizer.path",
             "recipe.filters.language.model_path", "evaluate.new_valid", "mix.extra_sources", "evaluate.tasks.general",
             "evaluate.tasks.domain")
INSTANTIATE_KEYS = ("_target_", "_partial_", "_args_", "_recursive_", "_convert_")
SAFE_RESOLVERS = ("oc.select", "fineweb2")  # read the config itself (or the bundled FineWeb-2 settings)
MAX_ARGS, MAX_ARG_CHARS = 200, 4096
_RESOLVER = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*:")
_NODE_REF = re.compile(r"[\w.\[\]\s]*\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_OPTION = re.compile(r"^[A-Za-z0-9][\w\-]*$")
_PATH_FLAGS = {"import-hf": {"--pad-vocab-multiple": "int", "--seq-length": "int"},
               "export-hf": {"--tokenizer": "path", "--max-shard-gb": "float"}}


class Refused(CptError):
    """A submission the service will not run (HTTP 422): one line naming what was refused."""


@dataclass
class Submission:
    """A checked job: the args to run it with, its config file, resolved config and plan."""

    command: str
    args: list[str]
    config_file: dict | None = None
    resolved: dict = field(default_factory=dict)
    plan: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------- hostile values
def check_string(value: str, where: str) -> None:
    """No control characters; every ``${...}`` a reference to a config node or a safe resolver."""
    if _CONTROL.search(value.replace("\n", "").replace("\t", "")):
        raise Refused(f"{where}: control characters are not accepted")
    start = value.find("${")
    while start != -1:
        rest = value[start + 2:]
        resolver = _RESOLVER.match(rest)
        if resolver:
            if resolver.group(1) not in SAFE_RESOLVERS:
                raise Refused(f"{where}: the resolver '{resolver.group(1)}' is not accepted in a submitted config "
                              f"(allowed: {', '.join(SAFE_RESOLVERS)})")
        elif not _NODE_REF.match(rest):
            raise Refused(f"{where}: only ${{config.key}} interpolations and {', '.join(SAFE_RESOLVERS)} are accepted")
        start = value.find("${", start + 2)


def check_value(value: Any, where: str, depth: int = 0) -> None:
    """A submitted value: no instantiation keys at any depth, every string checked."""
    if depth > 32:
        raise Refused(f"{where}: nested too deep")
    if isinstance(value, str):
        check_string(value, where)
    elif isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            check_string(key, where)
            if key in INSTANTIATE_KEYS:
                raise Refused(f"{where}.{key}: object instantiation ({key}) is not accepted")
            check_value(v, f"{where}.{key}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_value(v, f"{where}[{i}]", depth + 1)
    elif not (value is None or isinstance(value, (bool, int, float))):
        raise Refused(f"{where}: a {type(value).__name__} is not a config value")


def check_key(key: str, where: str, *, subtree: bool = True) -> None:
    """A config key a submission may set: not the server's (:data:`POLICY_KEYS`), not Hydra's.
    ``subtree``: the value replaces everything below the key (so it must hold no policy key either)."""
    parts = key.split(".")
    if any(p in INSTANTIATE_KEYS for p in parts):
        raise Refused(f"{where}: object instantiation ({key}) is not accepted")
    if key.split("/")[0] == "hydra" or parts[0] == "hydra":
        raise Refused(f"{where}: hydra settings (callbacks, launcher, logging, output dirs) are the server's, "
                      "not a submission's")
    for policy in POLICY_KEYS:
        if key == policy or key.startswith(policy + ".") or (subtree and policy.startswith(key + ".")):
            raise Refused(f"{where}: '{key}' is set by the server's policy, not by a submission")


def submittable_groups(loader) -> set[str]:
    """cpt's config groups a submission may select (not Hydra's, not the server's config-file slot)."""
    return set(loader.list_groups("")) - {"hydra", CONFIG_FILE_GROUP}


def check_group_option(group: str, option: Any, loader, where: str) -> None:
    options = [o for o in loader.get_group_options(group) if not o.endswith("_schema")]
    if not isinstance(option, str) or not _OPTION.match(option) or option not in options:
        raise Refused(f"{where}: unknown option {option!r} for config group '{group}' "
                      f"(available: {', '.join(options)})")


# ---------------------------------------------------------------------------- overrides and config file
def check_overrides(args: list[str]) -> list[str]:
    """Hydra overrides, parsed with Hydra's own grammar and checked; ``--force`` becomes ``force=true``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import OverrideType

    args = ["force=true" if a == "--force" else a for a in args]
    for a in args:
        if a.startswith("-"):
            raise Refused(f"'{a}': flags are not accepted in a submission (overrides only; --force is force=true)")
    with hydra_context() as loader:
        groups = submittable_groups(loader)
        try:
            parsed = OverridesParser.create(config_loader=loader).parse_overrides(args)
        except Exception as exc:
            raise Refused(f"bad override: {str(exc).splitlines()[0]}") from exc
        for o in parsed:
            where = f"override '{o.input_line}'"
            is_group = o.key_or_group in groups
            check_key(o.key_or_group, where, subtree=not is_group)  # a group option: its own files
            if o.package is not None:
                raise Refused(f"{where}: package overrides (@...) are not accepted")
            if o.type == OverrideType.DEL:
                raise Refused(f"{where}: deleting keys is not accepted")
            if o.is_sweep_override():
                raise Refused(f"{where}: sweeps are not accepted (submit one job per value, or use ablate)")
            value = o.value()
            if is_group:
                check_group_option(o.key_or_group, value, loader, where)
            check_value(value, where)
    return args


def check_config_file(text: str) -> dict:
    """A submitted config file: parsed safely (:func:`parse_config_file`), every key and value checked,
    its ``defaults`` only selecting known options of cpt's own config groups."""
    body = parse_config_file(text)
    with hydra_context() as loader:
        groups = submittable_groups(loader)
        for entry in body.get("defaults", []) if isinstance(body.get("defaults", []), list) else [None]:
            if entry == "_self_":
                continue
            if not isinstance(entry, dict) or len(entry) != 1:
                raise Refused("config file: each defaults entry must be `override /GROUP: OPTION` or `_self_`")
            (key, option), = entry.items()
            group = str(key).removeprefix("override").strip().lstrip("/")
            if group not in groups:
                raise Refused(f"config file: defaults: unknown config group '{group}' "
                              f"(groups: {', '.join(sorted(groups))})")
            check_group_option(group, option, loader, "config file: defaults")
    _check_keys_below(body, "")
    return body


def _check_keys_below(node: dict, prefix: str) -> None:
    for k, v in node.items():
        key = f"{prefix}{k}"
        if key == "defaults":
            continue
        check_string(str(k), f"config file: {key}")
        check_key(key, f"config file: {key}", subtree=not isinstance(v, dict))
        if isinstance(v, dict):
            _check_keys_below(v, key + ".")
        else:
            check_value(v, f"config file: {key}")


# ---------------------------------------------------------------------------- paths
def _contains_dotdot(path: str) -> bool:
    return ".." in Path(path).parts


def readable_roots(server: CptConfig) -> list[Path]:
    """Where a job may read: ``service.data_roots``, cpt's bundled assets, and the stage outputs in the
    server's workdir (continuing from an earlier run's checkpoint is a path into them)."""
    from pipeline.assets import PROJECT_ROOT
    from pipeline.chain import STAGES

    workdir = Path(server.workdir)
    roots = [Path(r) for r in server.service.data_roots] + [PROJECT_ROOT / "pipeline" / "assets"]
    roots += [workdir / s for s in STAGES]
    return [Path(os.path.realpath(r)) for r in roots]


def check_path(path: str, where: str, roots: list[Path]) -> None:
    """``path`` (a file, folder or glob) resolves, symlinks followed, inside one of ``roots``."""
    from pipeline.assets import resolve_path

    if not isinstance(path, str) or not path:
        return
    if _contains_dotdot(path):
        raise Refused(f"{where}: '..' is not accepted in a path")
    static = re.split(r"[*?\[]", path, maxsplit=1)[0]  # a glob's folder: what it can reach
    real = Path(os.path.realpath(resolve_path(static or ".")))
    if not _inside(real, roots):
        raise Refused(f"{where}: {path} is outside the folders this server lets jobs read "
                      "(service.data_roots, stage outputs in its workdir, cpt's assets)")
    if static != path or real.is_dir():  # a glob or a folder: a symlink in it may point anywhere
        for reached in _reached(str(resolve_path(path)) if static != path else str(real)):
            if not _inside(Path(os.path.realpath(reached)), roots):
                raise Refused(f"{where}: {reached} leads (through a symlink) outside the folders this server "
                              "lets jobs read")


def _inside(real: Path, roots: list[Path]) -> bool:
    return any(real == r or r in real.parents for r in roots)


def _reached(path: str) -> Iterator[str]:
    """What a job's input expansion can reach through a symlink: every match of a glob, or each symlink
    under a folder (not followed: the expansion does not follow linked folders either)."""
    import glob

    if not os.path.isdir(path):
        yield from glob.iglob(path, recursive=True)
        return
    for folder, dirs, files in os.walk(path):
        yield from (os.path.join(folder, n) for n in dirs + files if os.path.islink(os.path.join(folder, n)))


def check_paths(cfg: CptConfig, server: CptConfig) -> None:
    from omegaconf import OmegaConf

    roots = readable_roots(server)
    tree = OmegaConf.structured(cfg)
    for key in PATH_KEYS:
        value = OmegaConf.select(tree, key)
        if value is None:
            continue
        value = OmegaConf.to_container(value) if not isinstance(value, (str, int, float)) else value
        if key == "mix.extra_sources":
            for i, src in enumerate(value):
                check_path(src["prefix"], f"{key}[{i}].prefix", roots)
        elif key.startswith("evaluate.tasks."):
            check_task_paths(value, key, roots)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                check_path(v, f"{key}[{i}]", roots)
        else:
            check_path(value, key, roots)


def check_ablation(cfg: CptConfig) -> None:
    """Each point of an ablation axis is an override the job applies after the server's policy, so it
    is checked as one: no policy, cluster or path key (nor a parent of one), a group's known options."""
    from pipeline.ablate.variants import axes

    with hydra_context() as loader:
        groups = submittable_groups(loader)
        for axis in axes(cfg.ablate):
            for _label, key, value in axis:
                where = f"ablate axis '{key}'"
                check_key(key, where, subtree=key not in groups)
                if key == "cluster" or key.startswith("cluster."):
                    raise Refused(f"{where}: cluster settings cannot be an ablation axis in a submission")
                if key in groups:  # a shipped option: its own files
                    check_group_option(key, value, loader, where)
                elif any(key == p or key.startswith(p + ".") or p.startswith(key + ".") for p in PATH_KEYS):
                    raise Refused(f"{where}: paths cannot be an ablation axis in a submission")
                check_value(value, where)


def check_task_paths(tasks: dict, key: str, roots: list[Path]) -> None:
    """A task's YAML or data file, and the data files its YAML names, are under the readable roots."""
    from pipeline.tasks.spec import SAMPLE_DATA, task_spec

    for name, value in tasks.items():
        if value == SAMPLE_DATA:
            continue
        check_path(str(value), f"{key}.{name}", roots)
        spec = task_spec(str(name), key.rsplit(".", 1)[1], str(value))
        for path in spec.data_files:
            check_path(str(path), f"{key}.{name} (a data file its task names)", roots)


def check_path_command(command: str, args: list[str], server: CptConfig, job_dir: Path) -> list[str]:
    """``import-hf SRC DEST [flags]``: SRC under the readable roots, DEST a name inside the job's
    ``outputs/`` (rewritten to that path)."""
    roots = readable_roots(server) + [Path(os.path.realpath(job_dir))]
    flags, positional, i = [], [], 0
    allowed = _PATH_FLAGS[command]
    while i < len(args):
        a = args[i]
        if a.startswith("-"):
            if a not in allowed or i + 1 >= len(args):
                raise Refused(f"{command}: '{a}' is not accepted (flags: {', '.join(allowed)})")
            value = args[i + 1]
            kind = allowed[a]
            try:
                float(value) if kind == "float" else int(value) if kind == "int" else None
            except ValueError:
                raise Refused(f"{command} {a}: {value!r} is not a number") from None
            if kind == "path":
                check_path(value, f"{command} {a}", roots)
            flags += [a, value]
            i += 2
            continue
        positional.append(a)
        i += 1
    if len(positional) != 2:
        raise Refused(f"{command} takes SRC DEST (DEST: a folder name inside the job's outputs)")
    src, dest = positional
    check_string(src, command)
    check_path(src, f"{command} SRC", roots)
    if not _OPTION.match(dest.replace(".", "_")):
        raise Refused(f"{command} DEST: {dest!r} must be a plain folder name (it is created in the job's outputs/)")
    if command == "export-hf" and "--tokenizer" not in flags:  # the one its checkpoint names is copied out
        check_path(str(checkpoint_tokenizer(src)), f"{command}: the tokenizer its checkpoint names", roots)
    return [src, str(job_dir / "outputs" / dest), *flags]


def checkpoint_tokenizer(src: str) -> str:
    """The tokenizer file an export of ``src`` would copy ("" when none is recorded: the job then fails)."""
    from pipeline.train.checkpoint_paths import read_meta, recorded_tokenizer, resolve_checkpoint

    try:
        ckpt = resolve_checkpoint(src)
        return str(recorded_tokenizer(ckpt, read_meta(ckpt)) or "")
    except (OSError, ValueError) as exc:
        raise Refused(f"export-hf SRC: {src} holds no readable checkpoint ({exc})") from None


# ---------------------------------------------------------------------------- policy
def apply_policy(cfg: CptConfig, server: CptConfig) -> CptConfig:
    """The server's workdir, code version and cluster submission fields on a job's config."""
    if cfg.cluster.executor not in server.service.executors:
        raise Refused(f"cluster.executor: '{cfg.cluster.executor}' is not offered by this server "
                      f"(service.executors: {', '.join(server.service.executors)})")
    cfg.workdir = server.workdir
    cfg.code_version = server.code_version
    cfg.progress = False
    for key in ("partition", "qos", "account", "venv", "container_image", "container_mounts", "sbatch_args"):
        setattr(cfg.cluster.slurm, key, getattr(server.cluster.slurm, key))
    cfg.cluster.ray.address = server.cluster.ray.address
    return cfg


def policy_file(server: CptConfig) -> dict:
    """The policy as a config file body: merged over the submitted one for the job's own ``cpt``."""
    s = server.cluster.slurm
    return {"workdir": server.workdir, "code_version": server.code_version, "progress": False,
            "cluster": {"slurm": {"partition": s.partition, "qos": s.qos, "account": s.account, "venv": s.venv,
                                  "container_image": s.container_image, "container_mounts": s.container_mounts,
                                  "sbatch_args": dict(s.sbatch_args)},
                        "ray": {"address": server.cluster.ray.address}}}


def job_config_file(submitted: dict | None, server: CptConfig) -> dict:
    from omegaconf import OmegaConf

    merged = OmegaConf.merge(OmegaConf.create(submitted or {}), OmegaConf.create(policy_file(server)))
    return OmegaConf.to_container(merged)


# ---------------------------------------------------------------------------- the whole check
def check_submission(server: CptConfig, command: str, args: Any, config_text: str | None, job_dir: Path,
                     *, plan: bool = True) -> Submission:
    """Refuse a hostile or invalid submission (:class:`Refused` or the CLI's one-line :class:`CptError`),
    else return what to run, the resolved config and the plan."""
    if command not in JOB_COMMANDS:
        raise Refused(f"unknown job command '{command}' (commands: {', '.join(JOB_COMMANDS)})")
    if not isinstance(args, list) or len(args) > MAX_ARGS or any(
            not isinstance(a, str) or len(a) > MAX_ARG_CHARS for a in args):
        raise Refused(f"overrides must be a list of at most {MAX_ARGS} strings of at most {MAX_ARG_CHARS} characters")
    for a in args:
        check_string(a, f"'{a[:80]}'")
    if command in PATH_COMMANDS:
        if config_text:
            raise Refused(f"{command} takes no config file")
        return Submission(command, check_path_command(command, args, server, job_dir))
    overrides = check_overrides(args)
    body = check_config_file(config_text) if config_text else None
    (cfg,) = preflight(overrides, config_file=body)
    cfg = apply_policy(cfg, server)
    check_paths(cfg, server)
    if command == "ablate":
        check_ablation(cfg)
    sub = Submission(command, overrides, body)
    if plan:
        from pipeline.service.plan import plan_job

        sub.resolved, sub.plan = plan_job(cfg, command)
    return sub
