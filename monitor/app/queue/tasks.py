"""The Celery tasks: thin wrappers over monitor.app.jobs, so the queued and the embedded
modes run the same code.

- `vigia.run_source(name, force=False, alert=True)`: one source run (fetch → classify →
  store), then its alerts (`run_source_job`); `alert=False` leaves them to the caller
  (`run --once` alerts once for the whole pass, as the embedded pass does);
- `vigia.deliver()`: the minutely flush: held alerts, then the outbox;
- `vigia.daily_emails()`: today's digest and the routed lists, then delivery;
- `vigia.weekly()`: the last complete week's reports, then delivery;
- `vigia.train()`: the nightly training on the team's corrections (monitor.app.training),
  which trains only the scopes with enough new corrections.

Each is idempotent: the database's unique constraints make every write so, the outbox keys
make every email so. A source is never run by two workers at once: its run holds the lease
`source:<name>`, renewed while it lasts. A task that finds the lease held by another task
exits quietly (that run is already happening), unless it is `force`d (a `run --once`) or is
a redelivered copy of the very task that holds it (its worker died mid-run): those retry
once the lease is free or expired. A scheduled run finding its source polled less than half
an interval ago (a duplicate enqueue, a scheduler that took over) is skipped too. A task
that meets an unreachable database (a restart) retries a few seconds later (`tracked`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Task, shared_task, signals
from celery.exceptions import Retry
from sqlalchemy import select

from monitor.app.configuration import load_settings
from monitor.app.jobs import flush_and_deliver, run_source_job, send_daily_emails, send_weekly
from monitor.app.pipeline import utcnow
from monitor.app.queue import leases
from monitor.app.queue.celery_app import DAILY_EMAILS, DELIVER, RUN_SOURCE, TRAIN, WEEKLY
from monitor.app.queue.runs import (
    FAILED,
    SKIPPED,
    SUCCEEDED,
    record_expired,
    record_finished,
    record_requeued,
    record_started,
    report_to_json,
)
from monitor.app.queue.worker_context import forget_inherited, worker_context
from monitor.app.scheduler import log_report
from monitor.app.training import nightly_training
from monitor.core.models import Source
from monitor.core.settings import SourceSettings
from monitor.core.settings_file import settings_path
from monitor.core.storage import Database, database_unreachable, open_database
from reports.outbox import worker_name

log = logging.getLogger(__name__)

#: A scheduled run is skipped when its source was polled less than this share of its
#: interval ago.
RECENT_FRACTION = 0.5
#: A forced run waiting for another run of its source asks again at most this often.
FORCED_WAIT = timedelta(seconds=5)
#: A task that found the database unreachable runs again this much later.
OUTAGE_RETRY = timedelta(seconds=5)


@dataclass
class Outcome:
    """What the task body reports for its `task_runs` row."""

    state: str = SUCCEEDED
    error: str | None = None
    result: dict[str, Any] | None = None
    retry_at: datetime | None = None

    def skip(self, why: str) -> None:
        log.info("%s", why)
        self.state, self.error = SKIPPED, why


class DatabaseOutage(Exception):
    """The database could not be reached during a task (raised to make it retry)."""


@contextmanager
def tracked(
    db: Database, task: Task, summary: str, clock: Callable[[], datetime]
) -> Iterator[Outcome | None]:
    """The task's `task_runs` row through its life; yields None when the row says the task
    already finished (a redelivered copy): the body must then do nothing.

    A database that cannot be reached (a restart, a crash), here or in the body, makes the
    task retry OUTAGE_RETRY later, as often as it takes: its row cannot be written
    meanwhile, and nothing it did is lost, since a run stores everything in one transaction.
    """
    request = task.request
    worker = f"{request.hostname or '?'} {worker_name()}"
    try:
        started = record_started(db, request.id, task.name, summary, worker, clock())
    except Exception as exc:
        _retry_if_outage(task, exc)
        raise
    if not started:
        log.info("task %s (%s %s) already finished: not run again", request.id, task.name,
                 summary)
        yield None
        return
    outcome = Outcome()
    try:
        yield outcome
    except Retry as retry:
        with suppress(Exception):  # the database may be down: the row stays as it was
            record_requeued(db, request.id, f"retrying: {retry.message or retry}")
        raise
    except Exception as exc:
        _retry_if_outage(task, exc)
        record_finished(db, request.id, FAILED, clock(), error=f"{type(exc).__name__}: {exc}")
        raise
    try:
        record_finished(db, request.id, outcome.state, clock(), error=outcome.error,
                        result=outcome.result, retry_at=outcome.retry_at)
    except Exception as exc:
        _retry_if_outage(task, exc)
        raise


def _retry_if_outage(task: Task, error: BaseException) -> None:
    if isinstance(error, DatabaseOutage) or database_unreachable(error):
        log.warning("task %s: the database is unreachable (%s): retrying in %ds",
                    task.request.id, error, OUTAGE_RETRY.total_seconds())
        raise task.retry(countdown=OUTAGE_RETRY.total_seconds(), max_retries=None) from None


def polled_within(db: Database, source: SourceSettings, now: datetime) -> timedelta | None:
    """How long ago the source was last polled, when that is under RECENT_FRACTION of its
    interval; None when it is due."""
    with db.reading() as session:
        last = session.scalar(select(Source.last_attempt_at).where(Source.name == source.name))
    if last is None or now - last >= source.interval * RECENT_FRACTION:
        return None
    return now - last


def lease_name(source: str) -> str:
    return f"source:{source}"


@shared_task(name=RUN_SOURCE, bind=True)
def run_source(self: Task, name: str, force: bool = False, alert: bool = True) -> None:
    context = worker_context()
    settings, db, pipeline = context.settings, context.db, context.pipeline
    with tracked(db, self, name, pipeline.clock) as outcome:
        if outcome is None:
            return
        source = settings.source(name)
        if source is None or not source.enabled:
            outcome.skip(f"source {name!r} is not configured or is disabled: not run")
            return
        now = pipeline.clock()
        ago = None if force else polled_within(db, source, now)
        if ago is not None:
            outcome.skip(f"source {name!r} was polled {int(ago.total_seconds())}s ago: not due")
            return
        holder = f"{self.request.id} {leases.process_holder()}"
        ttl = settings.queue.source_lease_delta
        if not leases.acquire(db, lease_name(name), holder, ttl, now):
            held = leases.holding(db, lease_name(name))
            mine = held is not None and held.holder.startswith(f"{self.request.id} ")
            if held is not None and (force or mine):
                left = max(held.expires_at - now, timedelta(seconds=0.5))
                wait = left if mine else min(left, FORCED_WAIT)
                raise self.retry(countdown=wait.total_seconds() + 0.5, max_retries=None)
            outcome.skip(f"source {name!r} is being run by {held.holder if held else '?'}")
            return
        with leases.kept(db, lease_name(name), holder, ttl, pipeline.clock):
            report = (
                run_source_job(settings, pipeline, source) if alert
                else pipeline.run_source(source)
            )
        if report.database_unreachable:
            raise DatabaseOutage(report.error)
        log_report(report)
        outcome.result, outcome.retry_at = report_to_json(report), report.retry_at


def _job(task: Task, summary: str, job: Callable[..., object]) -> None:
    context = worker_context()
    with tracked(context.db, task, summary, context.pipeline.clock) as outcome:
        if outcome is not None:
            job(context.settings, context.db, now=context.pipeline.clock())


@shared_task(name=DELIVER, bind=True)
def deliver(self: Task) -> None:
    _job(self, "alerts and outbox", flush_and_deliver)


@shared_task(name=DAILY_EMAILS, bind=True)
def daily_emails(self: Task) -> None:
    _job(self, "digest and routed lists", send_daily_emails)


@shared_task(name=WEEKLY, bind=True)
def weekly(self: Task) -> None:
    _job(self, "weekly report", send_weekly)


@shared_task(name=TRAIN, bind=True)
def train(self: Task) -> None:
    _job(self, "nightly training", nightly_training)


@signals.worker_process_init.connect
def _fresh_child(**_kwargs: object) -> None:
    forget_inherited()


@signals.task_revoked.connect
def _expired(request: Any = None, expired: bool = False, **_kwargs: object) -> None:
    """A task received after its `expires` (the queue was late): recorded, not run.

    This runs in the worker's parent process, which must hold no database connection of
    its own across forks: it opens one for the update and closes it.
    """
    if not expired or request is None:
        return
    settings = load_settings(settings_path())
    db = open_database(settings.database_url, migrate=False)
    try:
        record_expired(db, request.id, utcnow())
    finally:
        db.dispose()
