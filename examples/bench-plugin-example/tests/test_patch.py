"""How a plugin author tests a plugin: through bench's registry, on a generated image."""

import numpy as np
import pytest

from benchmark.errors import ConfigError
from benchmark.registry import Registries


@pytest.fixture(scope="module")
def registry():
    return Registries()["extractor"]


def image() -> np.ndarray:
    img = np.zeros((64, 64), np.uint8)
    img[16:48, 16:48] = 200
    return img


def test_registered_through_the_entry_point(registry):
    assert "patch" in registry


def test_patches_have_the_declared_shape(registry):
    extractor = registry.build("patch", {"size": 5})
    kp = extractor.extract(image())
    assert len(kp) > 0 and kp.descriptors.shape == (len(kp), 25)
    np.testing.assert_allclose(kp.descriptors.mean(axis=1), 0, atol=1e-5)


def test_even_size_is_rejected_with_a_clear_message(registry):
    with pytest.raises(ConfigError, match="size must be odd"):
        registry.build("patch", {"size": 4})
