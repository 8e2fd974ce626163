"""Extraction throughput: bench's path vs a bare cv2 loop (1 process), and bench with N workers vs 1."""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from tabulate import tabulate

from benchmark.extraction import extract_all
from benchmark.registry import Registries


def bare_loop(images: np.ndarray) -> list:
    """What a user would write by hand: resize 4×, ORB with the same parameters, keep the results."""
    orb = cv2.ORB_create(nfeatures=64, scaleFactor=1.2, nlevels=8, edgeThreshold=15, firstLevel=0, WTA_K=2,
                         scoreType=cv2.ORB_HARRIS_SCORE, patchSize=15, fastThreshold=5)
    out = []
    for image in images:
        big = cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
        keypoints, descriptors = orb.detectAndCompute(big, None)
        out.append((np.array([(k.pt[0], k.pt[1], k.size, k.angle, k.response, k.octave) for k in keypoints],
                             np.float32), descriptors))
    return out


def best_of(repeats: int, func) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="the full 70,000 images (needs the data set)")
    args = parser.parse_args()

    registries = Registries()
    dataset = registries["dataset"].build("fashion-mnist", {"download": False}) if args.full else \
        registries["dataset"].build("fashion-mnist-10k", {})
    images = np.asarray(dataset.load().images[: 70000 if args.full else args.images])
    transforms = [registries["transform"].build("resize", {"scale": 4}), registries["transform"].build("grayscale", {})]
    orb = registries["extractor"].build("orb", {})

    cv2.setNumThreads(1)  # both sides single-threaded OpenCV, as bench's workers are
    bare, bench1, benchn = [], [], []
    for _ in range(args.repeats):  # interleaved, so drifting machine load hits both sides alike
        bare.append(best_of(1, lambda: bare_loop(images)))
        bench1.append(best_of(1, lambda: extract_all(images, transforms, orb, quiet=True, workers=1)))
        benchn.append(best_of(1, lambda: extract_all(images, transforms, orb, quiet=True, workers=args.workers)))
    n = len(images)
    rows = [
        ["bare cv2 loop, 1 process", f"{n / min(bare):.0f}", "1.00"],
        ["bench extract_all, 1 worker", f"{n / min(bench1):.0f}", f"{min(bare) / min(bench1):.2f}"],
        [f"bench extract_all, {args.workers} workers", f"{n / min(benchn):.0f}", f"{min(bare) / min(benchn):.2f}"],
    ]
    print(f"ORB on {n} Fashion-MNIST images upscaled 4× (112×112), best of {args.repeats}, {cv2.__version__}")
    print(tabulate(rows, headers=["path", "images/s", "× bare"], tablefmt="github"))
    print(f"\n{args.workers} workers vs 1: {min(bench1) / min(benchn):.2f}×")


if __name__ == "__main__":
    main()
