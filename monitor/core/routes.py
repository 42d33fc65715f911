"""Who gets what: a route's email addresses and its chat/webhook targets, from both tables.

`[email.recipients]` (addresses only, as before) and `[routes]` (addresses and notification
URLs) name the same routes; a route's recipients are the union of both, in the order written,
without repeats. Every producer of a message (alerts, digest, routed, weekly, escalation) asks
here, so the two tables cannot drift apart.
"""

from __future__ import annotations

from monitor.core.settings import Settings
from monitor.core.targets import Target

ROUTES = ("digest", "alerts", "leaks", "employees", "complaints", "weekly", "escalations")


def targets(settings: Settings, route: str) -> list[Target]:
    """Every target of `route`: the email list first, then `[routes]`, without repeats."""
    if route not in ROUTES:
        raise KeyError(route)
    values = list(getattr(settings.email.recipients, route)) + list(
        getattr(settings.routes, route)
    )
    return [Target(value) for value in dict.fromkeys(values)]


def emails(settings: Settings, *routes: str) -> list[str]:
    """The email addresses of `routes`, in order, without repeats."""
    return list(
        dict.fromkeys(t.value for route in routes for t in targets(settings, route) if t.is_email)
    )


def urls(settings: Settings, *routes: str) -> list[Target]:
    """The chat and webhook targets of `routes`, without repeats."""
    chosen = [t for route in routes for t in targets(settings, route) if not t.is_email]
    return list(dict.fromkeys(chosen))


def has_targets(settings: Settings, route: str) -> bool:
    return bool(targets(settings, route))
