"""Task templates are Jinja, rendered by lm-evaluation-harness in an unsandboxed environment, so a
template from a submitted task file is checked first: it may read the document's fields, apply
text filters and call string methods, and nothing else (no private attributes, no globals' calls)."""

from __future__ import annotations

from jinja2 import Environment, TemplateSyntaxError, nodes

from pipeline.errors import InputError

FILTERS = {"regex_replace", "replace", "trim", "capitalize", "lower", "upper", "title", "int", "string", "join",
           "first", "last", "length", "default", "list", "truncate", "wordcount", "float", "abs", "round"}
METHODS = {"strip", "lstrip", "rstrip", "replace", "split", "rsplit", "lower", "upper", "capitalize", "title",
           "startswith", "endswith", "join", "index", "find", "count"}


def check_template(value, where: str) -> None:
    if isinstance(value, (int, float)) or value is None:
        return
    if isinstance(value, list):  # a literal choice list
        for v in value:
            check_template(v, where)
        return
    if not isinstance(value, str):
        raise InputError(f"{where}: a template must be a string")
    try:
        tree = Environment().parse(value)
    except TemplateSyntaxError as e:
        raise InputError(f"{where}: template syntax error: {e.message}") from None
    for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        raise InputError(f"{where}: {type(node).__name__.lower()} is not allowed in a task template")
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Call, nodes.Test)):
        problem = _problem(node)
        if problem:
            raise InputError(f"{where}: {problem} is not allowed in a task template")


def _problem(node) -> str | None:
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"attribute {node.attr!r}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and str(node.arg.value).startswith("_"):
        return f"item {node.arg.value!r}"
    if isinstance(node, nodes.Filter) and node.name == "map":
        return _map_problem(node)
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        return f"filter {node.name!r}"
    if isinstance(node, nodes.Test) and node.name not in {"defined", "none", "string", "number", "sameas", "eq",
                                                           "ne", "in"}:
        return f"test {node.name!r}"
    if isinstance(node, nodes.Call) and not (isinstance(node.node, nodes.Getattr) and node.node.attr in METHODS):
        return "a call (only string methods may be called)"
    return None


def _map_problem(node: nodes.Filter) -> str | None:
    """``map('<filter>', constants...)`` applies an allowed filter to each item (HellaSwag's endings);
    ``map(attribute=...)`` would read any attribute by name, so it is refused like ``attr``."""
    first = node.args[0] if node.args else None
    if node.kwargs or node.dyn_args or node.dyn_kwargs or not isinstance(first, nodes.Const):
        return "map other than map('<filter>', constant arguments...)"
    if first.value not in FILTERS:
        return f"filter {first.value!r}"
    if not all(isinstance(a, nodes.Const) for a in node.args[1:]):
        return "map other than map('<filter>', constant arguments...)"
    return None
