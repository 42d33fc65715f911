"""`monitor scheduler`: the embedded schedule, enqueuing tasks instead of running them.

The jobs are the embedded service's (monitor.app.scheduler.add_jobs): each source on its
interval with jitter, the digest and the weekly report on their cron times (the weekly one
caught up when its slot passed while no scheduler ran), alerts and the outbox every minute.
Each job publishes a task (`expires` bounds how long it stays worth running, so a queue
with no worker does not grow without end). A run whose server said "come back at" moves its
source's next run, as in the embedded mode: workers record `retry_at` in `task_runs`, and
the scheduler applies it every few seconds.

Only one scheduler enqueues: the leader, holding the lease `scheduler` (monitor.app.queue
.leases), renewed every third of `[queue] scheduler_lease`. The others wait as standbys and
try for it on the same beat, so when the leader dies (kill -9, a lost machine) one of them
leads about one lease period later. A leader that stalls past its own lease (a stopped VM)
notices before it publishes anything, and stops leading until it wins the lease again. On
taking the lead, a scheduler starts each source at its last poll plus its interval (now, if
that has passed), so a takeover neither skips nor repeats a source's runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from celery import Celery
from sqlalchemy import select

from monitor.app.pipeline import utcnow
from monitor.app.queue import leases
from monitor.app.queue.celery_app import (
    DAILY_EMAILS,
    DELIVER,
    RUN_SOURCE,
    TRAIN,
    WEEKLY,
    make_app,
)
from monitor.app.queue.enqueue import BrokerUnavailable, Planned, enqueue
from monitor.app.queue.runs import prune, retry_moves
from monitor.app.scheduler import (
    OUTBOX_EVERY,
    Jobs,
    add_jobs,
    move_source_job,
    new_scheduler,
    source_interval,
    source_job_id,
    stop_on_signals,
)
from monitor.core.models import Source
from monitor.core.settings import Settings, SourceSettings
from monitor.core.storage import Database, open_database

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]

LEASE = "scheduler"
RETRY_MOVES_EVERY = timedelta(seconds=10)
PRUNE_EVERY = timedelta(minutes=10)
#: How long a queued digest or weekly report stays worth sending.
REPORT_EXPIRES = timedelta(hours=12)


class Leadership:
    """The scheduler lease as this process sees it: held until a known monotonic time."""

    def __init__(self, db: Database, ttl: timedelta, clock: Clock) -> None:
        self.db, self.ttl, self.clock = db, ttl, clock
        self.holder = leases.process_holder("scheduler")
        self._until = 0.0

    def hold(self) -> bool:
        """Take or renew the lease; True while this process leads."""
        started = time.monotonic()
        try:
            won = leases.acquire(self.db, LEASE, self.holder, self.ttl, self.clock())
        except Exception:
            log.exception("could not renew the scheduler lease")
            return self.leading
        self._until = started + self.ttl.total_seconds() if won else 0.0
        return won

    @property
    def leading(self) -> bool:
        return time.monotonic() < self._until

    def release(self) -> None:
        self._until = 0.0
        try:
            leases.release(self.db, LEASE, self.holder)
        except Exception:
            log.exception("could not release the scheduler lease (it expires by itself)")


def source_task(source: SourceSettings) -> Planned:
    # Older than one interval, a queued run is superseded by the next one.
    return Planned(RUN_SOURCE, source.name, args=(source.name,), expires=source_interval(source))


def first_runs(db: Database, settings: Settings, now: datetime) -> dict[str, datetime]:
    """Each enabled source's next run: its last poll plus its interval, or now."""
    enabled = {s.name: s for s in settings.sources if s.enabled}
    with db.reading() as session:
        last = dict(session.execute(
            select(Source.name, Source.last_attempt_at).where(Source.name.in_(list(enabled)))
        ).all()) if enabled else {}
    return {
        name: max(now, last[name] + source_interval(source)) if last.get(name) else now
        for name, source in enabled.items()
    }


class QueueScheduler:
    """The APScheduler of one leader term: built when the lead is won, shut down when lost."""

    def __init__(
        self, settings: Settings, db: Database, app: Celery, leadership: Leadership
    ) -> None:
        self.settings, self.db, self.app, self.leadership = settings, db, app, leadership
        self.clock = leadership.clock
        self.scheduler: BackgroundScheduler | None = None
        self._moves_since = self.clock()

    def send(self, planned: Planned) -> None:
        if not self.leadership.leading:
            log.warning("no longer leading: %s (%s) not enqueued", planned.name, planned.summary)
            return
        try:
            enqueue(self.app, self.db, [planned], self.clock())
        except BrokerUnavailable as exc:
            log.error("%s", exc)

    def start(self) -> None:
        settings, now = self.settings, self.clock()
        scheduler = new_scheduler(settings, workers=2)
        jobs = Jobs(
            source=lambda source: self.send(source_task(source)),
            daily=lambda: self.send(Planned(DAILY_EMAILS, "digest and routed lists",
                                            expires=REPORT_EXPIRES)),
            weekly=lambda: self.send(Planned(WEEKLY, "weekly report", expires=REPORT_EXPIRES)),
            outbox=lambda: self.send(Planned(DELIVER, "alerts and outbox",
                                             expires=OUTBOX_EVERY * 5)),
            train=lambda: self.send(Planned(TRAIN, "nightly training", expires=REPORT_EXPIRES)),
        )
        add_jobs(scheduler, settings, jobs, now)
        scheduler.add_job(self.apply_retry_moves, IntervalTrigger(
            seconds=int(RETRY_MOVES_EVERY.total_seconds())), id="retry-moves")
        scheduler.add_job(self.prune, IntervalTrigger(seconds=int(PRUNE_EVERY.total_seconds())),
                          id="prune", next_run_time=now)
        scheduler.start()
        for name, at in first_runs(self.db, settings, now).items():
            job = scheduler.get_job(source_job_id(name))
            if job is not None:
                job.modify(next_run_time=at)
        self.scheduler = scheduler

    def apply_retry_moves(self) -> None:
        """Sources whose last run was asked to come back later: moved like the embedded
        scheduler moves them (monitor.app.scheduler.move_source_job)."""
        now = self.clock()
        since, self._moves_since = self._moves_since - RETRY_MOVES_EVERY, now
        if self.scheduler is None:
            return
        for name, at in retry_moves(self.db, RUN_SOURCE, since, now).items():
            move_source_job(self.scheduler, name, at)

    def prune(self) -> None:
        removed = prune(self.db, self.clock(), self.settings.queue.keep_delta)
        if removed:
            log.info("pruned %d old task records", removed)

    def stop(self, wait: bool) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=wait)
            self.scheduler = None


def serve_queue(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    clock: Clock = utcnow,
    on_change: Callable[[bool], None] | None = None,
) -> None:
    """Lead or stand by until SIGINT/SIGTERM (or `stop`); `on_change(leading)` is called each
    time this process wins or loses the lead (tests, logs)."""
    stop = stop_on_signals(stop)
    db = open_database(settings.database_url)
    app = make_app(settings)
    leadership = Leadership(db, settings.queue.scheduler_lease_delta, clock)
    term = QueueScheduler(settings, db, app, leadership)
    beat = settings.queue.scheduler_lease_delta.total_seconds() / 3
    log.info("scheduler %s started: %d sources, standing by for the lead",
             leadership.holder, sum(s.enabled for s in settings.sources))
    try:
        while True:
            leading = leadership.hold()
            if leading and term.scheduler is None:
                log.info("scheduler %s leads: enqueuing due jobs", leadership.holder)
                term.start()
                if on_change:
                    on_change(True)
            elif not leading and term.scheduler is not None:
                log.warning("scheduler %s lost the lead: standing by", leadership.holder)
                term.stop(wait=False)
                if on_change:
                    on_change(False)
            if stop.wait(beat):
                break
    finally:
        term.stop(wait=True)
        leadership.release()
        db.dispose()
        log.info("scheduler %s stopped", leadership.holder)
