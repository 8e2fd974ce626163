"""Image conversions the core applies before any extractor sees an image."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_uint8(image: np.ndarray) -> np.ndarray:
    """uint8, as OpenCV's detectors expect.

    Floats in [0, 1] are scaled by 255 (ORB on a [0, 1] float image finds nothing: the seed
    experiment's silent failure), other floats are rounded and clipped to [0, 255], 16-bit
    images keep their top 8 bits.
    """
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        values = np.nan_to_num(image.astype(np.float32, copy=False))
        if values.size and values.min() >= 0.0 and values.max() <= 1.0:
            values = values * 255.0
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8)


class ImageFiles:
    """Images on disk, read when indexed: always 3-channel BGR uint8, as OpenCV's IMREAD_COLOR
    gives (grayscale, RGBA, 16-bit and palette images are converted), larger sides shrunk to
    ``max_side``. Picklable (a list of paths), so extraction workers read their own share."""

    def __init__(self, paths: list[str], max_side: int | None = 1024):
        self.paths = list(paths)
        self.max_side = max_side

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        import cv2

        image = cv2.imread(self.paths[index], cv2.IMREAD_COLOR)
        if image is None:
            from benchmark.errors import DataError

            raise DataError(f"{self.paths[index]}: cannot be read as an image")
        side = max(image.shape[:2])
        if self.max_side and side > self.max_side:
            scale = self.max_side / side
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return image


def unreadable(path: str) -> str | None:
    """Why ``path`` is not a usable image, or None when it is. Decodes at 1/8 scale (cheap for
    JPEG); a truncated JPEG that libjpeg can still decode in part is accepted."""
    import os

    import cv2

    if not os.path.isfile(path):
        return "file not found"
    if os.path.getsize(path) == 0:
        return "empty file"
    try:
        image = cv2.imread(path, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    except cv2.error as exc:
        return f"cannot be decoded ({str(exc).strip().splitlines()[-1]})"
    if image is None or image.size == 0:
        return "not an image OpenCV can decode"
    return None


class Subset:
    """Items ``index`` of an image sequence, as a sequence (picklable when the source is)."""

    def __init__(self, images: Any, index: np.ndarray):
        self.images = images
        self.index = np.asarray(index, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.images[int(self.index[i])]
