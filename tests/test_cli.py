"""End to end through the command line: run, table, validate, plugins, and honest errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from benchmark import hookimpl
from benchmark.cli import main
from benchmark.config import load_experiment
from benchmark.plugins import get_plugin_manager
from benchmark.registry import Registries
from benchmark.results import config_id
from benchmark.runner import run
from tests.conftest import write_experiment


def bench(*args: str):
    return CliRunner().invoke(main, list(args))


def test_run_writes_a_complete_run_and_a_summary_row(tiny_experiment: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    out = bench("run", str(tiny_experiment), "--results-dir", str(results), "-q")
    assert out.exit_code == 0, out.output
    [run_dir] = [p for p in (results / "tiny").iterdir() if p.is_dir() and not p.name.startswith(".")]
    expected = {"config.yaml", "versions.json", "metrics.json", "history.csv", "extraction.json", "split.json",
                "predictions.csv", "curves.png", "confusion.png", "record.json"}
    assert expected <= {p.name for p in run_dir.iterdir()}
    record = json.loads((run_dir / "record.json").read_text())
    assert (record["extractor"], record["ordering"], record["model"], record["balancer"]) == ("orb", "response", "gru", "none")
    assert 0 <= record["accuracy"] <= 1 and record["kps_mean"] > 10 and record["empty_percent"] == 0
    assert record["epochs"] == 2 and record["test_items"] == 100
    # The table printed on stdout and the summary files hold the same row.
    cid = config_id(record["config"])
    assert cid in out.stdout and record["run_id"].startswith(cid.rsplit("-", 1)[0])
    rows = list(csv.DictReader((results / "tiny" / "summary.csv").open()))
    assert [(r["config"], r["seeds"]) for r in rows] == [(cid, "1")]
    assert float(rows[0]["accuracy"]) == record["accuracy"]
    assert cid in (results / "tiny" / "summary.md").read_text()
    # The resolved config re-runs to the same run id.
    rerun = bench("validate", str(run_dir / "config.yaml"))
    assert record["run_id"] in rerun.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(metrics["confusion_matrix"]) == 10 and set(metrics["per_class"]) >= {"Trouser", "Bag"}
    assert not list((results / "tiny").glob(".tmp-*"))


def test_a_changed_copy_adds_a_row_and_a_repeat_is_skipped(tiny_experiment: Path, tmp_path: Path) -> None:
    results = str(tmp_path / "results")
    assert bench("run", str(tiny_experiment), "--results-dir", results, "-q").exit_code == 0
    copy = tmp_path / "copy.yaml"
    shutil.copy(tiny_experiment, copy)
    out = bench("run", str(copy), "--results-dir", results, "-q", "--set", "model.name=lstm",
                "--set", "balancing.name=class-weights")
    assert out.exit_code == 0, out.output
    table = bench("table", str(tmp_path / "results" / "tiny"), "--format", "csv").stdout
    assert sorted(row["model"] for row in csv.DictReader(table.splitlines())) == ["gru", "lstm"]
    again = bench("run", str(tiny_experiment), "--results-dir", results)
    assert again.exit_code == 0 and "already complete" in again.stderr
    assert len(list(csv.DictReader(bench("table", results + "/tiny", "--format", "csv").stdout.splitlines()))) == 2


def test_the_test_split_never_reaches_training(tiny_experiment: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import benchmark.splits
    import benchmark.training

    seen: dict[str, np.ndarray] = {}
    real_split, real_fit = benchmark.splits.make_split, benchmark.training.fit

    def spy_split(*args, **kwargs):
        seen["split"] = split = real_split(*args, **kwargs)
        return split

    def spy_fit(module, train, val, *args, **kwargs):
        seen["train"], seen["val"] = train.items.copy(), val.items.copy()
        return real_fit(module, train, val, *args, **kwargs)

    monkeypatch.setattr(benchmark.splits, "make_split", spy_split)
    monkeypatch.setattr(benchmark.training, "fit", spy_fit)
    config = load_experiment(tiny_experiment)
    outcome = run(config, tmp_path / "results", quiet=True)
    test = set(seen["split"].test.tolist())
    assert test and not test & set(seen["train"].tolist()) and not test & set(seen["val"].tolist())
    predicted = [row["id"] for row in csv.DictReader((outcome.run_dir / "predictions.csv").open())]
    assert predicted == [f"t10k-{i}" for i in sorted(test)]


def test_run_finished_hook_sees_every_run(tiny_experiment: Path, tmp_path: Path) -> None:
    finished = []

    class Reporter:
        @hookimpl
        def bench_run_finished(self, run_dir, record):
            finished.append((run_dir, record["run_id"]))

    pm = get_plugin_manager()
    pm.register(Reporter(), name="reporter")
    registries = Registries(pm)
    outcome = run(load_experiment(tiny_experiment, registries=registries), tmp_path, registries, quiet=True)
    assert finished == [(outcome.run_dir, outcome.record["run_id"])]


def test_config_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, model={"name": "lstn"})
    out = bench("run", str(path))
    assert out.exit_code == 2
    assert "model.name: unknown model 'lstn' (did you mean 'lstm'?)" in out.stderr
    assert "Traceback" not in out.output
    assert bench("validate", str(path)).exit_code == 2
    missing = bench("run", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "cannot read experiment file" in missing.stderr
    debug = bench("run", str(path), "--debug")
    assert debug.exception is not None and type(debug.exception).__name__ == "ConfigError"


def test_missing_data_exits_2_with_ways_to_get_it(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, dataset={"name": "fashion-mnist", "params": {"root": str(tmp_path)}})
    out = bench("run", str(path), "--results-dir", str(tmp_path / "r"))
    assert out.exit_code == 2 and "lacks train-images-idx3-ubyte" in out.stderr
    tiny = tmp_path / "r" / "tiny"
    assert not tiny.exists() or not [p for p in tiny.iterdir() if not p.name.startswith(".")]


def test_validate_reports_ok_and_every_problem(tmp_path: Path) -> None:
    good = write_experiment(tmp_path)
    out = bench("validate", str(good), "--show")
    assert out.exit_code == 0 and out.stdout.startswith(f"ok: {good}")
    assert yaml.safe_load(out.stdout.split("\n", 1)[1])["extractor"]["params"]["n_features"] == 64


def test_plugins_lists_every_kind_with_package_and_params() -> None:
    out = bench("plugins")
    assert out.exit_code == 0
    for header in ("datasets", "transforms", "extractors", "orderings", "models", "balancers"):
        assert header in out.stdout
    listing = json.loads(bench("plugins", "--json").stdout)
    orb = next(e for e in listing["extractor"] if e["name"] == "orb")
    assert orb["package"] == "bench" and orb["params"]["n_features"] == 64
    only = json.loads(bench("plugins", "--kind", "model", "--json").stdout)
    assert list(only) == ["model"] and {"rnn", "lstm", "gru", "transformer", "deepsets", "bovw"} <= {e["name"] for e in only["model"]}


def test_table_errors(tmp_path: Path) -> None:
    assert bench("table", str(tmp_path / "none")).exit_code == 2
    (tmp_path / "empty").mkdir()
    assert bench("table", str(tmp_path / "empty")).exit_code == 1


def test_table_adds_columns_only_for_real_differences() -> None:
    from benchmark.results import table_rows

    def record(model: str, params: dict, lr: float) -> dict:
        config = {"model": {"name": model, "params": params}, "training": {"lr": lr}, "seed": 0}
        config.update({k: {"name": k, "params": {}} for k in ("extractor", "ordering", "balancing")})
        return {"run_id": model, "accuracy": 0.5, "config": config}

    records = [record("rnn", {"hidden_size": 8, "nonlinearity": "tanh"}, 0.1),
               record("lstm", {"hidden_size": 8}, 0.1)]
    headers, _ = table_rows(records, significance=False)
    assert not any("params" in h or "lr" in h for h in headers)
    records.append(record("lstm", {"hidden_size": 16}, 0.2))
    headers, _ = table_rows(records, significance=False)
    assert "model.params.hidden_size" in headers and "training.lr" in headers
    assert "model.params.nonlinearity" not in headers

    def dense(name: str, step: int | None) -> dict:
        extractor = {"name": name, "params": {}}
        if step:
            extractor["params"]["detector"] = {"name": "grid", "params": {"step": step, "angle": 0.0}}
        return {"run_id": f"{name}{step}", "accuracy": 0.5,
                "config": {"extractor": extractor, "model": {"name": "gru", "params": {}}, "seed": 0,
                           "ordering": {"name": "raster"}, "balancing": {"name": "none"}}}

    headers, _ = table_rows([dense("orb", None), dense("orb", 13), dense("sift", 12)], significance=False)
    assert "extractor.params.detector.name" in headers  # sparse ORB vs ORB on a grid
    assert "extractor.params.detector.params.step" in headers
    assert "extractor.params.detector.params.angle" not in headers  # the same for every grid


@pytest.mark.parametrize("model", [{"name": "bovw", "params": {"words": 16, "sample": 2000}},
                                   {"name": "transformer", "params": {"width": 64, "heads": 4, "layers": 1}},
                                   {"name": "deepsets", "params": {"hidden_size": 64}}])
def test_every_kind_of_model_runs_end_to_end(model: dict, tmp_path: Path) -> None:
    path = write_experiment(tmp_path, model=model, ordering={"name": "hilbert"},
                            training={"epochs": 10, "batch_size": 32, "patience": None})
    outcome = run(load_experiment(path), tmp_path / "results", quiet=True)
    assert outcome.record["model"] == model["name"] and outcome.record["accuracy"] > 0.2
    assert (outcome.run_dir / "curves.png").is_file() and (outcome.run_dir / "predictions.csv").is_file()
