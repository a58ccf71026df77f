"""Plots for the report (matplotlib, headless). Each returns True if it wrote a figure."""

from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def funnel(rows: list[dict], path: Path) -> bool:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1))
    names = [r["step"] for r in rows][::-1]
    kept = [r["kept"] for r in rows][::-1]
    removed = [r["removed"] for r in rows][::-1]
    ax.barh(names, kept, color="#4c72b0", label="kept")
    ax.barh(names, removed, left=kept, color="#dd8452", label="removed")
    for y, (k, r) in enumerate(zip(kept, removed)):
        ax.text(k + r, y, f" {k}", va="center", fontsize=8)
    ax.set_xlabel("documents")
    ax.set_title("Filter funnel")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def before_after(loss: dict, path: Path) -> bool:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    domains = ["old", "new"]
    labels = ["old domain\n(forgetting)", "new domain\n(adaptation)"]
    x = range(len(domains))
    ax.bar([i - 0.2 for i in x], [loss["before"][d] for d in domains], width=0.4, label="before (base)")
    ax.bar([i + 0.2 for i in x], [loss["after"][d] for d in domains], width=0.4, label="after (CPT)")
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("validation loss (nats/token)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _eval_series(metrics: list[dict]) -> dict[str, tuple[list, list]]:
    series: dict[str, tuple[list, list]] = {}
    for m in metrics:
        for key, value in (m.get("eval_loss") or {}).items():
            xs, ys = series.setdefault(key, ([], []))
            xs.append(m["step"])
            ys.append(value)
    return series


def training_curves(pretrain: list[dict], train: list[dict], before: dict, path: Path) -> bool:
    """Train loss of the base pretraining and of CPT on one step axis, with CPT's per-domain
    validation losses starting from the base model's (``before``)."""
    if not train:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    offset = 0
    if pretrain:
        steps = [m["step"] for m in pretrain if "loss" in m]
        ax.plot(steps, [m["loss"] for m in pretrain if "loss" in m], color="#999999", label="pretrain (base) train loss")
        offset = max([m["step"] for m in pretrain] or [0])
    steps = [offset + m["step"] for m in train if "loss" in m]
    ax.plot(steps, [m["loss"] for m in train if "loss" in m], color="#4c72b0", label="CPT train loss")
    for name, (xs, ys) in sorted(_eval_series(train).items()):
        ax.plot([offset] + [offset + x for x in xs], [before[name]] + ys, marker="o", label=f"valid loss: {name} domain")
    if offset:
        ax.axvline(offset, color="k", lw=0.8, ls="--")
    ax.set_xlabel("step (pretrain, then continued pretraining)")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def lr_schedule(curve: list[tuple[int, float]], train: list[dict], path: Path) -> bool:
    """The configured schedule at every update, with the LR the run logged on top."""
    points = [(m["step"], m["lr"]) for m in train if "lr" in m]
    if not points and not curve:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3))
    if curve:
        ax.plot(*zip(*curve), label="schedule")
    if points:
        ax.plot(*zip(*points), "o", ms=3, label="logged")
    ax.legend(fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_title("Re-warm and re-decay")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
