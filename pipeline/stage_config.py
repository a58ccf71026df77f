"""The config one stage receives, and exactly what its fingerprint hashes.

A :class:`StageConfig` holds named sections, each a config dataclass (``TrainConfig``) or a plain
JSON value (an int, a string, a dict). The registry fingerprints :meth:`StageConfig.to_dict` and
hands the same object to the stage, so a stage cannot read config that is not in its fingerprint:
asking for a section it was not given raises. Where a stage runs (the cluster, local workers, the
workdir, progress bars) is not config: it reaches the stage through :class:`~pipeline.registry.StageContext`.
A leaf module: it imports nothing from the project.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Iterator


def plain(value: Any) -> Any:
    """A section as JSON-able data: dataclasses as dicts, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class StageConfig:
    """Named config sections for one stage; read them as attributes (``cfg.train``) or items
    (``cfg["train"]``). Immutable: the sections are fixed when the stage is fingerprinted."""

    __slots__ = ("_sections",)

    def __init__(self, **sections: Any):
        object.__setattr__(self, "_sections", MappingProxyType(dict(sections)))

    def _missing(self, name: str) -> str:
        given = ", ".join(sorted(self._sections)) or "none"
        return (f"this stage was not given config section {name!r} (given: {given}); a stage reads only "
                f"the sections its fingerprint covers: add it where the chain builds the stage's config")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # dunder probes (copy, pickle) and the slot itself
            raise AttributeError(name)
        try:
            return self._sections[name]
        except KeyError:
            raise AttributeError(self._missing(name)) from None

    def __getitem__(self, name: str) -> Any:
        try:
            return self._sections[name]
        except KeyError:
            raise KeyError(self._missing(name)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"StageConfig is immutable (setting {name!r})")

    def __contains__(self, name: str) -> bool:
        return name in self._sections

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._sections))

    def __reduce__(self):
        return (_rebuild, (dict(self._sections),))

    def __repr__(self) -> str:
        return f"StageConfig({', '.join(sorted(self._sections))})"

    def to_dict(self) -> dict:
        """What the fingerprint hashes and the manifest records: every section as plain data."""
        return {name: plain(value) for name, value in sorted(self._sections.items())}


def _rebuild(sections: dict) -> StageConfig:
    return StageConfig(**sections)
