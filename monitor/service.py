"""The operations a pass is made of, shared by `monitor run`, the scheduler and the CLI.

Keeping them here means `run --once`, the cron job and `monitor digest` cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from monitor.config import Settings
from monitor.models import OutboxMessage
from monitor.pipeline import Pipeline, RunReport
from monitor.storage import Database
from reports.digest import send_daily_digest
from reports.mailer import mailer_for
from reports.outbox import DeliveryReport, deliver_pending

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    """Everything one `monitor run --once` did."""

    runs: list[RunReport] = field(default_factory=list)
    digest: OutboxMessage | None = None


def send_digest(
    settings: Settings, db: Database, *, now: datetime, day: date | None = None, force: bool = False
) -> OutboxMessage | None:
    """Write the day's digest to the outbox (once per day unless forced), then deliver."""
    message = send_daily_digest(db, settings, now=now, day=day, force=force)
    if message is None:
        log.debug("digest for %s already written; use --force to send it again", day or "today")
    deliver_outbox(settings, db, now=now)
    return message


def deliver_outbox(settings: Settings, db: Database, *, now: datetime) -> DeliveryReport:
    report = deliver_pending(db, mailer_for(settings), now)
    if report.failed:
        log.warning("outbox: %d sent, %d failed (will retry)", report.sent, report.failed)
    return report


def run_once(
    settings: Settings, pipeline: Pipeline, on_done: Callable[[RunReport], None] | None = None
) -> PassReport:
    """One pass of every enabled source, then the digest, then delivery."""
    report = PassReport()
    report.runs = pipeline.run_sources(on_done=on_done)
    now = pipeline.clock()
    report.digest = send_digest(settings, pipeline.db, now=now)
    return report
