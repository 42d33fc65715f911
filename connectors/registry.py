"""Finds connectors through the `vigia.connectors` entry-point group.

Built-ins are registered in our own pyproject.toml exactly as a third-party package would
register theirs, so there is one discovery path; tests may add fakes with `register`.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from connectors.base import Connector

ENTRY_POINT_GROUP = "vigia.connectors"
_extra: dict[str, type[Connector]] = {}


@cache
def _installed() -> dict[str, type[Connector]]:
    found: dict[str, type[Connector]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.load()
    return found


def available() -> dict[str, type[Connector]]:
    """Every known connector class by kind (entry points, then test registrations)."""
    return {**_installed(), **_extra}


def get(kind: str) -> type[Connector] | None:
    return available().get(kind)


def register(kind: str, cls: type[Connector]) -> None:
    """Add a connector at run time (tests, plugins loaded by hand)."""
    _extra[kind] = cls


def unregister(kind: str) -> None:
    _extra.pop(kind, None)
