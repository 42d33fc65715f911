"""Finds connectors through the `vigia.connectors` entry-point group.

Built-ins are registered in our own pyproject.toml exactly as a third-party package would
register theirs, so there is one discovery path; tests may add fakes with `register`.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from connectors.base import Connector

ENTRY_POINT_GROUP = "vigia.connectors"
_extra: dict[str, type[Connector]] = {}


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


@cache
def _load(kind: str) -> type[Connector]:
    # One connector imported only when a source of its kind is configured: a re-poll of
    # feeds need not import the Bluesky or Reddit code (and what they import).
    loaded: type[Connector] = _entry_points()[kind].load()
    return loaded


def kinds() -> list[str]:
    """Every known kind's name (entry points and test registrations), loading none of them."""
    return sorted({*_entry_points(), *_extra})


def get(kind: str) -> type[Connector] | None:
    if kind in _extra:
        return _extra[kind]
    return _load(kind) if kind in _entry_points() else None


def available() -> dict[str, type[Connector]]:
    """Every known connector class by kind (entry points, then test registrations)."""
    return {kind: connector for kind in kinds() if (connector := get(kind)) is not None}


def register(kind: str, cls: type[Connector]) -> None:
    """Add a connector at run time (tests, plugins loaded by hand)."""
    _extra[kind] = cls


def unregister(kind: str) -> None:
    _extra.pop(kind, None)
