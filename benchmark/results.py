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
from pathlib import Path
from typing import Any

from tabulate import tabulate

from benchmark.errors import UsageError

RECORD = "record.json"

#: Identity columns of every summary row, then the metrics, with their table headers.
IDENTITY = [("run_id", "run"), ("dataset", "dataset"), ("extractor", "extractor"), ("ordering", "ordering"),
            ("model", "model"), ("balancer", "balancer"), ("seed", "seed")]
METRICS = [("accuracy", "accuracy"), ("balanced_accuracy", "bal. acc"), ("macro_f1", "macro-F1"),
           ("kps_mean", "kps/img"), ("empty_percent", "% empty"), ("dropped_percent", "% dropped"),
           ("descriptor_dim", "desc dim"), ("extract_images_per_second", "extract img/s"), ("epochs", "epochs"),
           ("train_seconds", "train s")]
_FLOAT_FORMATS = {"accuracy": ".4f", "balanced_accuracy": ".4f", "macro_f1": ".4f", "kps_mean": ".1f",
                  "empty_percent": ".2f", "dropped_percent": ".1f", "extract_images_per_second": ".0f",
                  "train_seconds": ".1f"}
SORTABLE = [key for key, _ in METRICS] + [key for key, _ in IDENTITY]
#: Config keys never shown as distinguishing columns (names are shown already, or carry no result).
_NOT_DISTINGUISHING = {"experiment", "description", "seed", "dataset.name", "extractor.name",
                       "ordering.name", "model.name", "balancing.name"}


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


def config_hash(config: dict[str, Any]) -> str:
    """A stable hash of a resolved config (experiment name and description left out)."""
    relevant = {k: v for k, v in config.items() if k not in ("experiment", "description")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:8]


def run_id(config: dict[str, Any]) -> str:
    """Readable and stable: the same resolved config always gets the same id."""
    parts = [config["extractor"]["name"], config["ordering"]["name"], config["model"]["name"],
             config["balancing"]["name"], f"s{config['seed']}", config_hash(config)]
    return "-".join(parts)


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


def is_complete(run_dir: Path) -> bool:
    return (run_dir / RECORD).is_file()


def load_records(experiment_dir: Path) -> list[dict[str, Any]]:
    """The records of every complete run of an experiment, oldest first."""
    if not experiment_dir.is_dir():
        raise UsageError(f"{experiment_dir}: no such results folder (expected results/<experiment>/)")
    records = []
    for record_file in sorted(experiment_dir.glob(f"*/{RECORD}")):
        if record_file.parent.name.startswith("."):
            continue
        records.append(json.loads(record_file.read_text(encoding="utf-8")))
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
    """
    flat = [_flatten(r.get("config", {})) for r in records]
    keys = sorted({k for f in flat for k in f} - _NOT_DISTINGUISHING)

    def differs(key: str) -> bool:
        component, _, rest = key.partition(".params.")
        groups: dict[Any, set[str]] = {}
        for f in flat:
            group = f.get(f"{component}.name") if rest else None
            groups.setdefault(group, set()).add(json.dumps(f.get(key)))
        return any(len(values) > 1 for values in groups.values())

    return [k for k in keys if differs(k)]


def table_rows(records: list[dict[str, Any]], sort: str = "accuracy") -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the comparison table, best first by ``sort``."""
    if sort not in SORTABLE:
        raise UsageError(f"cannot sort by {sort!r}; choose one of: {', '.join(SORTABLE)}")
    varying = _distinguishing(records)
    higher_is_better = sort in {"accuracy", "balanced_accuracy", "macro_f1", "kps_mean"}

    def order(record: dict[str, Any]) -> tuple[bool, Any]:
        value = record.get(sort)
        return value is None, (-value if higher_is_better and value is not None else value)

    ordered = sorted(records, key=order)
    headers = [h for _, h in IDENTITY] + varying + [h for _, h in METRICS]
    rows = []
    for r in ordered:
        flat = _flatten(r.get("config", {}))
        rows.append([r.get(k) for k, _ in IDENTITY] + [flat.get(k) for k in varying] + [r.get(k) for k, _ in METRICS])
    return headers, rows


def format_table(records: list[dict[str, Any]], sort: str = "accuracy", fmt: str = "md") -> str:
    headers, rows = table_rows(records, sort)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return buffer.getvalue()
    formats = ["g"] * (len(headers) - len(METRICS)) + [_FLOAT_FORMATS.get(k, "g") for k, _ in METRICS]
    return tabulate(rows, headers=headers, tablefmt="github", floatfmt=formats, missingval="") + "\n"


def write_summary(experiment_dir: Path) -> list[dict[str, Any]]:
    """Rewrite ``summary.md`` and ``summary.csv`` from every complete run (atomically)."""
    records = load_records(experiment_dir)
    name = experiment_dir.name
    md = (f"# {name}\n\nOne row per run, best accuracy first; test split metrics. "
          f"Regenerate with `bench table {experiment_dir}`.\n\n" + format_table(records, fmt="md"))
    atomic_write(experiment_dir / "summary.md", md)
    atomic_write(experiment_dir / "summary.csv", format_table(records, fmt="csv"))
    return records
