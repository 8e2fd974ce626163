"""Helpers for plugins built on OpenCV 4.x and 5.x alike."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmark.errors import UsageError


def factory(name: str) -> Any:
    """An OpenCV factory function by name, wherever this OpenCV keeps it.

    OpenCV 5 moved AKAZE, BRISK, KAZE and AGAST into ``cv2.xfeatures2d``; OpenCV 4 has them at
    the top level; the contrib descriptors (FREAK, LATCH, DAISY, ...) are in ``xfeatures2d`` in
    both.
    """
    import cv2

    for module in (cv2, getattr(cv2, "xfeatures2d", None)):
        if module is not None and hasattr(module, name):
            return getattr(module, name)
    raise UsageError(
        f"OpenCV {cv2.__version__} has no {name} (looked in cv2 and cv2.xfeatures2d); "
        "it is in opencv-contrib-python-headless: pip install opencv-contrib-python-headless"
    )


class LazyOpenCV:
    """Mixin for plugins wrapping an OpenCV object: built on first use by ``create()``, and left
    out of pickles (cv2 objects do not pickle to extraction worker processes)."""

    _cv: Any = None

    def create(self) -> Any:
        raise NotImplementedError

    def opencv(self) -> Any:
        if self._cv is None:
            self._cv = self.create()
        return self._cv

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cv": None}


def to_gray(image: np.ndarray) -> np.ndarray:
    """One channel, from gray, BGR or BGRA."""
    import cv2

    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Three channels, from gray, BGR or BGRA (LUCID needs three)."""
    import cv2

    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    return image if image.shape[2] == 3 else cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)


def strongest(geometry: np.ndarray, limit: int | None) -> np.ndarray:
    """Indices of the ``limit`` keypoints of highest response, kept in detection order."""
    if limit is None or len(geometry) <= limit:
        return np.arange(len(geometry))
    return np.sort(np.argsort(-geometry[:, 4], kind="stable")[:limit])
