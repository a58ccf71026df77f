"""What a stage's code is: the project modules its entry module imports, transitively, and the
versions of the third-party distributions those modules import.

Imports are read with :mod:`ast` from every ``import`` and ``from ... import`` statement anywhere in
a file (inside functions too, so lazy imports count), relative imports resolved, and only modules
under the project package followed. Imports under ``if TYPE_CHECKING:`` never run, so they are not
followed: a stage names a config class in its annotations without taking the config schema's code
into its closure (the values it reads are in its fingerprint as data). Importing a submodule runs its packages' ``__init__.py``, so
those are part of the closure too. A leaf module: it imports nothing from the project.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent  # the installed ``pipeline`` package


@dataclass(frozen=True)
class CodeVersion:
    digest: str  # hash of every module file's path and contents
    modules: tuple[str, ...]  # the module files, relative to the package root's parent ("pipeline/x.py")
    distributions: dict[str, str] = field(default_factory=dict)  # third-party distribution -> version
    module_digests: dict[str, str] = field(default_factory=dict)  # module file -> sha256 of it (``cpt runs --why``)


def module_file(name: str, root: Path = PACKAGE_DIR) -> Path | None:
    """The file of module ``name`` (``pipeline.a.b``) under the package directory ``root``, if any."""
    parts = name.split(".")
    if parts[0] != root.name:
        return None
    base = root.joinpath(*parts[1:])
    for f in (base / "__init__.py", base.with_suffix(".py")):
        if f.is_file():
            return f
    return None


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _resolve_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".")
    base = ".".join(parts[:len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


@lru_cache(maxsize=None)
def imported_names(source: bytes, module: str, is_package: bool) -> tuple[str, ...]:
    """Every absolute module name a source file may import (``from a import b``: ``a`` and ``a.b``)."""
    names: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if _is_type_checking_block(node):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(node, module, is_package)
            names += [base] + [f"{base}.{a.name}" for a in node.names if a.name != "*"]
    return tuple(n for n in names if n and n != "__future__")


def _is_type_checking_block(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:`` (its ``else`` runs, so it stays)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def closure(entry: str, root: Path = PACKAGE_DIR) -> tuple[list[Path], set[str]]:
    """(the project module files ``entry`` imports transitively, itself included; the top-level names
    of the third-party modules they import). ``entry`` outside the package (a test's module) is read
    from its own file and only its project imports are followed."""
    start = module_file(entry, root)
    if start is None:
        start = Path(sys.modules[entry].__file__).resolve()
    seen: dict[Path, None] = {}
    third_party: set[str] = set()
    todo = [(start, entry)] + [(f, n) for n in _prefixes(entry)[:-1] if (f := module_file(n, root))]
    while todo:
        f, name = todo.pop()
        if f in seen:
            continue
        seen[f] = None
        for imported in imported_names(f.read_bytes(), name, f.name == "__init__.py"):
            top = imported.partition(".")[0]
            if top != root.name:
                if top not in sys.stdlib_module_names:
                    third_party.add(top)
                continue
            todo += [(g, n) for n in _prefixes(imported) if (g := module_file(n, root)) and g not in seen]
    return sorted(seen), third_party


@lru_cache(maxsize=None)
def _distributions_of() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_versions(top_level_names: set[str]) -> dict[str, str]:
    """Installed version of each distribution providing one of these top-level modules ("absent" if
    none is installed: an optional import)."""
    out = {}
    for top in sorted(top_level_names):
        for dist in _distributions_of().get(top, [top]):
            try:
                out[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                out[dist] = "absent"
    return out


def code_version(entry: str, root: Path = PACKAGE_DIR) -> CodeVersion:
    """The :class:`CodeVersion` of the stage whose entry module is ``entry`` (``pipeline.dedup.stage``)."""
    files, third_party = closure(entry, root)
    h = hashlib.sha256()
    digests = {}
    for f in files:
        name = str(f.relative_to(root.parent)) if f.is_relative_to(root.parent) else f.name
        data = f.read_bytes()
        digests[name] = hashlib.sha256(data).hexdigest()[:12]
        h.update(name.encode() + b"\0" + data + b"\0")
    return CodeVersion(h.hexdigest()[:12], tuple(digests), distribution_versions(third_party), digests)


def declared_output_version(entry: str, function: str, root: Path = PACKAGE_DIR) -> int | None:
    """The ``N`` of ``@output_version(N)`` on ``function`` in module ``entry``, read from its source under
    ``root`` (as the closure is), or None when it declares none."""
    f = module_file(entry, root)
    if f is None:
        return None
    for node in ast.parse(f.read_bytes()).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for d in node.decorator_list:
                if (isinstance(d, ast.Call) and getattr(d.func, "id", getattr(d.func, "attr", None)) == "output_version"
                        and d.args and isinstance(d.args[0], ast.Constant)):
                    return int(d.args[0].value)
    return None
