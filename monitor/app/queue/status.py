"""`monitor status`: what the queue holds and who works on it.

From the broker: each of Vigía's queues' depth (messages waiting; a passive declare, which
is a list length on Redis and the queue's message count on RabbitMQ) and the workers that
answer a ping within a second (Celery's remote control, on this deployment's control
exchange). From the database (`task_runs`, since Celery keeps no results here): the tasks
running now, the recent failures, and the pending tasks with the oldest one's age; and who
leads as scheduler.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Celery
from sqlalchemy import func, select

from monitor.app.queue import leases
from monitor.app.queue.celery_app import QUEUE_NAMES
from monitor.app.queue.runs import FAILED, PENDING, RUNNING
from monitor.app.queue.scheduler import LEASE
from monitor.core.queue_models import TaskRun
from monitor.core.settings import Settings
from monitor.core.settings_problems import hide_password
from monitor.core.storage import Database

PING_TIMEOUT = 1.0
RECENT_FAILURES = timedelta(hours=24)
LISTED = 20


@dataclass
class Status:
    broker: str
    #: Queue name → messages waiting; None when the broker could not be asked.
    queues: dict[str, int | None]
    workers: list[str]
    running: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    pending: int
    oldest_pending: dict[str, Any] | None
    scheduler: dict[str, Any] | None
    broker_error: str | None = None
    failed_since: str = ""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["workers_alive"] = len(self.workers)
        return data


def queue_depths(app: Celery, names: list[str]) -> dict[str, int | None]:
    """Messages waiting in each queue (0 for a queue no one has declared yet)."""
    depths: dict[str, int | None] = {}
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1)
        for name in names:
            channel = connection.channel()
            try:
                depths[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
            except Exception as exc:
                if "NOT_FOUND" not in str(exc) and "404" not in str(exc):
                    raise
                depths[name] = 0  # never declared: nothing was ever sent to it
            finally:
                with contextlib.suppress(Exception):  # a refused declare closed it already
                    channel.close()
    return depths


def live_workers(app: Celery, timeout: float = PING_TIMEOUT) -> list[str]:
    replies = app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _row(run: TaskRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "summary": run.summary,
        "state": run.state,
        "enqueued_at": _when(run.enqueued_at),
        "started_at": _when(run.started_at),
        "finished_at": _when(run.finished_at),
        "worker": run.worker,
        "error": run.error,
    }


def collect(
    settings: Settings, db: Database, app: Celery, now: datetime, *,
    ping_timeout: float = PING_TIMEOUT,
) -> Status:
    queue = settings.queue
    names = [queue.queue(short) for short in QUEUE_NAMES]
    broker_error = None
    try:
        depths = queue_depths(app, names)
        workers = live_workers(app, ping_timeout)
    except Exception as exc:
        broker_error = f"{type(exc).__name__}: {exc}"
        depths, workers = dict.fromkeys(names), []
    since = now - RECENT_FAILURES
    with db.reading() as session:
        running = session.scalars(
            select(TaskRun).where(TaskRun.state == RUNNING).order_by(TaskRun.started_at)
            .limit(LISTED)
        ).all()
        failed = session.scalars(
            select(TaskRun).where(TaskRun.state == FAILED, TaskRun.finished_at >= since)
            .order_by(TaskRun.finished_at.desc()).limit(LISTED)
        ).all()
        pending = session.scalar(
            select(func.count()).select_from(TaskRun).where(TaskRun.state == PENDING)
        ) or 0
        oldest = session.scalars(
            select(TaskRun).where(TaskRun.state == PENDING, TaskRun.enqueued_at.is_not(None))
            .order_by(TaskRun.enqueued_at).limit(1)
        ).first()
        session.expunge_all()  # detached with their values: the session rolls back
    oldest_row = None
    if oldest is not None and oldest.enqueued_at is not None:
        oldest_row = _row(oldest) | {
            "age_seconds": round((now - oldest.enqueued_at).total_seconds(), 1)
        }
    lead = leases.holding(db, LEASE)
    return Status(
        broker=hide_password(queue.broker_url),
        queues=depths,
        workers=workers,
        running=[_row(r) for r in running],
        failed=[_row(r) for r in failed],
        pending=pending,
        oldest_pending=oldest_row,
        scheduler=(
            {"holder": lead.holder, "expires_at": _when(lead.expires_at),
             "alive": lead.expires_at > now}
            if lead else None
        ),
        broker_error=broker_error,
        failed_since=since.isoformat(timespec="seconds"),
    )
