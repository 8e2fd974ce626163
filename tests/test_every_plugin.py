"""Every registered plugin, of every kind, exercised on real data (timm style).

A new plugin is picked up by these tests automatically; ``example_params`` supplies valid
parameters for a plugin with required ones.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmark.api import Estimator, Keypoints
from benchmark.registry import Registries
from tests.conftest import textured_image

ALL = Registries()


def build(kind: str, name: str):
    cls = ALL[kind].get(name)
    return ALL[kind].build(name, cls.example_params)


@pytest.mark.parametrize("name", ALL["dataset"].names())
def test_dataset_loads_consistent_items(name: str, fashion_mnist_dir, kaggle_tree, folder_tree) -> None:
    generated = {"clothing-csv": {"root": str(kaggle_tree), "max_skipped": 0.5},
                 "image-folder": {"root": str(folder_tree)}}
    params = {**ALL["dataset"].get(name).example_params, **generated.get(name, {})}
    data = ALL["dataset"].build(name, params).load()
    n = len(data.labels)
    assert n > 0 and len(data.images) == n == len(data.ids)
    assert len(set(data.ids)) == n, "item ids must be unique"
    assert data.labels.min() >= 0 and data.labels.max() < len(data.class_names)
    first = np.asarray(data.images[0])
    assert first.dtype == np.uint8 and first.ndim in (2, 3)
    assert data.fingerprint
    if data.subset is not None:
        assert set(np.unique(data.subset)) <= {"train", "val", "test"}


@pytest.mark.parametrize("name", ALL["transform"].names())
@pytest.mark.parametrize("channels", [1, 3])
def test_transform_returns_an_image(name: str, channels: int) -> None:
    transform = build("transform", name)
    source = textured_image(channels=channels)
    out = transform(source.copy(), np.random.default_rng(0))
    assert isinstance(out, np.ndarray) and out.ndim in (2, 3) and out.size > 0
    again = transform(source.copy(), np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)  # same seed, same result


@pytest.mark.parametrize("name", ALL["extractor"].names())
class TestExtractor:
    def test_shapes_and_dtypes(self, name: str) -> None:
        extractor = build("extractor", name)
        kp = extractor.extract(textured_image())
        assert isinstance(kp, Keypoints) and len(kp) > 0
        assert kp.geometry.dtype == np.float32 and kp.geometry.shape == (len(kp), 6)
        expected = np.uint8 if extractor.descriptor_type == "binary" else np.float32
        assert kp.descriptors.dtype == expected
        assert kp.descriptors.shape == (len(kp), extractor.descriptor_size())

    def test_deterministic(self, name: str) -> None:
        a = build("extractor", name).extract(textured_image(3))
        b = build("extractor", name).extract(textured_image(3))
        np.testing.assert_array_equal(a.geometry, b.geometry)
        np.testing.assert_array_equal(a.descriptors, b.descriptors)

    def test_blank_image_gives_empty_keypoints(self, name: str) -> None:
        extractor = build("extractor", name)
        kp = extractor.extract(np.full((96, 96), 128, np.uint8))
        assert len(kp) == 0
        assert kp.descriptors.shape == (0, extractor.descriptor_size())

    def test_colour_image(self, name: str) -> None:
        assert len(build("extractor", name).extract(textured_image(channels=3))) > 0


@pytest.mark.parametrize("name", ALL["detector"].names())
def test_detector_returns_geometry(name: str) -> None:
    detector = build("detector", name)
    geometry = detector.detect(textured_image())
    assert geometry.dtype == np.float32 and geometry.ndim == 2 and geometry.shape[1] == 6 and len(geometry) > 0
    h, w = textured_image().shape
    assert np.all((geometry[:, 0] >= 0) & (geometry[:, 0] < w) & (geometry[:, 1] >= 0) & (geometry[:, 1] < h))
    np.testing.assert_array_equal(geometry, build("detector", name).detect(textured_image()))
    limit = getattr(detector.params, "max_keypoints", None)
    assert limit is None or len(geometry) <= limit


@pytest.mark.parametrize("name", ALL["extractor"].names())
def test_extractor_runs_inside_a_short_experiment(name: str, tmp_path) -> None:
    from benchmark.config import load_experiment
    from benchmark.runner import run
    from tests.conftest import write_experiment

    path = write_experiment(tmp_path, extractor={"name": name},
                            dataset={"name": "fashion-mnist-10k", "params": {"limit": 200}},
                            tokens={"max_len": 8}, model={"name": "gru", "params": {"hidden_size": 8}},
                            training={"epochs": 1, "batch_size": 64})
    record = run(load_experiment(path), tmp_path / "results", quiet=True).record
    assert record["extractor"] == name and record["kps_mean"] > 0
    assert record["empty_percent"] < 5, f"{name}: defaults leave {record['empty_percent']}% of images empty"


@pytest.mark.parametrize("name", ALL["ordering"].names())
def test_ordering_returns_a_permutation(name: str) -> None:
    ordering = build("ordering", name)
    kp = build("extractor", "orb").extract(textured_image())
    extra = {"shape": textured_image().shape[:2]} if ordering.needs_shape else {}
    perm = ordering.order(kp.geometry, np.random.default_rng(0), **extra)
    assert sorted(perm.tolist()) == list(range(len(kp)))
    np.testing.assert_array_equal(perm, ordering.order(kp.geometry, np.random.default_rng(0), **extra))
    assert len(ordering.order(kp.geometry[:0], np.random.default_rng(0), **extra)) == 0


TORCH_MODELS = [n for n in ALL["model"].names() if not issubclass(ALL["model"].get(n), Estimator)]
ESTIMATORS = [n for n in ALL["model"].names() if n not in TORCH_MODELS]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_estimator_learns_a_separable_task(name: str) -> None:
    """Models that train themselves get numpy sequences and must learn the toy task too."""
    from tests.test_pipeline import toy_batchers

    train, val = toy_batchers(n=240)
    sequences = train.sequences
    estimator = build("model", name)
    history = estimator.fit(sequences, train.items, train.labels.numpy(), val.items, val.labels.numpy(), seed=0)
    assert history and 0 <= history[-1]["val_accuracy"] <= 1
    predictions = estimator.predict(sequences, val.items)
    assert (predictions == val.labels.numpy()).mean() > 0.9


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_model_trains_on_padded_batches(name: str) -> None:
    """A few optimiser steps on a separable toy task: loss falls, no in-place autograd error."""
    torch.manual_seed(0)
    module = build("model", name).build(input_dim=10, num_classes=2)
    lengths = torch.tensor([5, 1, 3, 8] * 8)
    labels = torch.tensor([0, 1] * 16)
    tokens = torch.randn(32, 8, 10) * 0.1
    tokens[:, :, 0] += labels[:, None].float() * 2 - 1  # the class is in every token
    tokens[torch.arange(8)[None, :] >= lengths[:, None]] = 0  # zero padding
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        loss = torch.nn.functional.cross_entropy(module(tokens, lengths), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.5
    module.eval()
    with torch.no_grad():  # padding beyond a sequence's length must not change its prediction
        padded = torch.cat([tokens, torch.randn(32, 4, 10)], dim=1)
        torch.testing.assert_close(module(tokens, lengths), module(padded, lengths))


@pytest.mark.parametrize("name", ALL["balancer"].names())
def test_balancer_gives_valid_indices_and_weights(name: str) -> None:
    balancer = build("balancer", name)
    labels = np.array([0] * 50 + [1] * 10 + [2] * 5)
    indices = balancer.epoch_indices(labels, np.random.default_rng(0))
    assert indices.dtype.kind == "i" and len(indices) > 0
    assert indices.min() >= 0 and indices.max() < len(labels)
    assert set(labels[indices]) == {0, 1, 2}
    weights = balancer.loss_weights(labels, 3)
    assert weights is None or (weights.shape == (3,) and np.all(weights > 0))
    copies = balancer.augmented_copies(labels, np.random.default_rng(0))
    assert copies is None or (copies.min() >= 0 and copies.max() < len(labels))
