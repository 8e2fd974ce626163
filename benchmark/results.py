"""Results on disk: atomic run directories, and the summary table comparing the runs.

Layout::

    results/<experiment>/<run-id>/   config.yaml, versions.json, metrics.json, history.csv,
                                     extraction.json, split.json, predictions.csv,
                                     curves.png, confusion.png, record.json
    results/<experiment>/summary.md, summary.csv

A run directory is written under a temporary name and renamed when complete, so it is either
complete or absent; ``record.json`` is its summary row.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from benchmark.errors import UsageError

RECORD = "record.json"

#: Identity columns of every summary row, then the metrics, with their table headers.
IDENTITY = [("config_id", "config"), ("dataset", "dataset"), ("extractor", "extractor"), ("ordering", "ordering"),
            ("model", "model"), ("balancer", "balancer"), ("seeds", "seeds")]
METRICS = [("accuracy", "accuracy"), ("balanced_accuracy", "bal. acc"), ("macro_f1", "macro-F1"),
           ("kps_mean", "kps/img"), ("empty_percent", "% empty"), ("dropped_percent", "% dropped"),
           ("descriptor_dim", "desc dim"), ("extract_images_per_second", "extract img/s"), ("epochs", "epochs"),
           ("train_seconds", "train s")]
#: Metrics shown as mean ± std over seeds (the others are means).
WITH_SPREAD = {"accuracy", "balanced_accuracy", "macro_f1"}
SORTABLE = [key for key, _ in METRICS] + [key for key, _ in IDENTITY]
HIGHER_IS_BETTER = {"accuracy", "balanced_accuracy", "macro_f1", "kps_mean"}
_FLOAT_DIGITS = {"accuracy": 4, "balanced_accuracy": 4, "macro_f1": 4, "kps_mean": 1, "empty_percent": 2,
                 "dropped_percent": 1, "extract_images_per_second": 0, "train_seconds": 1, "epochs": 1}
#: Config keys never shown as distinguishing columns (names are shown already, or carry no result).
_NOT_DISTINGUISHING = {"experiment", "description", "seed", "dataset.name", "extractor.name",
                       "ordering.name", "model.name", "balancing.name", "executor.name"}


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with tempfile.NamedTemporaryFile(mode, dir=path.parent, prefix=f".{path.name}.", delete=False,
                                     **({} if isinstance(data, bytes) else {"encoding": "utf-8", "newline": ""})) as tmp:
        tmp.write(data)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n", encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: Config keys that do not change a run's result, so not its identity.
NOT_IDENTITY = ("experiment", "description", "executor")


def config_hash(config: dict[str, Any]) -> str:
    """A stable hash of a resolved config, without the keys that do not change results."""
    relevant = {k: v for k, v in config.items() if k not in NOT_IDENTITY}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:8]


def _names(config: dict[str, Any]) -> list[str]:
    return [config[k]["name"] for k in ("extractor", "ordering", "model", "balancing")]


def run_id(config: dict[str, Any]) -> str:
    """Readable and stable: the same resolved config always gets the same id."""
    return "-".join([*_names(config), f"s{config['seed']}", config_hash(config)])


def config_id(config: dict[str, Any]) -> str:
    """The id shared by the runs of one configuration with different seeds."""
    return "-".join([*_names(config), config_hash({k: v for k, v in config.items() if k != "seed"})])


@contextlib.contextmanager
def run_directory(experiment_dir: Path, rid: str) -> Iterator[Path]:
    """A temporary folder that becomes ``experiment_dir/rid`` only if the block completes."""
    experiment_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{rid}-", dir=experiment_dir))
    tmp.chmod(0o755)  # mkdtemp's 0700 would make shared results unreadable to others
    try:
        yield tmp
        final = experiment_dir / rid
        if final.exists():  # --rerun: swap the old result out only once the new one is complete
            old = Path(tempfile.mkdtemp(prefix=f".tmp-old-{rid}-", dir=experiment_dir))
            os.replace(final, old / rid)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def run_lock(experiment_dir: Path, rid: str) -> Iterator[bool]:
    """An exclusive, non-blocking lock on one run id: yields False when another process holds it.

    Two `bench run` processes on one results folder then never run (or write) the same run at
    once. The lock dies with its process, so a killed run never leaves it held.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process exclusion, runs stay atomic
        yield True
        return
    locks = experiment_dir / ".locks"
    locks.mkdir(exist_ok=True)
    with (locks / rid).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale(experiment_dir: Path, rid: str) -> None:
    """Temporary folders of this run left by a killed process (call while holding its lock)."""
    for leftover in experiment_dir.glob(f".tmp-{rid}-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in experiment_dir.glob(f".tmp-old-{rid}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def is_complete(run_dir: Path) -> bool:
    return (run_dir / RECORD).is_file()


def load_records(*experiment_dirs: Path) -> list[dict[str, Any]]:
    """The records of every complete run in the given experiment folders, oldest first.

    Each record gets ``run_dir``, where its predictions and history are.
    """
    records = []
    for experiment_dir in experiment_dirs:
        if not experiment_dir.is_dir():
            raise UsageError(f"{experiment_dir}: no such results folder (expected results/<experiment>/)")
        for record_file in sorted(experiment_dir.glob(f"*/{RECORD}")):
            if record_file.parent.name.startswith("."):
                continue
            record = json.loads(record_file.read_text(encoding="utf-8"))
            record["run_dir"] = str(record_file.parent)
            records.append(record)
    return sorted(records, key=lambda r: r.get("finished_at", ""))


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    if isinstance(data, list):
        return {prefix[:-1]: json.dumps(data)}
    return {prefix[:-1]: data}


def _distinguishing(records: list[dict[str, Any]]) -> list[str]:
    """Config keys whose values differ between runs: the columns a reader needs to tell rows apart.

    A plugin parameter (``model.params.hidden_size``) counts only when it differs between runs
    of the same plugin: an LSTM has no ``nonlinearity``, which is no difference from an RNN.
    The same holds for nested plugins (``extractor.params.detector.params.step`` is compared
    between runs with the same detector).
    """
    flat = [_flatten(r.get("config", {})) for r in records]
    keys = sorted(k for k in {k for f in flat for k in f} - _NOT_DISTINGUISHING if not k.startswith("executor."))

    def differs(key: str) -> bool:
        component, _, rest = key.rpartition(".params.")  # the innermost plugin the key belongs to
        groups: dict[Any, set[str]] = {}
        for f in flat:
            group = f.get(f"{component}.name") if rest else None
            groups.setdefault(group, set()).add(json.dumps(f.get(key)))
        return any(len(values) > 1 for values in groups.values())

    return [k for k in keys if differs(k)]


@dataclass
class Configuration:
    """The runs of one configuration: the same resolved config but for the seed."""

    config_id: str
    runs: list[dict[str, Any]]

    @property
    def first(self) -> dict[str, Any]:
        return self.runs[0]

    def mean(self, key: str) -> float | None:
        values = [r[key] for r in self.runs if isinstance(r.get(key), (int, float))]
        return float(np.mean(values)) if values else None

    def std(self, key: str) -> float | None:
        values = [r[key] for r in self.runs if isinstance(r.get(key), (int, float))]
        return float(np.std(values, ddof=1)) if len(values) > 1 else None

    def value(self, key: str) -> Any:
        if key == "config_id":
            return self.config_id
        if key == "seeds":
            return len(self.runs)
        if key in dict(METRICS):
            return self.mean(key)
        return self.first.get(key)


def configurations(records: list[dict[str, Any]], sort: str = "accuracy") -> list[Configuration]:
    """Runs grouped by configuration (seeds together), best first by the mean of ``sort``."""
    if sort not in SORTABLE:
        raise UsageError(f"cannot sort by {sort!r}; choose one of: {', '.join(SORTABLE)}")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record.get("experiment", ""), config_id(record["config"])), []).append(record)
    found = [Configuration(cid, sorted(runs, key=lambda r: r.get("seed", 0))) for (_, cid), runs in groups.items()]

    def order(c: Configuration) -> tuple[bool, Any]:
        value = c.value(sort)
        return value is None, (-value if sort in HIGHER_IS_BETTER and value is not None else value)

    return sorted(found, key=order)


def table_rows(records: list[dict[str, Any]], sort: str = "accuracy", fmt: str = "md",
               significance: bool = True) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the comparison table: one row per configuration, best first.

    Metrics are the mean over seeds, with ± the standard deviation where there are several;
    ``p vs best`` is McNemar's exact test of each configuration against the best, on the same
    test items (seeds paired).
    """
    from benchmark.compare import mcnemar_vs_best

    groups = configurations(records, sort)
    varying = _distinguishing(records)
    p_values = mcnemar_vs_best(groups) if significance else {}
    several = len({r.get("experiment") for r in records}) > 1
    headers = (["experiment"] if several else []) + [h for _, h in IDENTITY] + varying
    for key, header in METRICS:
        headers.append(header)
        if fmt == "csv" and key in WITH_SPREAD:
            headers.append(f"{header} std")
    if p_values:
        headers.append("p vs best")
    rows = []
    for group in groups:
        flat = _flatten(group.first.get("config", {}))
        row = ([group.first.get("experiment")] if several else []) + [group.value(k) for k, _ in IDENTITY]
        row += [flat.get(k) for k in varying]
        for key, _ in METRICS:
            mean, std = group.mean(key), group.std(key)
            if fmt == "csv":
                row.append(None if mean is None else round(mean, 6))
                if key in WITH_SPREAD:
                    row.append(None if std is None else round(std, 6))
            else:
                digits = _FLOAT_DIGITS.get(key)
                text = "" if mean is None else (f"{mean:.{digits}f}" if digits is not None else f"{mean:g}")
                if key in WITH_SPREAD and std is not None:
                    text += f" ± {std:.{digits}f}"
                row.append(text)
        if p_values:
            p = p_values.get(group.config_id)
            row.append("best" if p is None and group is groups[0] else ("" if p is None else
                       (f"{p:.2g}" if fmt == "md" else round(p, 6))))
        rows.append(row)
    return headers, rows


def select(records: list[dict[str, Any]], where: list[str]) -> list[dict[str, Any]]:
    """Records matching every ``key=value`` filter; a key is a record field (``model``) or a
    dotted config key (``model.params.hidden_size``)."""
    selected = records
    for condition in where:
        key, sep, value = condition.partition("=")
        if not sep:
            raise UsageError(f"--where expects KEY=VALUE, e.g. model=gru (got {condition!r})")
        selected = [r for r in selected
                    if str(r[key] if key in r else _flatten(r.get("config", {})).get(key)) == value]
    return selected


def format_table(records: list[dict[str, Any]], sort: str = "accuracy", fmt: str = "md",
                 significance: bool = True) -> str:
    headers, rows = table_rows(records, sort, fmt, significance)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return buffer.getvalue()
    if fmt == "latex":
        return tabulate(rows, headers=headers, tablefmt="latex_booktabs", missingval="") + "\n"
    return tabulate(rows, headers=headers, tablefmt="github", missingval="", disable_numparse=True) + "\n"


def write_summary(experiment_dir: Path) -> list[dict[str, Any]]:
    """Rewrite ``summary.md`` and ``summary.csv`` from every complete run (atomically); nothing
    is written while no run is complete."""
    records = load_records(experiment_dir) if experiment_dir.is_dir() else []
    if not records:
        return records
    name = experiment_dir.name
    md = (f"# {name}\n\nOne row per configuration, best mean test accuracy first; mean ± std over seeds; "
          "`p vs best`: McNemar's exact test against the best configuration on the same test items. "
          f"Regenerate with `bench table {experiment_dir}`.\n\n" + format_table(records, fmt="md"))
    atomic_write(experiment_dir / "summary.md", md)
    atomic_write(experiment_dir / "summary.csv", format_table(records, fmt="csv"))
    from benchmark.plots import plot_comparison, plot_learning_curves

    groups = configurations(records)
    for name, plot in (("comparison.png", plot_comparison), ("learning_curves.png", plot_learning_curves)):
        # a unique temporary name: several processes of one sweep may summarise at once
        handle, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".png", dir=experiment_dir)
        os.close(handle)
        plot(groups, Path(tmp))
        os.replace(tmp, experiment_dir / name)
    return records
