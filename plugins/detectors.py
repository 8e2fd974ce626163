"""Built-in keypoint detectors, for extractors that describe keypoints found by another detector.

Defaults are chosen for small images (Fashion-MNIST upscaled 4× to 112×112): each finds
keypoints on (nearly) every image. Every OpenCV detector keeps at most ``max_keypoints``, the
strongest by response, in detection order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import GEOMETRY_COLUMNS, Detector, Params, geometry_from_opencv
from benchmark.opencv import LazyOpenCV, factory, strongest, to_gray


class OpenCVDetector(LazyOpenCV, Detector):
    """Shared by the OpenCV detectors: the OpenCV object (``create``) and the keypoint cap."""

    class Params(Params):
        max_keypoints: int | None = Field(64, ge=1, description="keep the strongest N (None: all)")

    def detect(self, image: np.ndarray) -> np.ndarray:
        geometry = geometry_from_opencv(self.opencv().detect(to_gray(image), None))
        return geometry[strongest(geometry, self.params.max_keypoints)]


class Fast(OpenCVDetector):
    """FAST corners (Rosten & Drummond): the fastest detector; no scale, no orientation."""

    name = "fast"

    class Params(OpenCVDetector.Params):
        threshold: int = Field(10, ge=0, description="intensity difference to the centre")
        nonmax_suppression: bool = True

    def create(self) -> Any:
        return factory("FastFeatureDetector_create")(self.params.threshold, self.params.nonmax_suppression)


class Agast(OpenCVDetector):
    """AGAST corners: FAST with an adaptive, generic decision tree."""

    name = "agast"

    class Params(OpenCVDetector.Params):
        threshold: int = Field(10, ge=0)
        nonmax_suppression: bool = True

    def create(self) -> Any:
        return factory("AgastFeatureDetector_create")(self.params.threshold, self.params.nonmax_suppression)


class GFTT(OpenCVDetector):
    """Good Features To Track (Shi-Tomasi, or Harris with ``use_harris``)."""

    name = "gftt"

    class Params(OpenCVDetector.Params):
        quality_level: float = Field(0.01, gt=0, lt=1)
        min_distance: float = Field(3.0, ge=0)
        block_size: int = Field(3, ge=1)
        use_harris: bool = False
        k: float = 0.04

    def create(self) -> Any:
        p = self.params
        return factory("GFTTDetector_create")(p.max_keypoints or 0, p.quality_level, p.min_distance, p.block_size,
                                              p.use_harris, p.k)


class Star(OpenCVDetector):
    """STAR (CenSurE) blobs. OpenCV's response threshold of 30 finds nothing on small images: 5 here."""

    name = "star"

    class Params(OpenCVDetector.Params):
        max_size: int = Field(16, ge=4)
        response_threshold: int = Field(5, ge=0)
        line_threshold_projected: int = 10
        line_threshold_binarized: int = 8
        suppress_nonmax_size: int = 3

    def create(self) -> Any:
        p = self.params
        return factory("StarDetector_create")(p.max_size, p.response_threshold, p.line_threshold_projected,
                                              p.line_threshold_binarized, p.suppress_nonmax_size)


class HarrisLaplace(OpenCVDetector):
    """Harris-Laplace: scale-invariant Harris corners (slow: ~300 images/s at 112×112)."""

    name = "harris-laplace"

    class Params(OpenCVDetector.Params):
        num_octaves: int = Field(6, ge=1)
        corner_threshold: float = Field(0.005, ge=0)
        dog_threshold: float = Field(0.005, ge=0)
        num_layers: int = Field(4, ge=1)

    def create(self) -> Any:
        p = self.params
        return factory("HarrisLaplaceFeatureDetector_create")(p.num_octaves, p.corner_threshold, p.dog_threshold,
                                                              p.max_keypoints or 5000, p.num_layers)


class MSER(OpenCVDetector):
    """MSER regions as keypoints (slow: ~90 images/s at 112×112)."""

    name = "mser"

    class Params(OpenCVDetector.Params):
        delta: int = Field(2, ge=1)
        min_area: int = Field(10, ge=1)
        max_area: int = Field(4000, ge=1)

    def create(self) -> Any:
        p = self.params
        return factory("MSER_create")(p.delta, p.min_area, p.max_area)


class ORBDetector(OpenCVDetector):
    """ORB's oriented multi-scale FAST keypoints (small-image defaults as the `orb` extractor)."""

    name = "orb"

    class Params(OpenCVDetector.Params):
        scale_factor: float = Field(1.2, gt=1)
        n_levels: int = Field(8, ge=1)
        edge_threshold: int = Field(15, ge=0)
        patch_size: int = Field(15, ge=2)
        fast_threshold: int = Field(5, ge=0)

    def create(self) -> Any:
        p = self.params
        return factory("ORB_create")(nfeatures=p.max_keypoints or 10000, scaleFactor=p.scale_factor,
                                     nlevels=p.n_levels, edgeThreshold=p.edge_threshold,
                                     patchSize=p.patch_size, fastThreshold=p.fast_threshold)


class SIFTDetector(OpenCVDetector):
    """SIFT's difference-of-Gaussians keypoints, with scale and orientation."""

    name = "sift"

    class Params(OpenCVDetector.Params):
        contrast_threshold: float = Field(0.02, gt=0, description="OpenCV's 0.04 leaves small images sparse")
        edge_threshold: float = Field(10.0, gt=0)
        sigma: float = Field(1.6, gt=0)

    def create(self) -> Any:
        p = self.params
        return factory("SIFT_create")(p.max_keypoints or 0, 3, p.contrast_threshold, p.edge_threshold, p.sigma)


class AKAZEDetector(OpenCVDetector):
    """AKAZE's nonlinear-scale-space keypoints."""

    name = "akaze"

    class Params(OpenCVDetector.Params):
        threshold: float = Field(0.0001, gt=0, description="OpenCV's 0.001 leaves 8% of small images empty")

    def create(self) -> Any:
        return factory("AKAZE_create")(threshold=self.params.threshold)


class BRISKDetector(OpenCVDetector):
    """BRISK's multi-scale AGAST keypoints."""

    name = "brisk"

    class Params(OpenCVDetector.Params):
        threshold: int = Field(10, ge=0, description="OpenCV's 30 leaves 16% of small images empty")
        octaves: int = Field(2, ge=0)

    def create(self) -> Any:
        return factory("BRISK_create")(self.params.threshold, self.params.octaves)


class KAZEDetector(OpenCVDetector):
    """KAZE's nonlinear-scale-space keypoints (slow: ~150 images/s at 112×112)."""

    name = "kaze"

    class Params(OpenCVDetector.Params):
        threshold: float = Field(0.0005, gt=0)

    def create(self) -> Any:
        return factory("KAZE_create")(threshold=self.params.threshold)


class Grid(Detector):
    """Dense keypoints on a regular grid: with ``raster`` ordering, a dense descriptor sequence."""

    name = "grid"

    class Params(Params):
        step: int = Field(16, ge=1, description="pixels between keypoints")
        size: float = Field(16.0, gt=0, description="keypoint diameter (the described patch)")
        margin: int | None = Field(None, ge=0, description="border left free; default: size / 2")
        angle: float = Field(0.0, description="orientation given to every keypoint, degrees")

    def detect(self, image: np.ndarray) -> np.ndarray:
        p = self.params
        margin = int(np.ceil(p.size / 2)) if p.margin is None else p.margin
        h, w = image.shape[:2]
        ys = np.arange(margin, h - margin, p.step, dtype=np.float32)
        xs = np.arange(margin, w - margin, p.step, dtype=np.float32)
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        geometry = np.zeros((yy.size, len(GEOMETRY_COLUMNS)), np.float32)
        geometry[:, 0], geometry[:, 1] = xx.ravel(), yy.ravel()
        geometry[:, 2], geometry[:, 3] = p.size, p.angle
        return geometry


DETECTORS: list[type[Detector]] = [Fast, Agast, GFTT, Star, HarrisLaplace, MSER, ORBDetector, SIFTDetector,
                                   AKAZEDetector, BRISKDetector, KAZEDetector, Grid]


@hookimpl
def bench_register_detectors() -> list[type[Detector]]:
    return DETECTORS
