"""Users' own photo collections: the Kaggle CSV layout, class folders, and bad files that never crash a run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from benchmark.config import load_experiment
from benchmark.errors import DataError
from benchmark.runner import run
from tests.conftest import write_experiment


def load(registries, name: str, **params):
    return registries["dataset"].build(name, params).load()


def test_kaggle_layout_converts_odd_images_and_lists_bad_ones(kaggle_tree: Path, registries) -> None:
    data = load(registries, "clothing-csv", root=str(kaggle_tree), max_skipped=0.5)
    assert data.class_names == ["Pants", "Shoes", "T-Shirt"]
    assert len(data.labels) == 24 + 4  # 8 per class + gray, RGBA, 16-bit and palette images
    reasons = dict(data.skipped)
    assert set(reasons) == {"corrupt-0", "notes-0", "missing-0"}
    assert "file not found" in reasons["missing-0"] and "skip-0" not in reasons  # excluded, not skipped
    for image_id in ("gray-0", "rgba-0", "deep-0", "palette-0"):
        image = data.images[data.ids.index(image_id)]
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


def test_too_many_bad_items_stop_with_the_list(kaggle_tree: Path, registries) -> None:
    with pytest.raises(DataError, match=r"(?s)3 of 31 items \(9\.7%\) are unusable, more than max_skipped 5%.*corrupt-0"):
        load(registries, "clothing-csv", root=str(kaggle_tree))


def test_labels_can_be_renamed_merged_and_rare_classes_dropped(kaggle_tree: Path, registries) -> None:
    data = load(registries, "clothing-csv", root=str(kaggle_tree), max_skipped=0.9,
                rename={"Pants": "Bottoms", "Shoes": "Bottoms"}, exclude=["Skip", "T-Shirt"])
    assert data.class_names == ["Bottoms"] and len(data.labels) == 18
    # T-Shirt has 10 usable images (8 + gray + palette), Pants and Shoes 9 each.
    data = load(registries, "clothing-csv", root=str(kaggle_tree), max_skipped=0.9, min_count=10)
    assert data.class_names == ["T-Shirt"] and len(data.labels) == 10
    assert sum("< min_count 10" in why for _, why in data.skipped) == 18


def test_kaggle_layout_errors_name_what_is_wrong(tmp_path: Path, registries) -> None:
    with pytest.raises(DataError, match="images.csv not found"):
        load(registries, "clothing-csv", root=str(tmp_path))
    (tmp_path / "images.csv").write_text("file,category\nx,y\n")
    (tmp_path / "images").mkdir()
    with pytest.raises(DataError, match="lacks the column\\(s\\) image, label"):
        load(registries, "clothing-csv", root=str(tmp_path))


def test_image_folder_uses_predefined_splits(folder_tree: Path, registries) -> None:
    data = load(registries, "image-folder", root=str(folder_tree))
    assert data.class_names == ["dress", "hat", "shorts"]
    assert sorted(set(data.subset)) == ["test", "train", "val"]
    assert (data.subset == "test").sum() == 12 and (data.subset == "val").sum() == 9


def test_a_run_on_a_kaggle_tree_lists_every_skipped_file(kaggle_tree: Path, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    path = write_experiment(tmp_path, dataset={"name": "clothing-csv", "params": {
        "root": str(kaggle_tree), "max_skipped": 0.2}}, split={"val": 0.25, "test": 0.25},
        preprocess=[{"name": "resize", "params": {"size": [112, 112]}}, {"name": "grayscale"}])
    outcome = run(load_experiment(path), tmp_path / "results", quiet=True)
    assert outcome.record["skipped_items"] == 3
    with (outcome.run_dir / "skipped.csv").open() as f:
        skipped = {row["id"]: row["reason"] for row in csv.DictReader(f)}
    assert set(skipped) == {"corrupt-0", "notes-0", "missing-0"}
    assert "skipped corrupt-0" in caplog.text
    stats = json.loads((outcome.run_dir / "extraction.json").read_text())
    assert set(stats["per_class"]) == {"Pants", "Shoes", "T-Shirt"}


def test_a_run_on_an_image_folder_tests_on_its_test_folder(folder_tree: Path, tmp_path: Path) -> None:
    path = write_experiment(tmp_path, dataset={"name": "image-folder", "params": {"root": str(folder_tree)}},
                            preprocess=[{"name": "grayscale"}])
    outcome = run(load_experiment(path), tmp_path / "results", quiet=True)
    with (outcome.run_dir / "predictions.csv").open() as f:
        assert all(row["id"].startswith("test/") for row in csv.DictReader(f))
    assert outcome.record["test_items"] == 12


def test_very_large_images_are_shrunk_on_load(folder_tree: Path, registries) -> None:
    import cv2

    big = np.zeros((3000, 2000, 3), np.uint8)
    cv2.circle(big, (1000, 1500), 600, (200, 180, 160), -1)
    cv2.imwrite(str(folder_tree / "train" / "hat" / "huge.jpg"), big)
    data = load(registries, "image-folder", root=str(folder_tree), max_side=512)
    image = data.images[data.ids.index("train/hat/huge.jpg")]
    assert image.shape == (512, 341, 3)
