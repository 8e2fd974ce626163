"""Is a difference between two configurations real? Paired tests on the same test items."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from benchmark.results import Configuration


def correctness(run_dir: str | Path) -> dict[str, bool] | None:
    """Test item id → whether the run predicted it right; None when predictions were not saved."""
    path = Path(run_dir) / "predictions.csv"
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as f:
        return {row["id"]: row["true"] == row["predicted"] for row in csv.DictReader(f)}


def mcnemar(best: list[dict[str, bool]], other: list[dict[str, bool]]) -> float | None:
    """Exact (binomial) McNemar p-value over paired runs, pooling the discordant items of each pair.

    Only items present in both runs of a pair count; None when no pair shares an item.
    """
    from scipy.stats import binomtest

    only_best = only_other = shared = 0
    for a, b in zip(best, other):
        common = a.keys() & b.keys()
        shared += len(common)
        only_best += sum(a[i] and not b[i] for i in common)
        only_other += sum(b[i] and not a[i] for i in common)
    if not shared:
        return None
    discordant = only_best + only_other
    return 1.0 if discordant == 0 else float(binomtest(only_best, discordant, 0.5).pvalue)


def mcnemar_vs_best(groups: list[Configuration]) -> dict[str, float]:
    """p-value of each configuration against the first (best), pairing runs by seed."""
    if len(groups) < 2:
        return {}
    best = {r.get("seed"): correctness(r["run_dir"]) for r in groups[0].runs if "run_dir" in r}
    p_values: dict[str, float] = {}
    for group in groups[1:]:
        pairs = [(best[r.get("seed")], correctness(r["run_dir"])) for r in group.runs
                 if "run_dir" in r and best.get(r.get("seed")) is not None]
        pairs = [(a, b) for a, b in pairs if b is not None]
        if pairs:
            p = mcnemar([a for a, _ in pairs], [b for _, b in pairs])
            if p is not None:
                p_values[group.config_id] = p
    return p_values


def bootstrap_difference(a: np.ndarray, b: np.ndarray, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% paired-bootstrap interval of mean(a) - mean(b) for per-item scores on the same items."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(a), (draws, len(a)))
    diffs = a[index].mean(1) - b[index].mean(1)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)
