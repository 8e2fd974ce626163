"""Augmentation: reproducible, shape-preserving, and applied to training images only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmark.config import load_experiment
from tests.conftest import textured_image, write_experiment

AUGMENTATIONS = ["warp", "contrast", "blur", "crop", "flip", "rotate", "noise"]


@pytest.mark.parametrize("name", AUGMENTATIONS)
@pytest.mark.parametrize("channels", [1, 3])
def test_augmentations_keep_shape_and_dtype_and_are_reproducible(name: str, channels: int, registries) -> None:
    transform = registries["transform"].build(name, {"p": 1.0})
    assert not transform.deterministic
    image = textured_image(channels=channels)
    outputs = []
    for seed in range(5):
        out = transform(image.copy(), np.random.default_rng(seed))
        assert out.shape == image.shape and out.dtype == image.dtype
        np.testing.assert_array_equal(out, transform(image.copy(), np.random.default_rng(seed)))
        outputs.append(out)
    assert any(not np.array_equal(out, image) for out in outputs), f"{name} never changed the image"
    never = registries["transform"].build(name, {"p": 0.0})
    np.testing.assert_array_equal(never(image.copy(), np.random.default_rng(0)), image)


def test_augmentation_changes_training_images_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import benchmark.sequences
    import benchmark.splits
    from benchmark.runner import run

    built, splits = [], []
    real_build, real_split = benchmark.sequences.build_sequences, benchmark.splits.make_split
    monkeypatch.setattr(benchmark.sequences, "build_sequences",
                        lambda *a, **k: built.append(real_build(*a, **k)) or built[-1])
    monkeypatch.setattr(benchmark.splits, "make_split", lambda *a, **k: splits.append(real_split(*a, **k)) or splits[-1])

    plain = write_experiment(tmp_path)
    run(load_experiment(plain), tmp_path / "a", quiet=True)
    baseline = built[0]
    built.clear()
    augmented = write_experiment(tmp_path, augment=[{"name": "warp", "params": {"p": 1.0}},
                                                    {"name": "noise", "params": {"p": 1.0}}])
    record = run(load_experiment(augmented), tmp_path / "b", quiet=True).record
    merged = built[0]  # the plain sequences, with the training rows replaced in place
    split = splits[-1]
    untouched = np.concatenate([split.val, split.test])
    np.testing.assert_array_equal(merged.descriptors[untouched], baseline.descriptors[untouched])
    np.testing.assert_array_equal(merged.lengths[untouched], baseline.lengths[untouched])
    changed = (merged.descriptors[split.train] != baseline.descriptors[split.train]).any(axis=(1, 2))
    assert changed.mean() > 0.9
    assert record["config"]["augment"][0]["name"] == "warp"


def test_augment_balancing_yields_balanced_training_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import benchmark.training
    from benchmark.runner import run

    seen = {}
    real_fit = benchmark.training.fit

    def spy_fit(module, train, val, *args, **kwargs):
        seen["train"] = train.labels.numpy().copy()
        seen["val"] = val.labels.numpy().copy()
        return real_fit(module, train, val, *args, **kwargs)

    monkeypatch.setattr(benchmark.training, "fit", spy_fit)
    path = write_experiment(tmp_path, balancing={"name": "augment"})
    record = run(load_experiment(path), tmp_path / "results", quiet=True).record
    counts = np.bincount(seen["train"])
    assert len(set(counts.tolist())) == 1, counts  # every class at the largest class's count
    assert record["train_items"] == counts.sum() > 220  # 220: the training split's own images
    assert len(set(np.bincount(seen["val"]).tolist())) > 1  # validation is not balanced or augmented


def test_augment_balancer_copies_minorities_up_to_the_target(registries) -> None:
    balancer = registries["balancer"].build("augment", {})
    labels = np.array([0] * 10 + [1] * 3 + [2] * 7)
    copies = balancer.augmented_copies(labels, np.random.default_rng(0))
    assert np.bincount(np.concatenate([labels, labels[copies]])).tolist() == [10, 10, 10]
    assert set(labels[copies]) == {1, 2}
    fixed = registries["balancer"].build("augment", {"target": 12}).augmented_copies(labels, np.random.default_rng(0))
    assert np.bincount(np.concatenate([labels, labels[fixed]])).tolist() == [12, 12, 12]
