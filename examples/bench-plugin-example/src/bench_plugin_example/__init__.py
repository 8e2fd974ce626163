"""An example bench plugin: raw pixel patches around any detector's keypoints, as descriptors."""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from benchmark import hookimpl
from benchmark.api import ComponentSpec, Extractor, Keypoints, Params, component
from benchmark.opencv import to_gray


class PatchExtractor(Extractor):
    """Raw pixel patches, zero-mean and unit-variance, around the keypoints of any detector."""

    name = "patch"
    descriptor_type = "float"

    class Params(Params):
        size: int = Field(7, ge=3, le=31, description="patch side in pixels (odd)")
        detector: ComponentSpec = component("detector", "gftt", "keypoints from this detector plugin")

        @field_validator("size")
        @classmethod
        def _odd(cls, value: int) -> int:
            if value % 2 == 0:
                raise ValueError(f"size must be odd so the patch is centred (got {value})")
            return value

    def descriptor_size(self) -> int:
        return self.params.size**2

    def extract(self, image: np.ndarray) -> Keypoints:
        gray = to_gray(image).astype(np.float32)
        geometry = self.detector.detect(gray.astype(np.uint8))  # built by bench from `detector`
        half = self.params.size // 2
        padded = np.pad(gray, half, mode="reflect")
        # Row r, column c of the padded image is pixel (r - half, c - half): a keypoint at (x, y)
        # owns padded[y : y + size, x : x + size].
        xs = np.clip(np.rint(geometry[:, 0]).astype(int), 0, gray.shape[1] - 1)
        ys = np.clip(np.rint(geometry[:, 1]).astype(int), 0, gray.shape[0] - 1)
        patches = np.stack([padded[y : y + self.params.size, x : x + self.params.size].ravel()
                            for x, y in zip(xs, ys)]) if len(geometry) else np.zeros((0, self.descriptor_size()))
        patches = patches - patches.mean(axis=1, keepdims=True)
        patches /= np.maximum(patches.std(axis=1, keepdims=True), 1e-6)
        return Keypoints(geometry, patches.astype(np.float32))


@hookimpl
def bench_register_extractors() -> list[type[Extractor]]:
    return [PatchExtractor]
