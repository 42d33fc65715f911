"""`monitor notify test ROUTE`: one test message to each target of a route, through the outbox.

The test goes the way a real alert does (written to the outbox, delivered, marked, retried
with backoff if a service is down), so a green test proves the whole path, secrets from the
environment included. Its outbox key carries the time, so each test is a new message.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from monitor.app.jobs import deliver_outbox
from monitor.core import routes
from monitor.core.errors import VigiaError
from monitor.core.models import OutboxMessage
from monitor.core.settings import Settings
from monitor.core.storage import Database
from reports.notice import Notice
from reports.notify_outbox import enqueue_for_routes


@dataclass(frozen=True)
class TargetOutcome:
    """What became of the test message to one target (`to` is never a secret)."""

    channel: str
    to: str
    status: str
    error: str | None


def send_test(
    settings: Settings, db: Database, route: str, *, now: datetime
) -> list[TargetOutcome]:
    """Write a test message for every target of `route`, deliver, and say how each went."""
    if route not in routes.ROUTES:
        raise VigiaError(
            f"no route named {route!r} — use one of: {', '.join(routes.ROUTES)}"
        )
    if not routes.has_targets(settings, route):
        raise VigiaError(
            f"route {route!r} has no targets — add email addresses or notification URLs to "
            f"[routes] {route} (or [email.recipients] {route}) in settings.toml"
        )
    key = f"test:{route}:{now:%Y%m%dT%H%M%S.%f}"
    title = f"Vigía test message for the {route} route"
    summary = (
        f"If you read this, Vigía's {route} messages reach this place. Sent by "
        "`monitor notify test`."
    )
    notice = Notice(
        kind="test", route=route, brand=None, title=title, summary=summary,
        figures={"test": True}, link=settings.web.base_url or None,
    )
    with db.transaction() as session:
        enqueue_for_routes(
            session, settings, routes=(route,), key=key, kind="test", subject=title,
            html=f"<p>{html.escape(summary)}</p>", text=summary, now=now, notice=lambda: notice,
        )
    deliver_outbox(settings, db, now=now)
    with db.reading() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "test", OutboxMessage.key.startswith(key))
            .order_by(OutboxMessage.id)
        ).all()
        return [
            TargetOutcome(
                row.channel, ", ".join(row.recipients) or "(no recipients)",
                "sent" if row.status == "sent" else "failed", row.last_error,
            )
            for row in rows
        ]
