"""A sweep of 4 runs on a Dask LocalCluster: 2 workers vs 1 (features pre-extracted, so training dominates)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SWEEP = {
    "include": str(Path("experiments/orb_gru.yaml").resolve()),
    "experiment": "executor-benchmark",
    "training": {"epochs": 4, "patience": None},
    "seeds": [0, 1, 2, 3],
}


def bench(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "benchmark.cli", "run", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads-per-run", type=int, default=None,
                        help="pin torch threads per run (default: the executor divides the cores)")
    args = parser.parse_args()
    pin = ["--set", f"training.num_threads={args.threads_per_run}"] if args.threads_per_run else []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.yaml"
        path.write_text(yaml.safe_dump(SWEEP))
        common = ["--cache-dir", f"{tmp}/cache", "--rerun", "-q", *pin]
        bench(str(path), *common, "--results-dir", f"{tmp}/warmup", "--set", "seeds=[0]", "--set", "training.epochs=1")
        one, two = [], []
        for _ in range(args.repeats):
            one.append(bench(str(path), *common, "--results-dir", f"{tmp}/one", "--executor", "dask",
                             "--set", "executor.params.workers=1"))
            two.append(bench(str(path), *common, "--results-dir", f"{tmp}/two", "--executor", "dask",
                             "--set", "executor.params.workers=2"))
    threads = f"{args.threads_per_run} torch thread(s) per run" if args.threads_per_run else "cores divided among runs"
    print(f"| Dask LocalCluster, {threads} | wall s (4 runs) |")
    print("|---|---|")
    print(f"| 1 worker | {min(one):.1f} |")
    print(f"| 2 workers | {min(two):.1f} |")
    print(f"\n2 workers vs 1: {min(one) / min(two):.2f}×")


if __name__ == "__main__":
    main()
