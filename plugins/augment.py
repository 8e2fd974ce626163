"""Built-in augmentations: random transforms applied to training images only, each with a probability.

Every augmentation draws from the generator the host passes, seeded by (run seed, item), so the
same image gets the same augmentation whichever worker extracts it, and a run is reproducible.
Shapes and dtypes are kept: an augmented image can replace the original anywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import Params, Transform


class Augmentation(Transform):
    """Shared: applied with probability ``p``, else the image passes unchanged."""

    deterministic = False

    class Params(Params):
        p: float = Field(0.5, ge=0, le=1, description="probability of applying it to an image")

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.random() >= self.params.p:
            return image
        return self.apply(image, rng)

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


def _border() -> int:
    import cv2

    return cv2.BORDER_REFLECT_101


class Warp(Augmentation):
    """Random affine warp (rotation, scale, shear, shift); with ``perspective`` > 0, a random
    perspective warp moving each corner by up to that share of the image side."""

    name = "warp"

    class Params(Augmentation.Params):
        degrees: float = Field(10.0, ge=0, le=180)
        scale: tuple[float, float] = (0.9, 1.1)
        shear: float = Field(5.0, ge=0, le=45, description="degrees")
        translate: float = Field(0.05, ge=0, le=0.5, description="share of the side")
        perspective: float = Field(0.0, ge=0, le=0.3)

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import cv2

        p = self.params
        h, w = image.shape[:2]
        if p.perspective > 0:
            corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
            moved = corners + rng.uniform(-p.perspective, p.perspective, (4, 2)).astype(np.float32) * [w, h]
            matrix = cv2.getPerspectiveTransform(corners, moved.astype(np.float32))
            return cv2.warpPerspective(image, matrix, (w, h), borderMode=_border())
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), _uniform(rng, (-p.degrees, p.degrees)), _uniform(rng, p.scale))
        shear = np.tan(np.deg2rad(_uniform(rng, (-p.shear, p.shear))))
        matrix[0, 1] += shear
        matrix[:, 2] += rng.uniform(-p.translate, p.translate, 2) * [w, h]
        return cv2.warpAffine(image, matrix, (w, h), borderMode=_border())


class Contrast(Augmentation):
    """Random contrast (gain), brightness (offset) and gamma."""

    name = "contrast"

    class Params(Augmentation.Params):
        contrast: tuple[float, float] = (0.7, 1.3)
        brightness: tuple[float, float] = Field((-30.0, 30.0), description="added, in 0..255 units")
        gamma: tuple[float, float] = (0.8, 1.25)

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = self.params
        x = image.astype(np.float32) / 255.0
        x = np.clip(x, 0, 1) ** _uniform(rng, p.gamma)
        x = (x - 0.5) * _uniform(rng, p.contrast) + 0.5 + _uniform(rng, p.brightness) / 255.0
        return np.clip(np.rint(x * 255.0), 0, 255).astype(image.dtype)


class Blur(Augmentation):
    """Gaussian blur with a random sigma."""

    name = "blur"

    class Params(Augmentation.Params):
        sigma: tuple[float, float] = (0.3, 1.5)

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import cv2

        return cv2.GaussianBlur(image, (0, 0), _uniform(rng, self.params.sigma))


class Crop(Augmentation):
    """Random resized crop: a region of random area and aspect, scaled back to the image size."""

    name = "crop"

    class Params(Augmentation.Params):
        area: tuple[float, float] = Field((0.7, 1.0), description="share of the image area kept")
        ratio: tuple[float, float] = Field((0.8, 1.25), description="aspect ratio of the region")

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import cv2

        h, w = image.shape[:2]
        area = _uniform(rng, self.params.area) * h * w
        aspect = np.exp(_uniform(rng, tuple(np.log(self.params.ratio))))
        cw = round(min(w, np.sqrt(area * aspect)))
        ch = round(min(h, np.sqrt(area / aspect)))
        x = int(rng.integers(0, w - cw + 1))
        y = int(rng.integers(0, h - ch + 1))
        return cv2.resize(image[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_LINEAR)


class Flip(Augmentation):
    """Mirror left-right (and, with ``vertical``, up-down with the same probability)."""

    name = "flip"

    class Params(Augmentation.Params):
        vertical: bool = False

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flipped = image[:, ::-1]
        if self.params.vertical and rng.random() < self.params.p:
            flipped = flipped[::-1]
        return np.ascontiguousarray(flipped)


class Rotate(Augmentation):
    """Rotation by a random angle about the centre, borders reflected."""

    name = "rotate"

    class Params(Augmentation.Params):
        degrees: float = Field(15.0, ge=0, le=180)

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import cv2

        h, w = image.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), _uniform(rng, (-self.params.degrees, self.params.degrees)), 1.0)
        return cv2.warpAffine(image, matrix, (w, h), borderMode=_border())


class Noise(Augmentation):
    """Additive Gaussian noise with a random standard deviation (0..255 units)."""

    name = "noise"

    class Params(Augmentation.Params):
        sigma: tuple[float, float] = (2.0, 10.0)

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = rng.normal(0.0, _uniform(rng, self.params.sigma), image.shape)
        return np.clip(image.astype(np.float32) + noise, 0, 255).astype(image.dtype)


AUGMENTATIONS: list[type[Any]] = [Warp, Contrast, Blur, Crop, Flip, Rotate, Noise]


@hookimpl
def bench_register_transforms() -> list[type[Transform]]:
    return AUGMENTATIONS
