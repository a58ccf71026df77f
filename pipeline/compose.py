"""Composing a config the way ``cpt`` does: Hydra's compose API over ``conf/``, the overrides, and
optionally a config file (an experiment YAML), validated into a :class:`~pipeline.config.CptConfig`.

The CLI and the service both compose through here, so a config the service accepts is one the CLI
runs, and a bad key is the same one-line error in both.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Iterator

import yaml

from pipeline.errors import ConfigError, CptError

HYDRA_LOCK = threading.RLock()
CONFIG_FILE_GROUP = "config_file"  # a --config FILE is this group's option, appended after conf/config.yaml
CONFIG_FILE_OPTION = "submitted"
MAX_CONFIG_FILE_BYTES = 256 * 1024
MAX_CONFIG_FILE_NODES = 20_000
MAX_CONFIG_FILE_DEPTH = 32


def conf_dir() -> str:
    from pipeline.assets import PROJECT_ROOT

    return str(PROJECT_ROOT / "conf")


# ---------------------------------------------------------------------------- config errors
def describe_config_error(exc: BaseException) -> str:
    """One line naming the offending key, from Hydra's and OmegaConf's multi-line errors."""
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException, ValidationError

    chain, e = [], exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, CptError):
            return str(e)
        if isinstance(e, OmegaConfBaseException) and getattr(e, "full_key", None):
            first = str(e).splitlines()[0].strip()
            if isinstance(e, (ConfigKeyError, ConfigAttributeError)):
                return f"unknown config key '{e.full_key}' (see `cpt <command> --cfg job` for the valid keys)"
            if isinstance(e, ValidationError):
                return f"invalid value for '{e.full_key}': {first}"
            return f"config error at '{e.full_key}': {first}"
    from hydra.errors import MissingConfigException

    for e in chain:
        if isinstance(e, MissingConfigException) and e.missing_cfg_file:
            group, _, option = str(e.missing_cfg_file).rpartition("/")
            available = ", ".join(e.options or []) or "none"
            return f"unknown option '{option}' for config group '{group}' (available: {available})"
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return "; ".join(lines) or type(exc).__name__


FLAGS_WITH_VALUE = ("--cfg", "-c", "--package", "-p", "--config-name", "-cn", "--config-dir", "-cd",
                    "--config-path", "-cp", "--experimental-rerun")


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    """(Hydra flags with their values, overrides). argparse wants the overrides together."""
    flags, overrides, i = [], [], 0
    while i < len(args):
        a = args[i]
        if a in FLAGS_WITH_VALUE and i + 1 < len(args):
            flags += [a, args[i + 1]]
            i += 2
            continue
        (flags if a.startswith("-") else overrides).append(a)
        i += 1
    return flags, overrides


MAX_PREFLIGHT_JOBS = 256  # sweep combinations checked before Hydra starts (the rest are checked as they run)


def user_overrides(args: list[str]) -> list[str]:
    """The config overrides among ``args`` (no flags, no ``hydra.*`` / ``hydra/...`` settings)."""
    _, overrides = split_args(args)
    return [o for o in overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]


@contextlib.contextmanager
def hydra_context() -> Iterator:
    """Hydra initialized on ``conf/`` for the compose API; yields its config loader."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from pipeline.config import register_configs

    with HYDRA_LOCK:  # Hydra's state is one global: one composition at a time (the service composes in threads)
        register_configs()
        try:
            with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
                yield GlobalHydra.instance().config_loader()
        finally:
            GlobalHydra.instance().clear()


def compose_config(overrides: list[str], config_file: dict | None = None):
    """The validated :class:`CptConfig` of ``overrides`` (Hydra's compose API: no job, no output folder)."""
    (cfg,) = preflight(overrides, config_file=config_file)
    cfg.workdir = os.path.abspath(cfg.workdir)
    return cfg


def compose_one(overrides: list[str], jobs: int = 1):
    """One validated :class:`CptConfig` (inside :func:`hydra_context`); a bad one: a one-line CptError."""
    from hydra import compose

    from pipeline.config import to_object

    try:
        return to_object(compose(config_name="config", overrides=overrides))
    except Exception as exc:
        msg = str(exc) if isinstance(exc, CptError) else describe_config_error(exc)
        if jobs > 1:
            msg += f" (sweep combination: {' '.join(overrides)})"
        raise CptError(msg) from exc


def sweep_combinations(overrides: list[str], config_loader) -> list[list[str]]:
    """Every job of a ``-m`` sweep (Hydra's override grammar and basic sweeper; ``glob()`` over a
    group's options needs the config loader), at most :data:`MAX_PREFLIGHT_JOBS` of them."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create(config_loader=config_loader).parse_overrides(overrides)
        batches = BasicSweeper.split_arguments(parsed, None)
    except Exception as exc:
        raise CptError(describe_config_error(exc)) from exc
    jobs = [job for batch in batches for job in batch]
    return jobs[:MAX_PREFLIGHT_JOBS]


def preflight(args: list[str], *, multirun: bool = False, config_file: dict | None = None) -> list:
    """Compose and validate the config (under ``-m``, every sweep combination) before Hydra starts a
    job, so a bad key fails in one line. ``config_file``: a parsed config file (see
    :func:`parse_config_file`), applied before the overrides. Returns the composed configs."""
    overrides = user_overrides(args)
    with hydra_context() as loader:
        if config_file is not None:
            overrides = [store_config_file(config_file), *overrides]
        try:
            jobs = sweep_combinations(overrides, loader) if multirun else [overrides]
            return [compose_one(job, len(jobs)) for job in jobs]
        finally:
            if config_file is not None:  # a server composes many users' files: none outlives its own check
                forget_config_file()


# ---------------------------------------------------------------------------- config files
def parse_config_file(text: str) -> dict[str, Any]:
    """A config file's YAML as a mapping: safe tags only, no anchors or aliases (an alias bomb expands
    exponentially), bounded in size, values and depth. Anything else is a one-line :class:`ConfigError`."""
    if len(text.encode("utf-8", "replace")) > MAX_CONFIG_FILE_BYTES:
        raise ConfigError(f"config file is larger than {MAX_CONFIG_FILE_BYTES // 1024} KiB")
    try:
        count, depth = 0, 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):  # events: nothing is expanded yet
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigError("config file: YAML anchors and aliases are not accepted")
            if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                count += 1
            depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
            if count > MAX_CONFIG_FILE_NODES or depth > MAX_CONFIG_FILE_DEPTH:
                raise ConfigError(f"config file has more than {MAX_CONFIG_FILE_NODES} values or is nested "
                                  f"deeper than {MAX_CONFIG_FILE_DEPTH}")
        body = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 (SafeLoader; aliases refused above)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if body is None:
        return {}
    if not isinstance(body, dict) or any(not isinstance(k, str) for k in body):
        raise ConfigError("config file must be a YAML mapping of config keys (e.g. `train: {train_iters: 100}`)")
    return body


def store_config_file(body: dict[str, Any]) -> str:
    """Register a parsed config file with Hydra (at the root, after conf/config.yaml, before the command
    line's overrides) and return the override that selects it."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group=CONFIG_FILE_GROUP, name=CONFIG_FILE_OPTION, node=body, package="_global_")
    return f"+{CONFIG_FILE_GROUP}={CONFIG_FILE_OPTION}"


def forget_config_file() -> None:
    """Drop the config file :func:`store_config_file` registered."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().repo.get(CONFIG_FILE_GROUP, {}).pop(f"{CONFIG_FILE_OPTION}.yaml", None)


def read_config_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_CONFIG_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text") from exc
    return parse_config_file(text)
