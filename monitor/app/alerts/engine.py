"""Deciding and writing alerts: findings → storm state → one outbox email, in one transaction.

For each configured brand and rule, the rule's findings among a run's new mentions are
compared with that (rule, brand)'s `AlertState`: findings it already announced are dropped,
the rest start a storm (an alert), join it as an update, or wait for the next update slot
(`monitor.app.alerts.storm`). The state row is locked while this happens and the email is
enqueued in the same transaction, so an alert is written exactly once even with several
workers, and a crash leaves either both the email and the new state or neither.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.app.alerts import findings as rules
from monitor.app.alerts.findings import LEAK, REACH, RULES, SPIKE, Finding
from monitor.app.alerts.storm import decide, update_due
from monitor.core import routes
from monitor.core.models import AlertState, OutboxMessage
from monitor.core.settings import Settings
from monitor.core.storage import Database
from reports.alert_email import render_alert
from reports.notice import alert_notice
from reports.notify_outbox import enqueue_for_routes

log = logging.getLogger(__name__)

MAX_SENT_KEYS = 2000  # findings remembered per (rule, brand); far more than a storm produces
CATCH_UP = timedelta(days=2)  # how far back unseen mentions are still worth an alert


@dataclass
class AlertReport:
    """What one evaluation did: the emails written and the findings held for an update."""

    written: list[OutboxMessage] = field(default_factory=list)
    held: int = 0


def routes_for(rule: str) -> tuple[str, ...]:
    """Every alert goes to `alerts`; a leak also to `leaks` (security/legal)."""
    return ("alerts", "leaks") if rule == LEAK else ("alerts",)


def recipients_for(settings: Settings, rule: str) -> list[str]:
    """The email addresses of the rule's routes, without repeats."""
    return routes.emails(settings, *routes_for(rule))


def evaluate_alerts(settings: Settings, db: Database, *, now: datetime) -> AlertReport:
    """Run every rule over the mentions it has not seen yet, then flush due updates.

    Each (rule, brand) state remembers the last mention id it examined, moved in the same
    transaction as the email it writes. So a crash between storing a run and alerting on it
    loses nothing: the next evaluation (after the next run, or the scheduler's minutely
    flush) picks those mentions up; and nothing is announced twice. Mentions first seen more
    than CATCH_UP ago are left alone: after days offline, a stale alert helps no one.
    """
    report = AlertReport()
    if not settings.alerts.enabled:
        return report
    brands = [brand.name for brand in settings.brands]
    floor = now - CATCH_UP
    with db.reading() as session:
        newest = {
            rule: (rules.newest_post_ids if rule == SPIKE else rules.newest_mention_ids)(
                session, brands, floor
            )
            for rule in RULES
        }
        checked = {(state.rule, state.brand): (state.checked_mention_id, bool(state.pending))
                   for state in session.scalars(select(AlertState))}
    for brand in brands:
        for rule in RULES:
            last_id, waiting = checked.get((rule, brand), (0, False))
            if newest[rule].get(brand, 0) <= last_id and not waiting:
                continue  # nothing new and nothing waiting: no transaction at all
            with db.transaction() as session:
                state = _locked_state(session, rule, brand)
                if state is None:
                    _create_state(session, rule, brand)
                    state = _locked_state(session, rule, brand)
                    assert state is not None
                # The spike rule's cursor is a post id (it counts posts), the others' a story's.
                new_ids = rules.new_post_ids if rule == SPIKE else rules.new_mention_ids
                ids = new_ids(session, brand, state.checked_mention_id, floor)
                found = _find(session, settings, rule, brand, ids, now) if ids else []
                _apply(session, settings, state, found, now, report)
                if ids:
                    state.checked_mention_id = max(ids)
    return report


def _find(
    session: Session, settings: Settings, rule: str, brand: str, ids: list[int], now: datetime
) -> list[Finding]:
    finders: dict[str, Callable[[], list[Finding]]] = {
        SPIKE: lambda: rules.spike_findings(session, brand, ids, settings.alerts, now),
        LEAK: lambda: rules.leak_findings(session, brand, ids),
        REACH: lambda: rules.reach_findings(session, brand, ids, settings.alerts.reach_threshold),
    }
    return finders[rule]()


def _locked_state(session: Session, rule: str, brand: str) -> AlertState | None:
    query = select(AlertState).where(AlertState.rule == rule, AlertState.brand == brand)
    return session.scalars(query.with_for_update()).first()


def _apply(
    session: Session,
    settings: Settings,
    state: AlertState,
    found: Sequence[Finding],
    now: datetime,
    report: AlertReport,
) -> None:
    rule, brand = state.rule, state.brand
    known = set(state.sent_keys) | {item["key"] for item in state.pending}
    fresh = [item for item in found if item["key"] not in known]
    pending = list(state.pending) + fresh
    if not pending:
        return
    cooldown, every = settings.alerts.cooldown_delta, settings.alerts.update_delta
    if fresh:
        decision = decide(
            now=now,
            last_fired_at=state.last_fired_at,
            last_sent_at=state.last_sent_at,
            cooldown=cooldown,
            update_every=every,
        )
        state.last_fired_at = now
    else:
        decision = (
            "update"
            if update_due(now=now, last_sent_at=state.last_sent_at, every=every)
            else "hold"
        )
    if decision == "hold":
        state.pending = pending
        report.held += len(fresh)
        return
    if decision == "alert":
        state.episode += 1
        state.sequence = 0
        state.episode_started_at = now
    state.sequence += 1
    message = _write(session, settings, state, decision, pending, now)
    state.sent_keys = (list(state.sent_keys) + [item["key"] for item in pending])[-MAX_SENT_KEYS:]
    state.pending = []
    state.last_sent_at = now
    if message is not None:
        report.written.append(message)
        log.info(
            "%s %s for %s: %d finding(s) → %s", rule, decision, brand, len(pending), message.key
        )


def _create_state(session: Session, rule: str, brand: str) -> None:
    """Insert the (rule, brand) row unless another worker just did (ON CONFLICT DO NOTHING)."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    session.execute(
        module.insert(AlertState)
        .values(
            rule=rule,
            brand=brand,
            episode=0,
            sequence=0,
            pending=[],
            sent_keys=[],
            checked_mention_id=0,
        )
        .on_conflict_do_nothing(index_elements=["rule", "brand"])
    )


def _write(
    session: Session,
    settings: Settings,
    state: AlertState,
    kind: str,
    pending: list[Finding],
    now: datetime,
) -> OutboxMessage | None:
    rendered = render_alert(
        session,
        settings,
        rule=state.rule,
        brand=state.brand,
        kind=kind,
        findings=pending,
        started=state.episode_started_at or now,
        sent=state.sequence - 1,
    )
    return enqueue_for_routes(
        session,
        settings,
        routes=routes_for(state.rule),
        key=f"alert:{state.id}:{state.rule}:{state.episode}.{state.sequence}",
        kind=f"alert-{state.rule}",
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        now=now,
        notice=lambda: alert_notice(
            session, settings, rule=state.rule, brand=state.brand, kind=kind,
            findings=pending, title=rendered.subject,
        ),
    )


def pending_findings(session: Session) -> list[dict[str, Any]]:
    """(rule, brand, count) of findings held for the next update, for `monitor outbox`."""
    rows = session.scalars(select(AlertState).order_by(AlertState.rule, AlertState.brand))
    return [{"rule": s.rule, "brand": s.brand, "held": len(s.pending)} for s in rows if s.pending]
