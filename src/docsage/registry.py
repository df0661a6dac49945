"""Adapters by name: the one mechanism behind stores, embedders, chat models, rerankers and
parsers.

A ``Registry`` maps the names settings use to objects (a factory, or a parse function). Its
built-in entries are lazy ``"module:attr"`` references, so importing a registry imports no
adapter; the referenced module is imported when its name is first resolved. Other packages
add or override names through an entry point group (``[project.entry-points."docsage.stores"]``
and so on), found with ``importlib.metadata``; code embedding docsage may ``add`` one in
process. Precedence: added, then entry points, then built-ins.

Names are ``provider:rest`` where the rest is free (``sqlite:/srv/index.sqlite``,
``openai:gpt-4o-mini``: the provider picks the entry, the rest goes to its factory), or plain
(``identifier``, ``.md``). ``off`` names (``none``, ``extractive``) resolve to no adapter.

Stdlib only, like the rest of the foundation.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar, cast

from docsage.errors import ConfigError

T = TypeVar("T")


@functools.cache
def _installed(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def refresh() -> None:
    """Look for entry points again (after installing a plugin, or changing ``sys.path``)."""
    importlib.invalidate_caches()
    _installed.cache_clear()


class Registry(Generic[T]):
    """Names of one kind of adapter.

    ``kind`` is what errors call it ("store"), ``group`` its entry point group,
    ``builtins`` name -> ``"module:attr"``. ``rest`` is how errors show the part after the
    provider (``"<model>"``), or ``None`` for plain names. ``off`` names mean no adapter.
    """

    def __init__(
        self,
        kind: str,
        group: str,
        builtins: Mapping[str, str],
        *,
        rest: str | None = None,
        off: Sequence[str] = (),
    ) -> None:
        self.kind = kind
        self.group = group
        self.rest = rest
        self.off = tuple(off)
        self._builtins = {name: EntryPoint(name, ref, group) for name, ref in builtins.items()}
        self._added: dict[str, T | str] = {}

    def _entries(self) -> dict[str, EntryPoint | T | str]:
        return {**self._builtins, **_installed(self.group), **self._added}

    def names(self) -> list[str]:
        """Every name this registry resolves, sorted (``off`` names not included)."""
        return sorted(self._entries())

    def __contains__(self, name: str) -> bool:
        return name in self._entries()

    def add(self, name: str, target: T | str) -> None:
        """Register ``target`` (the object, or a ``"module:attr"`` reference) as ``name`` in
        this process, over any entry point or built-in of that name."""
        self._added[name] = target

    def remove(self, name: str) -> None:
        """Forget a name ``add`` registered (built-ins and entry points stay)."""
        self._added.pop(name, None)

    def get(self, name: str) -> T:
        """The object registered as ``name``; ConfigError listing the valid names if none."""
        entry = self._entries().get(name)
        if entry is None:
            raise ConfigError(f"unknown {self.kind} {name!r}; use one of: {self._valid()}")
        if isinstance(entry, str):
            entry = EntryPoint(name, entry, self.group)
        if not isinstance(entry, EntryPoint):
            return entry
        try:
            return cast(T, entry.load())
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"{self.kind} {name!r} ({entry.value}) could not be loaded: {exc}"
            ) from exc

    def resolve(self, spec: str) -> tuple[T, str] | None:
        """``(object, rest)`` for ``spec``: ``provider:rest`` when this registry's names
        have a rest, else the whole name with rest ``""``; ``None`` for an ``off`` name."""
        if spec in self.off:
            return None
        if self.rest is None:
            return self.get(spec), ""
        provider, _, rest = spec.partition(":")
        if provider not in self:  # the whole spec in the error, not just its provider
            raise ConfigError(f"unknown {self.kind} {spec!r}; use one of: {self._valid()}")
        return self.get(provider), rest

    def _valid(self) -> str:
        shown = [f"'{n}:{self.rest}'" if self.rest else f"'{n}'" for n in self.names()]
        return ", ".join([*shown, *(f"'{n}'" for n in self.off if n)])
