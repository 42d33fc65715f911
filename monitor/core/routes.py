"""Who gets what: a route's email addresses and its chat/webhook targets, from both tables.

`[email.recipients]` (addresses only, as before) and `[routes]` (addresses and notification
URLs) name the same routes; a route's recipients are the union of both, in the order written,
without repeats. Every producer of a message (alerts, digest, routed, weekly, escalation) asks
here, so the two tables cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from monitor.core.delivery_settings import ROUTE_LISTS as ROUTES
from monitor.core.settings import Settings
from monitor.core.targets import Target

#: The routed daily emails (reports.routed): which tag families put a mention on each list.
#: Here, beside the routes, because `monitor eval` scores these lists too (their precision
#: is what a customer-care or HR reader sees).
DAILY_LISTS: dict[str, tuple[str, ...]] = {
    "complaints": ("complaint",),
    "employees": ("employee", "policy"),
}

#: PII reasons backed by an identifier whose checksum was validated.
VALIDATED_PII = frozenset({"pii:dni", "pii:nie", "pii:iban", "pii:bank_account", "pii:card"})


def is_high_severity(label: str, evidence: Iterable[Any]) -> bool:
    """Whether a `leak` tag calls for an alert at once (to `alerts` and `leaks`): a `secret`,
    a `confidential` codename, or `pii` backed by a validated identifier (an email address
    or phone number alone is the digest's business, not a crisis). `evidence` holds the
    tag's evidence as stored (dicts with a "reason")."""
    reasons = {str(item.get("reason", "")) for item in evidence if isinstance(item, dict)}
    if label == "secret":
        return True
    if label == "confidential":
        return any(reason.startswith("confidential:codename") for reason in reasons)
    return label == "pii" and bool(reasons & VALIDATED_PII)


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
