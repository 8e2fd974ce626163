"""bench: which local descriptor, keypoint ordering, sequence model and balancing works best?"""

from importlib.metadata import PackageNotFoundError, version

from benchmark.hookspecs import hookimpl

try:
    __version__ = version("bench")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__", "hookimpl"]
