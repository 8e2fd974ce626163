"""Feature-store size on disk for the full 70,000 Fashion-MNIST images (ORB and SIFT), and the peak
resident memory of a full-data ORB run (one epoch; memory does not grow with epochs)."""

from __future__ import annotations

import argparse
import shutil
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
            features = extract_all(data.images, transforms, extractor, quiet=True, workers=2)
            store.get_or_extract({"extractor": name}, lambda: features)  # noqa: B023 (called at once)
            seconds = time.perf_counter() - start
            [entry] = [e for e in store.entries() if e["inputs"]["extractor"] == name]
            per_kp = entry["bytes"] / max(entry["keypoints"], 1)
            stored_as = "uint8 bits" if entry["descriptor_type"] == "binary" else "float16"
            rows.append([name, entry["images"], entry["keypoints"], stored_as, f"{entry['bytes'] / 1e6:.1f}",
                         f"{per_kp:.0f}", f"{seconds:.0f}"])
    print(tabulate(rows, headers=["extractor", "images", "keypoints", "descriptors as", "MB on disk", "bytes/kp",
                                  "extract s (2 workers)"], tablefmt="github"))

    for label, extra in (("cold (extracts, 2 workers)", []), ("warm (reads the store)", [])):
        main_peak, total_peak = peak_rss_of_run(extra)
        print(f"\nfull-data ORB run, {label}: peak RSS {main_peak:.0f} MB in the main process, "
              f"{total_peak:.0f} MB summed over all its processes")


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_of_run(extra: list[str], cache: str = "/tmp/bench-memory-benchmark-cache") -> tuple[float, float]:
    """Peak RSS of `bench run` (its main process's high-water mark, and the largest sum over its
    process tree), sampled from /proc every 0.1 s. ru_maxrss would mislead here: a child that
    forks and execs reports the parent's RSS at the fork."""
    with tempfile.TemporaryDirectory() as results:
        command = [sys.executable, "-m", "benchmark.cli", "run", "experiments/fashion-mnist/orb_rnn.yaml", "-q",
                   "--set", "training.epochs=1", "--results-dir", results, "--rerun", "--cache-dir", cache, *extra]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        main_peak = total_peak = 0.0
        while process.poll() is None:
            main_peak = max(main_peak, _rss_mb(process.pid, "VmHWM"))
            total_peak = max(total_peak, sum(_rss_mb(pid) for pid in _tree(process.pid)))
            time.sleep(0.1)
        if process.returncode:
            raise SystemExit(f"bench run failed with exit code {process.returncode}")
    return main_peak, total_peak


if __name__ == "__main__":
    shutil.rmtree("/tmp/bench-memory-benchmark-cache", ignore_errors=True)
    main()
