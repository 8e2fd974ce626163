"""The ``bench`` command line. Logs go to stderr, tables to stdout.

Exit codes: 0 ok, 2 usage or configuration error, 1 run failure.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from benchmark.errors import BenchError

log = logging.getLogger("benchmark")


def _setup_logging(quiet: bool, debug: bool) -> None:
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if debug else "%(message)s"))
    for name in ("benchmark", "bench_plugins"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    """-q and --debug on every command; BenchErrors become one message and an exit code."""

    @click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors; no progress bars.")
    @click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, debug: bool, **kwargs: Any) -> Any:
        _setup_logging(quiet, debug)
        try:
            return func(*args, quiet=quiet, **kwargs)
        except BenchError as exc:
            if debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bench", prog_name="bench")
def main() -> None:
    """Benchmark local descriptors, keypoint orderings, sequence models and balancing
    strategies for image classification.

    \b
    Example:
      bench run experiments/orb_rnn.yaml
      bench table results/fashion-mnist-10k
    """


@main.command()
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value, e.g. --set training.epochs=3 (repeatable).")
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="Where results/<experiment>/ is written.")
@click.option("--rerun", is_flag=True, help="Run again even if this exact configuration has complete results.")
@click.option("--dry-run", is_flag=True, help="Print the runs the file defines (sweep × seeds) and stop.")
@click.option("--workers", type=click.IntRange(min=1), help="Extraction processes [default: every core].")
@click.option("--cache-dir", type=click.Path(path_type=Path),
              help="Feature store location [default: $BENCH_CACHE_DIR or the user cache dir].")
@click.option("--no-cache", is_flag=True, help="Extract again instead of using or filling the feature store.")
@click.option("--executor", "executor_name", metavar="NAME",
              help="Executor plugin for the runs (local, dask, ...) [default: the file's `executor`, else local].")
@_common
def run(experiment: Path, overrides: tuple[str, ...], results_dir: Path, rerun: bool, dry_run: bool,
        workers: int | None, cache_dir: Path | None, no_cache: bool, executor_name: str | None, quiet: bool) -> None:
    """Run an experiment (every point of its sweep) and print its results table.

    Runs whose exact configuration already has complete results are skipped, so an interrupted
    sweep resumes where it stopped.

    \b
    Example:
      bench run experiments/orb_rnn.yaml
      bench run experiments/orb_rnn.yaml --set model.name=gru --set training.epochs=5
      bench run experiments/descriptors.yaml --dry-run
    """
    from benchmark.api import RunTask
    from benchmark.config import load_sweep
    from benchmark.errors import RunError, UsageError
    from benchmark.extraction import default_workers
    from benchmark.registry import Registries
    from benchmark.results import format_table, is_complete, run_id, write_summary

    registries = Registries()
    if executor_name:  # replaces the file's executor; --set executor.params.* still applies on top
        overrides = (f"executor={{name: {executor_name}}}", *overrides)
    points = load_sweep(experiment, overrides, registries)
    if dry_run:
        for i, point in enumerate(points, 1):
            rid = run_id(point.config.model_dump(mode="json"))
            done = is_complete(results_dir / point.config.experiment / rid)
            settings = ", ".join(f"{k}={_short(v)}" for k, v in point.assignments.items())
            click.echo(f"{i:3d}  {rid}  seed={point.config.seed}  {settings}{'  (complete)' if done else ''}")
        return
    experiment_dir = results_dir / points[0].config.experiment
    spec = points[0].config.executor
    executor = registries["executor"].build(spec.name, spec.params, "executor")
    parallel = executor.parallel
    cores = default_workers()
    tasks = [
        RunTask(index=i, config=point.config.model_dump(mode="json"), results_dir=str(results_dir), rerun=rerun,
                quiet=quiet or parallel != 1, cache_dir=str(cache_dir) if cache_dir else None, no_cache=no_cache,
                # runs side by side share the cores: one extraction process and cores/n torch threads each
                extraction_workers=workers if parallel == 1 else 1,
                torch_threads=None if parallel == 1 else max(1, cores // max(parallel, 1)))
        for i, point in enumerate(points)
    ]
    if len(tasks) > 1:
        log.info("%d runs on executor %r", len(tasks), spec.name)
    failed = []
    for done, result in enumerate(executor.map(tasks), 1):
        point = points[result["index"]]
        what = ", ".join(f"{k}={_short(v)}" for k, v in point.assignments.items()) or f"seed {point.config.seed}"
        if result["ok"]:
            if len(tasks) > 1:
                log.info("── %d/%d done: %s%s", done, len(tasks), what, " (already complete)" if result["skipped"] else "")
        else:
            if len(tasks) > 1:
                log.error("── %d/%d failed: %s: %s", done, len(tasks), what, result["error"])
            failed.append(result)
    records = write_summary(experiment_dir)
    if records:
        click.echo(format_table(records), nl=False)
    if failed:
        if len(points) == 1:
            raise (UsageError if failed[0].get("exit_code") == 2 else RunError)(failed[0]["error"])
        error = UsageError if any(r.get("exit_code") == 2 for r in failed) else RunError
        raise error(f"{len(failed)} of {len(points)} runs failed; the others' results are complete")


def _short(value: Any) -> str:
    if isinstance(value, dict) and "name" in value:
        return str(value["name"]) + ("(...)" if value.get("params") else "")
    return json.dumps(value) if not isinstance(value, str) else value


@main.command()
@click.argument("experiments", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Overrides, as for `run`.")
@click.option("--show", is_flag=True, help="Print the resolved config (all defaults filled in).")
@_common
def validate(experiments: tuple[Path, ...], overrides: tuple[str, ...], show: bool, quiet: bool) -> None:
    """Check experiment files without running them.

    \b
    Example:
      bench validate experiments/*.yaml
    """
    from benchmark.config import dump_config, load_sweep
    from benchmark.errors import ConfigError
    from benchmark.registry import Registries
    from benchmark.results import run_id

    registries = Registries()
    problems = []
    for path in experiments:
        try:
            points = load_sweep(path, overrides, registries)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        config = points[0].config
        runs = f"run {run_id(config.model_dump(mode='json'))}" if len(points) == 1 else f"{len(points)} runs"
        click.echo(f"ok: {path} (experiment {config.experiment}, {runs})")
        if show:
            for point in points:
                click.echo(dump_config(point.config))
    if problems:
        raise ConfigError(problems)


@main.command()
@click.option("--kind", type=click.Choice(["dataset", "transform", "detector", "extractor", "ordering", "model",
                                          "balancer", "executor"]),
              help="Only this kind of plugin.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_common
def plugins(kind: str | None, as_json: bool, quiet: bool) -> None:
    """List every registered plugin by kind: name, package, version, parameters.

    \b
    Example:
      bench plugins --kind extractor
    """
    from tabulate import tabulate

    from benchmark.registry import Registries

    registries = Registries()
    listing: dict[str, list[dict[str, Any]]] = {}
    for kind_name, registry in registries.by_kind.items():
        if kind and kind_name != kind:
            continue
        listing[kind_name] = [
            {
                "name": entry.cls.name,
                "package": entry.source.package,
                "version": entry.source.version,
                "summary": entry.cls.summary(),
                "params": {
                    name: _default(field) for name, field in entry.cls.Params.model_fields.items()
                },
            }
            for entry in registry
        ]
    if as_json:
        click.echo(json.dumps(listing, indent=2, default=str))
        return
    for kind_name, entries in listing.items():
        click.echo(f"\n{kind_name}s ({len(entries)})")
        rows = [
            [e["name"], f"{e['package']} {e['version']}".strip(), e["summary"],
             ", ".join(f"{k}={v!r}" for k, v in e["params"].items()) or "-"]
            for e in entries
        ]
        click.echo(tabulate(rows, headers=["name", "package", "description", "params (defaults)"],
                            tablefmt="simple", maxcolwidths=[None, None, 50, 60]))


@main.group()
def data() -> None:
    """Look at a data set before training on it."""


@data.command("inspect")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Overrides, as for `run`.")
@click.option("--out", type=click.Path(path_type=Path), help="[default: results/<experiment>/data]")
@click.option("--sample", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Images sampled for sizes and keypoint counts.")
@_common
def data_inspect(experiment: Path, overrides: tuple[str, ...], out: Path | None, sample: int, quiet: bool) -> None:
    """Class balance per split, image sizes and channels, skipped files, and keypoints per class
    for the experiment's extractor: a markdown report with plots.

    \b
    Example:
      bench data inspect experiments/orb_rnn.yaml
    """
    from benchmark.config import load_sweep
    from benchmark.datareport import inspect_data
    from benchmark.registry import Registries

    registries = Registries()
    config = load_sweep(experiment, overrides, registries)[0].config
    report = inspect_data(config, out or Path("results") / config.experiment / "data", registries, sample, quiet)
    click.echo(report.read_text(encoding="utf-8"), nl=False)
    log.info("report: %s", report)


@data.command("preview")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Overrides, as for `run`.")
@click.option("--out", type=click.Path(path_type=Path), help="[default: results/<experiment>/data]")
@click.option("--count", type=click.IntRange(min=1, max=32), default=8, show_default=True)
@_common
def data_preview(experiment: Path, overrides: tuple[str, ...], out: Path | None, count: int, quiet: bool) -> None:
    """A grid of training images before and after the experiment's `augment` steps.

    \b
    Example:
      bench data preview experiments/orb_gru.yaml --set 'augment=[{name: warp}, {name: contrast}]'
    """
    from benchmark.config import load_sweep
    from benchmark.datareport import preview_augmentation
    from benchmark.registry import Registries

    registries = Registries()
    config = load_sweep(experiment, overrides, registries)[0].config
    path = preview_augmentation(config, out or Path("results") / config.experiment / "data", registries, count)
    click.echo(str(path))


@main.group()
def cache() -> None:
    """The feature store: extracted features reused by every run with the same extraction config."""


@cache.command("list")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Store location [default: $BENCH_CACHE_DIR or the user cache dir].")
@_common
def cache_list(cache_dir: Path | None, quiet: bool) -> None:
    """List stored feature sets with their size and what they were extracted from.

    \b
    Example:
      bench cache list
    """
    from tabulate import tabulate

    from benchmark.store import FeatureStore

    store = FeatureStore(cache_dir)
    entries = store.entries()
    rows = [[e["key"], (e["inputs"] or {}).get("dataset", {}).get("name"), (e["inputs"] or {}).get("extractor", {}).get("name"),
             e["images"], e["keypoints"], f"{e['bytes'] / 1e6:.1f}", e["created"]] for e in entries]
    click.echo(f"{store.root}: {len(entries)} entries, {sum(e['bytes'] for e in entries) / 1e6:.1f} MB")
    if rows:
        click.echo(tabulate(rows, headers=["key", "dataset", "extractor", "images", "keypoints", "MB", "created"]))


@cache.command("clear")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Store location [default: $BENCH_CACHE_DIR or the user cache dir].")
@_common
def cache_clear(cache_dir: Path | None, quiet: bool) -> None:
    """Delete every stored feature set.

    \b
    Example:
      bench cache clear
    """
    from benchmark.store import FeatureStore

    store = FeatureStore(cache_dir)
    freed = store.clear()
    click.echo(f"cleared {store.root} ({freed / 1e6:.1f} MB)")


def _default(field: Any) -> Any:
    if field.is_required():
        return "(required)"
    return field.default.model_dump() if hasattr(field.default, "model_dump") else field.default


def _table_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--sort, --format and --where, shared by `table` and `compare`."""
    func = click.option("--where", multiple=True, metavar="KEY=VALUE",
                        help="Only runs with this value, e.g. model=gru.")(func)
    func = click.option("--format", "fmt", type=click.Choice(["md", "csv", "latex"]), default="md",
                        show_default=True)(func)
    return click.option("--sort", default="accuracy", show_default=True,
                        help="Column to sort by (best first for metrics).")(func)


@main.command()
@click.argument("results", type=click.Path(path_type=Path))
@_table_options
@_common
def table(results: Path, sort: str, fmt: str, where: tuple[str, ...], quiet: bool) -> None:
    """Print the comparison table of an experiment: one row per configuration, mean ± std over
    seeds, and McNemar's p-value against the best configuration.

    \b
    Example:
      bench table results/fashion-mnist-10k --sort macro_f1
      bench table results/sweep --where balancer=none --format csv
    """
    from benchmark.results import format_table, load_records, select

    records = select(load_records(results), list(where))
    if not records:
        raise BenchError(f"{results}: no complete runs{' match ' + ' '.join(where) if where else ' yet'}")
    click.echo(format_table(records, sort=sort, fmt=fmt), nl=False)


@main.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@_table_options
@click.option("--top", type=click.IntRange(min=1), help="Only the best N configurations.")
@_common
def compare(results: tuple[Path, ...], sort: str, fmt: str, where: tuple[str, ...], top: int | None,
            quiet: bool) -> None:
    """Compare configurations across experiments' result folders in one table, aligned on the
    configuration columns, with McNemar's p-value of each against the best on the same test items.

    \b
    Example:
      bench compare results/fashion-mnist-10k results/descriptors --top 5
    """
    from benchmark.results import configurations, format_table, load_records, select

    records = select(load_records(*results), list(where))
    if not records:
        raise BenchError("no complete runs to compare")
    if top:
        records = [run for group in configurations(records, sort)[:top] for run in group.runs]
    click.echo(format_table(records, sort=sort, fmt=fmt), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
