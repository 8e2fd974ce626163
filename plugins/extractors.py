"""Built-in extractors: ORB."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import Extractor, Keypoints, Params


class ORB(Extractor):
    """ORB: FAST keypoints with oriented BRIEF binary descriptors (32 bytes = 256 bits).

    Defaults differ from OpenCV's where small images need it: with edge/patch 31 and FAST 20,
    Fashion-MNIST upscaled 4× (112×112) gives 14% of images no keypoint at all; with
    edge/patch 15 and FAST 5 none is empty (measured on 2,000 images).
    """

    name = "orb"
    descriptor_type = "binary"

    class Params(Params):
        n_features: int = Field(64, ge=1, description="maximum keypoints kept (best by score)")
        scale_factor: float = Field(1.2, gt=1.0, description="pyramid decimation ratio")
        n_levels: int = Field(8, ge=1, description="pyramid levels")
        edge_threshold: int = Field(15, ge=0, description="border where no keypoint is detected")
        first_level: int = Field(0, ge=0, description="pyramid level of the source image")
        wta_k: Literal[2, 3, 4] = Field(2, description="points compared per BRIEF element")
        score_type: Literal["harris", "fast"] = Field("harris", description="keypoint ranking score")
        patch_size: int = Field(15, ge=2, description="size of the oriented BRIEF patch")
        fast_threshold: int = Field(5, ge=0, description="FAST intensity threshold")

    def __init__(self, params: Params | None = None):
        super().__init__(params)
        self._orb = None  # built lazily: cv2 objects do not pickle to worker processes

    def descriptor_size(self) -> int:
        return 32

    def _detector(self):
        if self._orb is None:
            import cv2

            p = self.params
            self._orb = cv2.ORB_create(
                nfeatures=p.n_features,
                scaleFactor=p.scale_factor,
                nlevels=p.n_levels,
                edgeThreshold=p.edge_threshold,
                firstLevel=p.first_level,
                WTA_K=p.wta_k,
                scoreType=cv2.ORB_HARRIS_SCORE if p.score_type == "harris" else cv2.ORB_FAST_SCORE,
                patchSize=p.patch_size,
                fastThreshold=p.fast_threshold,
            )
        return self._orb

    def extract(self, image: np.ndarray) -> Keypoints:
        keypoints, descriptors = self._detector().detectAndCompute(image, None)
        return self.from_opencv(keypoints, descriptors)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_orb": None}


@hookimpl
def bench_register_extractors() -> list[type[Extractor]]:
    return [ORB]
