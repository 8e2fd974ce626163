"""The plugin manager: built-in plugins, third-party plugins from entry points, and blocking."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import import_module

import pluggy

from benchmark import hookspecs

#: Third-party packages register their plugin modules under this entry-point group.
ENTRY_POINT_GROUP = "bench"

#: Built-in plugin modules; they use only the public API (``benchmark.api``, ``hookimpl``).
DEFAULT_PLUGINS = (
    "bench_plugins.datasets",
    "bench_plugins.folders",
    "bench_plugins.transforms",
    "bench_plugins.augment",
    "bench_plugins.detectors",
    "bench_plugins.extractors",
    "bench_plugins.orderings",
    "bench_plugins.models",
    "bench_plugins.bovw",
    "bench_plugins.balancers",
    "bench_plugins.executors",
)

#: Comma-separated plugin names (built-in module names or entry-point names) not to load.
BLOCK_ENV = "BENCH_BLOCK_PLUGINS"
#: Set to anything non-empty to skip loading third-party plugins, as pytest's
#: ``PYTEST_DISABLE_PLUGIN_AUTOLOAD``.
DISABLE_AUTOLOAD_ENV = "BENCH_DISABLE_PLUGIN_AUTOLOAD"


def get_plugin_manager() -> pluggy.PluginManager:
    """A fresh plugin manager with the hookspecs, third-party plugins and the built-ins."""
    pm = pluggy.PluginManager("bench")
    pm.add_hookspecs(hookspecs)
    for name in filter(None, (n.strip() for n in os.environ.get(BLOCK_ENV, "").split(","))):
        pm.set_blocked(name)
    if not os.environ.get(DISABLE_AUTOLOAD_ENV):
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for module_name in DEFAULT_PLUGINS:
        if not pm.is_blocked(module_name):
            pm.register(import_module(module_name), name=module_name)
    pm.check_pending()
    return pm


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin class came from: the pluggy plugin name and its distribution."""

    plugin: str
    package: str
    version: str


def plugin_source(pm: pluggy.PluginManager, plugin: object) -> PluginSource:
    """The distribution (package name and version) that provided a registered plugin object."""
    name = pm.get_name(plugin) or repr(plugin)
    for registered, dist in pm.list_plugin_distinfo():
        if registered is plugin:
            return PluginSource(name, dist.project_name, dist.version)
    if name in DEFAULT_PLUGINS:
        from benchmark import __version__

        return PluginSource(name, "bench", __version__)
    return PluginSource(name, "(registered at runtime)", "")
