"""`bench data inspect` and `bench data preview`: look at the data before training on it."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from benchmark.config import ExperimentConfig
from benchmark.images import Subset
from benchmark.registry import Registries

log = logging.getLogger(__name__)


def _image_sizes(images: Any, sample: np.ndarray) -> list[tuple[int, int, int]]:
    """(height, width, channels) of the sampled images; file-backed ones from their headers."""
    paths = getattr(images, "paths", None)
    if paths is not None:
        from PIL import Image

        sizes = []
        for i in sample:
            with Image.open(paths[i]) as image:
                w, h = image.size
                sizes.append((h, w, len(image.getbands())))
        return sizes
    return [(*np.asarray(images[i]).shape[:2], 1 if np.asarray(images[i]).ndim == 2 else np.asarray(images[i]).shape[2])
            for i in sample]


def inspect_data(config: ExperimentConfig, out: Path, registries: Registries, sample: int = 2000,
                 quiet: bool = False) -> Path:
    """Write ``out/report.md`` and plots: class balance per split, image sizes and channels,
    skipped files, and keypoints per image per class for the experiment's extractor."""
    from benchmark.extraction import default_workers, extract_all
    from benchmark.plots import _pyplot
    from benchmark.splits import make_split

    build = lambda kind, c, key: registries[kind].build(c.name, c.params, key)
    data = build("dataset", config.dataset, "dataset").load()
    classes, labels = data.class_names, data.labels
    split = make_split(labels, classes, config.split.val, config.split.test, config.split.seed, data.subset)
    rng = np.random.default_rng(0)
    chosen = np.sort(rng.choice(len(labels), min(sample, len(labels)), replace=False))

    counts = {part: np.bincount(labels[getattr(split, part)], minlength=len(classes)) for part in ("train", "val", "test")}
    balance_rows = [[name, *(int(counts[p][c]) for p in counts), int(sum(counts[p][c] for p in counts))]
                    for c, name in enumerate(classes)]
    ratios = {p: (c.max() / max(c.min(), 1)) for p, c in counts.items()}

    sizes = _image_sizes(data.images, chosen)
    heights, widths, channels = (np.array(v) for v in zip(*sizes))
    transforms = [build("transform", s, f"preprocess.{i}") for i, s in enumerate(config.preprocess)]
    extractor = build("extractor", config.extractor, "extractor")
    features = extract_all(Subset(data.images, chosen), transforms, extractor, quiet=quiet, workers=default_workers())
    kps = features.counts
    sample_labels = labels[chosen]
    kp_rows = [[name, int((sample_labels == c).sum()), f"{kps[sample_labels == c].mean():.1f}" if (sample_labels == c).any() else "",
                int(kps[sample_labels == c].min()) if (sample_labels == c).any() else "",
                f"{(kps[sample_labels == c] == 0).mean():.1%}" if (sample_labels == c).any() else ""]
               for c, name in enumerate(classes)]

    out.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(classes) + 3), 4))
    bottom = np.zeros(len(classes))
    for part, c in counts.items():
        ax.bar(range(len(classes)), c, bottom=bottom, label=part)
        bottom += c
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set(ylabel="images", title="class balance per split")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "class_balance.png", dpi=100)
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.hist(widths, bins=30, alpha=0.7, label="width")
    a1.hist(heights, bins=30, alpha=0.7, label="height")
    a1.set(xlabel="pixels", ylabel="images", title=f"image sizes ({len(chosen)} sampled)")
    a1.legend()
    channel_counts = Counter(channels.tolist())
    a2.bar([str(k) for k in channel_counts], list(channel_counts.values()))
    a2.set(xlabel="channels", ylabel="images", title="channels")
    fig.tight_layout()
    fig.savefig(out / "image_sizes.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(classes) + 3), 4))
    ax.boxplot([kps[sample_labels == c] for c in range(len(classes))])
    ax.set_xticks(range(1, len(classes) + 1), classes, rotation=45, ha="right")
    ax.set(ylabel="keypoints per image", title=f"{config.extractor.name}: keypoints per class (after preprocessing)")
    fig.tight_layout()
    fig.savefig(out / "keypoints_per_class.png", dpi=100)
    plt.close(fig)

    skipped = "\n".join(f"- `{i}`: {why}" for i, why in data.skipped) or "none"
    report = f"""# Data report: {config.dataset.name}

Experiment `{config.experiment}`; {len(labels)} usable images, {len(classes)} classes, {len(data.skipped)} skipped.

## Class balance

Imbalance ratio (largest / smallest class): {', '.join(f'{p} {r:.1f}' for p, r in ratios.items())}.
Every class is present in every split (checked).

{tabulate(balance_rows, headers=['class', 'train', 'val', 'test', 'total'], tablefmt='github')}

![class balance](class_balance.png)

## Images ({len(chosen)} sampled)

Height {heights.min()}–{heights.max()} px (median {int(np.median(heights))}), width {widths.min()}–{widths.max()} px
(median {int(np.median(widths))}); channels: {dict(sorted(channel_counts.items()))}.

![image sizes](image_sizes.png)

## Skipped files

{skipped}

## Keypoints: `{config.extractor.name}` after preprocessing ({len(chosen)} sampled)

{kps.mean():.1f} keypoints per image (min {kps.min()}, max {kps.max()}); {(kps == 0).mean():.1%} of images have none.

{tabulate(kp_rows, headers=['class', 'images', 'kps/img', 'min', 'empty'], tablefmt='github')}

![keypoints per class](keypoints_per_class.png)
"""
    (out / "report.md").write_text(report, encoding="utf-8")
    return out / "report.md"


def preview_augmentation(config: ExperimentConfig, out: Path, registries: Registries, count: int = 8,
                         seed: int = 0) -> Path:
    """A grid of ``count`` training images: preprocessed (top row) and augmented (bottom row)."""
    from benchmark.plots import _pyplot
    from benchmark.splits import make_split

    if not config.augment:
        from benchmark.errors import UsageError

        raise UsageError(f"experiment {config.experiment!r} has no `augment` list to preview")
    build = lambda kind, c, key: registries[kind].build(c.name, c.params, key)
    data = build("dataset", config.dataset, "dataset").load()
    split = make_split(data.labels, data.class_names, config.split.val, config.split.test, config.split.seed,
                       data.subset)
    transforms = [build("transform", s, f"preprocess.{i}") for i, s in enumerate(config.preprocess)]
    augment = [build("transform", s, f"augment.{i}") for i, s in enumerate(config.augment)]
    chosen = np.random.default_rng(seed).choice(split.train, min(count, len(split.train)), replace=False)
    plt = _pyplot()
    fig, axes = plt.subplots(2, len(chosen), figsize=(1.8 * len(chosen), 4), squeeze=False)
    for column, index in enumerate(chosen):
        rng = np.random.default_rng((config.seed, int(index)))
        image = data.images[int(index)]
        for step in transforms:
            image = step(image, rng)
        augmented = image
        for step in augment:
            augmented = step(augmented, rng)
        for row, shown in enumerate((image, augmented)):
            ax = axes[row][column]
            ax.imshow(shown if shown.ndim == 2 else shown[:, :, ::-1], cmap="gray", vmin=0, vmax=255)
            ax.set_axis_off()
        axes[0][column].set_title(data.class_names[data.labels[int(index)]], fontsize=8)
    fig.suptitle("preprocessed (top) and augmented (bottom): " + ", ".join(c.name for c in config.augment))
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "augmentation_preview.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
