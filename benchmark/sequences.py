"""From keypoints to model input: order, truncate, pad compactly; expand to float tokens per batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from benchmark.api import Ordering
from benchmark.extraction import FeatureSet

if TYPE_CHECKING:
    import torch

#: Geometry features appended to each token when ``tokens.geometry`` is on.
GEOMETRY_FEATURES = ("x", "y", "size", "sin_angle", "cos_angle", "response", "octave")
X, Y, SIZE, ANGLE, RESPONSE, OCTAVE = range(6)


@dataclass
class Sequences:
    """Padded keypoint sequences, kept compact until a batch is built.

    Binary descriptors stay packed (uint8, 8 bits a byte) and are unpacked to ±1 floats per
    batch, on the training device: 32 bytes per ORB keypoint in memory instead of 1 KiB.
    """

    descriptors: np.ndarray  # [n, max_len, d]: uint8 packed bits, or float32
    geometry: np.ndarray  # float32 [n, max_len, len(GEOMETRY_FEATURES)] or [n, max_len, 0]
    lengths: np.ndarray  # int64 [n]; 0 for an image without keypoints
    binary: bool

    def __len__(self) -> int:
        return len(self.lengths)

    def tokens(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Float tokens ``[len(rows), max_len, input_dim]`` and lengths, in numpy (for estimators
        that do not use torch); bits are ±1 as in training batches, padding is zero."""
        desc = self.descriptors[rows]
        if self.binary:
            desc = np.unpackbits(desc, axis=-1).astype(np.float32) * 2 - 1
        tokens = np.concatenate([desc, self.geometry[rows]], axis=-1)
        lengths = self.lengths[rows]
        tokens[np.arange(tokens.shape[1])[None, :] >= lengths[:, None]] = 0
        return tokens, lengths

    @property
    def descriptor_width(self) -> int:
        """Token columns that come from the descriptor (the rest is geometry)."""
        return self.descriptors.shape[2] * (8 if self.binary else 1)

    def extended(self, other: Sequences) -> Sequences:
        """These sequences followed by ``other``'s (extra training rows)."""
        return Sequences(np.concatenate([self.descriptors, other.descriptors]),
                         np.concatenate([self.geometry, other.geometry]),
                         np.concatenate([self.lengths, other.lengths]), self.binary)

    def replace_rows(self, rows: np.ndarray, other: Sequences) -> None:
        """Rows ``rows`` become ``other``'s rows, in order (augmented training sequences)."""
        self.descriptors[rows] = other.descriptors
        self.geometry[rows] = other.geometry
        self.lengths[rows] = other.lengths

    @property
    def input_dim(self) -> int:
        width = self.descriptors.shape[2] * (8 if self.binary else 1)
        return width + self.geometry.shape[2]


def geometry_features(geometry: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale-free geometry per keypoint: position in [-1, 1], size relative to the image,
    orientation as sin/cos (0, 0 when the detector gives none), response relative to the
    image's strongest, and pyramid octave / 8."""
    out = np.zeros((len(geometry), len(GEOMETRY_FEATURES)), dtype=np.float32)
    if len(geometry) == 0:
        return out
    out[:, 0] = geometry[:, X] / max(width, 1) * 2 - 1
    out[:, 1] = geometry[:, Y] / max(height, 1) * 2 - 1
    out[:, 2] = geometry[:, SIZE] / max(height, width, 1)
    oriented = geometry[:, ANGLE] >= 0
    radians = np.deg2rad(geometry[:, ANGLE])
    out[:, 3] = np.where(oriented, np.sin(radians), 0)
    out[:, 4] = np.where(oriented, np.cos(radians), 0)
    strongest = np.abs(geometry[:, RESPONSE]).max()
    out[:, 5] = geometry[:, RESPONSE] / strongest if strongest > 0 else 0
    out[:, 6] = geometry[:, OCTAVE] / 8
    return out


def normalise_float(descriptors: np.ndarray, method: str) -> np.ndarray:
    """Per-descriptor normalisation of real-valued descriptors.

    ``root``: RootSIFT (Arandjelović & Zisserman 2012), L1-normalise then square-root, with the
    sign kept so descriptors with negative values (KAZE, VGG) work too; the result has unit L2
    norm. ``l2``: unit L2 norm. ``none``: as extracted.
    """
    x = descriptors.astype(np.float32, copy=True)
    if method == "root":
        x /= np.maximum(np.abs(x).sum(axis=1, keepdims=True), 1e-12)
        return np.sign(x) * np.sqrt(np.abs(x))
    if method == "l2":
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def build_sequences(
    features: FeatureSet,
    ordering: Ordering,
    max_len: int,
    with_geometry: bool,
    rng: np.random.Generator,
    float_norm: str = "root",
) -> Sequences:
    """Order each image's keypoints, keep the first ``max_len``, and pad."""
    n = len(features)
    binary = features.descriptor_type == "binary"
    width = features.descriptors.shape[1]
    descriptors = np.zeros((n, max_len, width), dtype=np.uint8 if binary else np.float32)
    geometry = np.zeros((n, max_len, len(GEOMETRY_FEATURES) if with_geometry else 0), dtype=np.float32)
    lengths = np.zeros(n, dtype=np.int64)
    for i in range(n):
        geom, desc = features.image(i)
        if len(geom) == 0:
            continue
        if ordering.needs_shape:
            keep = ordering.order(geom, rng, shape=tuple(int(v) for v in features.image_shapes[i]))[:max_len]
        else:
            keep = ordering.order(geom, rng)[:max_len]
        k = len(keep)
        lengths[i] = k
        if binary:
            descriptors[i, :k] = desc[keep]
        else:
            descriptors[i, :k] = normalise_float(desc[keep], float_norm)
        if with_geometry:
            h, w = features.image_shapes[i]
            geometry[i, :k] = geometry_features(geom[keep], int(h), int(w))
    return Sequences(descriptors, geometry, lengths, binary)


class Batcher:
    """Float token batches for one part of the data (``items``: rows of ``sequences``).

    The sequence arrays are shared, not copied, between the train, val and test batchers;
    a batch is built with tensor indexing only, no per-sample Python.
    """

    def __init__(self, sequences: Sequences, labels: np.ndarray, device: torch.device,
                 items: np.ndarray | None = None):
        import torch

        self.device = device
        self.sequences = sequences
        self.binary = sequences.binary
        self.items = np.arange(len(sequences)) if items is None else np.asarray(items, dtype=np.int64)
        self.descriptors = torch.from_numpy(np.ascontiguousarray(sequences.descriptors))
        self.geometry = torch.from_numpy(np.ascontiguousarray(sequences.geometry))
        self.lengths = torch.from_numpy(sequences.lengths)
        self.labels = torch.from_numpy(np.asarray(labels, dtype=np.int64)[self.items])
        self._shifts = torch.arange(7, -1, -1, dtype=torch.uint8, device=device)

    def __len__(self) -> int:
        return len(self.items)

    def batch(self, index: np.ndarray, shuffle: torch.Generator | None = None
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Tokens ``[b, L, input_dim]`` trimmed to the batch's longest sequence, lengths, labels.

        ``index`` are positions within this part. An image without keypoints becomes one
        token of zero bits (all -1) and zero geometry, so every sequence has a length ≥ 1
        (packing needs it) and the model can still tell "nothing found".
        """
        import torch

        index = np.asarray(index, dtype=np.int64)
        rows = torch.from_numpy(self.items[index])
        lengths = self.lengths[rows].clamp(min=1)
        longest = int(lengths.max())
        desc = self.descriptors[rows, :longest].to(self.device, non_blocking=True)
        if self.binary:
            bits = (desc.unsqueeze(-1) >> self._shifts) & 1
            desc = bits.flatten(2).to(torch.float32) * 2 - 1
        geometry = self.geometry[rows, :longest].to(self.device, non_blocking=True)
        labels = self.labels[torch.from_numpy(index)]
        tokens = torch.cat([desc, geometry], dim=-1)
        if shuffle is not None:  # a fresh random order of each sequence's real tokens; padding stays last
            keys = torch.rand(tokens.shape[:2], generator=shuffle).to(self.device)
            keys[torch.arange(longest, device=self.device)[None, :] >= lengths[:, None].to(self.device)] = 2.0
            order = keys.argsort(dim=1)
            tokens = tokens.gather(1, order[..., None].expand_as(tokens))
        return tokens, lengths.to(self.device), labels.to(self.device)
