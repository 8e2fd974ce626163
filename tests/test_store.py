"""The feature store and parallel extraction: extract once, reuse exactly, never trust a damaged entry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.config import load_experiment
from benchmark.extraction import extract_all
from benchmark.runner import run
from benchmark.store import FeatureStore, store_key
from tests.conftest import textured_image, write_experiment


def test_parallel_extraction_equals_serial(registries) -> None:
    images = [textured_image(i) for i in range(150)]
    transforms = [registries["transform"].build("resize", {"scale": 1.5})]
    for name in ("orb", "sift"):
        extractor = registries["extractor"].build(name, {})
        serial = extract_all(images, transforms, extractor, quiet=True, workers=1)
        parallel = extract_all(images, transforms, extractor, quiet=True, workers=2)
        for field in ("geometry", "descriptors", "offsets", "image_shapes", "detected"):
            np.testing.assert_array_equal(getattr(serial, field), getattr(parallel, field), err_msg=f"{name}.{field}")


def test_store_round_trip_is_compact_and_memory_mapped(tmp_path: Path, registries) -> None:
    sift = registries["extractor"].build("sift", {})
    features = extract_all([textured_image(i) for i in range(5)], [], sift, quiet=True)
    store = FeatureStore(tmp_path)
    loaded, cached = store.get_or_extract({"what": "sift"}, lambda: features)
    assert not cached and isinstance(loaded.descriptors, np.memmap)
    assert loaded.descriptors.dtype == np.float16  # float descriptors are stored as float16
    np.testing.assert_allclose(loaded.descriptors, features.descriptors, rtol=1e-3, atol=1e-2)
    again, cached = store.get_or_extract({"what": "sift"}, lambda: pytest.fail("must not extract again"))
    assert cached and np.array_equal(again.descriptors, loaded.descriptors)
    [entry] = store.entries()
    assert entry["images"] == 5 and entry["keypoints"] == len(features.geometry)


def test_a_damaged_entry_is_detected_and_rebuilt(tmp_path: Path, registries) -> None:
    orb = registries["extractor"].build("orb", {})
    features = extract_all([textured_image(i) for i in range(3)], [], orb, quiet=True)
    store = FeatureStore(tmp_path)
    store.get_or_extract({"k": 1}, lambda: features)
    descriptors = store.path(store_key({"k": 1})) / "descriptors.npy"
    descriptors.write_bytes(descriptors.read_bytes()[:-7])  # truncated
    calls = []
    rebuilt, cached = store.get_or_extract({"k": 1}, lambda: calls.append(1) or features)
    assert calls == [1] and not cached
    np.testing.assert_array_equal(rebuilt.descriptors, features.descriptors)


def test_a_warm_run_skips_extraction_and_reproduces_the_cold_one(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, extractor={"name": "sift"})
    cold = run(load_experiment(path), tmp_path / "cold", quiet=True).record
    warm = run(load_experiment(path), tmp_path / "warm", quiet=True).record
    assert not cold["features_from_store"] and warm["features_from_store"]
    assert warm["accuracy"] == cold["accuracy"] and warm["macro_f1"] == cold["macro_f1"]
    a = (tmp_path / "cold" / "tiny" / cold["run_id"] / "history.csv").read_text().splitlines()
    b = (tmp_path / "warm" / "tiny" / warm["run_id"] / "history.csv").read_text().splitlines()
    strip = lambda lines: [line.rsplit(",", 1)[0] for line in lines]
    assert strip(a) == strip(b)


def test_cache_commands(tmp_path: Path) -> None:
    path = write_experiment(tmp_path)
    cache = tmp_path / "store"
    runner = CliRunner()
    assert runner.invoke(main, ["run", str(path), "-q", "--cache-dir", str(cache), "--results-dir",
                                str(tmp_path / "r")]).exit_code == 0
    listing = runner.invoke(main, ["cache", "list", "--cache-dir", str(cache)])
    assert "1 entries" in listing.stdout and "fashion-mnist-10k" in listing.stdout and "orb" in listing.stdout
    meta = json.loads(next((cache / "features").glob("*/meta.json")).read_text())
    assert meta["inputs"]["extractor"]["name"] == "orb" and meta["images"] == 400
    cleared = runner.invoke(main, ["cache", "clear", "--cache-dir", str(cache)])
    assert cleared.exit_code == 0 and not (cache / "features").exists()
    no_cache = runner.invoke(main, ["run", str(path), "-q", "--no-cache", "--rerun", "--cache-dir", str(cache),
                                    "--results-dir", str(tmp_path / "r")])
    assert no_cache.exit_code == 0 and not (cache / "features").exists()
