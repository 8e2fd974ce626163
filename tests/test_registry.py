"""The plugin manager and registries: loading, blocking, duplicates, did-you-mean, sources."""

from __future__ import annotations

import pytest

from benchmark import hookimpl
from benchmark.api import Extractor, Model, Params
from benchmark.config import ConfigError
from benchmark.plugins import DEFAULT_PLUGINS, PluginSource, get_plugin_manager
from benchmark.registry import Registries, Registry

SOURCE = PluginSource("test", "tests", "0")


class Dummy(Extractor):
    """A test extractor."""

    name = "dummy"

    class Params(Params):
        size: int = 4

    def descriptor_size(self) -> int:
        return self.params.size


def test_every_kind_has_built_in_plugins(registries: Registries) -> None:
    counts = {kind: len(registry) for kind, registry in registries.by_kind.items()}
    assert all(counts.values()), counts
    assert {"rnn", "lstm", "gru"} <= set(registries["model"].names())
    assert {"detection", "response", "raster", "random"} <= set(registries["ordering"].names())
    assert {"none", "class-weights", "oversample", "undersample"} <= set(registries["balancer"].names())


def test_built_in_plugins_report_their_package_and_version(registries: Registries) -> None:
    from benchmark import __version__

    entry = next(iter(registries["extractor"]))
    assert entry.source.plugin in DEFAULT_PLUGINS
    assert (entry.source.package, entry.source.version) == ("bench", __version__)


def test_duplicate_names_are_rejected() -> None:
    registry = Registry("extractor", Extractor)
    registry.add(Dummy, SOURCE)
    with pytest.raises(TypeError, match="duplicate extractor name 'dummy'"):
        registry.add(Dummy, PluginSource("other", "x", "1"))


def test_wrong_base_class_is_rejected() -> None:
    registry = Registry("model", Model)
    with pytest.raises(TypeError, match="not a subclass of benchmark.api.Model"):
        registry.add(Dummy, SOURCE)  # type: ignore[arg-type]


def test_unknown_name_suggests_the_nearest() -> None:
    registry = Registry("extractor", Extractor)
    registry.add(Dummy, SOURCE)
    with pytest.raises(KeyError, match="unknown extractor 'dumy' \\(did you mean 'dummy'\\?\\); registered extractors: dummy"):
        registry.get("dumy")


def test_build_validates_params() -> None:
    registry = Registry("extractor", Extractor)
    registry.add(Dummy, SOURCE)
    assert registry.build("dummy", {"size": 8}).descriptor_size() == 8
    with pytest.raises(ConfigError, match="extractor.params.sise: unknown parameter \\(did you mean 'size'\\?\\)"):
        registry.build("dummy", {"sise": 8})


class RuntimePlugin:
    """A plugin object registered at runtime, as a third-party module would be."""

    @hookimpl
    def bench_register_extractors(self):
        return [Dummy]


def test_a_plugin_adds_to_the_registry_and_can_be_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    pm = get_plugin_manager()
    pm.register(RuntimePlugin(), name="runtime")
    assert "dummy" in Registries(pm)["extractor"]

    monkeypatch.setenv("BENCH_BLOCK_PLUGINS", "bench_plugins.models, bench_plugins.bovw")
    blocked = Registries(get_plugin_manager())
    assert len(blocked["model"]) == 0
    assert "orb" in blocked["extractor"]


def test_a_clashing_plugin_name_fails_loudly() -> None:
    class Clash(Dummy):
        name = "orb"

    class ClashingPlugin:
        @hookimpl
        def bench_register_extractors(self):
            return [Clash]

    pm = get_plugin_manager()
    pm.register(ClashingPlugin(), name="clash")
    with pytest.raises(TypeError, match="duplicate extractor name 'orb'"):
        Registries(pm)
