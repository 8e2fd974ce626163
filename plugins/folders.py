"""Built-in datasets of image files: a class-per-folder tree, and the Kaggle clothing CSV layout.

Bad files never crash a run and are never dropped silently: each is checked when the dataset
loads, and a missing, empty or undecodable one is skipped and reported with its reason. Above
``max_skipped`` (a share of all items) the load stops with an error listing the first few.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import Dataset, ImageSet, Params
from benchmark.errors import DataError
from benchmark.images import ImageFiles, unreadable

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
SPLIT_FOLDERS = {"train": "train", "validation": "val", "val": "val", "test": "test"}


class FileDatasetParams(Params):
    max_skipped: float = Field(0.05, ge=0, le=1, description="stop when more than this share of items is unusable")
    max_side: int | None = Field(1024, ge=16, description="shrink larger images on load (memory, time)")
    min_count: int = Field(2, ge=1, description="drop classes with fewer usable images (stratified splits need 2)")


def _checked(items: list[tuple[str, str, str, str | None]], max_skipped: float, max_side: int | None,
             min_count: int, fingerprint_of: str) -> ImageSet:
    """Validate files, apply ``min_count``, and build the ImageSet; ``items``: (id, path, label, subset)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # decoding releases the GIL
        problems = list(pool.map(lambda item: unreadable(item[1]), items))
    skipped = [(item[0], f"{item[1]}: {why}") for item, why in zip(items, problems) if why]
    usable = [item for item, why in zip(items, problems) if not why]
    counts = Counter(item[2] for item in usable)
    rare = sorted(label for label, n in counts.items() if n < min_count)
    if rare:
        skipped += [(i, f"class {label!r} has {counts[label]} usable image(s) (< min_count {min_count})")
                    for i, _, label, _ in usable if label in rare]
        usable = [item for item in usable if item[2] not in rare]
    for item_id, reason in skipped:
        log.warning("skipped %s: %s", item_id, reason)
    share = len(skipped) / max(len(items), 1)
    if share > max_skipped:
        first = "\n".join(f"  - {i}: {why}" for i, why in skipped[:10])
        raise DataError(f"{len(skipped)} of {len(items)} items ({share:.1%}) are unusable, more than max_skipped "
                        f"{max_skipped:.0%}:\n{first}\nFix or remove them, or raise dataset.params.max_skipped.")
    if not usable:
        raise DataError("no usable images")
    class_names = sorted({item[2] for item in usable})
    index = {name: i for i, name in enumerate(class_names)}
    subsets = [item[3] for item in usable]
    digest = hashlib.sha256(fingerprint_of.encode())
    for item_id, path, label, subset in usable:
        stat = os.stat(path)
        digest.update(f"{item_id}|{label}|{subset}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return ImageSet(
        images=ImageFiles([item[1] for item in usable], max_side),
        labels=np.array([index[item[2]] for item in usable], dtype=np.int64),
        class_names=class_names,
        ids=[item[0] for item in usable],
        fingerprint=digest.hexdigest()[:16],
        subset=np.array(subsets) if any(subsets) else None,
        skipped=skipped,
    )


class ImageFolder(Dataset):
    """One folder per class (``root/<class>/*.jpg``); with ``train/``, ``validation/`` (or ``val/``)
    and ``test/`` under the root, those splits are used as given."""

    name = "image-folder"

    class Params(FileDatasetParams):
        root: str = Field(description="the folder holding one folder per class (or train/val/test)")

    def load(self) -> ImageSet:
        root = Path(self.params.root).expanduser()
        if not root.is_dir():
            raise DataError(f"image-folder: {root} is not a folder (dataset.params.root)")
        splits = {sub.name: SPLIT_FOLDERS[sub.name.lower()] for sub in root.iterdir()
                  if sub.is_dir() and sub.name.lower() in SPLIT_FOLDERS}
        parts = [(root / name, subset) for name, subset in splits.items()] if "test" in splits.values() \
            else [(root, None)]
        items = []
        for folder, subset in parts:
            for class_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
                for path in sorted(class_dir.iterdir()):
                    if path.suffix.lower() in IMAGE_SUFFIXES or path.suffix == "":
                        item_id = str(path.relative_to(root))
                        items.append((item_id, str(path), class_dir.name, subset))
        if not items:
            raise DataError(f"image-folder: no images under {root} (expected {root}/<class>/<image>.jpg)")
        p = self.params
        return _checked(items, p.max_skipped, p.max_side, p.min_count, f"{self.name}:{root.resolve()}")


class ClothingCSV(Dataset):
    """The Kaggle clothing-dataset-full layout: ``images.csv`` (image,sender_id,label,kids) and
    ``<image>.jpg`` in ``images_original/``, ``images/`` or ``images_compressed/``."""

    name = "clothing-csv"

    class Params(FileDatasetParams):
        root: str = Field(description="the folder holding images.csv")
        csv: str = Field("images.csv", description="the label file, relative to root")
        images_dir: str | None = Field(None, description="default: the first of images_original, images, "
                                                         "images_compressed that exists")
        exclude: list[str] = Field(["Skip", "Not sure", "Other"], description="labels to leave out")
        rename: dict[str, str] = Field(default_factory=dict, description="label → new label (merges classes)")

    def load(self) -> ImageSet:
        p = self.params
        root = Path(p.root).expanduser()
        table = root / p.csv
        if not table.is_file():
            raise DataError(f"clothing-csv: {table} not found (dataset.params.root should hold {p.csv})")
        candidates = [p.images_dir] if p.images_dir else ["images_original", "images", "images_compressed"]
        folder = next((root / c for c in candidates if (root / c).is_dir()), None)
        if folder is None:
            raise DataError(f"clothing-csv: no image folder in {root}; looked for {', '.join(candidates)} "
                            "(set dataset.params.images_dir)")
        with table.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"image", "label"} - set(reader.fieldnames or [])
            if missing:
                raise DataError(f"clothing-csv: {table} lacks the column(s) {', '.join(sorted(missing))} "
                                f"(has {', '.join(reader.fieldnames or [])}; expected image,sender_id,label,kids)")
            rows = list(reader)
        excluded = set(p.exclude)
        items = []
        for row in rows:
            label = p.rename.get(row["label"], row["label"])
            if row["label"] in excluded or label in excluded:
                continue
            name = row["image"] if Path(row["image"]).suffix else f"{row['image']}.jpg"
            items.append((row["image"], str(folder / name), label, None))
        log.info("clothing-csv: %d rows, %d after excluding %s", len(rows), len(items), sorted(excluded))
        return _checked(items, p.max_skipped, p.max_side, p.min_count, f"{self.name}:{table.resolve()}")


@hookimpl
def bench_register_datasets() -> list[type[Dataset]]:
    return [ImageFolder, ClothingCSV]
