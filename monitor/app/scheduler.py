"""The long-running service: APScheduler jobs for every source, the digest and the outbox.

Each source is an interval job with jitter (so sources do not all fire on the same second),
`max_instances=1` (a slow source never overlaps itself) and `coalesce` (after a pause, missed
runs collapse into one). A run that failed with a server's "come back at" (Retry-After, a
rate-limit reset) moves the job's next run to that time (`move_to_retry_at`). The digest is
a cron job at `[schedule] digest_at` in the configured time zone, the training on the team's
corrections one at `[learning] train_at` (it trains only when enough new corrections came
in: monitor.app.training); the outbox is retried every minute. SIGINT/SIGTERM stop the
scheduler cleanly, letting running jobs finish (every run is one transaction, so even a hard
kill loses nothing).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app.jobs import flush_and_deliver, run_source_job, send_daily_emails, send_weekly
from monitor.app.pipeline import Pipeline, RunReport
from monitor.app.training import nightly_training
from monitor.core.settings import Settings, SourceSettings

log = logging.getLogger(__name__)
OUTBOX_EVERY = timedelta(minutes=1)


def source_interval(source: SourceSettings) -> timedelta:
    """The source's `every` (the settings loader fills in the connector's default)."""
    return source.interval


def jitter_seconds(interval: timedelta) -> int:
    """Up to 10% of the interval, at most 5 minutes."""
    return int(min(300, interval.total_seconds() * 0.1))


def _after_run(scheduler: BaseScheduler, report: RunReport) -> None:
    log_report(report)
    move_to_retry_at(scheduler, report)


def log_report(report: RunReport) -> None:
    if report.error:
        log.warning("source %s failed: %s", report.source, report.error)
    else:
        log.info(
            "source %s: %d items, %d matched, %d new mentions%s",
            report.source,
            report.fetched,
            report.matched,
            report.new_mentions,
            " (not modified)" if report.not_modified else "",
        )


def move_to_retry_at(scheduler: BaseScheduler, report: RunReport) -> None:
    """Move a source's next run to the time its server asked for (`RunReport.retry_at`, from
    a Retry-After or a rate-limit reset); see `move_source_job`."""
    if report.retry_at is not None:
        move_source_job(scheduler, report.source, report.retry_at)


def move_source_job(scheduler: BaseScheduler, source: str, retry_at: datetime) -> None:
    """Move a source's next run to `retry_at` when that is later than the interval's next
    run: asking earlier would only be refused again. A paused job stays paused."""
    job = scheduler.get_job(source_job_id(source))
    if job is None or job.next_run_time is None or job.next_run_time >= retry_at:
        return
    job.modify(next_run_time=retry_at)
    log.info("source %s: next run moved to %s, as its server asked", source,
             retry_at.isoformat(timespec="seconds"))


def source_job_id(name: str) -> str:
    return f"source:{name}"


@dataclass(frozen=True)
class Jobs:
    """What each scheduled job does: run in this process (`monitor run`) or enqueue a task
    (`monitor scheduler`, monitor/app/queue/scheduler.py). One schedule serves both, so
    the two modes keep the same intervals, jitter and cron times."""

    source: Callable[[SourceSettings], None]
    daily: Callable[[], None]
    weekly: Callable[[], None]
    outbox: Callable[[], None]
    #: The nightly training on the team's corrections (`[learning] train_at`).
    train: Callable[[], None] | None = None


def new_scheduler(settings: Settings, workers: int) -> BackgroundScheduler:
    return BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300},
        timezone=settings.schedule.zone,
    )


def add_jobs(scheduler: BaseScheduler, settings: Settings, jobs: Jobs, now: datetime) -> None:
    """Every enabled source on its interval (with jitter; the first runs are paused until
    the caller sets them), the digest and the weekly report on their cron times (the weekly
    one caught up at once when its slot passed while nothing ran), the outbox every minute."""
    for source in settings.sources:
        if not source.enabled:
            continue
        interval = source_interval(source)
        scheduler.add_job(
            lambda s=source: jobs.source(s),
            IntervalTrigger(seconds=int(interval.total_seconds()), jitter=jitter_seconds(interval)),
            id=source_job_id(source.name),
            name=f"fetch {source.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=None,
        )
    digest_time = settings.schedule.digest_time
    scheduler.add_job(
        jobs.daily,
        CronTrigger(
            hour=digest_time.hour, minute=digest_time.minute, timezone=settings.schedule.zone
        ),
        id="digest",
        name="daily digest",
    )
    weekly_slot = settings.schedule.weekly_slot
    if weekly_slot is not None:
        weekday, at = weekly_slot
        scheduler.add_job(
            jobs.weekly,
            CronTrigger(
                day_of_week=weekday,
                hour=at.hour,
                minute=at.minute,
                timezone=settings.schedule.zone,
            ),
            id="weekly",
            name="weekly report",
        )
        from reports.weekly import slot_passed_this_week  # loads matplotlib: only when needed

        if slot_passed_this_week(settings, now):
            scheduler.add_job(
                jobs.weekly,
                id="weekly-catch-up",
                name="weekly report (catch-up after a restart)",
                next_run_time=now,
            )
    scheduler.add_job(
        jobs.outbox,
        IntervalTrigger(seconds=int(OUTBOX_EVERY.total_seconds())),
        id="outbox",
        name="deliver outbox",
    )
    if jobs.train is not None and settings.learning.enabled:
        train_time = settings.learning.train_time
        scheduler.add_job(
            jobs.train,
            CronTrigger(hour=train_time.hour, minute=train_time.minute,
                        timezone=settings.schedule.zone),
            id="train",
            name="nightly training on the team's corrections",
        )


def build_scheduler(
    settings: Settings, pipeline: Pipeline, workers: int = 4
) -> BackgroundScheduler:
    """The embedded service's scheduler: every job runs in this process's threads."""
    scheduler = new_scheduler(settings, workers)
    jobs = Jobs(
        source=lambda s: _after_run(scheduler, run_source_job(settings, pipeline, s)),
        daily=lambda: send_daily_emails(settings, pipeline.db, now=pipeline.clock()),
        weekly=lambda: send_weekly(settings, pipeline.db, now=pipeline.clock()),
        outbox=lambda: flush_and_deliver(settings, pipeline.db, now=pipeline.clock()),
        train=lambda: nightly_training(settings, pipeline.db, now=pipeline.clock()),
    )
    add_jobs(scheduler, settings, jobs, pipeline.clock())
    return scheduler


def stop_on_signals(stop: threading.Event | None = None) -> threading.Event:
    """An Event that SIGINT and SIGTERM set (when called from the main thread)."""
    stop = stop or threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s, stopping after running jobs finish", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
    return stop


def serve(
    settings: Settings,
    pipeline: Pipeline,
    *,
    stop: threading.Event | None = None,
    on_started: Callable[[BackgroundScheduler], None] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set), then shut down cleanly."""
    stop = stop_on_signals(stop)
    scheduler = build_scheduler(settings, pipeline)
    scheduler.start()
    for job in scheduler.get_jobs():
        if job.id.startswith("source:"):
            job.modify(next_run_time=pipeline.clock())
    log.info(
        "Vigía running: %d sources, digest at %s %s",
        len(settings.sources),
        settings.schedule.digest_at,
        settings.schedule.timezone,
    )
    if on_started:
        on_started(scheduler)
    stop.wait()
    scheduler.shutdown(wait=True)
    log.info("Vigía stopped")
