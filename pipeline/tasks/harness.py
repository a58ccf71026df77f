"""lm-evaluation-harness, offline: tasks built from validated :class:`TaskSpec` configs only (no task
registry is scanned, the hub and ``datasets`` never reach the network), and each task's items as text."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.tasks.spec import TaskSpec

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1", "HF_DATASETS_TRUST_REMOTE_CODE": "0"}


@dataclass(frozen=True)
class TaskItem:
    """One evaluation item as text: what decontamination looks for and Min-K% scores."""

    task: str
    index: int  # the item's position in its split (lm-eval's doc_id)
    query: str  # the decontamination query (the question)
    gold: str  # the gold answer's text
    choices: tuple[str, ...]
    gold_index: int


def go_offline(cache_dir: Path | None = None) -> None:
    """Force the hub and ``datasets`` offline, also when they were imported already; local JSON
    datasets are cached under ``cache_dir`` (default: a temporary folder), never in the user's home."""
    os.environ.update(OFFLINE_ENV)
    cache = str(cache_dir or Path(tempfile.gettempdir()) / "cpt-datasets-cache")
    os.environ["HF_DATASETS_CACHE"] = cache
    import datasets.config
    import huggingface_hub.constants

    datasets.config.HF_DATASETS_OFFLINE = True
    datasets.config.HF_DATASETS_CACHE = Path(cache)
    huggingface_hub.constants.HF_HUB_OFFLINE = True


def load_tasks(specs: list[TaskSpec], cache_dir: Path | None = None) -> dict:
    """``{name: lm_eval Task}`` for ``specs``, built from their configs alone."""
    go_offline(cache_dir)
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_defaults=False)
    out = {}
    for spec in specs:
        try:
            loaded = manager.load(dict(spec.config))
        except Exception as e:  # a task that does not build is the user's file: name it
            raise InputError(f"evaluate.tasks.{spec.role}.{spec.name}: lm-eval could not build the task from "
                             f"{spec.yaml_path}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from e
        out[spec.name] = loaded["tasks"][spec.name]
    return out


def task_items(name: str, task, limit: int | None = None, control: bool = False) -> list[TaskItem]:
    """The items of a built multiple-choice task, in its split's order (the first ``limit``);
    ``control``: those of its training split (the contamination check's control) instead."""
    docs = list(task.training_docs() if control else task.eval_docs)
    if limit is not None:
        docs = docs[:limit]
    items = []
    for i, doc in enumerate(docs):
        try:
            items.append(_item(name, task, i, doc))
        except Exception as e:  # lm-eval checks only a task's first row: any other may be malformed
            split = "training" if control else "scored"
            raise InputError(f"task {name}: row {i} of its {split} split is not a valid item "
                             f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}); "
                             "fix or drop that row") from None
    return items


def _item(name: str, task, index: int, doc: dict) -> TaskItem:
    choices = task.doc_to_choice(doc)
    target = task.doc_to_target(doc)
    text = task.doc_to_text(doc)
    if not isinstance(choices, (list, tuple)) or not choices:
        raise ValueError(f"its choices are {str(choices)[:80]!r}, not a list")
    if isinstance(text, int):  # partial scoring (WinoGrande): the choices are contexts, the target the rest
        gold_index, gold = text, f"{choices[text]} {target}"
    else:
        gold_index = target if isinstance(target, int) else choices.index(target)
    if isinstance(gold_index, bool) or not 0 <= gold_index < len(choices):
        raise ValueError(f"its answer index {gold_index!r} is not one of its {len(choices)} choices")
    if not isinstance(text, int):
        gold = choices[gold_index]
    return TaskItem(name, index, _query(task, doc, text), str(gold), tuple(map(str, choices)), int(gold_index))


def _query(task, doc: dict, text) -> str:
    """The decontamination query: ``doc_to_decontamination_query`` (a field or a template; lm-eval
    itself would parse a rendered template as a Python literal), else the prompt."""
    from lm_eval.utils import apply_template

    template = task.config.doc_to_decontamination_query
    if template:
        return str(doc[template]) if template in doc else apply_template(template, doc)
    return "" if isinstance(text, int) else str(text)
