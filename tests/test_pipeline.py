"""Extraction, sequences and training: the stages between images and a trained model."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from benchmark.config import TrainingConfig
from benchmark.extraction import extract_all, extraction_stats
from benchmark.sequences import GEOMETRY_FEATURES, Batcher, build_sequences
from benchmark.training import fit, predict, select_device
from tests.conftest import textured_image


@pytest.fixture
def orb(registries):
    return registries["extractor"].build("orb", {})


def test_float_images_are_converted_not_silently_empty(orb, caplog: pytest.LogCaptureFixture) -> None:
    """The seed's failure: ORB on [0, 1] floats finds nothing. Here it is converted and reported."""
    images = [textured_image(i).astype(np.float32) / 255 for i in range(3)]
    with caplog.at_level(logging.WARNING):
        features = extract_all(images, [], orb, quiet=True)
    assert features.converted_images == 3
    assert (features.counts > 0).all()
    assert "received float32 images" in caplog.text and "to-uint8" in caplog.text
    stats = extraction_stats(features, np.zeros(3, int), ["a"], warn_empty_fraction=0.05)
    assert any("converted" in w for w in stats["warnings"])


def test_extraction_stats_flag_empty_images_overall_and_per_class(orb) -> None:
    blank = np.full((96, 96), 90, np.uint8)
    images = [textured_image(0), textured_image(1), blank, blank]
    features = extract_all(images, [], orb, quiet=True)
    stats = extraction_stats(features, np.array([0, 0, 1, 1]), ["shirt", "bag"], warn_empty_fraction=0.05)
    assert stats["empty_fraction"] == 0.5 and stats["kps_min"] == 0 and stats["kps_max"] > 0
    assert stats["per_class"]["bag"]["empty_fraction"] == 1.0
    assert stats["per_class"]["shirt"]["empty_fraction"] == 0.0
    assert stats["descriptor_dim"] == 256
    assert "50.0% of images have no keypoints" in stats["warnings"][0]


def test_sequences_are_ordered_truncated_and_unpacked_exactly(orb) -> None:
    images = [textured_image(0), np.full((96, 96), 90, np.uint8)]
    features = extract_all(images, [], orb, quiet=True)
    response = type("R", (), {"needs_shape": False, "order": lambda self, g, rng: np.argsort(-g[:, 4], kind="stable")})()
    seqs = build_sequences(features, response, max_len=5, with_geometry=True, rng=np.random.default_rng(0))
    assert seqs.lengths.tolist() == [5, 0]
    assert seqs.input_dim == 256 + len(GEOMETRY_FEATURES)
    geom, desc = features.image(0)
    top = np.argsort(-geom[:, 4], kind="stable")[:5]
    np.testing.assert_array_equal(seqs.descriptors[0, :5], desc[top])

    tokens, lengths, _ = Batcher(seqs, np.array([0, 1]), torch.device("cpu")).batch(np.array([0, 1]))
    assert lengths.tolist() == [5, 1]  # the empty image is one "nothing found" token
    bits = np.unpackbits(desc[top], axis=1).astype(np.float32) * 2 - 1
    np.testing.assert_array_equal(tokens[0, :, :256].numpy(), bits)
    assert torch.all(tokens[1, 0, :256] == -1) and torch.all(tokens[1, 0, 256:] == 0)
    assert torch.all(tokens[0, :, 256:258].abs() <= 1)  # positions normalised to [-1, 1]


def toy_batchers(n: int = 96, seed: int = 0):
    """Sequences whose class is written in every token's first bits: learnable in a few steps."""
    from benchmark.sequences import Sequences

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    desc = rng.integers(0, 256, (n, 6, 2), dtype=np.uint8)
    desc[:, :, 0] = (labels[:, None] * 85).astype(np.uint8)
    seqs = Sequences(desc, np.zeros((n, 6, 0), np.float32), rng.integers(1, 7, n).astype(np.int64), binary=True)
    cpu = torch.device("cpu")
    cut = n * 2 // 3
    return Batcher(seqs, labels, cpu, np.arange(0, cut)), Batcher(seqs, labels, cpu, np.arange(cut, n))


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru"])
def test_every_recurrent_model_learns_through_the_trainer(model: str, registries) -> None:
    train, val = toy_batchers()
    torch.manual_seed(0)
    module = registries["model"].build(model, {"hidden_size": 16}).build(train_input_dim(train), 3)
    balancer = registries["balancer"].build("none", {})
    config = TrainingConfig(epochs=25, batch_size=16, lr=1e-2, patience=None)
    result = fit(module, train, val, 3, balancer, config, seed=0, quiet=True)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"] * 0.5
    predictions, _ = predict(module, val)
    assert (predictions == val.labels.numpy()).mean() > 0.9


def train_input_dim(batcher: Batcher) -> int:
    return batcher.descriptors.shape[2] * 8 + batcher.geometry.shape[2]


def test_early_stopping_restores_the_best_epoch(registries) -> None:
    train, val = toy_batchers()
    torch.manual_seed(0)
    module = registries["model"].build("gru", {"hidden_size": 8}).build(train_input_dim(train), 3)
    # A learning rate far too high: validation gets worse, training stops and rolls back.
    config = TrainingConfig(epochs=30, batch_size=16, lr=0.5, patience=2, monitor="val_loss", grad_clip=None)
    result = fit(module, train, val, 3, registries["balancer"].build("none", {}), config, seed=0, quiet=True)
    best = min(result.history, key=lambda r: r["val_loss"])
    assert result.best_epoch == best["epoch"]
    if result.stopped_early:
        assert len(result.history) == result.best_epoch + 2
    _, restored_loss = predict(module, val)
    assert restored_loss == pytest.approx(best["val_loss"], rel=1e-4)


def test_class_weights_reach_the_loss(registries) -> None:
    labels = np.array([0] * 90 + [1] * 10)
    weights = registries["balancer"].build("class-weights", {}).loss_weights(labels, 2)
    np.testing.assert_allclose(weights, [100 / 180, 100 / 20])
    assert np.isclose((weights[labels]).mean(), 1.0)


def test_resampling_balancers_balance_an_epoch(registries) -> None:
    labels = np.array([0] * 90 + [1] * 10)
    rng = np.random.default_rng(0)
    under = registries["balancer"].build("undersample", {}).epoch_indices(labels, rng)
    assert np.bincount(labels[under]).tolist() == [10, 10]
    over = registries["balancer"].build("oversample", {}).epoch_indices(labels, rng)
    assert len(over) == 100 and 35 <= np.bincount(labels[over])[1] <= 65


def test_device_selection() -> None:
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type == "cuda" if torch.cuda.is_available() else select_device("auto").type in ("cpu", "mps")
    if not torch.cuda.is_available():
        from benchmark.errors import RunError

        with pytest.raises(RunError, match="no CUDA device"):
            select_device("cuda")


def test_bucketed_batches_cover_the_epoch_with_similar_lengths() -> None:
    from benchmark.training import bucketed_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 65, 1000)
    order = rng.permutation(1000)
    batches = bucketed_batches(order, lengths, batch_size=32, rng=rng, window=8)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    unbucketed = np.mean([np.ptp(lengths[order[i:i + 32]]) for i in range(0, 1000, 32)])
    assert spread < unbucketed / 3


def test_hilbert_index_visits_every_cell_once_with_unit_steps() -> None:
    from bench_plugins.orderings import hilbert_index

    order = 3
    xs, ys = np.meshgrid(np.arange(8), np.arange(8))
    d = hilbert_index(xs.ravel(), ys.ravel(), order)
    assert sorted(d.tolist()) == list(range(64))
    path = np.argsort(d)
    steps = np.abs(np.diff(xs.ravel()[path])) + np.abs(np.diff(ys.ravel()[path]))
    assert np.all(steps == 1)  # consecutive curve positions are grid neighbours


def test_radial_orders_from_the_centre(registries) -> None:
    geometry = np.zeros((3, 6), np.float32)
    geometry[:, 0] = [0, 50, 90]
    geometry[:, 1] = [0, 48, 90]
    order = registries["ordering"].build("radial", {}).order(geometry, np.random.default_rng(0), shape=(100, 100))
    assert order.tolist() == [1, 2, 0]


@pytest.mark.parametrize("overrides", [{"schedule": "cosine", "warmup_epochs": 1.0}, {"schedule": "onecycle"},
                                       {"label_smoothing": 0.1, "shuffle_tokens": True}])
def test_training_options_still_learn(overrides: dict, registries) -> None:
    train, val = toy_batchers()
    torch.manual_seed(0)
    module = registries["model"].build("gru", {"hidden_size": 16, "pooling": "attention"}).build(
        train_input_dim(train), 3)
    config = TrainingConfig(epochs=20, batch_size=16, lr=1e-2, patience=None, **overrides)
    result = fit(module, train, val, 3, registries["balancer"].build("none", {}), config, seed=0, quiet=True)
    predictions, _ = predict(module, val)
    assert (predictions == val.labels.numpy()).mean() > 0.9
    if overrides.get("schedule") == "cosine":
        lrs = [row["lr"] for row in result.history]
        assert lrs[-1] < lrs[1] * 0.1  # annealed


def test_token_shuffling_permutes_real_tokens_only() -> None:
    train, _ = toy_batchers()
    index = np.arange(8)
    plain, lengths, _ = train.batch(index)
    shuffled, _, _ = train.batch(index, torch.Generator().manual_seed(0))
    for row, n in enumerate(lengths.tolist()):
        a = sorted(map(tuple, plain[row, :n].tolist()))
        assert a == sorted(map(tuple, shuffled[row, :n].tolist()))  # the same tokens
        assert torch.equal(plain[row, n:], shuffled[row, n:])  # padding untouched
