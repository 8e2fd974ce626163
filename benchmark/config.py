"""Experiment files: YAML with ``include:``, ``--set`` overrides, validation against the plugins.

Every problem is reported with the file, line and dotted key it concerns, and the nearest
valid choice where there is one. The resolved config (every plugin's parameters with their
defaults filled in) is what a run records, so any row of a results table can be re-run.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from benchmark.errors import ConfigError, Problem
from benchmark.registry import Registries, did_you_mean

Path_ = tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Component(Strict):
    """A plugin and its parameters: ``{name: orb, params: {n_features: 64}}``."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class SplitConfig(Strict):
    """Stratified train/val/test split. Its seed is independent of the run seed, so every run
    of an experiment (and every seed) sees the same test items and can be compared pairwise."""

    val: float = Field(0.1, gt=0, lt=1)
    test: float = Field(0.2, gt=0, lt=1)
    seed: int = 0

    @model_validator(mode="after")
    def _fractions(self) -> SplitConfig:
        if self.val + self.test >= 1:
            raise ValueError(f"val + test must be below 1 (got {self.val} + {self.test})")
        return self


class TokensConfig(Strict):
    """How keypoints become tokens."""

    max_len: int = Field(32, ge=1, description="keypoints kept per image, after ordering")
    geometry: bool = Field(True, description="append position, scale, angle, response, octave")
    float_norm: Literal["root", "l2", "none"] = Field(
        "root", description="float descriptors: RootSIFT-style (signed) square root of L1-normalised, or L2"
    )


class TrainingConfig(Strict):
    epochs: int = Field(20, ge=1)
    batch_size: int = Field(128, ge=1)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    grad_clip: float | None = Field(1.0, gt=0)
    patience: int | None = Field(5, ge=1, description="epochs without improvement before stopping")
    monitor: Literal["val_accuracy", "val_macro_f1", "val_loss"] = "val_accuracy"
    device: str = Field("auto", description="auto, cpu, cuda, cuda:N or mps")
    num_threads: int | None = Field(None, ge=1, description="torch CPU threads; default: all cores")
    bucket: bool = Field(True, description="batch sequences of similar length together")
    schedule: Literal["constant", "cosine", "onecycle"] = Field("constant", description="learning-rate schedule")
    warmup_epochs: float = Field(0.0, ge=0, description="linear warm-up (constant and cosine schedules)")
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    shuffle_tokens: bool = Field(False, description="re-shuffle each training sequence's tokens every epoch")


class ExtractionConfig(Strict):
    warn_empty_fraction: float = Field(
        0.05, ge=0, le=1, description="warn when more images than this have no keypoint"
    )


class ExperimentConfig(Strict):
    """One experiment: where the data comes from, how it becomes sequences, how it is learnt."""

    experiment: str = Field(description="results go to results/<experiment>/")
    description: str = ""
    seed: int = 0
    dataset: Component
    split: SplitConfig = Field(default_factory=SplitConfig)
    preprocess: list[Component] = Field(default_factory=list)
    augment: list[Component] = Field(default_factory=list, description="random transforms, training images only")
    extractor: Component
    ordering: Component = Field(default_factory=lambda: Component(name="detection"))
    tokens: TokensConfig = Field(default_factory=TokensConfig)
    model: Component
    balancing: Component = Field(default_factory=lambda: Component(name="none"))
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    extraction: ExtractionConfig = Field(default_factory=ExtractionConfig)
    executor: Component = Field(default_factory=lambda: Component(name="local"),
                                description="where a sweep's runs execute; not part of a run's identity")


#: Which registry each component key is resolved against.
COMPONENT_KINDS = {
    "dataset": "dataset",
    "extractor": "extractor",
    "ordering": "ordering",
    "model": "model",
    "balancing": "balancer",
    "executor": "executor",
}


# --------------------------------------------------------------------------------------------
# YAML with positions
# --------------------------------------------------------------------------------------------


class Located:
    """Where each dotted key of a loaded experiment was written (file and line)."""

    def __init__(self) -> None:
        self.places: dict[Path_, tuple[str, int | None]] = {}

    def find(self, path: Path_) -> tuple[str, int | None]:
        """The place of the longest known prefix of ``path``."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.places:
                return self.places[path[:end]]
        return "", None

    def problem(self, message: str, path: Path_) -> Problem:
        file, line = self.find(path)
        return Problem(message, key=".".join(path), file=file, line=line)

    def error(self, message: str, path: Path_) -> ConfigError:
        return ConfigError(self.problem(message, path))


def _load_yaml(path: Path, located: Located, prefix: Path_ = ()) -> Any:
    """Parse one YAML file, recording the line of every key; duplicate keys are errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(Problem(f"cannot read experiment file: {exc.strerror}", file=str(path))) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(Problem(f"invalid YAML: {exc.problem}", file=str(path), line=line)) from None
    finally:
        loader.dispose()

    problems: list[Problem] = []

    def walk(n: yaml.Node, at: Path_) -> None:
        located.places[at] = (str(path), n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in n.value:
                key = str(key_node.value)
                if key in seen:
                    problems.append(
                        Problem("duplicate key", key=".".join(at + (key,)), file=str(path),
                                line=key_node.start_mark.line + 1)
                    )
                seen.add(key)
                walk(value_node, at + (key,))
                located.places[at + (key,)] = (str(path), key_node.start_mark.line + 1)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, at + (str(i),))

    walk(node, prefix)
    if problems:
        raise ConfigError(problems)
    return data


def _merge(base: dict[str, Any], local: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of mappings; local values win, lists are replaced, not appended.

    A component that names a different plugin replaces the included one whole: the included
    plugin's params would not fit the new plugin (``extractor: {name: sift}`` over ORB's).
    """
    merged = dict(base)
    for key, value in local.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping) and not _renamed(merged[key], value):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _renamed(base: Mapping[str, Any], local: Mapping[str, Any]) -> bool:
    return "name" in base and "name" in local and base["name"] != local["name"]


def _load_with_includes(path: Path, located: Located, stack: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in stack:
        chain = " → ".join(str(p) for p in stack + (path,))
        raise ConfigError(Problem(f"include cycle: {chain}", key="include", file=str(stack[-1])))
    data = _load_yaml(path, located)
    if not isinstance(data, dict):
        raise ConfigError(Problem("an experiment file must be a mapping of keys to values", file=str(path), line=1))
    includes = data.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise located.error("include must be a file name or a list of file names", ("include",))
    merged: dict[str, Any] = {}
    own_places = dict(located.places)
    for name in includes:
        target = path.parent / name
        if not target.exists():
            file, line = own_places.get(("include",), (str(path), None))
            raise ConfigError(Problem(f"included file not found: {target}", key="include", file=file, line=line))
        merged = _merge(merged, _load_with_includes(target, located, stack + (path,)))
    # The including file's own keys win over what it includes, for values and for positions.
    located.places.update(own_places)
    return _merge(merged, data)


def parse_override(text: str) -> tuple[Path_, Any]:
    """``training.epochs=3`` → (('training', 'epochs'), 3); the value is read as YAML."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(Problem(f"--set expects KEY=VALUE, e.g. training.epochs=3 (got {text!r})"))
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return tuple(key.strip().split(".")), value


def _apply_override(data: dict[str, Any], path: Path_, value: Any) -> None:
    node: Any = data
    for i, part in enumerate(path[:-1]):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise ConfigError(Problem("cannot set a key inside a non-mapping value", key=".".join(path[: i + 1]), file="--set"))
        node = node.setdefault(part, {})
    last = path[-1]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(Problem("cannot set a key inside a non-mapping value", key=".".join(path), file="--set"))


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _fields_at(model: type[BaseModel], path: Path_) -> list[str]:
    """The valid keys of the config model at ``path`` (for did-you-mean on unknown keys)."""
    current: Any = model
    for part in path:
        if part.isdigit():
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _schema_problems(exc: ValidationError, located: Located) -> list[Problem]:
    problems = []
    for err in exc.errors():
        path = tuple(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            valid = _fields_at(ExperimentConfig, path[:-1])
            hint = did_you_mean(path[-1], valid) or (f"; valid keys here: {', '.join(valid)}" if valid else "")
            problems.append(located.problem(f"unknown key{hint}", path))
        elif err["type"] == "missing":
            problems.append(located.problem("required key is missing", path))
        elif err["type"] == "model_type" and path and (path[-1] in COMPONENT_KINDS or path[0] in ("preprocess", "augment")):
            problems.append(located.problem(f"expected a mapping like {{name: ..., params: {{...}}}} (got {err.get('input')!r})", path))
        else:
            problems.append(located.problem(f"{err['msg']} (got {err.get('input')!r})", path))
    return problems


def _resolve_components(config: ExperimentConfig, registries: Registries, located: Located) -> list[Problem]:
    """Check every plugin name and its params; fill in the params' defaults in place."""
    problems: list[Problem] = []

    def resolve(component: Component, kind: str, path: Path_) -> None:
        registry = registries[kind]
        validated, found = registry.validate(component.name, component.params, ".".join(path))
        for p in found:
            file, line = located.find(tuple(p.key.split(".")))
            problems.append(Problem(p.message, key=p.key, file=file, line=line))
        if validated is not None:
            component.params = validated.model_dump(mode="json")

    for key, kind in COMPONENT_KINDS.items():
        resolve(getattr(config, key), kind, (key,))
    for i, step in enumerate(config.preprocess):
        resolve(step, "transform", ("preprocess", str(i)))
    for i, step in enumerate(config.augment):
        resolve(step, "transform", ("augment", str(i)))
    return problems


@dataclass
class SweepPoint:
    """One run of an experiment file: what the sweep set for it, and its validated config."""

    assignments: dict[str, Any]
    config: ExperimentConfig


def _validate(data: dict[str, Any], located: Located, registries: Registries) -> tuple[ExperimentConfig | None, list[Problem]]:
    try:
        config = ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        return None, _schema_problems(exc, located)
    problems = _resolve_components(config, registries, located)
    return (None if problems else config), problems


def _sweep_spec(data: dict[str, Any], located: Located) -> tuple[dict[str, list[Any]], list[dict[str, Any]], list[int] | None]:
    """Pop and check ``sweep`` (dotted key → list of values), ``exclude`` and ``seeds``."""
    sweep = data.pop("sweep", None) or {}
    exclude = data.pop("exclude", None) or []
    seeds = data.pop("seeds", None)
    if not isinstance(sweep, dict):
        raise located.error("sweep must map dotted keys to lists of values, e.g. {model.name: [rnn, gru]}", ("sweep",))
    for key, values in sweep.items():
        if not isinstance(values, list) or not values:
            raise located.error(f"a sweep key takes a non-empty list of values (got {values!r})", ("sweep", str(key)))
    if not isinstance(exclude, list) or not all(isinstance(e, dict) for e in exclude):
        raise located.error("exclude must be a list of mappings, e.g. [{model.name: rnn, balancing.name: none}]", ("exclude",))
    for i, rule in enumerate(exclude):
        for key in rule:
            if key not in sweep:
                hint = did_you_mean(str(key), list(sweep))
                raise located.error(f"{key!r} is not a sweep key{hint}; exclude rules match sweep keys", ("exclude", str(i)))
    if seeds is not None and (not isinstance(seeds, list) or not seeds or not all(isinstance(x, int) for x in seeds)):
        raise located.error(f"seeds must be a non-empty list of integers (got {seeds!r})", ("seeds",))
    return sweep, exclude, seeds


def load_sweep(
    path: str | Path,
    overrides: Iterable[str] = (),
    registries: Registries | None = None,
) -> list[SweepPoint]:
    """Every run an experiment file defines: its ``sweep`` grid (minus ``exclude``) × ``seeds``.

    A file without ``sweep`` or ``seeds`` defines one run. Every point is validated; problems
    name the sweep values that produced them.
    """
    path = Path(path)
    registries = registries or Registries()
    located = Located()
    data = _load_with_includes(path, located)
    for text in overrides:
        key, value = parse_override(text)
        if key[0] == "sweep" and len(key) > 1:  # sweep keys are themselves dotted
            data.setdefault("sweep", {})[".".join(key[1:])] = value
        else:
            _apply_override(data, key, value)
        located.places[key] = ("--set", None)
    data.setdefault("experiment", path.stem)
    sweep, exclude, seeds = _sweep_spec(data, located)
    keys = list(sweep)
    for key in keys:  # errors in a swept value point at the sweep entry
        located.places[tuple(key.split("."))] = located.find(("sweep", key))

    points: list[SweepPoint] = []
    problems: list[Problem] = []
    for values in itertools.product(*(sweep[k] for k in keys)):
        assignments = dict(zip(keys, values))
        if any(all(assignments[k] == v for k, v in rule.items()) for rule in exclude):
            continue
        for seed in seeds if seeds is not None else [None]:
            point = copy.deepcopy(data)
            for key, value in assignments.items():
                _apply_override(point, tuple(key.split(".")), copy.deepcopy(value))
            if seed is not None:
                point["seed"] = seed
            config, found = _validate(point, located, registries)
            context = f" (sweep point {assignments})" if assignments else ""
            problems.extend(Problem(p.message + context, p.key, p.file, p.line) for p in found)
            if config is not None:
                points.append(SweepPoint(assignments, config))
    if problems:
        unique = list(dict.fromkeys(problems))
        raise ConfigError(unique)
    if not points:
        raise located.error("the sweep's exclude rules leave no run", ("exclude",))
    return points


def load_experiment(
    path: str | Path,
    overrides: Iterable[str] = (),
    registries: Registries | None = None,
) -> ExperimentConfig:
    """Load an experiment file that defines one run: includes merged, ``--set`` applied, validated,
    plugin params resolved (defaults filled in)."""
    points = load_sweep(path, overrides, registries)
    if len(points) != 1:
        raise ConfigError(Problem(f"defines {len(points)} runs (a sweep); expected one", file=str(path)))
    return points[0].config


def dump_config(config: ExperimentConfig) -> str:
    """The resolved config as YAML, in the order of the schema."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
