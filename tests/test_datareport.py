"""`bench data inspect` and `bench data preview` write what a user looks at before training."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from benchmark.cli import main
from tests.conftest import write_experiment


def test_inspect_writes_report_and_plots_for_a_kaggle_tree(kaggle_tree: Path, tmp_path: Path) -> None:
    path = write_experiment(tmp_path, dataset={"name": "clothing-csv", "params": {"root": str(kaggle_tree),
                                                                                   "max_skipped": 0.2}},
                            split={"val": 0.25, "test": 0.25})
    out = CliRunner().invoke(main, ["data", "inspect", str(path), "--out", str(tmp_path / "report"), "-q"])
    assert out.exit_code == 0, out.output
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| T-Shirt" in report and "Imbalance ratio" in report
    assert "`missing-0`: " in report and "file not found" in report  # skipped files are listed
    assert "channels: {1: 2, 3: 25, 4: 1}" in report  # of the files: gray and palette, colour, RGBA
    for name in ("class_balance.png", "image_sizes.png", "keypoints_per_class.png"):
        assert (tmp_path / "report" / name).stat().st_size > 1000


def test_preview_needs_augment_steps_and_draws_a_grid(tmp_path: Path) -> None:
    path = write_experiment(tmp_path)
    no_steps = CliRunner().invoke(main, ["data", "preview", str(path), "--out", str(tmp_path / "p")])
    assert no_steps.exit_code == 2 and "no `augment` list" in no_steps.stderr
    out = CliRunner().invoke(main, ["data", "preview", str(path), "--out", str(tmp_path / "p"), "--count", "4",
                                    "--set", "augment=[{name: rotate, params: {p: 1}}]"])
    assert out.exit_code == 0 and (tmp_path / "p" / "augmentation_preview.png").stat().st_size > 1000
