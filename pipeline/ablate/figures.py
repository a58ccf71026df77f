"""The comparison's figures (matplotlib, headless), each returned as PNG bytes for inlining."""

from __future__ import annotations

import io

from pipeline.ablate.summary import VariantSummary

COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974",
          "#64b5cd"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    _plt().close(fig)
    return buf.getvalue()


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def funnel(variants: list[VariantSummary]) -> bytes:
    """Documents left after each step, per variant, and the tokens each variant kept."""
    plt = _plt()
    steps = [r["step"] for r in variants[0].runs[0].funnel]
    fig, (ax, ax_tok) = plt.subplots(1, 2, figsize=(11, 0.45 * len(steps) + 1.8), width_ratios=[3, 1.3])
    height = 0.8 / len(variants)
    for i, v in enumerate(variants):
        kept = {r["step"]: r["kept"] for r in v.runs[0].funnel}
        ys = [len(steps) - 1 - j + (i - (len(variants) - 1) / 2) * height for j in range(len(steps))]
        ax.barh(ys, [kept.get(s, 0) for s in steps], height=height, color=color(i), label=v.label)
    ax.set_yticks(range(len(steps)), steps[::-1])
    ax.set_xlabel("documents kept after the step")
    ax.set_title("Filter funnel")
    ax.legend(fontsize=7, loc="lower right")
    ax_tok.bar(range(len(variants)), [v.tokens_kept for v in variants], color=[color(i) for i in range(len(variants))])
    ax_tok.set_xticks(range(len(variants)), [str(i + 1) for i in range(len(variants))])
    ax_tok.set_xlabel("variant (legend order)")
    ax_tok.set_title("Tokens kept")
    return _png(fig)


def lr_schedules(variants: list[VariantSummary]) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3))
    for i, v in enumerate(variants):
        curve = v.runs[0].lr_curve
        if curve:
            ax.plot(*zip(*curve), color=color(i), lw=2.5 - 1.5 * i / max(1, len(variants) - 1), label=v.label)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_title("LR schedule (re-warm, re-decay) per variant")
    ax.legend(fontsize=7)
    return _png(fig)


def _series(metrics: list[dict], domain: str | None) -> tuple[list, list]:
    if domain is None:
        pts = [(m["step"], m["loss"]) for m in metrics if "loss" in m]
    else:
        pts = [(m["step"], m["eval_loss"][domain]) for m in metrics if domain in (m.get("eval_loss") or {})]
    return ([p[0] for p in pts], [p[1] for p in pts]) if pts else ([], [])


def loss_curves(variants: list[VariantSummary]) -> bytes:
    """Training loss and the two validation losses per variant: each seed thin, their mean thick."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = [(None, "training loss"), ("new", "validation loss, new domain"), ("old", "validation loss, old domain")]
    for ax, (domain, title) in zip(axes, panels):
        for i, v in enumerate(variants):
            runs = [_series(r.metrics, domain) for r in v.runs]
            for xs, ys in runs:
                ax.plot(xs, ys, color=color(i), lw=0.6, alpha=0.5)
            if runs and all(xs == runs[0][0] for xs, _ in runs) and runs[0][0]:
                mean = [sum(ys[k] for _, ys in runs) / len(runs) for k in range(len(runs[0][0]))]
                ax.plot(runs[0][0], mean, color=color(i), lw=1.8, label=v.label, marker="o" if domain else None,
                        ms=3)
        ax.set_title(title)
        ax.set_xlabel("CPT step")
    axes[0].set_ylabel("loss (nats/token)")
    axes[0].legend(fontsize=7)
    return _png(fig)


def pareto(variants: list[VariantSummary], by: str = "loss") -> bytes:
    """Adaptation against forgetting (``by``: validation loss or downstream accuracy), one point per
    variant with its seed spread; up-left is better."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    points = [v.axes(by) for v in variants]  # (adaptation, forgetting)
    for i, (v, (a, f)) in enumerate(zip(variants, points)):
        ax.errorbar(f.mean, a.mean, xerr=f.std, yerr=a.std, fmt="o", color=color(i), capsize=4,
                    ms=7 if v.pareto else 5, label=v.label)
        ax.annotate(f" {i + 1}", (f.mean, a.mean), fontsize=8)
    front = sorted(((f.mean, a.mean) for v, (a, f) in zip(variants, points) if v.pareto))
    if len(front) > 1:
        ax.plot([x for x, _ in front], [y for _, y in front], "k--", lw=0.8, label="Pareto front")
    if by == "downstream":
        ax.set_xlabel("forgetting: general-task accuracy lost (lower is better)")
        ax.set_ylabel("adaptation: domain-task accuracy gained (higher is better)")
    else:
        ax.set_xlabel("forgetting: old-domain loss increase (lower is better)")
        ax.set_ylabel("adaptation: new-domain loss decrease (higher is better)")
    ax.set_title("Adaptation vs forgetting (mean ± std over seeds)")
    ax.legend(fontsize=7)
    return _png(fig)


def all_figures(variants: list[VariantSummary], pareto_by: str = "loss") -> dict[str, bytes]:
    return {"funnel": funnel(variants), "lr": lr_schedules(variants), "curves": loss_curves(variants),
            "pareto": pareto(variants, pareto_by)}
