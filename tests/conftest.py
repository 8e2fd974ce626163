"""Shared fixtures: generated images, a tiny experiment file, and a clean plugin environment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from benchmark.registry import Registries


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Built-in plugins only, whatever else is installed; a private feature store per test."""
    monkeypatch.setenv("BENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("BENCH_BLOCK_PLUGINS", raising=False)
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def registries() -> Registries:
    import os

    os.environ.setdefault("BENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    return Registries()


def textured_image(seed: int = 0, size: int = 96, channels: int = 1) -> np.ndarray:
    """A uint8 image with shapes and corners, so every detector finds something."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.full((size, size), 40, np.uint8)
    for _ in range(8):
        x, y = rng.integers(5, size - 25, 2)
        w, h = rng.integers(8, 20, 2)
        cv2.rectangle(image, (int(x), int(y)), (int(x + w), int(y + h)), int(rng.integers(120, 255)), -1)
    cv2.circle(image, (size // 2, size // 2), size // 6, 200, 2)
    image = cv2.GaussianBlur(image, (3, 3), 0)
    return np.dstack([image] * channels) if channels > 1 else image


@pytest.fixture
def image() -> np.ndarray:
    return textured_image()


def write_experiment(folder: Path, **overrides: object) -> Path:
    """A tiny, fast experiment on 400 bundled images; ``overrides`` replace top-level keys."""
    config = {
        "experiment": "tiny",
        "seed": 0,
        "dataset": {"name": "fashion-mnist-10k", "params": {"limit": 400}},
        "split": {"val": 0.2, "test": 0.25},
        "preprocess": [{"name": "resize", "params": {"scale": 4}}, {"name": "grayscale"}],
        "extractor": {"name": "orb"},
        "ordering": {"name": "response"},
        "tokens": {"max_len": 12, "geometry": True},
        "model": {"name": "gru", "params": {"hidden_size": 16}},
        "balancing": {"name": "none"},
        "training": {"epochs": 2, "batch_size": 64, "patience": None},
    }
    config.update(overrides)
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def tiny_experiment(tmp_path: Path) -> Path:
    return write_experiment(tmp_path)


def write_idx(path: Path, array: np.ndarray) -> str:
    """Write an unsigned-byte IDX file (gzipped when the name ends in .gz); return the payload's SHA-256."""
    import gzip
    import hashlib

    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return hashlib.sha256(payload).hexdigest()


@pytest.fixture
def fashion_mnist_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A miniature full Fashion-MNIST (60 train + 30 test images of real bundled pictures),
    with the checksum table pointed at it, reachable through $BENCH_FASHION_MNIST_DIR."""
    import bench_plugins.datasets as ds

    bundled = ds.FashionMNIST10k().load()
    folder = tmp_path / "fmnist"
    folder.mkdir()
    checksums = {}
    for stem, (start, n) in {"train": (0, 60), "t10k": (60, 30)}.items():
        images = np.asarray(bundled.images[start : start + n])
        labels = bundled.labels[start : start + n]
        checksums[f"{stem}-images-idx3-ubyte"] = write_idx(folder / f"{stem}-images-idx3-ubyte.gz", images)
        checksums[f"{stem}-labels-idx1-ubyte"] = write_idx(folder / f"{stem}-labels-idx1-ubyte", labels)
    monkeypatch.setattr(ds, "FASHION_MNIST_SHA256", checksums)
    monkeypatch.setenv(ds.FASHION_MNIST_ENV, str(folder))
    return folder
