"""Running an extractor over a data set, and the statistics that make a failed extraction obvious."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.api import GEOMETRY_COLUMNS, Extractor, Transform
from benchmark.images import as_uint8
from benchmark.progress import progress

log = logging.getLogger(__name__)


@dataclass
class FeatureSet:
    """Keypoints of many images as ragged arrays: image ``i`` owns rows ``offsets[i]:offsets[i+1]``.

    Binary descriptors stay packed (ORB: 32 bytes per keypoint), so 70,000 images with 64
    keypoints each hold 143 MB of descriptors, not the 4.6 GB of float bits.
    """

    geometry: np.ndarray  # float32 [total, 6]
    descriptors: np.ndarray  # uint8 or float32 [total, d]
    offsets: np.ndarray  # int64 [n + 1]
    image_shapes: np.ndarray  # int32 [n, 2]: height, width after preprocessing
    descriptor_type: str
    detected: np.ndarray | None = None  # int64 [n]: keypoints found before the descriptor dropped some
    converted_images: int = 0  # images that reached the extractor as float/16-bit and were converted
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def image(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.geometry[a:b], self.descriptors[a:b]


def prepare(image: np.ndarray, transforms: Sequence[Transform], rng: np.random.Generator) -> np.ndarray:
    for transform in transforms:
        image = transform(image, rng)
    return image


# Per-process state of an extraction: set once in each worker, so images are not sent with
# every chunk.
_STATE: dict[str, Any] = {}


def _init_worker(images: Sequence[np.ndarray], transforms: Sequence[Transform], extractor: Extractor,
                 seed: int, single_thread: bool) -> None:
    if single_thread:
        import cv2

        cv2.setNumThreads(1)  # one process per core; OpenCV's own threads would oversubscribe them
    _STATE.update(images=images, transforms=transforms, extractor=extractor, seed=seed)


def _extract_range(bounds: tuple[int, int]) -> dict[str, Any]:
    """Preprocess and extract images ``start:stop``; everything in order, ready to concatenate."""
    images, transforms, extractor = _STATE["images"], _STATE["transforms"], _STATE["extractor"]
    deterministic = all(t.deterministic for t in transforms)
    shared_rng = np.random.default_rng(_STATE["seed"])
    out: dict[str, Any] = {"geometry": [], "descriptors": [], "counts": [], "detected": [], "shapes": [],
                           "converted": 0, "example": None}
    for i in range(*bounds):
        # A random transform gets a generator seeded by (run seed, item): the same image gets the
        # same augmentation whichever worker, chunk or order it is processed in.
        rng = shared_rng if deterministic else np.random.default_rng((_STATE["seed"], i))
        image = prepare(images[i], transforms, rng)
        if image.dtype != np.uint8:
            if out["example"] is None:
                out["example"] = (str(image.dtype), float(image.min()), float(image.max()))
            out["converted"] += 1
            image = as_uint8(image)
        kp = extractor.extract(image)
        out["geometry"].append(kp.geometry)
        out["descriptors"].append(kp.descriptors)
        out["counts"].append(len(kp))
        out["detected"].append(len(kp) if kp.detected is None else kp.detected)
        out["shapes"].append(image.shape[:2])
    return out


def _pool_context() -> Any:
    import multiprocessing

    # Not fork: a child forked from a process whose OpenCV thread pool has run deadlocks in
    # OpenCV (seen in cv2.setNumThreads). forkserver starts workers from a clean server with
    # cv2 preloaded; the images are pickled to each worker once.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["cv2", "numpy", "benchmark.extraction"])
        return context
    return multiprocessing.get_context("spawn")


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def extract_all(
    images: Sequence[np.ndarray],
    transforms: Sequence[Transform],
    extractor: Extractor,
    seed: int = 0,
    quiet: bool = False,
    workers: int = 1,
) -> FeatureSet:
    """Preprocess and extract every image, in order, in ``workers`` processes.

    The result is identical for any number of workers.
    """
    n = len(images)
    start = time.perf_counter()
    workers = max(1, min(workers, n // 64 or 1))
    chunk = max(16, min(512, n // (workers * 8) or 1))
    ranges = [(i, min(i + chunk, n)) for i in range(0, n, chunk)]
    bar = progress(None, desc=f"extract {extractor.name}", unit="img", quiet=quiet, total=n)
    parts = []
    if workers == 1:
        _init_worker(images, transforms, extractor, seed, single_thread=False)
        try:
            for bounds in ranges:
                parts.append(_extract_range(bounds))
                bar.update(bounds[1] - bounds[0])
        finally:
            _STATE.clear()
    else:
        with _pool_context().Pool(workers, _init_worker, (images, transforms, extractor, seed, True)) as pool:
            for part, bounds in zip(pool.imap(_extract_range, ranges), ranges):
                parts.append(part)
                bar.update(bounds[1] - bounds[0])
    bar.close()

    converted = sum(p["converted"] for p in parts)
    example = next((p["example"] for p in parts if p["example"]), None)
    if example:
        log.warning(
            "extractor %r received %s images (range %.3g..%.3g); converted %d of them to uint8 "
            "(OpenCV's detectors find nothing on [0, 1] floats). Add `to-uint8` to `preprocess` "
            "to make this explicit.", extractor.name, example[0], example[1], example[2], converted,
        )
    counts = [c for p in parts for c in p["counts"]]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    empty = extractor.empty()
    return FeatureSet(
        geometry=np.concatenate([empty.geometry, *(g for p in parts for g in p["geometry"])]),
        descriptors=np.concatenate([empty.descriptors, *(d for p in parts for d in p["descriptors"])]),
        offsets=offsets,
        image_shapes=np.array([s for p in parts for s in p["shapes"]], dtype=np.int32).reshape(-1, 2),
        descriptor_type=extractor.descriptor_type,
        detected=np.array([d for p in parts for d in p["detected"]], dtype=np.int64),
        converted_images=converted,
        seconds=time.perf_counter() - start,
    )


def _count_stats(counts: np.ndarray) -> dict[str, float]:
    if len(counts) == 0:
        return {"images": 0, "kps_mean": 0.0, "kps_min": 0, "kps_max": 0, "empty_fraction": 0.0}
    return {
        "images": len(counts),
        "kps_mean": round(float(counts.mean()), 3),
        "kps_min": int(counts.min()),
        "kps_max": int(counts.max()),
        "empty_fraction": round(float((counts == 0).mean()), 5),
    }


def extraction_stats(
    features: FeatureSet,
    labels: np.ndarray,
    class_names: list[str],
    warn_empty_fraction: float,
) -> dict[str, Any]:
    """Keypoints per image (mean, min, max) and share of empty images, overall and per class.

    A warning is logged, and recorded, when the empty share passes ``warn_empty_fraction``
    overall or in any class: a sequence model fed empty sequences learns nothing.
    """
    counts = features.counts
    detected = features.detected if features.detected is not None else counts
    stats: dict[str, Any] = _count_stats(counts)
    stats.update(
        detected_mean=round(float(detected.mean()), 3) if len(detected) else 0.0,
        dropped_fraction=round(1 - float(counts.sum()) / detected.sum(), 5) if detected.sum() else 0.0,
        descriptor_type=features.descriptor_type,
        descriptor_dim=int(features.descriptors.shape[1]) * (8 if features.descriptor_type == "binary" else 1),
        geometry_columns=list(GEOMETRY_COLUMNS),
        converted_images=features.converted_images,
        seconds=round(features.seconds, 3),
        images_per_second=round(len(counts) / features.seconds, 1) if features.seconds > 0 else None,
        per_class={name: _count_stats(counts[labels == c]) for c, name in enumerate(class_names)},
    )
    warnings = []
    if stats["empty_fraction"] > warn_empty_fraction:
        warnings.append(
            f"{stats['empty_fraction']:.1%} of images have no keypoints (threshold "
            f"{warn_empty_fraction:.1%}): the model sees empty sequences for them. Upscale the images "
            "(preprocess resize) or lower the detector's thresholds."
        )
    for name, per_class in stats["per_class"].items():
        if per_class["empty_fraction"] > warn_empty_fraction and stats["empty_fraction"] <= warn_empty_fraction:
            warnings.append(f"class {name!r}: {per_class['empty_fraction']:.1%} of its images have no keypoints")
    if stats["dropped_fraction"] > 0.25:
        warnings.append(
            f"the descriptor dropped {stats['dropped_fraction']:.1%} of the detected keypoints (too close to the "
            "border or too large for its pattern): upscale more or pick another detector"
        )
    if features.converted_images:
        warnings.append(f"{features.converted_images} images were not uint8 and were converted before extraction")
    for message in warnings:
        log.warning("extraction: %s", message)
    stats["warnings"] = warnings
    return stats
