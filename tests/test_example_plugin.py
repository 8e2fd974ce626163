"""The example third-party package, installed for real and found through its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_experiment

EXAMPLE = Path(__file__).parents[1] / "examples" / "bench-plugin-example"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pip-install the example into a private folder; an environment that puts it on the path."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(EXAMPLE)],
        check=True, capture_output=True, text=True,
    )
    env = {k: v for k, v in os.environ.items() if k != "BENCH_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")])
    return env


def bench(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "benchmark.cli", *args], env=env, capture_output=True, text=True, check=False)


def test_bench_plugins_lists_it_with_package_and_version(installed: dict[str, str]) -> None:
    out = bench(installed, "plugins", "--kind", "extractor", "--json")
    assert out.returncode == 0, out.stderr
    patch = next(e for e in json.loads(out.stdout)["extractor"] if e["name"] == "patch")
    assert (patch["package"], patch["version"]) == ("bench-plugin-example", "0.1.0")
    assert patch["params"]["detector"] == {"name": "gftt", "params": {}}


def test_an_experiment_runs_with_it(installed: dict[str, str], tmp_path: Path) -> None:
    path = write_experiment(tmp_path, extractor={"name": "patch", "params": {"size": 5}})
    out = bench(installed, "run", str(path), "--results-dir", str(tmp_path / "results"), "-q")
    assert out.returncode == 0, out.stderr
    [record_file] = (tmp_path / "results" / "tiny").glob("*/record.json")
    record = json.loads(record_file.read_text())
    assert record["extractor"] == "patch" and record["descriptor_dim"] == 25 and record["kps_mean"] > 0
    versions = json.loads((record_file.parent / "versions.json").read_text())
    assert versions["plugin:bench-plugin-example"] == "0.1.0"


def test_its_own_tests_pass(installed: dict[str, str]) -> None:
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                         env=installed, capture_output=True, text=True, cwd=EXAMPLE,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_bad_parameter_of_the_plugin_is_a_config_error(installed: dict[str, str], tmp_path: Path) -> None:
    path = write_experiment(tmp_path, extractor={"name": "patch", "params": {"size": 4}})
    out = bench(installed, "validate", str(path))
    assert out.returncode == 2 and "extractor.params.size: Value error, size must be odd" in out.stderr


def test_autoload_can_be_switched_off(installed: dict[str, str]) -> None:
    out = bench({**installed, "BENCH_DISABLE_PLUGIN_AUTOLOAD": "1"}, "plugins", "--kind", "extractor", "--json")
    assert "patch" not in {e["name"] for e in json.loads(out.stdout)["extractor"]}
