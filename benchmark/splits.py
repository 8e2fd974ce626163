"""Stratified train/val/test splits that cover every class, or say why they cannot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from benchmark.errors import DataError


@dataclass(frozen=True)
class Split:
    """Indices into an ImageSet. The three are disjoint; only train and val reach training."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def _stratified(indices: np.ndarray, labels: np.ndarray, fraction: float, seed: int, what: str,
                class_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(labels[indices], minlength=len(class_names))
    rare = [c for c in np.flatnonzero(counts) if counts[c] < 2]
    if rare:
        named = ", ".join(f"{class_names[c]!r} has {counts[c]} item" for c in rare)
        raise DataError(
            f"cannot split off a stratified {what} set: {named} (needs at least 2). "
            "Drop that class or give it more images."
        )
    try:
        rest, part = train_test_split(indices, test_size=fraction, stratify=labels[indices], random_state=seed)
    except ValueError as exc:  # e.g. fewer items in the part than classes
        raise DataError(f"cannot split off a stratified {what} set of {fraction:.0%} from {len(indices)} items: {exc}") from None
    return np.sort(rest), np.sort(part)


def make_split(
    labels: np.ndarray,
    class_names: list[str],
    val: float,
    test: float,
    seed: int,
    subset: np.ndarray | None = None,
) -> Split:
    """Split by class-stratified sampling, using a dataset's predefined splits where it has them.

    When ``subset`` marks items ``"test"`` (an official test split), those are the test set and
    ``test`` is ignored; items marked ``"val"`` likewise become the validation set.
    """
    labels = np.asarray(labels)
    everything = np.arange(len(labels))
    if subset is not None and np.any(subset == "test"):
        test_idx = everything[subset == "test"]
        pool = everything[subset != "test"]
    else:
        pool, test_idx = _stratified(everything, labels, test, seed, "test", class_names)
    if subset is not None and np.any(subset == "val"):
        val_idx = everything[subset == "val"]
        train_idx = np.setdiff1d(pool, val_idx)
    else:
        # ``val`` is a fraction of the whole data set, taken from what is left after test.
        train_idx, val_idx = _stratified(pool, labels, min(val / (1 - test), 0.99) if subset is None else val,
                                         seed, "val", class_names)
    split = Split(train_idx, val_idx, test_idx)
    check_coverage(split, labels, class_names)
    return split


def check_coverage(split: Split, labels: np.ndarray, class_names: list[str]) -> None:
    """Every class must appear in every split, or metrics and training are meaningless for it."""
    problems = []
    for part, idx in (("train", split.train), ("val", split.val), ("test", split.test)):
        missing = sorted(set(range(len(class_names))) - set(np.unique(labels[idx]).tolist()))
        if missing:
            problems.append(f"{part} lacks {', '.join(repr(class_names[c]) for c in missing)}")
    if problems:
        counts = np.bincount(labels, minlength=len(class_names))
        detail = ", ".join(f"{n}: {c}" for n, c in zip(class_names, counts))
        raise DataError(
            "every class must be present in train, val and test; " + "; ".join(problems) +
            f". Class counts: {detail}. Use more data per class or drop the rare classes."
        )
