"""Figures (matplotlib, no display needed): per run, learning curves and the confusion matrix;
per experiment, the comparison of configurations and their learning curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: list[dict[str, float]], path: Path, title: str) -> None:
    """Loss and accuracy per epoch, train vs val."""
    plt = _pyplot()
    history = [{k: row.get(k, float("nan")) for k in ("epoch", "train_loss", "val_loss", "train_accuracy",
                                                       "val_accuracy")} for row in history]
    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [r["train_loss"] for r in history], marker="o", label="train")
    ax_loss.plot(epochs, [r["val_loss"] for r in history], marker="o", label="val")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.plot(epochs, [r["train_accuracy"] for r in history], marker="o", label="train")
    ax_acc.plot(epochs, [r["val_accuracy"] for r in history], marker="o", label="val")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(matrix: list[list[int]], class_names: list[str], path: Path, title: str) -> None:
    """Row-normalised confusion matrix (recall on the diagonal), with counts."""
    plt = _pyplot()
    counts = np.asarray(matrix)
    rates = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    size = max(5.0, 0.6 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if rates[i, j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _label(group) -> str:
    return group.config_id.rsplit("-", 1)[0]


def plot_comparison(groups: list, path: Path, metrics: tuple[str, ...] = ("accuracy", "macro_f1")) -> None:
    """One row per configuration (best first): each seed's score as a dot, the mean with ± std.

    A dot plot rather than bars: bars must start at zero, which hides the few points that
    separate configurations; dots can zoom in honestly, and show every seed.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.38 * len(groups) + 1.4)))
    y = np.arange(len(groups))[::-1]  # best (first) at the top
    offsets = np.linspace(-0.15, 0.15, len(metrics)) if len(metrics) > 1 else [0.0]
    colours = plt.get_cmap("tab10")
    for i, metric in enumerate(metrics):
        for row, group in zip(y, groups):
            seeds = [r[metric] for r in group.runs if isinstance(r.get(metric), (int, float))]
            ax.scatter(seeds, [row + offsets[i]] * len(seeds), s=12, color=colours(i), alpha=0.45, linewidths=0)
        means = [group.mean(metric) for group in groups]
        stds = [group.std(metric) or 0.0 for group in groups]
        shown = [j for j, m in enumerate(means) if m is not None]
        ax.errorbar([means[j] for j in shown], [y[j] + offsets[i] for j in shown], xerr=[stds[j] for j in shown],
                    fmt="o", markersize=5, capsize=3, color=colours(i), label=f"{metric} (mean ± std)")
    ax.set_yticks(y, [f"{_label(g)}  (n={len(g.runs)})" for g in groups], fontsize=8)
    ax.set(xlabel="test score over seeds (small dots: single seeds)", title=f"{len(groups)} configurations")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_learning_curves(groups: list, path: Path) -> None:
    """Validation accuracy per epoch, one line per configuration: the mean over its seeds, with
    the range of the seeds shaded (a seed that stopped early leaves the later epochs to the rest)."""
    import csv

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 5.5))
    colours = plt.get_cmap("tab20")
    styles = ("-", "--", ":", "-.")
    for i, group in enumerate(groups):
        curves: dict[int, list[float]] = {}
        for run in group.runs:
            history = Path(run.get("run_dir", "")) / "history.csv"
            if not history.is_file():
                continue
            with history.open(newline="") as f:
                for row in csv.DictReader(f):
                    curves.setdefault(int(row["epoch"]), []).append(float(row["val_accuracy"]))
        if not curves:
            continue
        epochs = sorted(curves)
        mean = [float(np.mean(curves[e])) for e in epochs]
        colour = colours((2 * i) % 20 + (i // 10) % 2)  # the dark shades first, then the light ones
        ax.plot(epochs, mean, color=colour, linestyle=styles[(i // 20) % len(styles)], linewidth=1.5,
                label=f"{_label(group)} (n={len(group.runs)})")
        if len(group.runs) > 1:
            ax.fill_between(epochs, [min(curves[e]) for e in epochs], [max(curves[e]) for e in epochs],
                            color=colour, alpha=0.12, linewidth=0)
    ax.set(xlabel="epoch", ylabel="validation accuracy", title="learning curves (mean over seeds, range shaded)")
    ax.grid(alpha=0.3)
    if groups:
        ax.legend(fontsize=7, ncol=2 if len(groups) > 8 else 1, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
