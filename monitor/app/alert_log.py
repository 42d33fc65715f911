"""The alerts that were written, as the dashboard and `GET /api/v1/alerts` list them.

An alert is not a table of its own: it is the outbox row the alert engine wrote
(monitor/app/alerts/engine.py `_write`: kind `alert-<rule>`, key
`alert:<alert state id>:<rule>:<episode>.<sequence>`), so the list shows exactly what was
emailed, and whether it went out. Why it fired is the email's plain-text part, read back with
`reports.outbox.parse_stored`: the numbers, the baseline and the posts, with identifiers
already masked when the email was rendered. The brand is the alert state's (the key names
it), since an outbox row has no brand column.

Role rules: an alert whose rule is about a restricted family (`RULE_FAMILIES`: a leak alert
quotes the leaked post) is left out for a reader to whom that family is hidden
(monitor.core.access.hidden_families).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from monitor.app.alerts.findings import LEAK
from monitor.core.models import AlertState, OutboxMessage
from reports.outbox import parse_stored

KIND_PREFIX = "alert-"
#: alert rule → the tag family its emails quote, hidden with that family
RULE_FAMILIES = {LEAK: "leak"}


@dataclass(frozen=True)
class AlertItem:
    """One alert (or storm update) email: what fired, when, whether it was sent, and why."""

    id: int
    rule: str
    brand: str | None
    subject: str
    created_at: datetime
    status: str  # pending, sent or dead (reports.outbox)
    attempts: int
    sent_at: datetime | None
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "brand": self.brand,
            "subject": self.subject,
            "created_at": self.created_at.isoformat(),
            "status": self.status,
            "attempts": self.attempts,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "why": self.why,
        }


def recent_alerts(
    session: Session,
    *,
    hidden_families: frozenset[str],
    limit: int = 50,
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AlertItem]:
    """The newest `limit` alerts the reader may see (of `brand` if given; created in
    [since, until) if given), newest first."""
    brands = {state_id: name for state_id, name in session.execute(
        select(AlertState.id, AlertState.brand)
    )}
    query = select(OutboxMessage).where(OutboxMessage.kind.startswith(KIND_PREFIX))
    hidden_kinds = [
        KIND_PREFIX + rule for rule, family in RULE_FAMILIES.items() if family in hidden_families
    ]
    if hidden_kinds:
        query = query.where(OutboxMessage.kind.not_in(hidden_kinds))
    if brand is not None:
        ids = [state_id for state_id, name in brands.items() if name == brand]
        if not ids:
            return []
        query = query.where(or_(*(OutboxMessage.key.startswith(f"alert:{i}:") for i in ids)))
    if since is not None:
        query = query.where(OutboxMessage.created_at >= since)
    if until is not None:
        query = query.where(OutboxMessage.created_at < until)
    rows = session.scalars(
        query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)
    )
    return [_item(row, brands) for row in rows]


def _item(row: OutboxMessage, brands: dict[int, str]) -> AlertItem:
    return AlertItem(
        id=row.id,
        rule=row.kind.removeprefix(KIND_PREFIX),
        brand=brands.get(_state_id(row.key)),
        subject=row.subject,
        created_at=row.created_at,
        status=row.status,
        attempts=row.attempts,
        sent_at=row.sent_at,
        why=plain_text(row.message),
    )


def _state_id(key: str) -> int:
    """The alert state id in `alert:<id>:<rule>:<episode>.<sequence>`; 0 if it is not one."""
    parts = key.split(":")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


def plain_text(raw: bytes) -> str:
    """The text/plain part of a stored email ("" if it has none)."""
    body = parse_stored(raw).get_body(preferencelist=("plain",))
    return str(body.get_content()).strip() if body is not None else ""
