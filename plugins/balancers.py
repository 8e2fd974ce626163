"""Built-in class-balancing strategies: none, class-weights, oversample, undersample."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import Balancer, Params


class NoBalancing(Balancer):
    """Train on the data as it is."""

    name = "none"


class ClassWeights(Balancer):
    """Weight the loss by inverse class frequency (weights average to 1 over samples)."""

    name = "class-weights"

    def loss_weights(self, labels: np.ndarray, num_classes: int) -> np.ndarray:
        counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
        present = counts > 0
        weights = np.zeros(num_classes)
        weights[present] = len(labels) / (present.sum() * counts[present])
        return weights.astype(np.float32)


class Oversample(Balancer):
    """Each epoch draws as many samples as the training set, with replacement, classes equally likely."""

    name = "oversample"

    def epoch_indices(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        counts = np.bincount(labels)
        p = 1.0 / counts[labels]
        return rng.choice(len(labels), size=len(labels), replace=True, p=p / p.sum())


class Undersample(Balancer):
    """Each epoch takes a fresh random subset of every class, as large as the rarest class."""

    name = "undersample"

    def epoch_indices(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        counts = np.bincount(labels)
        smallest = counts[counts > 0].min()
        picked = [rng.choice(np.flatnonzero(labels == c), smallest, replace=False) for c in np.flatnonzero(counts)]
        return rng.permutation(np.concatenate(picked))


class Augment(Balancer):
    """Add augmented copies of minority-class images until every class reaches the target
    (the largest class, or ``target`` images): new training images instead of repeats."""

    name = "augment"

    class Params(Params):
        target: int | None = Field(None, ge=1, description="images per class; default: the largest class")

    def augmented_copies(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        counts = np.bincount(labels)
        target = self.params.target or int(counts.max())
        copies = []
        for c in np.flatnonzero(counts):
            missing = target - counts[c]
            if missing > 0:  # cycle through the class's images in a random order
                members = rng.permutation(np.flatnonzero(labels == c))
                copies.append(np.resize(members, missing))
        return np.sort(np.concatenate(copies)) if copies else np.zeros(0, np.int64)


@hookimpl
def bench_register_balancers() -> list[type[Balancer]]:
    return [NoBalancing, ClassWeights, Oversample, Undersample, Augment]
