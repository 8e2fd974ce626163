"""Built-in preprocessing transforms: resize, grayscale, uint8 conversion."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from benchmark import hookimpl
from benchmark.api import Params, Transform
from benchmark.images import as_uint8
from benchmark.opencv import to_gray

#: Interpolation names → OpenCV flags (values of cv2.INTER_*, stable across 4.x and 5.x).
INTERPOLATIONS = {"nearest": 0, "linear": 1, "cubic": 2, "area": 3, "lanczos": 4}


class Resize(Transform):
    """Resize by a scale factor or to a fixed size (28×28 Fashion-MNIST is too small for ORB)."""

    name = "resize"
    example_params: ClassVar[dict[str, Any]] = {"scale": 2}

    class Params(Params):
        scale: float | None = Field(None, gt=0, description="factor applied to both sides")
        size: tuple[int, int] | None = Field(None, description="[width, height] in pixels")
        interpolation: Literal["nearest", "linear", "cubic", "area", "lanczos"] = "linear"

        @model_validator(mode="after")
        def _one_of(self) -> Resize.Params:
            if (self.scale is None) == (self.size is None):
                raise ValueError("give exactly one of `scale` or `size`")
            return self

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import cv2

        flag = INTERPOLATIONS[self.params.interpolation]
        if self.params.size is not None:
            return cv2.resize(image, tuple(self.params.size), interpolation=flag)
        s = self.params.scale
        return cv2.resize(image, None, fx=s, fy=s, interpolation=flag)


class Grayscale(Transform):
    """Convert colour (BGR or BGRA) images to one channel; gray images pass through."""

    name = "grayscale"

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return to_gray(image)


class ToUint8(Transform):
    """Convert float ([0,1] or [0,255]) and 16-bit images to uint8, as detectors need."""

    name = "to-uint8"

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return as_uint8(image)


@hookimpl
def bench_register_transforms() -> list[type[Transform]]:
    return [Resize, Grayscale, ToUint8]
