"""Experiment files: includes, overrides, and errors that say where and what would be right."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.config import load_experiment, load_sweep
from benchmark.errors import ConfigError

BASE = """\
experiment: demo
dataset: {name: fashion-mnist-10k}
extractor: {name: orb, params: {n_features: 32}}
model: {name: rnn}
training: {epochs: 7, batch_size: 64}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def problems(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(excinfo.value)


def test_include_merges_and_local_keys_win(tmp_path: Path, registries) -> None:
    write(tmp_path, "base.yaml", BASE)
    path = write(tmp_path, "x.yaml", "include: base.yaml\nmodel: {name: lstm}\ntraining: {epochs: 3}\n")
    config = load_experiment(path, registries=registries)
    assert config.model.name == "lstm"
    assert config.training.epochs == 3
    assert config.training.batch_size == 64  # kept from the included file
    assert config.extractor.params["n_features"] == 32
    # Defaults of the plugin's parameters are filled in, so the run records every value used.
    assert config.extractor.params["fast_threshold"] == 5


def test_include_of_another_plugin_drops_the_included_plugins_params(tmp_path: Path, registries) -> None:
    write(tmp_path, "base.yaml", BASE)
    path = write(tmp_path, "x.yaml", "include: base.yaml\nextractor: {name: sift, params: {sigma: 1.2}}\n")
    config = load_experiment(path, registries=registries)
    assert config.extractor.name == "sift"
    assert config.extractor.params["sigma"] == 1.2
    assert "n_features" not in config.extractor.params  # ORB's, from base.yaml: not SIFT's


def test_set_overrides_are_typed_and_validated(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", BASE)
    config = load_experiment(path, ["training.epochs=2", "model.name=gru", "tokens.geometry=false"], registries)
    assert (config.training.epochs, config.model.name, config.tokens.geometry) == (2, "gru", False)
    with pytest.raises(ConfigError, match=r"--set: training\.epochs: .*integer"):
        load_experiment(path, ["training.epochs=many"], registries)


def test_experiment_name_defaults_to_file_stem(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "my_exp.yaml", BASE.replace("experiment: demo\n", ""))
    assert load_experiment(path, registries=registries).experiment == "my_exp"


def test_unknown_key_names_file_line_and_nearest_key(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", BASE + "trainng: {epochs: 3}\n")
    with pytest.raises(ConfigError) as excinfo:
        load_experiment(path, registries=registries)
    assert f"{path.resolve()}:6: trainng: unknown key (did you mean 'training'?)" in problems(excinfo)


def test_unknown_nested_key_suggests_valid_keys(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", BASE.replace("epochs: 7", "epoch: 7"))
    with pytest.raises(ConfigError, match=r":5: training\.epoch: unknown key \(did you mean 'epochs'\?\)"):
        load_experiment(path, registries=registries)


def test_unknown_plugin_suggests_nearest_and_lists_all(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", BASE.replace("name: rnn", "name: lstn"))
    with pytest.raises(ConfigError) as excinfo:
        load_experiment(path, registries=registries)
    message = problems(excinfo)
    assert ":4: model.name: unknown model 'lstn' (did you mean 'lstm'?)" in message
    assert "registered models: bovw, deepsets, gru, lstm, rnn, transformer" in message


def test_wrong_parameter_type_and_unknown_parameter(tmp_path: Path, registries) -> None:
    text = BASE.replace("n_features: 32", "n_features: lots, fast_treshold: 3")
    path = write(tmp_path, "x.yaml", text)
    with pytest.raises(ConfigError) as excinfo:
        load_experiment(path, registries=registries)
    message = problems(excinfo)
    assert "extractor.params.n_features: Input should be a valid integer" in message
    assert "extractor.params.fast_treshold: unknown parameter (did you mean 'fast_threshold'?)" in message


def test_component_must_be_a_mapping(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", BASE.replace("model: {name: rnn}", "model: rnn"))
    with pytest.raises(ConfigError, match=r"model: expected a mapping like \{name: \.\.\., params"):
        load_experiment(path, registries=registries)


def test_invalid_yaml_reports_the_line(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", BASE + "split: {val: 0.1\n")
    with pytest.raises(ConfigError, match=r"x\.yaml:\d+: invalid YAML"):
        load_experiment(path, registries=registries)


def test_duplicate_keys_are_errors(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", BASE + "seed: 1\nseed: 2\n")
    with pytest.raises(ConfigError, match=r":7: seed: duplicate key"):
        load_experiment(path, registries=registries)


def test_include_errors(tmp_path: Path, registries) -> None:
    write(tmp_path, "a.yaml", "include: b.yaml\n")
    write(tmp_path, "b.yaml", "include: a.yaml\n")
    with pytest.raises(ConfigError, match="include cycle"):
        load_experiment(tmp_path / "a.yaml", registries=registries)
    path = write(tmp_path, "c.yaml", "include: missing.yaml\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:1: include: included file not found"):
        load_experiment(path, registries=registries)


def test_missing_required_keys_and_bad_split(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", "experiment: demo\nsplit: {val: 0.6, test: 0.5}\n")
    with pytest.raises(ConfigError) as excinfo:
        load_experiment(path, registries=registries)
    message = problems(excinfo)
    for key in ("dataset", "extractor", "model"):
        assert f"{key}: required key is missing" in message
    assert "val + test must be below 1" in message


def test_preprocess_steps_are_validated_by_index(tmp_path: Path, registries) -> None:
    path = write(tmp_path, "x.yaml", BASE + "preprocess:\n  - {name: resize}\n  - {name: greyscale}\n")
    with pytest.raises(ConfigError) as excinfo:
        load_experiment(path, registries=registries)
    message = problems(excinfo)
    assert "preprocess.0.params: Value error, give exactly one of `scale` or `size`" in message
    assert "preprocess.1.name: unknown transform 'greyscale' (did you mean 'grayscale'?)" in message


def test_bundled_experiments_validate(registries) -> None:
    root = Path(__file__).parents[1] / "experiments"
    files = sorted(p for p in root.rglob("*.yaml") if p.name != "base.yaml")
    assert {"orb_rnn.yaml", "orb_lstm.yaml", "orb_gru.yaml"} <= {p.name for p in files}
    for path in files:
        assert load_sweep(path, registries=registries)
