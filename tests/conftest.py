"""Shared fixtures: generated images, a tiny experiment file, and a clean plugin environment."""

from __future__ import annotations

import csv
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


def _clothing_picture(rng: np.random.Generator, label: int, size: tuple[int, int]) -> np.ndarray:
    """A colour picture whose content depends on its class (so a model can learn something)."""
    import cv2

    h, w = size
    image = np.full((h, w, 3), 30 + 40 * label, np.uint8)
    for _ in range(6 + 4 * label):
        x, y = int(rng.integers(0, w - 12)), int(rng.integers(0, h - 12))
        colour = tuple(int(c) for c in rng.integers(60, 255, 3))
        if label % 2:
            cv2.circle(image, (x + 6, y + 6), 5 + label, colour, -1)
        else:
            cv2.rectangle(image, (x, y), (x + 10, y + 8 + label), colour, -1)
    return image


@pytest.fixture
def kaggle_tree(tmp_path: Path) -> Path:
    """A miniature clothing-dataset-full: images.csv + images_original/ with JPEGs of several
    sizes and modes, a grayscale, an RGBA, a 16-bit and a palette image (named .jpg, as files in
    the wild are), a row whose file is missing, a corrupt file, a text file, and excluded labels."""
    import cv2
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "clothing"
    folder = root / "images_original"
    folder.mkdir(parents=True)
    rows = []
    for label, name in enumerate(["T-Shirt", "Pants", "Shoes"]):
        for i in range(8):
            image_id = f"{name.lower()}-{i:02d}"
            picture = _clothing_picture(rng, label, (int(rng.integers(80, 200)), int(rng.integers(80, 200))))
            cv2.imwrite(str(folder / f"{image_id}.jpg"), picture)
            rows.append((image_id, str(100 + i), name, "False"))
    odd = {
        "gray-0": lambda p: cv2.imwrite(p + ".png", cv2.cvtColor(_clothing_picture(rng, 0, (96, 96)), cv2.COLOR_BGR2GRAY)),
        "rgba-0": lambda p: cv2.imwrite(p + ".png", cv2.cvtColor(_clothing_picture(rng, 1, (96, 96)), cv2.COLOR_BGR2BGRA)),
        "deep-0": lambda p: cv2.imwrite(p + ".png", _clothing_picture(rng, 2, (96, 96)).astype(np.uint16) * 257),
        "palette-0": lambda p: Image.fromarray(_clothing_picture(rng, 0, (96, 96))).convert("P").save(p + ".png"),
    }
    for (image_id, write), label in zip(odd.items(), ["T-Shirt", "Pants", "Shoes", "T-Shirt"]):
        write(str(folder / image_id))
        (folder / f"{image_id}.png").rename(folder / f"{image_id}.jpg")
        rows.append((image_id, "7", label, "False"))
    (folder / "corrupt-0.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 3)
    (folder / "notes-0.jpg").write_text("a text file with an image's name")
    rows += [("corrupt-0", "8", "Pants", "False"), ("notes-0", "8", "Shoes", "False"),
             ("missing-0", "9", "Shoes", "False"), ("skip-0", "9", "Skip", "False")]
    cv2.imwrite(str(folder / "skip-0.jpg"), _clothing_picture(rng, 0, (64, 64)))
    with (root / "images.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "sender_id", "label", "kids"])
        writer.writerows(rows)
    return root


@pytest.fixture
def folder_tree(tmp_path: Path) -> Path:
    """The clothing-dataset-small layout: train/, validation/ and test/ with a folder per class."""
    import cv2

    rng = np.random.default_rng(1)
    root = tmp_path / "small"
    for split, n in (("train", 10), ("validation", 3), ("test", 4)):
        for label, name in enumerate(["dress", "hat", "shorts"]):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                cv2.imwrite(str(folder / f"{i}.jpg"), _clothing_picture(rng, label, (120, 100)))
    return root
