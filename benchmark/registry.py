"""One registry per plugin kind: name → class, with did-you-mean errors and validated building."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pluggy
from pydantic import ValidationError

from benchmark.api import PLUGIN_KINDS, ComponentSpec, Plugin, component_fields
from benchmark.errors import Problem
from benchmark.plugins import PluginSource, get_plugin_manager, plugin_source

P = TypeVar("P", bound=Plugin)


def did_you_mean(value: str, choices: list[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Entry(Generic[P]):
    """A registered plugin class and where it came from."""

    cls: type[P]
    source: PluginSource


class Registry(Generic[P]):
    """Plugins of one kind by name."""

    def __init__(self, kind: str, base: type[P], parent: Registries | None = None):
        self.kind = kind
        self.base = base
        self.parent = parent  # resolves plugins nested in this kind's params (an extractor's detector)
        self._entries: dict[str, Entry[P]] = {}

    def add(self, cls: type[P], source: PluginSource) -> None:
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(
                f"plugin {source.plugin!r} registered {cls!r} as a {self.kind}, "
                f"but it is not a subclass of {self.base.__module__}.{self.base.__name__}"
            )
        if not cls.name:
            raise TypeError(f"{self.kind} {cls.__qualname__} from {source.plugin!r} has no `name`")
        if cls.name in self._entries:
            first = self._entries[cls.name].source.plugin
            raise TypeError(
                f"duplicate {self.kind} name {cls.name!r}: registered by {first!r} "
                f"and again by {source.plugin!r}"
            )
        self._entries[cls.name] = Entry(cls, source)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[P]]:
        return iter(self._entries[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def unknown(self, name: str) -> str:
        """The message for a name that is not registered."""
        return (
            f"unknown {self.kind} {name!r}{did_you_mean(name, self.names())}; "
            f"registered {self.kind}s: {', '.join(self.names())}"
        )

    def source(self, name: str) -> PluginSource:
        """Where plugin ``name`` came from (package and version)."""
        if name not in self._entries:
            raise KeyError(self.unknown(name))
        return self._entries[name].source

    def get(self, name: str) -> type[P]:
        if name not in self._entries:
            raise KeyError(self.unknown(name))
        return self._entries[name].cls

    def validate(self, name: str, params: Mapping[str, Any], key: str) -> tuple[Any, list[Problem]]:
        """Validate ``params`` for plugin ``name``; problems are reported under ``key``.

        Nested plugins (``component`` parameters) are validated against their own registry and
        get their defaults filled in, so the resolved config records every value used.
        """
        if name not in self._entries:
            return None, [Problem(self.unknown(name), key=f"{key}.name")]
        cls = self._entries[name].cls
        try:
            validated = cls.Params(**params)
        except ValidationError as exc:
            return None, params_problems(exc, cls, f"{key}.params")
        problems: list[Problem] = []
        resolved = {}
        for field, kind in component_fields(cls.Params).items():
            spec = getattr(validated, field)
            if spec is None:
                continue
            if self.parent is None:
                raise TypeError(f"{self.kind} registry cannot resolve nested {kind} {field!r}: it has no parent")
            nested, found = self.parent[kind].validate(spec.name, spec.params, f"{key}.params.{field}")
            problems.extend(found)
            if nested is not None:
                resolved[field] = ComponentSpec(name=spec.name, params=nested.model_dump(mode="json"))
        if problems:
            return None, problems
        return validated.model_copy(update=resolved), []

    def build(self, name: str, params: Mapping[str, Any] | None = None, key: str = "") -> P:
        """An instance of plugin ``name`` with validated ``params`` and its nested plugins built."""
        from benchmark.errors import ConfigError

        key = key or self.kind
        validated, problems = self.validate(name, params or {}, key)
        if problems:
            raise ConfigError(problems)
        cls = self._entries[name].cls
        components = {}
        for field, kind in component_fields(cls.Params).items():
            spec = getattr(validated, field)
            components[field] = None if spec is None else self.parent[kind].build(  # type: ignore[index]
                spec.name, spec.params, f"{key}.params.{field}")
        return cls(validated, **components)


def params_problems(exc: ValidationError, cls: type[Plugin], key: str) -> list[Problem]:
    """Pydantic's errors for a plugin's params, as problems naming the key and valid choices."""
    fields = list(cls.Params.model_fields)
    problems = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        where = f"{key}.{loc}" if loc else key
        if err["type"] == "extra_forbidden":
            name = str(err["loc"][-1])
            hint = did_you_mean(name, fields) or (
                f"; {cls.name!r} takes: {', '.join(fields)}" if fields else f"; {cls.name!r} takes none"
            )
            problems.append(Problem(f"unknown parameter{hint}", key=where))
        else:
            problems.append(Problem(f"{err['msg']} (got {err.get('input')!r})", key=where))
    return problems


class Registries:
    """The registry of every plugin kind, built from the registration hooks."""

    def __init__(self, pm: pluggy.PluginManager | None = None):
        self.pm = pm or get_plugin_manager()
        self.by_kind: dict[str, Registry[Any]] = {}
        for kind, base in PLUGIN_KINDS.items():
            registry: Registry[Any] = Registry(kind, base, parent=self)
            hook = getattr(self.pm.hook, f"bench_register_{kind}s")
            for impl in hook.get_hookimpls():
                source = plugin_source(self.pm, impl.plugin)
                for cls in impl.function() or []:
                    registry.add(cls, source)
            self.by_kind[kind] = registry

    def __getitem__(self, kind: str) -> Registry[Any]:
        return self.by_kind[kind]
