"""Sweeps: grid × seeds from one file, exclusions, dry runs, resuming, and failures that cost nothing else."""

from __future__ import annotations

import csv
import json
import sys
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


@pytest.mark.parametrize("executor", [["--executor", "dask", "--set", "executor.params.workers=2"],
                                      ["--set", "executor={name: local, params: {processes: 2}}"]])
def test_parallel_executors_complete_every_run(tmp_path: Path, executor: list[str]) -> None:
    path = add(write_experiment(tmp_path), sweep={"model.name": ["rnn", "gru"], "seed": [0, 1]})
    results = tmp_path / "results"
    out = CliRunner().invoke(main, ["run", str(path), "-q", "--results-dir", str(results), *executor])
    assert out.exit_code == 0, out.output
    records = [json.loads(p.read_text()) for p in (results / "tiny").glob("*/record.json")]
    assert sorted((r["model"], r["seed"]) for r in records) == [("gru", 0), ("gru", 1), ("rnn", 0), ("rnn", 1)]
    rows = list(csv.DictReader((results / "tiny" / "summary.csv").open()))
    assert sorted((r["model"], r["seeds"]) for r in rows) == [("gru", "2"), ("rnn", "2")]
    # The executor is not part of a run's identity: the sequential executor finds them complete.
    again = CliRunner().invoke(main, ["run", str(path), "--results-dir", str(results)])
    assert again.exit_code == 0 and again.stderr.count("(already complete)") == 4


def test_a_sweep_killed_mid_run_resumes_to_the_same_table(tmp_path: Path) -> None:
    """kill -9 during the second run: the first stays complete, no partial run is mistaken for
    complete, and re-running finishes only what is missing."""
    import signal
    import subprocess
    import sys
    import time

    path = add(write_experiment(tmp_path), sweep={"model.name": ["rnn", "gru", "lstm"]},
               training={"epochs": 30, "batch_size": 64, "patience": None})
    results = tmp_path / "results"
    command = [sys.executable, "-m", "benchmark.cli", "run", str(path), "-q", "--results-dir", str(results)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not list((results / "tiny").glob("*/record.json")) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # well inside the second run (30 epochs)
    process.send_signal(signal.SIGKILL)
    process.wait()
    complete = sorted(p.parent.name for p in (results / "tiny").glob("*/record.json"))
    assert len(complete) == 1
    visible = [p for p in (results / "tiny").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert [p.name for p in visible] == complete  # the interrupted run left no visible folder

    first_finished = json.loads((results / "tiny" / complete[0] / "record.json").read_text())["finished_at"]
    resumed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    records = [json.loads(p.read_text()) for p in (results / "tiny").glob("*/record.json")]
    assert sorted(r["model"] for r in records) == ["gru", "lstm", "rnn"]
    kept = next(r for r in records if r["run_id"] == complete[0])
    assert kept["finished_at"] == first_finished  # not run again
    assert not list((results / "tiny").glob(".tmp-*"))  # the killed run's leftovers were cleaned
    rows = list(csv.DictReader((results / "tiny" / "summary.csv").open()))
    assert len(rows) == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers follow their parent on Linux")
def test_killing_a_parallel_sweep_ends_its_workers(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    def children(pid: int) -> set[int]:
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
        return found

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    path = add(write_experiment(tmp_path), seeds=[0, 1], training={"epochs": 200, "patience": None},
               executor={"name": "local", "params": {"processes": 2}})
    command = [sys.executable, "-m", "benchmark.cli", "run", str(path), "-q", "--results-dir", str(tmp_path / "r")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(workers := children(process.pid)) < 2 and time.time() < deadline:
        time.sleep(0.2)
    assert len(workers) >= 2, "the pool's workers did not start"
    time.sleep(3.0)  # past their initializer, into the runs
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.time() + 20
    while any(alive(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)
