"""``cpt runs --why STAGE [overrides]``: why a stage would not be a cache hit, against the nearest
earlier run of it in the workdir: which config keys changed (old -> new), which inputs, which code
(the declared output version, or the modules whose bytes differ) and which library versions."""

from __future__ import annotations

import json

from pipeline.config import CptConfig
from pipeline.errors import ConfigError
from pipeline.registry import MANIFEST

PARTS = ("config", "inputs", "code", "libraries")


def flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def changed(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """``(key, old, new)`` for every key whose value differs (``<absent>`` where one side lacks it)."""
    return [(k, old.get(k, "<absent>"), new.get(k, "<absent>")) for k in sorted(set(old) | set(new))
            if old.get(k, "<absent>") != new.get(k, "<absent>")]


def differences(earlier: dict, planned: dict) -> dict[str, list[tuple[str, object, object]]]:
    """Per part of the fingerprint, what differs between an earlier run's manifest and the plan."""
    code_old, code_new = earlier.get("code_key", earlier.get("code_version")), planned["code_key"]
    code = []
    if code_old != code_new:
        code.append(("code_key", code_old, code_new))
        code += changed(earlier.get("code_module_digests", {}), planned["code_module_digests"])
    return {"config": changed(flatten(earlier.get("config", {})), flatten(planned["config"])),
            "inputs": changed(earlier.get("inputs", {}), planned["inputs"]),
            "code": code,
            "libraries": changed(earlier.get("library_versions", {}), planned["library_versions"])}


def explain(cfg: CptConfig, stage: str) -> str:
    from pipeline.chain import STAGES, Chain

    if stage not in STAGES:
        raise ConfigError(f"cpt runs --why: unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    chain = Chain(cfg, plan_only=True)
    art = getattr(chain, stage)()
    if not art.manifest.get("planned"):
        return f"{stage} {art.fingerprint}: cache hit (completed {art.manifest.get('finished_at', '?')}); nothing reruns"
    planned = art.manifest
    earlier = []
    for path in chain.registry.workdir.glob(f"{stage}/*/{MANIFEST}"):
        try:
            m = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if m.get("status") == "completed":
            earlier.append(m)
    if not earlier:
        return f"{stage} {art.fingerprint}: would run; no earlier completed {stage} run under {cfg.workdir}"
    newest_first = sorted(earlier, key=lambda m: m.get("finished_at", ""), reverse=True)
    nearest = min(newest_first, key=lambda m: sum(map(len, differences(m, planned).values())))  # min is stable
    diff = differences(nearest, planned)
    lines = [f"{stage} {art.fingerprint}: would run; the nearest earlier run is {nearest.get('fingerprint')} "
             f"(finished {nearest.get('finished_at', '?')}). What differs:"]
    for part in PARTS:
        for key, old, new in diff[part]:
            lines.append(f"  {part:<9} {key}: {_short(old)} -> {_short(new)}")
    if not any(diff.values()):
        lines.append("  nothing recorded differs (the earlier run predates these fields)")
    return "\n".join(lines)


def _short(value) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."
