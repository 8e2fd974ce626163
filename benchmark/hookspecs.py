"""Every hook bench calls, in the order a run meets them.

Registration hooks return lists of plugin classes (one registry per kind is built from them);
a plugin implements only the hooks it needs, with ``@benchmark.hookimpl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("bench")
hookimpl = pluggy.HookimplMarker("bench")


# --------------------------------------------------------------------------------------------
# Registration: what plugins exist
# --------------------------------------------------------------------------------------------


@hookspec
def bench_register_datasets() -> list[type]:
    """Return Dataset subclasses: sources of labelled images."""


@hookspec
def bench_register_transforms() -> list[type]:
    """Return Transform subclasses: image preprocessing and augmentation steps."""


@hookspec
def bench_register_detectors() -> list[type]:
    """Return Detector subclasses: keypoint detectors that extractors can be paired with."""


@hookspec
def bench_register_extractors() -> list[type]:
    """Return Extractor subclasses: keypoint detectors with descriptors."""


@hookspec
def bench_register_orderings() -> list[type]:
    """Return Ordering subclasses: the order of keypoints in a sequence."""


@hookspec
def bench_register_models() -> list[type]:
    """Return Model subclasses: classifiers of token sequences."""


@hookspec
def bench_register_balancers() -> list[type]:
    """Return Balancer subclasses: strategies against class imbalance."""


@hookspec
def bench_register_executors() -> list[type]:
    """Return Executor subclasses: where the runs of a sweep execute."""


# --------------------------------------------------------------------------------------------
# Reporting: after a run
# --------------------------------------------------------------------------------------------


@hookspec
def bench_run_finished(run_dir: Path, record: dict[str, Any]) -> None:
    """Called once a run's results are complete on disk; ``record`` is its summary row data."""
