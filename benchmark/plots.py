"""Per-run figures: learning curves and the confusion matrix (matplotlib, no display needed)."""

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


def plot_comparison(groups: list, path: Path, metrics: tuple[str, ...] = ("accuracy", "macro_f1")) -> None:
    """One bar per configuration and metric: the mean over seeds, with the std as error bar."""
    plt = _pyplot()
    labels = [g.config_id.rsplit("-", 1)[0] for g in groups]
    x = np.arange(len(groups))
    width = 0.8 / len(metrics)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(groups) + 2), 4.5))
    for i, metric in enumerate(metrics):
        means = [g.mean(metric) or 0 for g in groups]
        stds = [g.std(metric) or 0 for g in groups]
        ax.bar(x + (i - (len(metrics) - 1) / 2) * width, means, width, yerr=stds, capsize=3, label=metric)
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel="test score (mean ± std over seeds)", ylim=(0, 1), title=f"{len(groups)} configurations")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_learning_curves(groups: list, path: Path) -> None:
    """Validation accuracy per epoch of every run, one colour per configuration."""
    import csv

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = plt.get_cmap("tab20")
    for i, group in enumerate(groups):
        for j, run in enumerate(group.runs):
            history = Path(run.get("run_dir", "")) / "history.csv"
            if not history.is_file():
                continue
            with history.open(newline="") as f:
                rows = list(csv.DictReader(f))
            ax.plot([int(r["epoch"]) for r in rows], [float(r["val_accuracy"]) for r in rows], color=colours(i % 20),
                    alpha=0.8, linewidth=1.2, label=group.config_id.rsplit("-", 1)[0] if j == 0 else None)
    ax.set(xlabel="epoch", ylabel="validation accuracy", title="learning curves")
    ax.grid(alpha=0.3)
    if groups:
        ax.legend(fontsize=7, ncol=2 if len(groups) > 8 else 1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
