"""Data sets and splits: the bundled files, the full data set's acquisition chain, stratification."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import bench_plugins.datasets as ds
import numpy as np
import pytest

from benchmark.errors import DataError
from benchmark.splits import make_split
from tests.conftest import write_idx


def test_bundled_files_are_the_recorded_official_ones() -> None:
    folder = Path(ds.__file__).parent / "data" / "fashion-mnist-10k"
    recorded = dict(reversed(line.split()) for line in (folder / "SHA256SUMS").read_text().splitlines())
    for name, digest in recorded.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert "MIT License" in (folder / "LICENSE").read_text()


def test_bundled_dataset_is_fashion_mnist_test_split() -> None:
    data = ds.FashionMNIST10k().load()
    assert np.asarray(data.images).shape == (10000, 28, 28)
    assert np.bincount(data.labels).tolist() == [1000] * 10
    assert data.class_names[0] == "T-shirt/top" and data.ids[17] == "t10k-17"


def test_idx_reader_rejects_corrupt_files(tmp_path: Path) -> None:
    path = tmp_path / "x-idx1-ubyte"
    digest = write_idx(path, np.arange(5, dtype=np.uint8))
    assert ds.read_idx(path, digest).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(DataError, match="checksum mismatch"):
        ds.read_idx(path, "0" * 64)
    (tmp_path / "junk").write_bytes(b"not an idx file")
    with pytest.raises(DataError, match="not an unsigned-byte IDX file"):
        ds.read_idx(tmp_path / "junk")


def test_full_dataset_uses_official_split(fashion_mnist_dir: Path) -> None:
    data = ds.FashionMNIST().load()
    assert len(data.labels) == 90
    assert (data.subset == "train").sum() == 60 and (data.subset == "test").sum() == 30
    assert data.ids[0] == "train-0" and data.ids[60] == "t10k-0"


def test_explicit_root_wins_and_names_missing_files(fashion_mnist_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"lacks train-images-idx3-ubyte"):
        ds.FashionMNIST(ds.FashionMNIST.Params(root=str(empty))).load()


def test_not_found_anywhere_lists_every_way_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ds.FASHION_MNIST_ENV, raising=False)
    monkeypatch.setattr(ds, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(ds.FashionMNIST, "cache_dir", staticmethod(lambda: tmp_path / "cache"))
    with pytest.raises(DataError) as excinfo:
        ds.FashionMNIST(ds.FashionMNIST.Params(download=False)).load()
    message = str(excinfo.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "cache") in message and "fashion-mnist-10k" in message


@pytest.fixture
def http_server(fashion_mnist_dir: Path):
    """The miniature data set served over HTTP on the loopback interface."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(fashion_mnist_dir))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", fashion_mnist_dir
    server.shutdown()


def test_download_verifies_and_caches(http_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, served = http_server
    # The server needs .gz names for every file; the fixture wrote labels uncompressed.
    for stem in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        import gzip

        (served / f"{stem}.gz").write_bytes(gzip.compress((served / stem).read_bytes()))
    monkeypatch.delenv(ds.FASHION_MNIST_ENV)
    monkeypatch.setattr(ds, "DEBIAN_DIR", tmp_path / "nowhere")
    cache = tmp_path / "cache"
    monkeypatch.setattr(ds.FashionMNIST, "cache_dir", staticmethod(lambda: cache))
    data = ds.FashionMNIST(ds.FashionMNIST.Params(url=url)).load()
    assert len(data.labels) == 90
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{s}.gz" for s in ds.FASHION_MNIST_SHA256)

    # A corrupted download is refused and nothing is kept.
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    (cache / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="did not match the official checksum; nothing was kept"):
        ds.FashionMNIST(ds.FashionMNIST.Params(url=url)).load()
    assert not (cache / "t10k-labels-idx1-ubyte.gz").exists()
    assert not list(cache.glob("*.part"))


# -- splits ------------------------------------------------------------------------------------

CLASSES = [f"c{i}" for i in range(4)]


def test_split_is_stratified_disjoint_and_fixed_by_its_seed() -> None:
    labels = np.repeat(np.arange(4), 50)
    split = make_split(labels, CLASSES, val=0.1, test=0.2, seed=0)
    parts = [set(split.train), set(split.val), set(split.test)]
    assert sum(map(len, parts)) == 200 and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert split.sizes() == {"train": 140, "val": 20, "test": 40}
    assert np.bincount(labels[split.test]).tolist() == [10] * 4
    again = make_split(labels, CLASSES, val=0.1, test=0.2, seed=0)
    np.testing.assert_array_equal(split.test, again.test)
    assert not np.array_equal(split.test, make_split(labels, CLASSES, 0.1, 0.2, seed=1).test)


def test_official_test_split_is_used_as_given() -> None:
    labels = np.tile(np.arange(4), 30)
    subset = np.array(["train"] * 80 + ["test"] * 40)
    split = make_split(labels, CLASSES, val=0.25, test=0.5, seed=0, subset=subset)
    np.testing.assert_array_equal(split.test, np.arange(80, 120))
    assert len(split.val) == 20 and len(split.train) == 60


def test_a_class_missing_from_a_split_is_a_clear_error() -> None:
    labels = np.array([0] * 40 + [1] * 40 + [2] * 2 + [3] * 40)
    with pytest.raises(DataError, match=r"'c2' has 1 item \(needs at least 2\)"):
        make_split(labels, CLASSES, val=0.1, test=0.2, seed=0)
    subset = np.array(["train"] * 100 + ["test"] * 22)
    with pytest.raises(DataError, match=r"test lacks 'c0', 'c1'"):
        make_split(labels, CLASSES, val=0.1, test=0.2, seed=0, subset=subset)
