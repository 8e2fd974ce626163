"""Running the points of a sweep through an executor, each run isolated from the others' failures."""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path
from typing import Any

from benchmark.api import RunTask

log = logging.getLogger(__name__)


def execute_task(task: RunTask) -> dict[str, Any]:
    """Run one point; never raises, so one failed run cannot take a sweep's others down.

    Runs in the caller's process or in an executor's worker: everything it needs is in ``task``.
    """
    from benchmark.config import ExperimentConfig
    from benchmark.errors import BenchError
    from benchmark.registry import Registries
    from benchmark.runner import run
    from benchmark.store import FeatureStore

    config = ExperimentConfig.model_validate(task.config)
    try:
        store = None if task.no_cache else (FeatureStore(Path(task.cache_dir)) if task.cache_dir else True)
        outcome = run(config, Path(task.results_dir), Registries(), rerun=task.rerun, quiet=task.quiet,
                      workers=task.extraction_workers, store=store, threads=task.torch_threads)
        return {"index": task.index, "ok": True, "skipped": outcome.skipped, "run_dir": str(outcome.run_dir),
                "accuracy": outcome.record.get("accuracy"), "pid": os.getpid()}
    except BenchError as exc:
        return {"index": task.index, "ok": False, "error": str(exc), "exit_code": exc.exit_code, "pid": os.getpid()}
    except Exception as exc:  # noqa: BLE001 (a bug in one run is reported with that run, others go on)
        return {"index": task.index, "ok": False, "pid": os.getpid(), "exit_code": 1,
                "error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"}
