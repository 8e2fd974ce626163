"""Image conversions the core applies before any extractor sees an image."""

from __future__ import annotations

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
