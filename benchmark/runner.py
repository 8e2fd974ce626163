"""One run of an experiment, from data set to results directory."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.api import Estimator, Transform
from benchmark.config import ExperimentConfig, dump_config
from benchmark.extraction import FeatureSet
from benchmark.images import Subset
from benchmark.registry import Registries
from benchmark.results import (
    is_complete,
    remove_stale,
    run_directory,
    run_id,
    run_lock,
    write_json,
    write_summary,
)
from benchmark.store import FeatureStore

log = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    run_dir: Path
    record: dict[str, Any]
    skipped: bool = False


def library_versions(registries: Registries) -> dict[str, str]:
    """Versions of everything that can change a result, recorded next to it."""
    import cv2
    import sklearn
    import torch

    from benchmark import __version__

    versions = {
        "bench": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "opencv": cv2.__version__,
        "scikit-learn": sklearn.__version__,
    }
    for _, dist in registries.pm.list_plugin_distinfo():
        versions[f"plugin:{dist.project_name}"] = dist.version
    return versions


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def run(
    config: ExperimentConfig,
    results_root: Path,
    registries: Registries | None = None,
    rerun: bool = False,
    quiet: bool = False,
    workers: int | None = None,
    store: FeatureStore | None | bool = True,
    threads: int | None = None,
) -> RunOutcome:
    """Run one experiment configuration; skip it when its results are already complete.

    ``workers``: extraction processes (default: every core). ``store``: the feature store to
    read and fill (True: the default location; False or None: always extract). ``threads``:
    torch CPU threads when the config sets none (executors running runs side by side divide the
    cores); neither changes a run's result or identity.
    """
    registries = registries or Registries()
    rid = run_id(config.model_dump(mode="json"))
    experiment_dir = Path(results_root) / config.experiment
    experiment_dir.mkdir(parents=True, exist_ok=True)
    with run_lock(experiment_dir, rid) as held:
        if not held:
            log.warning("run %s is being run by another process; skipping it here", rid)
            return RunOutcome(experiment_dir / rid, {}, skipped=True)
        if is_complete(experiment_dir / rid) and not rerun:
            log.info("run %s is already complete in %s (use --rerun to run it again)", rid, experiment_dir)
            record = json.loads((experiment_dir / rid / "record.json").read_text(encoding="utf-8"))
            return RunOutcome(experiment_dir / rid, record, skipped=True)
        remove_stale(experiment_dir, rid)
        return _execute(config, rid, experiment_dir, registries, quiet, workers, store, threads)


def _execute(config: ExperimentConfig, rid: str, experiment_dir: Path, registries: Registries, quiet: bool,
             workers: int | None, store: FeatureStore | None | bool, threads: int | None) -> RunOutcome:
    resolved = config.model_dump(mode="json")
    # Heavy imports only once a run really starts: `bench --help` stays fast.
    from benchmark.extraction import default_workers, extract_all, extraction_stats
    from benchmark.metrics import evaluate
    from benchmark.plots import plot_confusion, plot_history
    from benchmark.sequences import Batcher, build_sequences
    from benchmark.splits import make_split
    from benchmark.training import (
        TrainResult,
        configure_threads,
        describe,
        fit,
        predict,
        seed_everything,
        select_device,
    )

    started = time.perf_counter()
    build = lambda kind, component, key: registries[kind].build(component.name, component.params, key)
    dataset = build("dataset", config.dataset, "dataset")
    transforms = [build("transform", step, f"preprocess.{i}") for i, step in enumerate(config.preprocess)]
    extractor = build("extractor", config.extractor, "extractor")
    ordering = build("ordering", config.ordering, "ordering")
    model = build("model", config.model, "model")
    balancer = build("balancer", config.balancing, "balancing")

    seed_everything(config.seed)
    threads = configure_threads(config.training.num_threads or threads)
    device = select_device(config.training.device)
    log.info("run %s: %s on %s (%d CPU threads)", rid, config.experiment, device, threads)

    data = dataset.load()
    labels, classes = data.labels, data.class_names
    if data.skipped:
        log.warning("data %s: %d item(s) skipped (listed in the run's skipped.csv)", config.dataset.name,
                    len(data.skipped))
    split = make_split(labels, classes, config.split.val, config.split.test, config.split.seed, data.subset)
    log.info("data %s: %d images, %d classes; split %s", config.dataset.name, len(labels), len(classes), split.sizes())

    import cv2

    if store is True:
        store = FeatureStore()
    source = {
        "dataset": config.dataset.model_dump(mode="json"),
        "fingerprint": data.fingerprint,
        "extractor": config.extractor.model_dump(mode="json"),
        # the code that extracts: OpenCV, and the package (and release) of the extractor plugin
        "opencv": cv2.__version__,
        "extractor_source": dataclasses.asdict(registries["extractor"].source(config.extractor.name)),
    }

    def features_of(images: Sequence[np.ndarray], steps: list[Transform], inputs: dict[str, Any]) -> tuple[FeatureSet, bool]:
        """From the store when it has them, else extracted (and stored)."""
        def extract() -> FeatureSet:
            return extract_all(images, steps, extractor, seed=config.seed, quiet=quiet,
                               workers=workers or default_workers())

        return store.get_or_extract({**source, **inputs}, extract) if store else (extract(), False)

    extract_started = time.perf_counter()
    random_steps = not all(t.deterministic for t in transforms)
    features, cached = features_of(data.images, transforms, {
        "preprocess": [step.model_dump(mode="json") for step in config.preprocess],
        "seed": config.seed if random_steps else None,
    })
    augmented = None
    if config.augment:
        # Training images only, each augmented once per run seed: extracted once, stored, and
        # shared by every run with the same data, split, preprocessing, augmentation and seed.
        augment = [build("transform", step, f"augment.{i}") for i, step in enumerate(config.augment)]
        augmented, _ = features_of(Subset(data.images, split.train), transforms + augment, {
            "preprocess": [step.model_dump(mode="json") for step in config.preprocess],
            "augment": [step.model_dump(mode="json") for step in config.augment],
            "items": _ids_digest([data.ids[i] for i in split.train]),
            "seed": config.seed,
        })
    extract_seconds = time.perf_counter() - extract_started
    stats = extraction_stats(features, labels, classes, config.extraction.warn_empty_fraction)
    log.info("extraction: %.1f keypoints/image (min %d, max %d), %.2f%% images empty, %.1fs",
             stats["kps_mean"], stats["kps_min"], stats["kps_max"], 100 * stats["empty_fraction"], stats["seconds"])

    sequences = build_sequences(features, ordering, config.tokens.max_len, config.tokens.geometry,
                                np.random.default_rng(config.seed), config.tokens.float_norm)
    if augmented is not None:  # training rows from the augmented images; val and test untouched
        sequences.replace_rows(split.train, build_sequences(
            augmented, ordering, config.tokens.max_len, config.tokens.geometry,
            np.random.default_rng(config.seed + 1), config.tokens.float_norm))
    train_items = split.train
    copies = balancer.augmented_copies(labels[split.train], np.random.default_rng(config.seed))
    if copies is not None and len(copies):
        # Augmented copies become extra rows after the data set's own, labelled as their originals.
        steps = ([build("transform", step, f"augment.{i}") for i, step in enumerate(config.augment)]
                 or [registries["transform"].build(name, {"p": 1.0}) for name in ("warp", "contrast")])
        originals = split.train[copies]
        extra, _ = features_of(Subset(data.images, originals), transforms + steps, {
            "preprocess": [step.model_dump(mode="json") for step in config.preprocess],
            "augment": [step.model_dump(mode="json") for step in config.augment] or ["warp", "contrast"],
            "copies": _ids_digest([data.ids[i] for i in originals]),
            "seed": config.seed + 1,  # not the same draws as the `augment` copies of the same items
        })
        extra_sequences = build_sequences(extra, ordering, config.tokens.max_len, config.tokens.geometry,
                                          np.random.default_rng(config.seed + 2), config.tokens.float_norm)
        train_items = np.concatenate([split.train, len(labels) + np.arange(len(originals))])
        sequences = sequences.extended(extra_sequences)
        labels = np.concatenate([labels, labels[originals]])
        log.info("balancing: %d augmented copies added to %d training images", len(originals), len(split.train))
    batchers = {part: Batcher(sequences, labels, device, items=items)
                for part, items in (("train", train_items), ("val", split.val), ("test", split.test))}
    if isinstance(model, Estimator):  # trains itself (scikit-learn): no torch trainer
        fit_started = time.perf_counter()
        history = model.fit(sequences, train_items, labels[train_items], split.val, labels[split.val], config.seed)
        trained = TrainResult(history=history, best_epoch=len(history), seconds=time.perf_counter() - fit_started)
        test_pred, test_loss, parameters = model.predict(sequences, split.test), float("nan"), 0
    else:
        module = model.build(sequences.input_dim, len(classes))
        trained = fit(module, batchers["train"], batchers["val"], len(classes), balancer, config.training,
                      seed=config.seed, quiet=quiet)
        test_pred, test_loss = predict(module, batchers["test"])
        parameters = describe(module)["parameters"]
    test_true = data.labels[split.test]
    metrics = evaluate(test_true, test_pred, classes)
    metrics["loss"] = test_loss
    log.info("test: accuracy %.4f, balanced accuracy %.4f, macro-F1 %.4f",
             metrics["accuracy"], metrics["balanced_accuracy"], metrics["macro_f1"])

    ids = list(data.ids)
    record = {
        "run_id": rid,
        "experiment": config.experiment,
        "dataset": config.dataset.name,
        "extractor": config.extractor.name,
        "ordering": config.ordering.name,
        "model": config.model.name,
        "balancer": config.balancing.name,
        "seed": config.seed,
        "accuracy": round(metrics["accuracy"], 5),
        "balanced_accuracy": round(metrics["balanced_accuracy"], 5),
        "macro_f1": round(metrics["macro_f1"], 5),
        "kps_mean": stats["kps_mean"],
        "empty_percent": round(100 * stats["empty_fraction"], 3),
        "dropped_percent": round(100 * stats["dropped_fraction"], 3),
        "descriptor_dim": stats["descriptor_dim"],
        "extract_images_per_second": stats["images_per_second"],
        "epochs": len(trained.history),
        "best_epoch": trained.best_epoch,
        "train_seconds": round(trained.seconds, 1),
        "extract_seconds": round(extract_seconds, 2),  # this run's: extraction, or reading the store
        "features_from_store": cached,
        "total_seconds": round(time.perf_counter() - started, 1),
        "test_items": len(split.test),
        "train_items": len(train_items),
        "skipped_items": len(data.skipped),
        "parameters": parameters,
        "device": str(device),
        "warnings": stats["warnings"],
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": resolved,
    }
    with run_directory(experiment_dir, rid) as out:
        (out / "config.yaml").write_text(dump_config(config), encoding="utf-8")
        write_json(out / "versions.json", library_versions(registries))
        write_json(out / "metrics.json", metrics)
        write_json(out / "extraction.json", stats)
        write_json(out / "split.json", {
            "seed": config.split.seed,
            "sizes": split.sizes(),
            "sha256": {part: _ids_digest([ids[i] for i in getattr(split, part)]) for part in ("train", "val", "test")},
        })
        _write_history(out / "history.csv", trained.history)
        _write_rows(out / "skipped.csv", ["id", "reason"], data.skipped)
        _write_predictions(out / "predictions.csv", [ids[i] for i in split.test], test_true, test_pred, classes)
        title = f"{config.extractor.name} · {config.ordering.name} · {config.model.name} · {config.balancing.name}"
        plot_history(trained.history, out / "curves.png", title)
        plot_confusion(metrics["confusion_matrix"], classes, out / "confusion.png",
                       f"{title}\naccuracy {metrics['accuracy']:.3f}")
        write_json(out / "record.json", record)  # last: its presence marks the run complete
    write_summary(experiment_dir)
    registries.pm.hook.bench_run_finished(run_dir=experiment_dir / rid, record=record)
    return RunOutcome(experiment_dir / rid, record)


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows({k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()} for row in history)


def _write_rows(path: Path, header: list[str], rows: Any) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _write_predictions(path: Path, ids: list[str], true: np.ndarray, pred: np.ndarray, classes: list[str]) -> None:
    """Per-item test predictions: what paired significance tests between runs need."""
    _write_rows(path, ["id", "true", "predicted"], ((i, classes[t], classes[p]) for i, t, p in zip(ids, true, pred)))
