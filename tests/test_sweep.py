"""Sweeps: grid × seeds from one file, exclusions, dry runs, resuming, and failures that cost nothing else."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from benchmark.cli import main
from benchmark.config import load_sweep
from benchmark.errors import ConfigError
from tests.conftest import write_experiment


def add(path: Path, **keys: object) -> Path:
    data = yaml.safe_load(path.read_text())
    data.update(keys)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_grid_times_seeds_minus_exclusions(tmp_path: Path, registries) -> None:
    path = add(write_experiment(tmp_path),
               sweep={"model.name": ["rnn", "lstm", "gru"], "ordering.name": ["detection", "raster"]},
               exclude=[{"model.name": "rnn", "ordering.name": "raster"}], seeds=[0, 1])
    points = load_sweep(path, registries=registries)
    assert len(points) == (3 * 2 - 1) * 2
    combos = {(p.config.model.name, p.config.ordering.name, p.config.seed) for p in points}
    assert ("rnn", "raster", 0) not in combos and ("lstm", "raster", 1) in combos
    assert points[0].assignments == {"model.name": "rnn", "ordering.name": "detection"}


def test_whole_components_can_be_swept(tmp_path: Path, registries) -> None:
    path = add(write_experiment(tmp_path), sweep={"extractor": [{"name": "orb"}, {"name": "freak", "params": {
        "detector": {"name": "fast"}}}]})
    points = load_sweep(path, registries=registries)
    assert [p.config.extractor.name for p in points] == ["orb", "freak"]
    assert points[1].config.extractor.params["detector"]["params"]["threshold"] == 10


def test_sweep_errors_name_the_point_and_the_key(tmp_path: Path, registries) -> None:
    path = add(write_experiment(tmp_path), sweep={"model.name": ["rnn", "lstn"]})
    with pytest.raises(ConfigError, match=r"model\.name: unknown model 'lstn'.*\(sweep point \{'model.name': 'lstn'\}\)"):
        load_sweep(path, registries=registries)
    path = add(path, sweep={"model.name": "rnn"})
    with pytest.raises(ConfigError, match="sweep.model.name: a sweep key takes a non-empty list"):
        load_sweep(path, registries=registries)
    path = add(path, sweep={"model.name": ["rnn"]}, exclude=[{"model.nme": "rnn"}])
    with pytest.raises(ConfigError, match="'model.nme' is not a sweep key \\(did you mean 'model.name'\\?\\)"):
        load_sweep(path, registries=registries)
    path = add(path, exclude=[], seeds=[0, "one"])
    with pytest.raises(ConfigError, match="seeds must be a non-empty list of integers"):
        load_sweep(path, registries=registries)


def test_dry_run_lists_runs_and_marks_complete_ones(tmp_path: Path) -> None:
    path = add(write_experiment(tmp_path), sweep={"model.name": ["rnn", "gru"]})
    results = tmp_path / "results"
    out = CliRunner().invoke(main, ["run", str(path), "--dry-run", "--results-dir", str(results)])
    assert out.exit_code == 0 and len(out.stdout.splitlines()) == 2 and "complete" not in out.stdout
    assert "model.name=rnn" in out.stdout and not results.exists()
    CliRunner().invoke(main, ["run", str(path), "-q", "--results-dir", str(results), "--set", "sweep.model.name=[gru]"])
    out = CliRunner().invoke(main, ["run", str(path), "--dry-run", "--results-dir", str(results)])
    assert [line.endswith("(complete)") for line in out.stdout.splitlines()] == [False, True]


def test_a_failing_run_does_not_cost_the_others(tmp_path: Path) -> None:
    # lr 1e30 makes the loss non-finite within a few steps: a run failure, not a config error.
    path = add(write_experiment(tmp_path), sweep={"training.lr": [0.002, 1.0e30]})
    results = tmp_path / "results"
    out = CliRunner().invoke(main, ["run", str(path), "-q", "--results-dir", str(results)])
    assert out.exit_code == 1
    assert "training diverged" in out.stderr and "1 of 2 runs failed" in out.stderr
    rows = list(csv.DictReader((results / "tiny" / "summary.csv").open()))
    assert len(rows) == 1
    assert not list((results / "tiny").glob(".tmp-*"))
