"""Cold vs warm `bench run experiments/orb_rnn.yaml`: the warm run reads the feature store."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cache: str, results: str) -> tuple[float, dict]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "benchmark.cli", "run", "experiments/orb_rnn.yaml", "-q", "--rerun",
                    "--cache-dir", cache, "--results-dir", results], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    [record] = [json.loads(p.read_text()) for p in Path(results).glob("*/*/record.json")]
    return wall, record


def main() -> None:
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as results:
        cold_wall, cold = run(cache, results)
        warm_wall, warm = run(cache, results)
    print("| run  | wall s | features s | from store | accuracy |")
    print("|------|--------|------------|------------|----------|")
    for name, wall, record in (("cold", cold_wall, cold), ("warm", warm_wall, warm)):
        print(f"| {name} | {wall:.1f} | {record['extract_seconds']:.2f} | {record['features_from_store']} | "
              f"{record['accuracy']:.4f} |")
    print(f"\nwarm feature time / cold: {warm['extract_seconds'] / cold['extract_seconds']:.1%}; "
          f"same accuracy: {warm['accuracy'] == cold['accuracy']}")


if __name__ == "__main__":
    main()
