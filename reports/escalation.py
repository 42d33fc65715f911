"""The email a reviewer's "escalate" writes: this post needs someone's attention now.

One email per mention, ever: its outbox key is `escalation:<mention id>`, so a second
escalation (another reviewer, a double click) is audited by the caller but writes nothing
new. It goes to `[email.recipients] escalations` (`alerts` when that is empty), except for a
post tagged as a leak: security content stays with security, so it goes to `leaks` (or to
`alerts`, which receives every leak alert already) and never to the comms list, whose roles
may not even open such a post (monitor.core.access).

The post is shown with the alerts' post block: flagged values replaced, then everything a
post or a reviewer contributed passed through the `masked` filter and autoescaped. The
subject names the reviewer and the brand only, never post content. A link back to the
mention is added when `[web] base_url` is set.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.core import routes
from monitor.core.models import OutboxMessage
from monitor.core.settings import Settings
from reports import alert_i18n, i18n
from reports.alert_email import load_posts
from reports.notice import Notice, escalation_notice, mention_link
from reports.notify_outbox import enqueue_for_routes
from reports.render import RenderedEmail, render_email

KIND = "escalation"


@dataclass(frozen=True)
class EscalationEmail:
    """What became of the email: `written` False when it already existed or had nobody to
    go to (the route has no target); `recipient_list` names the route it was meant for,
    `recipients` its email addresses (its chat targets get a notification each)."""

    key: str
    recipient_list: str
    recipients: list[str]
    written: bool


def outbox_key(mention_id: int) -> str:
    return f"{KIND}:{mention_id}"


def escalation_recipients(settings: Settings, families: Collection[str]) -> tuple[str, list[str]]:
    """(list name, addresses) for a mention whose tags belong to `families`.

    Restricted content stays with its readers (monitor.core.access): a leak goes to `leaks`
    (or `alerts`, which gets every leak alert anyway); an employee's post only to HR's
    `employees` list, never to the crisis lists, so with no HR list no email is written.
    """
    def chosen(name: str, fallback: str | None) -> tuple[str, list[str]]:
        if fallback is not None and not routes.has_targets(settings, name):
            name = fallback
        return name, routes.emails(settings, name)

    if "leak" in families:
        return chosen("leaks", "alerts")
    if "employee" in families:
        return chosen("employees", None)
    return chosen("escalations", "alerts")


def render_escalation(
    session: Session,
    settings: Settings,
    *,
    mention_id: int,
    brand: str,
    escalated_by: str,
    note: str | None,
    leak: bool,
    now: datetime,
) -> RenderedEmail:
    language = settings.email.language
    posts = load_posts(session, settings, brand, [mention_id])
    t = alert_i18n.escalation_strings(language)
    when = i18n.format_datetime(now.astimezone(settings.schedule.zone), language)
    return render_email(KIND, {
        "t": t,
        "lang": language,
        "brand": brand,
        "post": posts[mention_id],
        "user": escalated_by,
        "note": note or "",
        "leak": leak,
        "link": mention_link(settings, mention_id),
        "when": when,
        "timezone": settings.schedule.timezone,
        "fmt": lambda value: i18n.format_datetime(value, language),
        "num": lambda value: i18n.format_number(value, language),
        "reason_label": lambda reason: alert_i18n.reason_label(reason, language),
    })


def enqueue_escalation(
    session: Session,
    settings: Settings,
    *,
    mention_id: int,
    brand: str,
    families: Collection[str],
    escalated_by: str,
    note: str | None,
    now: datetime,
) -> EscalationEmail:
    """Write the escalation email in `session`'s transaction, unless one was already written."""
    key = outbox_key(mention_id)
    list_name, recipients = escalation_recipients(settings, families)
    result = EscalationEmail(key, list_name, list(recipients), written=False)
    if not routes.has_targets(settings, list_name):
        return result
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return result
    rendered = render_escalation(
        session, settings, mention_id=mention_id, brand=brand, escalated_by=escalated_by,
        note=note, leak="leak" in families, now=now,
    )

    def notice() -> Notice:
        post = load_posts(session, settings, brand, [mention_id])[mention_id]
        return escalation_notice(
            settings, post=post, brand=brand, route=list_name, title=rendered.subject,
            escalated_by=escalated_by, note=note,
        )

    message = enqueue_for_routes(
        session, settings, routes=(list_name,), key=key, kind=KIND, subject=rendered.subject,
        html=rendered.html, text=rendered.text, now=now, notice=notice,
    )
    return EscalationEmail(key, list_name, list(recipients), written=message is not None)
