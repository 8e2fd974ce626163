"""Descriptor specifics: detector composition, dropped keypoints, OpenCV 4/5 differences, tokens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmark.api import Extractor, geometry_from_opencv, keypoints_to_opencv
from benchmark.config import load_experiment
from benchmark.errors import ConfigError, UsageError
from benchmark.extraction import extract_all, extraction_stats
from benchmark.opencv import factory, strongest
from benchmark.sequences import normalise_float
from tests.conftest import textured_image, write_experiment


def test_composition_in_yaml_resolves_the_detector_and_its_defaults(tmp_path: Path, registries) -> None:
    path = write_experiment(tmp_path, extractor={"name": "freak", "params": {
        "detector": {"name": "fast", "params": {"threshold": 12}}}})
    config = load_experiment(path, registries=registries)
    detector = config.extractor.params["detector"]
    assert detector == {"name": "fast", "params": {"max_keypoints": 64, "threshold": 12, "nonmax_suppression": True}}
    built = registries["extractor"].build("freak", config.extractor.params)
    assert type(built.detector).__name__ == "Fast" and built.detector.params.threshold == 12
    assert len(built.extract(textured_image())) > 0


def test_composition_errors_name_the_nested_key(tmp_path: Path, registries) -> None:
    path = write_experiment(tmp_path, extractor={"name": "brief", "params": {
        "detector": {"name": "fats", "params": {}}}})
    with pytest.raises(ConfigError, match=r"extractor\.params\.detector\.name: unknown detector 'fats' \(did you mean 'fast'\?\)"):
        load_experiment(path, registries=registries)
    path = write_experiment(tmp_path, extractor={"name": "brief", "params": {
        "detector": {"name": "fast", "params": {"threshold": "high"}}}})
    with pytest.raises(ConfigError, match=r"extractor\.params\.detector\.params\.threshold: Input should be a valid integer"):
        load_experiment(path, registries=registries)


def test_own_detector_extractors_accept_another_detector(registries) -> None:
    sift_on_grid = registries["extractor"].build("sift", {"detector": {"name": "grid", "params": {"step": 16}}})
    kp = sift_on_grid.extract(textured_image())
    assert len(kp) == 25 and kp.descriptors.shape == (25, 128)  # 5 × 5 grid on 96 × 96 with margin 8
    assert np.allclose(kp.geometry[:, 2], 16)


def test_dropped_keypoints_are_counted(registries) -> None:
    brief = registries["extractor"].build("brief", {"detector": {"name": "fast", "params": {}}})
    features = extract_all([textured_image(i) for i in range(4)], [], brief, quiet=True)
    assert (features.detected >= features.counts).all() and (features.detected > features.counts).any()
    stats = extraction_stats(features, np.zeros(4, int), ["a"], warn_empty_fraction=0.05)
    assert 0 < stats["dropped_fraction"] < 1
    assert stats["detected_mean"] > stats["kps_mean"]


def test_opencv_factories_are_found_in_either_module() -> None:
    import cv2

    assert factory("ORB_create") is cv2.ORB_create  # top level in 4.x and 5.x
    akaze = factory("AKAZE_create")  # top level in 4.x, xfeatures2d in 5.x
    assert akaze is getattr(cv2, "AKAZE_create", None) or akaze is cv2.xfeatures2d.AKAZE_create
    with pytest.raises(UsageError, match="has no NOPE_create"):
        factory("NOPE_create")


def test_none_and_empty_results_are_the_same_empty_keypoints(registries) -> None:
    orb: Extractor = registries["extractor"].build("orb", {})
    for keypoints, descriptors in [(None, None), ((), np.zeros((0, 32), np.uint8)), ([], None)]:  # 4.x, 5.x
        kp = orb.from_opencv(keypoints, descriptors)
        assert len(kp) == 0 and kp.descriptors.shape == (0, 32) and kp.descriptors.dtype == np.uint8


def test_keypoint_geometry_round_trips_through_opencv() -> None:
    geometry = np.array([[10.5, 20.25, 7.0, 45.0, 0.5, 2], [3.0, 4.0, 31.0, -1.0, 0.0, 0]], np.float32)
    np.testing.assert_array_equal(geometry_from_opencv(keypoints_to_opencv(geometry)), geometry)
    assert strongest(geometry, 1).tolist() == [0] and strongest(geometry, None).tolist() == [0, 1]


def test_lucid_gets_three_channels_from_a_gray_image(registries) -> None:
    lucid = registries["extractor"].build("lucid", {})
    kp = lucid.extract(textured_image())  # gray in; LUCID itself requires BGR
    assert len(kp) > 0 and kp.descriptors.dtype == np.float32 and kp.descriptors.shape[1] == 27


def test_root_normalisation() -> None:
    x = np.array([[4.0, 0.0, 0.0, 12.0], [-1.0, 1.0, 2.0, 0.0], [0, 0, 0, 0]], np.float32)
    root = normalise_float(x, "root")
    np.testing.assert_allclose(np.linalg.norm(root[:2], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(root[0], [0.5, 0, 0, np.sqrt(0.75)], rtol=1e-6)
    assert root[1, 0] < 0 and np.all(root[2] == 0)
    np.testing.assert_allclose(np.linalg.norm(normalise_float(x[:2], "l2"), axis=1), 1.0, rtol=1e-6)


def test_sift_octaves_are_decoded_not_packed(registries) -> None:
    """SIFT packs octave, layer and scale into KeyPoint.octave; raw, it reaches 10^7 and swamps
    every other token feature (this sank SIFT to 17% in a first comparison)."""
    kp = registries["extractor"].build("sift", {}).extract(textured_image())
    octaves = kp.geometry[:, 5]
    assert octaves.min() >= -1 and octaves.max() <= 8
