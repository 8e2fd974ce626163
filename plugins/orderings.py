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


@hookimpl
def bench_register_orderings() -> list[type[Ordering]]:
    return [Detection, Response, Raster, Random]
