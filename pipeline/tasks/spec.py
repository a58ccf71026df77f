"""Which task files a run names, checked before anything runs.

``evaluate.tasks.general`` and ``evaluate.tasks.domain`` map a task name to either a task YAML in
lm-evaluation-harness's format (the user's own task) or the data file of a task cpt ships
(``pipeline/assets/tasks/<name>.yaml``). A task file is data, never code: YAML tags such as
``!function``, ``include`` and unknown keys are refused, templates may not reach private attributes
or call anything but string methods, and the dataset must be local JSON lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.assets import PROJECT_ROOT, resolve_path
from pipeline.errors import InputError

SHIPPED_DIR = PROJECT_ROOT / "pipeline" / "assets" / "tasks"
SAMPLE_DATA = "sample"  # the value naming the embedded sample's own generated task data
ROLES = ("general", "domain")  # general: forgetting; domain: adaptation

ALLOWED_KEYS = {
    "task", "tag", "dataset_path", "dataset_name", "dataset_kwargs", "training_split", "validation_split",
    "test_split", "fewshot_split", "output_type", "doc_to_text", "doc_to_target", "doc_to_choice",
    "target_delimiter", "fewshot_delimiter", "num_fewshot", "metric_list", "should_decontaminate",
    "doc_to_decontamination_query", "description", "metadata",
}
TEMPLATE_KEYS = ("doc_to_text", "doc_to_target", "doc_to_choice", "doc_to_decontamination_query", "description")
OUTPUT_TYPES = ("multiple_choice", "loglikelihood")
METRICS = ("acc", "acc_norm", "acc_mutual_info", "perplexity", "bits_per_byte")
SPLITS = ("test_split", "validation_split", "training_split", "fewshot_split")
TASK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")  # also a file name: never a path


@dataclass(frozen=True)
class TaskSpec:
    """One task of a run: its name, role, the YAML that defines it and the local data files it reads."""

    name: str
    role: str
    yaml_path: Path
    config: dict  # the validated lm-eval task config, data paths absolute

    @property
    def data_files(self) -> list[Path]:
        files = self.config["dataset_kwargs"]["data_files"]
        return [Path(p) for p in (files.values() if isinstance(files, dict) else [files])]

    @property
    def split(self) -> str:
        return self.config.get("test_split") or self.config["validation_split"]

    @property
    def control_split(self) -> str | None:
        """A split of the same kind that is not scored (the task's training split, when its data is
        given): the contamination check's control."""
        split = self.config.get("training_split")
        return split if split and split in self.config["dataset_kwargs"]["data_files"] else None


def task_specs(tasks, sample_dir: Path | None = None) -> list[TaskSpec]:
    """Every task of ``evaluate.tasks`` (general first), validated; missing files are an InputError."""
    specs = []
    for role in ROLES:
        for name, value in (getattr(tasks, role) or {}).items():
            specs.append(task_spec(str(name), role, str(value), sample_dir))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise InputError(f"evaluate.tasks: a task is named twice: {sorted({n for n in names if names.count(n) > 1})}")
    return specs


def task_spec(name: str, role: str, value: str, sample_dir: Path | None = None) -> TaskSpec:
    where = f"evaluate.tasks.{role}.{name}"
    if not TASK_NAME.match(name) or ".." in name:
        raise InputError(f"evaluate.tasks.{role}: task name {name[:100]!r} is not a name (letters, digits, "
                         "'_', '.', '-'; it also names the task's shipped YAML, so never a path)")
    if value.endswith((".yaml", ".yml")):
        yaml_path, data = resolve_path(value), None
    else:
        yaml_path = SHIPPED_DIR / f"{name}.yaml"
        if not yaml_path.is_file():
            shipped = ", ".join(sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml")))
            raise InputError(f"{where}: {value} is a data file, but cpt ships no task named {name!r} "
                             f"(shipped: {shipped}); name a task YAML (*.yaml) instead")
        data = value
        if value == SAMPLE_DATA:
            if sample_dir is None:
                raise InputError(f"{where}: 'sample' names the embedded sample's tasks, but this run does not "
                                 "use the embedded sample")
            data = {"test": str(sample_dir / "tasks" / f"{name}.jsonl"),
                    "train": str(sample_dir / "tasks" / f"{name}.control.jsonl")}
    if not yaml_path.is_file():
        raise InputError(f"{where}: task file not found: {yaml_path}")
    config = load_task_yaml(yaml_path, where)
    config["task"] = name
    if isinstance(data, str):
        data = {config.get("test_split") or config.get("validation_split"): data}
    if data is not None:
        config["dataset_kwargs"] = {"data_files": data}
    config["dataset_kwargs"]["data_files"] = files = _absolute_data_files(config, yaml_path.parent, where)
    scored = config.get("test_split") or config.get("validation_split")
    if scored not in files:
        raise InputError(f"{where}: no data file for the scored split {scored!r} (data_files: {', '.join(files)})")
    for key in SPLITS:  # a split without data (e.g. the control split of a one-file task) is not declared
        if config.get(key) and config[key] not in files:
            del config[key]
    return TaskSpec(name, role, yaml_path, config)


def load_task_yaml(path: Path, where: str) -> dict:
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.constructor.ConstructorError as e:  # e.g. !function: a task file runs no code here
        raise InputError(f"{where}: {path}: {e.problem} (task files are data: no code, no custom tags)") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise InputError(f"{where}: cannot read {path}: {str(e).splitlines()[0]}") from None
    if not isinstance(config, dict):
        raise InputError(f"{where}: {path} is not a task config (a YAML mapping)")
    unknown = sorted(set(map(str, config)) - ALLOWED_KEYS)
    if unknown:
        raise InputError(f"{where}: {path}: keys not accepted in a task file: {', '.join(unknown)} "
                         f"(accepted: {', '.join(sorted(ALLOWED_KEYS))})")
    if config.get("dataset_path") != "json":
        raise InputError(f"{where}: {path}: dataset_path must be 'json' (local JSON lines), "
                         f"not {config.get('dataset_path')!r}")
    if config.get("output_type", "multiple_choice") not in OUTPUT_TYPES:
        raise InputError(f"{where}: {path}: output_type must be one of {', '.join(OUTPUT_TYPES)}")
    if not (config.get("test_split") or config.get("validation_split")):
        raise InputError(f"{where}: {path}: name the split to score (test_split or validation_split)")
    for m in config.get("metric_list") or []:
        if not isinstance(m, dict) or m.get("metric") not in METRICS or set(m) - {"metric", "aggregation",
                                                                                   "higher_is_better"}:
            raise InputError(f"{where}: {path}: metric_list entries must be {{metric: one of {', '.join(METRICS)}}}")
    for key in TEMPLATE_KEYS:
        if key in config:
            from pipeline.tasks.templates import check_template

            check_template(config[key], f"{where}: {path}: {key}")
    return config


def _absolute_data_files(config: dict, base: Path, where: str) -> dict:
    files = (config.get("dataset_kwargs") or {}).get("data_files")
    if isinstance(files, str):
        files = {config.get("test_split") or config["validation_split"]: files}
    if not isinstance(files, dict) or not files:
        raise InputError(f"{where}: dataset_kwargs.data_files must name the local data file of each split")
    out = {}
    for split, path in files.items():
        if not isinstance(path, str):
            raise InputError(f"{where}: data_files.{split} must be one path")
        p = Path(path).expanduser()
        p = p if p.is_absolute() else base / p
        if not p.is_file():
            raise InputError(f"{where}: data file not found: {p}")
        out[str(split)] = str(p)
    return out


def uses_sample(tasks) -> bool:
    return any(v == SAMPLE_DATA for role in ROLES for v in (getattr(tasks, role) or {}).values())


def task_files(tasks) -> list[str]:
    """The files that identify ``evaluate.tasks`` (each YAML and data file; a ``sample`` task's data is
    identified by the sample stage instead), validated now so a missing file fails before any stage runs."""
    files = []
    for role in ROLES:
        for name, value in (getattr(tasks, role) or {}).items():
            if value == SAMPLE_DATA:
                path = SHIPPED_DIR / f"{name}.yaml"
                if not path.is_file():
                    raise InputError(f"evaluate.tasks.{role}.{name}: 'sample' names a task the embedded sample "
                                     f"generates (sample_general, sample_domain), not {name!r}")
                load_task_yaml(path, f"evaluate.tasks.{role}.{name}")
                files.append(str(path))
            else:
                spec = task_spec(str(name), role, str(value))
                files += [str(spec.yaml_path), *map(str, spec.data_files)]
    return files


def stage_task_specs(tasks, inputs: dict) -> list[TaskSpec]:
    """In a stage: the specs of ``tasks`` (``evaluate.tasks``), ``sample`` data taken from the stage's
    ``sample`` input."""
    sample = inputs.get("sample")
    return task_specs(tasks, sample.path if sample is not None else None)
