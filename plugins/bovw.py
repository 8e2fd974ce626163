"""Bag of visual words: the classic non-sequence baseline, with scikit-learn (no torch)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import Estimator, Params


class BagOfVisualWords(Estimator):
    """k-means visual vocabulary over descriptors, Hellinger-normalised word histograms, and a
    logistic-regression classifier: order is ignored entirely."""

    name = "bovw"

    class Params(Params):
        words: int = Field(256, ge=2, description="vocabulary size (k-means clusters)")
        sample: int = Field(100_000, ge=1000, description="descriptors sampled to learn the vocabulary")
        c: float = Field(10.0, gt=0, description="inverse regularisation of the classifier")

    def _descriptors(self, sequences: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Real (non-padding) descriptor vectors of ``rows`` and the row each belongs to."""
        tokens, lengths = sequences.tokens(rows)
        real = np.arange(tokens.shape[1])[None, :] < lengths[:, None]
        owner = np.broadcast_to(np.arange(len(rows))[:, None], real.shape)[real]
        return tokens[real][:, : sequences.descriptor_width], owner

    def _histograms(self, sequences: Any, rows: np.ndarray, chunk: int = 4096) -> np.ndarray:
        out = np.zeros((len(rows), self.params.words), np.float32)
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            vectors, owner = self._descriptors(sequences, part)
            if len(vectors):
                np.add.at(out, (start + owner, self._kmeans.predict(vectors)), 1.0)
        out /= np.maximum(out.sum(axis=1, keepdims=True), 1.0)
        return np.sqrt(out)  # Hellinger: square root of the L1-normalised histogram

    def fit(self, sequences: Any, train_rows: np.ndarray, train_labels: np.ndarray, val_rows: np.ndarray,
            val_labels: np.ndarray, seed: int) -> list[dict[str, float]]:
        from sklearn.cluster import MiniBatchKMeans
        from sklearn.linear_model import LogisticRegression

        rng = np.random.default_rng(seed)
        vectors, _ = self._descriptors(sequences, train_rows)
        sample = vectors[rng.choice(len(vectors), min(self.params.sample, len(vectors)), replace=False)]
        self._kmeans = MiniBatchKMeans(self.params.words, random_state=seed, batch_size=4096, n_init=3).fit(sample)
        train_x = self._histograms(sequences, train_rows)
        self._classifier = LogisticRegression(C=self.params.c, max_iter=2000).fit(train_x, train_labels)
        train_acc = float((self._classifier.predict(train_x) == train_labels).mean())
        val_acc = float((self.predict(sequences, val_rows) == val_labels).mean())
        return [{"epoch": 1, "train_accuracy": train_acc, "val_accuracy": val_acc}]

    def predict(self, sequences: Any, rows: np.ndarray) -> np.ndarray:
        return self._classifier.predict(self._histograms(sequences, rows))


@hookimpl
def bench_register_models() -> list[type[Estimator]]:
    return [BagOfVisualWords]
