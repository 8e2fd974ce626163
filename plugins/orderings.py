"""Built-in keypoint orderings: detection, response, raster, random."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import Ordering, Params

X, Y, SIZE, ANGLE, RESPONSE, OCTAVE = range(6)


class Detection(Ordering):
    """Keypoints in the order the detector returned them."""

    name = "detection"

    def order(self, geometry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.arange(len(geometry))


class Response(Ordering):
    """Strongest detector response first (truncation keeps the most salient keypoints)."""

    name = "response"

    def order(self, geometry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.argsort(-geometry[:, RESPONSE], kind="stable")


class Raster(Ordering):
    """Top-to-bottom in rows of ``band`` pixels, left-to-right within a row, like reading text."""

    name = "raster"

    class Params(Params):
        band: float = Field(4.0, gt=0, description="row height in pixels of the preprocessed image")

    def order(self, geometry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        rows = np.floor(geometry[:, Y] / self.params.band)
        return np.lexsort((geometry[:, X], rows))


class Random(Ordering):
    """A random order, drawn from the run's seed (a control: does order matter at all?)."""

    name = "random"

    def order(self, geometry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.permutation(len(geometry))


class Scale(Ordering):
    """Largest keypoints first (coarse structure before fine detail)."""

    name = "scale"

    def order(self, geometry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.argsort(-geometry[:, SIZE], kind="stable")


class Angle(Ordering):
    """By keypoint orientation, 0° to 360° (keypoints without one last)."""

    name = "angle"

    def order(self, geometry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        angle = np.where(geometry[:, ANGLE] < 0, np.inf, geometry[:, ANGLE])
        return np.argsort(angle, kind="stable")


class Radial(Ordering):
    """Nearest to the image centre first, outwards."""

    name = "radial"
    needs_shape = True

    def order(self, geometry: np.ndarray, rng: np.random.Generator, shape: tuple[int, int] = (0, 0)) -> np.ndarray:
        h, w = shape
        distance = np.hypot(geometry[:, X] - w / 2, geometry[:, Y] - h / 2)
        return np.argsort(distance, kind="stable")


def hilbert_index(x: np.ndarray, y: np.ndarray, order: int) -> np.ndarray:
    """Position along a Hilbert curve filling a 2^order × 2^order grid (vectorised)."""
    n = 1 << order
    x, y = x.astype(np.int64).copy(), y.astype(np.int64).copy()
    d = np.zeros_like(x)
    s = n >> 1
    while s > 0:
        rx = ((x & s) > 0).astype(np.int64)
        ry = ((y & s) > 0).astype(np.int64)
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant so the curve stays continuous
        flip = ry == 0
        swap_x = np.where(flip & (rx == 1), s - 1 - x, x)
        swap_y = np.where(flip & (rx == 1), s - 1 - y, y)
        x, y = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return d


class Hilbert(Ordering):
    """Along a Hilbert space-filling curve over the image: neighbours in the sequence are
    neighbours in the image, without raster order's jumps at row ends."""

    name = "hilbert"
    needs_shape = True

    class Params(Params):
        order: int = Field(6, ge=1, le=16, description="grid of 2^order × 2^order cells")

    def order(self, geometry: np.ndarray, rng: np.random.Generator, shape: tuple[int, int] = (0, 0)) -> np.ndarray:
        h, w = shape
        cells = (1 << self.params.order) - 1
        gx = np.clip(geometry[:, X] / max(w, 1) * cells, 0, cells)
        gy = np.clip(geometry[:, Y] / max(h, 1) * cells, 0, cells)
        return np.argsort(hilbert_index(np.rint(gx), np.rint(gy), self.params.order), kind="stable")


@hookimpl
def bench_register_orderings() -> list[type[Ordering]]:
    return [Detection, Response, Raster, Random, Scale, Angle, Radial, Hilbert]
