"""The report's downstream sections: task scores before and after, the contamination check, and what
decontamination removed. Each returns ``(header, rows)`` or None when the run has nothing to show."""

from __future__ import annotations


def _f(value, fmt: str = ".3f") -> str:
    return "-" if value is None else format(value, fmt)


def downstream_table(ev: dict) -> tuple[list[str], list[list]] | None:
    down = ev.get("downstream")
    if not down:
        return None
    rows = []
    for name, t in down["tasks"].items():
        b, a, c = t["before"], t["after"], t["change"]
        stderr = a.get("acc_stderr")
        rows.append([name, t["role"], t["n"], _f(b.get("acc")), _f(a.get("acc")) + (f" ± {stderr:.3f}" if stderr else ""),
                     _f(c.get("acc"), "+.3f"), _f(b.get("acc_norm")), _f(a.get("acc_norm")),
                     _f(c.get("acc_norm"), "+.3f"), _f(b.get("gold_logprob"), ".2f"), _f(a.get("gold_logprob"), ".2f"),
                     _f(c.get("gold_logprob"), "+.2f"),
                     f"{_f(a.get('acc_clean'))} ({a['n_clean']})" if "n_clean" in a else "-"])
    return (["task", "role", "items", "acc before", "acc after", "change", "acc_norm before", "acc_norm after",
             "change", "gold log-prob before", "after", "change", "acc after, clean items (n)"], rows)


def downstream_sentence(ev: dict) -> str:
    down = ev.get("downstream") or {}
    parts = []
    if down.get("forgetting_acc") is not None:
        parts.append(f"downstream forgetting (general-task accuracy lost) {down['forgetting_acc']:+.3f}")
    if down.get("adaptation_acc") is not None:
        parts.append(f"downstream adaptation (domain-task accuracy gained) {down['adaptation_acc']:+.3f}")
    return ("; ".join(parts) + ".") if parts else ""


def contamination_table(ev: dict) -> tuple[list[str], list[list]] | None:
    cont = ev.get("contamination")
    if not cont:
        return None
    rows = []
    for name, summary in cont.items():
        for metric in ("min_k", "min_k_pp"):
            m = summary.get(metric) or {}
            rows.append([name, metric.replace("min_k_pp", "Min-K%++").replace("min_k", "Min-K%"),
                         _f(m.get("mean_before")), _f(m.get("mean_after")), _f(m.get("mean_change"), "+.3f"),
                         _f(m.get("auroc_before")), _f(m.get("auroc_after"))])
    return ["task", "score (k=20%)", "mean before", "mean after", "mean change", "AUROC vs control before",
            "AUROC after"], rows


def contamination_caveat(ev: dict) -> str:
    for summary in (ev.get("contamination") or {}).values():
        if summary.get("caveat"):
            return summary["caveat"]
    return ""


def decontamination_table(curate: dict) -> tuple[list[str], list[list]] | None:
    dec = curate.get("decontamination")
    if not dec:
        return None
    rows = [[name, removed, dec["items_hit_by_task"].get(name, 0)] for name, removed in dec["removed_by_task"].items()]
    rows.append(["all tasks", f"{dec['removed']} of {dec['documents_in']} ({dec['removed_fraction']:.3%})", "-"])
    return [f"task ({dec['n_grams']}-grams)", "documents removed", "eval items hit"], rows


def decontamination_note(curate: dict) -> str:
    dec = curate.get("decontamination") or {}
    if not dec:
        return ""
    return (f"{dec['warning']} " if dec.get("warning") else "") + (
        f"What matched, in context, per removed document: {dec['report']} in the curate stage's output.")
