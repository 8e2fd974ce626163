"""Feature-store size on disk for the full 70,000 Fashion-MNIST images (ORB and SIFT), and the peak
resident memory of a full-data ORB run (one epoch; memory does not grow with epochs)."""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from benchmark.extraction import extract_all
from benchmark.registry import Registries
from benchmark.store import FeatureStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extractors", nargs="+", default=["orb", "sift"])
    args = parser.parse_args()
    registries = Registries()
    data = registries["dataset"].build("fashion-mnist", {"download": False}).load()
    transforms = [registries["transform"].build("resize", {"scale": 4}), registries["transform"].build("grayscale", {})]
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        store = FeatureStore(Path(cache))
        for name in args.extractors:
            extractor = registries["extractor"].build(name, {})
            start = time.perf_counter()
            store.get_or_extract({"extractor": name},
                                 lambda: extract_all(data.images, transforms, extractor, quiet=True, workers=2))
            seconds = time.perf_counter() - start
            [entry] = [e for e in store.entries() if e["inputs"]["extractor"] == name]
            per_kp = entry["bytes"] / max(entry["keypoints"], 1)
            stored_as = "uint8 bits" if entry["descriptor_type"] == "binary" else "float16"
            rows.append([name, entry["images"], entry["keypoints"], stored_as, f"{entry['bytes'] / 1e6:.1f}",
                         f"{per_kp:.0f}", f"{seconds:.0f}"])
    print(tabulate(rows, headers=["extractor", "images", "keypoints", "descriptors as", "MB on disk", "bytes/kp",
                                  "extract s (2 workers)"], tablefmt="github"))

    with tempfile.TemporaryDirectory() as results:
        command = [sys.executable, "-m", "benchmark.cli", "run", "experiments/fashion-mnist/orb_rnn.yaml", "-q",
                   "--set", "training.epochs=1", "--results-dir", results, "--rerun"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS of a full-data ORB run (largest process, incl. extraction workers): {peak:.0f} MB")


if __name__ == "__main__":
    main()
