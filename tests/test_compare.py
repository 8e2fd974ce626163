"""Comparable tables: configurations aggregated over seeds, and whether differences are real."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from benchmark.compare import bootstrap_difference, mcnemar
from benchmark.results import (
    config_id,
    format_table,
    load_records,
    run_id,
    write_summary,
)

N = 400


def fake_run(root: Path, model: str, seed: int, right: np.ndarray) -> None:
    """A complete run folder with the given per-item correctness on a shared test set."""
    config = {"seed": seed, "experiment": "x", **{k: {"name": k[:3], "params": {}} for k in
                                                     ("dataset", "extractor", "ordering", "balancing")},
              "model": {"name": model, "params": {}}}
    run_dir = root / run_id(config)
    run_dir.mkdir(parents=True)
    with (run_dir / "predictions.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "true", "predicted"])
        writer.writerows((f"t-{i}", "a", "a" if ok else "b") for i, ok in enumerate(right))
    record = {"run_id": run_id(config), "experiment": root.name, "seed": seed, "model": model, "accuracy": float(right.mean()),
              "macro_f1": float(right.mean()), "config": config, "finished_at": f"2026-01-0{seed + 1}"}
    (run_dir / "record.json").write_text(json.dumps(record))
    (run_dir / "history.csv").write_text("epoch,val_accuracy\n1,0.5\n2,0.6\n")


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path / "x"
    for seed in range(3):
        good = rng.random(N) < 0.80
        fake_run(root, "gru", seed, good)
        other = good.copy()  # as good: 10 items lost, 10 others won
        other[rng.choice(np.flatnonzero(good), 10, replace=False)] = False
        other[rng.choice(np.flatnonzero(~good), 10, replace=False)] = True
        fake_run(root, "lstm", seed, other)
        fake_run(root, "rnn", seed, rng.random(N) < 0.60)  # clearly worse
    return root


def test_rows_are_configurations_with_mean_and_std(experiment: Path) -> None:
    records = load_records(experiment)
    rows = list(csv.DictReader(format_table(records, fmt="csv").splitlines()))
    assert rows[0]["model"] == "gru" and [r["seeds"] for r in rows] == ["3", "3", "3"]
    gru = [r for r in records if r["model"] == "gru"]
    assert float(rows[0]["accuracy"]) == pytest.approx(np.mean([r["accuracy"] for r in gru]), abs=1e-6)
    assert float(rows[0]["accuracy std"]) == pytest.approx(np.std([r["accuracy"] for r in gru], ddof=1), abs=1e-6)
    assert rows[0]["config"] == config_id(gru[0]["config"])
    md = format_table(records)
    assert " ± " in md and "p vs best" in md


def test_significance_separates_real_from_noise(experiment: Path) -> None:
    rows = {r["model"]: r for r in csv.DictReader(format_table(load_records(experiment), fmt="csv").splitlines())}
    assert rows["gru"]["p vs best"] == "best"
    assert float(rows["lstm"]["p vs best"]) > 0.05  # a few items differ: no evidence
    assert float(rows["rnn"]["p vs best"]) < 1e-6  # 20 points worse on 1,200 paired items


def test_summary_writes_tables_and_plots(experiment: Path) -> None:
    write_summary(experiment)
    for name in ("summary.md", "summary.csv", "comparison.png", "learning_curves.png"):
        assert (experiment / name).stat().st_size > 0
    assert not list(experiment.glob(".*.tmp*"))


def test_table_formats_and_compare_across_experiments(experiment: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from benchmark.cli import main

    other = tmp_path / "y"
    fake_run(other, "transformer", 0, np.ones(N, bool))
    out = CliRunner().invoke(main, ["compare", str(experiment), str(other), "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(out.stdout.splitlines()))
    assert rows[0]["model"] == "transformer" and rows[0]["experiment"] == "y" and len(rows) == 4
    latex = CliRunner().invoke(main, ["table", str(experiment), "--format", "latex", "--sort", "macro_f1"])
    assert latex.exit_code == 0 and "\\toprule" in latex.stdout
    filtered = CliRunner().invoke(main, ["table", str(experiment), "--where", "model=rnn", "--format", "csv"])
    assert [r["model"] for r in csv.DictReader(filtered.stdout.splitlines())] == ["rnn"]


def test_mcnemar_and_bootstrap_basics() -> None:
    a = {f"{i}": True for i in range(50)}
    b = {f"{i}": i >= 10 for i in range(50)}  # b wrong on 10 items a got right
    assert mcnemar([a], [b]) == pytest.approx(2 * 0.5**10)
    assert mcnemar([a], [a]) == 1.0 and mcnemar([a], [{}]) is None
    low, high = bootstrap_difference(np.ones(100), np.r_[np.ones(80), np.zeros(20)])
    assert 0.1 < low < 0.2 < high < 0.3
