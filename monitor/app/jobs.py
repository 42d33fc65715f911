"""The operations a pass is made of, shared by `monitor run`, the scheduler and the CLI.

Keeping them here means `run --once`, the cron job and `monitor digest` cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from monitor.app.alerts import AlertReport, evaluate_alerts
from monitor.app.pipeline import Pipeline, RunReport
from monitor.core.models import OutboxMessage
from monitor.core.settings import Settings, SourceSettings
from monitor.core.storage import Database
from reports.digest import DigestOutcome, write_daily_digest
from reports.mailer import mailer_for
from reports.outbox import DeliveryReport, deliver_pending
from reports.routed import enqueue_routed_reports

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    """Everything one `monitor run --once` did."""

    runs: list[RunReport] = field(default_factory=list)
    digest: DigestOutcome = field(default_factory=lambda: DigestOutcome("already"))
    alerts: list[OutboxMessage] = field(default_factory=list)
    #: The last delivery attempt of the pass: what went out and what waits in the outbox.
    delivery: DeliveryReport | None = None


@dataclass
class DigestSend:
    """What a digest job wrote, and how the delivery that followed went."""

    outcome: DigestOutcome
    delivery: DeliveryReport


def send_daily_emails(
    settings: Settings, db: Database, *, now: datetime, force: bool = False
) -> DigestSend:
    """The day's scheduled emails: today's digest (once a day unless forced) and the routed
    complaints and HR emails, written to the outbox and then delivered."""
    outcome = write_daily_digest(db, settings, now=now, force=force)
    if outcome.status != "written":
        log.info("today's digest not written: %s", outcome.status)
    enqueue_routed_reports(db, settings, now=now)
    return DigestSend(outcome, deliver_outbox(settings, db, now=now))


def send_digest(
    settings: Settings, db: Database, *, now: datetime, day: date, force: bool = False
) -> DigestSend:
    """One day's digest alone (`monitor digest --date D`), written to the outbox and delivered."""
    outcome = write_daily_digest(db, settings, now=now, day=day, force=force)
    if outcome.status != "written":
        log.info("digest for %s not written: %s", day, outcome.status)
    return DigestSend(outcome, deliver_outbox(settings, db, now=now))


def send_alerts(
    settings: Settings, db: Database, *, now: datetime, deliver: bool = True
) -> AlertReport:
    """Alert on the mentions no rule has examined yet, flush due updates, deliver at once.

    Called after a run's store transaction has committed, so an alert never points at a
    mention that a rollback took away; the scheduler also calls it every minute, which is
    when held updates go out and when a run interrupted before alerting is caught up.
    `deliver=False` leaves delivery to the caller (`run_once` delivers everything once, so
    its report covers the alerts too).
    """
    report = evaluate_alerts(settings, db, now=now)
    if report.written and deliver:
        deliver_outbox(settings, db, now=now)
    return report


def run_source_job(settings: Settings, pipeline: Pipeline, source: SourceSettings) -> RunReport:
    """The scheduler's job for one source: run it, then alert on what it brought."""
    report = pipeline.run_source(source)
    if report.new_mentions:
        send_alerts(settings, pipeline.db, now=pipeline.clock())
    return report


def deliver_outbox(settings: Settings, db: Database, *, now: datetime) -> DeliveryReport:
    report = deliver_pending(db, mailer_for(settings), now)
    if report.failed:
        log.warning("outbox: %d sent, %d failed (will retry)", report.sent, report.failed)
    return report


def flush_and_deliver(settings: Settings, db: Database, *, now: datetime) -> None:
    """Every minute: alerts not yet sent (held updates whose slot has come, or a run that
    stopped before alerting), then the outbox."""
    send_alerts(settings, db, now=now)
    deliver_outbox(settings, db, now=now)


def send_weekly(settings: Settings, db: Database, *, now: datetime) -> None:
    """The last complete week's reports, once per brand and week, then delivery."""
    from reports.weekly import enqueue_weekly_reports  # loads matplotlib: only when needed

    result = enqueue_weekly_reports(db, settings, now=now)
    log.info(
        "weekly report: %d written%s",
        len(result.written),
        f", not sent for {', '.join(result.empty)} (no mentions)" if result.empty else "",
    )
    deliver_outbox(settings, db, now=now)


def run_once(
    settings: Settings, pipeline: Pipeline, on_done: Callable[[RunReport], None] | None = None
) -> PassReport:
    """One pass of every enabled source, then alerts, then the digest, then delivery."""
    runs = pipeline.run_sources(on_done=on_done)
    return finish_pass(settings, pipeline.db, runs, now=pipeline.clock())


def finish_pass(
    settings: Settings, db: Database, runs: list[RunReport], *, now: datetime
) -> PassReport:
    """What follows a pass's source runs (in this process or on queue workers): alerts,
    then the day's emails, then one delivery covering them all."""
    report = PassReport(runs=runs)
    report.alerts = send_alerts(settings, db, now=now, deliver=False).written
    sent = send_daily_emails(settings, db, now=now)
    report.digest, report.delivery = sent.outcome, sent.delivery
    return report
