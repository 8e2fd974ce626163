"""The feature store: extracted keypoints on disk, extracted once per configuration, reused by every run.

An entry is a folder named by the hash of everything that changes extraction's output (data
fingerprint, preprocessing, extractor and its params, OpenCV version, store format). It holds
the ragged arrays as ``.npy`` files, read memory-mapped, and ``meta.json`` with their SHA-256:
a truncated or corrupted entry is detected, removed and rebuilt, never used. Entries are
written under a temporary name and renamed, so an interrupted extraction leaves nothing behind
that could be mistaken for complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.extraction import FeatureSet

log = logging.getLogger(__name__)

#: Bump when the layout or the meaning of stored arrays changes: old entries are then ignored.
STORE_FORMAT = 2  # 2: SIFT octaves decoded
CACHE_ENV = "BENCH_CACHE_DIR"
ARRAYS = ("geometry", "descriptors", "offsets", "image_shapes", "detected")


def default_cache_dir() -> Path:
    """$BENCH_CACHE_DIR, else the user cache dir (``~/.cache/bench`` on Linux)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bench"))


def store_key(inputs: dict[str, Any]) -> str:
    """The entry name for extraction ``inputs`` (must be JSON-serialisable)."""
    blob = json.dumps({"format": STORE_FORMAT, **inputs}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FeatureStore:
    """Entries under ``root/features/``."""

    def __init__(self, root: Path | None = None):
        self.root = (root or default_cache_dir()) / "features"

    def path(self, key: str) -> Path:
        return self.root / key

    def load(self, key: str) -> FeatureSet | None:
        """The stored features, memory-mapped; None when absent or damaged (a damaged one is removed)."""
        entry = self.path(key)
        meta_file = entry / "meta.json"
        if not meta_file.is_file():
            return None
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            for name in ARRAYS:
                if _sha256(entry / f"{name}.npy") != meta["sha256"][name]:
                    raise ValueError(f"{name}.npy does not match its checksum")
            arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("feature store entry %s is damaged (%s); removing it and extracting again", entry, exc)
            shutil.rmtree(entry, ignore_errors=True)
            return None
        return FeatureSet(
            geometry=arrays["geometry"],
            descriptors=arrays["descriptors"],
            offsets=arrays["offsets"],
            image_shapes=arrays["image_shapes"],
            detected=arrays["detected"],
            descriptor_type=meta["descriptor_type"],
            converted_images=meta["converted_images"],
            seconds=meta["seconds"],
        )

    def save(self, key: str, features: FeatureSet, inputs: dict[str, Any]) -> None:
        """Write an entry atomically. Float descriptors are stored as float16 (half the bytes;
        SIFT's and KAZE's values need no more precision than that for learning)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=self.root))
        try:
            descriptors = features.descriptors
            if features.descriptor_type == "float":
                descriptors = descriptors.astype(np.float16)
            arrays = {
                "geometry": features.geometry.astype(np.float32, copy=False),
                "descriptors": descriptors,
                "offsets": features.offsets,
                "image_shapes": features.image_shapes,
                "detected": features.detected if features.detected is not None else features.counts,
            }
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", np.ascontiguousarray(array))
            meta = {
                "format": STORE_FORMAT,
                "inputs": inputs,
                "descriptor_type": features.descriptor_type,
                "images": len(features),
                "keypoints": int(features.offsets[-1]),
                "converted_images": features.converted_images,
                "seconds": features.seconds,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "sha256": {name: _sha256(tmp / f"{name}.npy") for name in ARRAYS},
            }
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
            tmp.chmod(0o755)
            final = self.path(key)
            if final.exists():  # another process finished the same extraction first: keep theirs
                shutil.rmtree(tmp)
                return
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def get_or_extract(self, inputs: dict[str, Any], extract: Callable[[], FeatureSet]) -> tuple[FeatureSet, bool]:
        """Stored features for ``inputs``, extracting and storing them first if needed.

        Returns the features and whether they came from the store.
        """
        key = store_key(inputs)
        start = time.perf_counter()
        stored = self.load(key)
        if stored is not None:
            log.info("features from the store (%s, %.2fs)", self.path(key), time.perf_counter() - start)
            return stored, True
        features = extract()
        try:
            self.save(key, features, inputs)
        except OSError as exc:
            log.warning("could not write the feature store at %s (%s); continuing without it", self.root, exc)
            return features, False
        # Runs read what the store holds (float descriptors as float16), cold or warm alike, so a
        # warm re-run reproduces a cold one exactly.
        return self.load(key) or features, False

    def entries(self) -> list[dict[str, Any]]:
        """What is stored: one dict per entry with its key, size, and what it was extracted from."""
        found = []
        if not self.root.is_dir():
            return found
        for entry in sorted(self.root.iterdir()):
            meta_file = entry / "meta.json"
            if entry.name.startswith(".") or not meta_file.is_file():
                continue
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            size = sum(f.stat().st_size for f in entry.iterdir())
            found.append({"key": entry.name, "bytes": size, **{k: meta.get(k) for k in
                          ("inputs", "images", "keypoints", "descriptor_type", "created", "seconds")}})
        return found

    def clear(self) -> int:
        """Remove every entry (and leftovers of interrupted writes); returns the bytes freed."""
        if not self.root.is_dir():
            return 0
        freed = sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())
        shutil.rmtree(self.root)
        return freed
