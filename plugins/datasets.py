"""Built-in datasets: Fashion-MNIST, bundled (10k) and full (70k, found or downloaded)."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import tempfile
import urllib.request
import zlib
from importlib.resources import files
from pathlib import Path

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import Dataset, ImageSet, Params
from benchmark.errors import DataError

log = logging.getLogger(__name__)

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

#: SHA-256 of the *decompressed* IDX payloads: gzip files re-compressed by a mirror or a
#: distribution (Debian's are) still verify, and so do uncompressed copies.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
#: The bundled files are the official test split: the same checksums, kept apart from the table
#: the full data set's acquisition verifies against.
BUNDLED_SHA256 = {k: v for k, v in FASHION_MNIST_SHA256.items() if k.startswith("t10k")}
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_ENV = "BENCH_FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


def read_idx(path: Path, expected_sha256: str | None = None) -> np.ndarray:
    """An IDX file (gzipped or not) as a uint8 array, verified against the payload's SHA-256."""
    raw = path.read_bytes()
    try:
        payload = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: truncated or corrupt gzip file ({exc}); delete it and retry") from None
    if expected_sha256 and hashlib.sha256(payload).hexdigest() != expected_sha256:
        raise DataError(f"{path}: checksum mismatch (corrupt or not the official file); delete it and retry")
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0 or payload[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file")
    ndim = payload[3]
    shape = tuple(int.from_bytes(payload[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(payload, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _ids(prefix: str, n: int) -> list[str]:
    """Item ids that name the official file and index: ``t10k-17`` is test image 17."""
    return [f"{prefix}-{i}" for i in range(n)]


class FashionMNIST10k(Dataset):
    """Fashion-MNIST's official test split (10,000 images, 10 classes), bundled: no download."""

    name = "fashion-mnist-10k"

    class Params(Params):
        limit: int | None = Field(None, ge=10, description="use only the first N images (quick trials)")

    def load(self) -> ImageSet:
        folder = files("bench_plugins") / "data" / "fashion-mnist-10k"
        images = read_idx(Path(str(folder / "t10k-images-idx3-ubyte.gz")), BUNDLED_SHA256["t10k-images-idx3-ubyte"])
        labels = read_idx(Path(str(folder / "t10k-labels-idx1-ubyte.gz")), BUNDLED_SHA256["t10k-labels-idx1-ubyte"])
        n = self.params.limit or len(labels)
        fp = _fingerprint(self.name, BUNDLED_SHA256["t10k-images-idx3-ubyte"], n)
        return ImageSet(images[:n], labels[:n], list(FASHION_MNIST_CLASSES), _ids("t10k", n), fp)


class FashionMNIST(Dataset):
    """Full Fashion-MNIST (70,000 images) with its official train/test split.

    Looked for in: ``root`` → $BENCH_FASHION_MNIST_DIR → the user cache dir →
    /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist) → downloaded from
    ``url`` into the user cache dir, SHA-256 verified.
    """

    name = "fashion-mnist"

    class Params(Params):
        root: str | None = Field(None, description="folder holding the four IDX files (.gz or not)")
        download: bool = Field(True, description="download when found nowhere else")
        url: str = Field(FASHION_MNIST_URL, description="base URL of the official files")

    def candidates(self) -> list[tuple[str, Path]]:
        """Where the files are looked for, in order, with a label for error messages."""
        places = []
        if os.environ.get(FASHION_MNIST_ENV):
            places.append((f"${FASHION_MNIST_ENV}", Path(os.environ[FASHION_MNIST_ENV]).expanduser()))
        places.append(("user cache", self.cache_dir()))
        places.append(("Debian dataset-fashion-mnist", DEBIAN_DIR))
        return places

    @staticmethod
    def cache_dir() -> Path:
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("bench")) / "fashion-mnist"

    def locate(self) -> Path:
        """The first folder that holds all four files; downloads them when allowed.

        An explicit ``root`` is authoritative: when it lacks files, that is the error, rather
        than silently using a copy found elsewhere.
        """
        if self.params.root:
            root = Path(self.params.root).expanduser()
            missing = [s for s in FASHION_MNIST_SHA256 if not _find_idx(root, s)]
            if missing:
                raise DataError(f"fashion-mnist: {root} (dataset.params.root) lacks {', '.join(missing)} (.gz or uncompressed)")
            return root
        for _, folder in self.candidates():
            if all(_find_idx(folder, stem) for stem in FASHION_MNIST_SHA256):
                return folder
        if self.params.download:
            try:
                return self.download(self.cache_dir())
            except OSError as exc:
                reason = f"download from {self.params.url} failed ({exc})"
        else:
            reason = "download is off (params.download: false)"
        looked = "\n".join(f"  - {label}: {folder}" for label, folder in self.candidates())
        raise DataError(
            "fashion-mnist: the data set was not found and " + reason + ".\nLooked in:\n" + looked +
            "\nGet it by one of:\n"
            "  - apt-get install dataset-fashion-mnist   (Debian/Ubuntu; installs /usr/share/datasets/fashion-mnist)\n"
            f"  - download the four *-ubyte.gz files from {FASHION_MNIST_URL} into a folder and set\n"
            f"    dataset.params.root or ${FASHION_MNIST_ENV} to it\n"
            "  - use the bundled 10,000-image subset: dataset: {name: fashion-mnist-10k}"
        )

    def download(self, folder: Path) -> Path:
        """Fetch the four files into ``folder``; each is verified before it is kept."""
        from tqdm.auto import tqdm

        folder.mkdir(parents=True, exist_ok=True)
        for stem, sha in FASHION_MNIST_SHA256.items():
            target = folder / f"{stem}.gz"
            if target.exists():
                continue
            url = self.params.url.rstrip("/") + f"/{stem}.gz"
            log.info("downloading %s", url)
            with urllib.request.urlopen(url, timeout=60) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with (tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp,
                      tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=None) as bar):
                    for chunk in iter(lambda: response.read(1 << 16), b""):
                        tmp.write(chunk)
                        bar.update(len(chunk))
            try:
                read_idx(Path(tmp.name), sha)
            except DataError:
                os.unlink(tmp.name)
                raise DataError(f"fashion-mnist: {url} did not match the official checksum; nothing was kept") from None
            shutil.move(tmp.name, target)
        return folder

    def load(self) -> ImageSet:
        folder = self.locate()

        def read(stem: str) -> np.ndarray:
            path = _find_idx(folder, stem)
            assert path is not None
            return read_idx(path, FASHION_MNIST_SHA256[stem])

        images = np.concatenate([read("train-images-idx3-ubyte"), read("t10k-images-idx3-ubyte")])
        train_labels, test_labels = read("train-labels-idx1-ubyte"), read("t10k-labels-idx1-ubyte")
        labels = np.concatenate([train_labels, test_labels])
        subset = np.array(["train"] * len(train_labels) + ["test"] * len(test_labels))
        ids = _ids("train", len(train_labels)) + _ids("t10k", len(test_labels))
        fp = _fingerprint(self.name, FASHION_MNIST_SHA256["train-images-idx3-ubyte"])
        return ImageSet(images, labels, list(FASHION_MNIST_CLASSES), ids, fp, subset=subset)


@hookimpl
def bench_register_datasets() -> list[type[Dataset]]:
    return [FashionMNIST10k, FashionMNIST]
