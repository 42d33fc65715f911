"""Publishing tasks, each with its `task_runs` row written first.

The row goes in before the message, so a worker fast enough to start the task at once
still finds it (the worker upserts anyway). A publish that fails marks its row failed and
raises `BrokerUnavailable`, naming `[queue] broker` and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import Celery, uuid

from monitor.app.queue.runs import FAILED, Enqueued, record_enqueued, record_finished
from monitor.core.errors import VigiaError
from monitor.core.settings_problems import hide_password
from monitor.core.storage import Database

PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}


class BrokerUnavailable(VigiaError):
    """The broker refused or could not be reached."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


@dataclass(frozen=True)
class Planned:
    """A task to publish: its name, arguments, the summary `monitor status` shows, and how
    long it stays worth running (`expires`; None: until it runs)."""

    name: str
    summary: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    expires: timedelta | None = None


def enqueue(app: Celery, db: Database, planned: Sequence[Planned], now: datetime) -> list[str]:
    """Publish `planned`, in order; returns their task ids."""
    ids = [uuid() for _ in planned]
    record_enqueued(db, [Enqueued(i, p.name, p.summary) for i, p in zip(ids, planned,
                                                                         strict=True)], now)
    sent = 0
    try:
        for _ in publish(app, list(zip(ids, planned, strict=True)), now):
            sent += 1
    except BrokerUnavailable as exc:
        for task_id in ids[sent:]:
            record_finished(db, task_id, FAILED, now, error=f"not published: {exc.reason}")
        raise
    return ids


def publish(
    app: Celery, tasks: Sequence[tuple[str, Planned]], now: datetime
) -> Iterator[str]:
    """Send each (task id, task) to the broker, yielding each id once it is sent; a task
    published again under its id (`run --once` recovering a lost one) is the same task, run
    at most once to completion (`runs.record_started`)."""
    try:
        with app.producer_or_acquire() as producer:
            for task_id, task in tasks:
                app.send_task(
                    task.name,
                    args=task.args,
                    kwargs=task.kwargs,
                    task_id=task_id,
                    expires=now + task.expires if task.expires else None,
                    producer=producer,
                    retry=True,
                    retry_policy=PUBLISH_RETRY,
                )
                yield task_id
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise BrokerUnavailable(unreachable(app, reason), reason) from None


def unreachable(app: Celery, reason: str) -> str:
    shown = hide_password(str(app.conf.broker_url or ""))
    return (
        f"[queue] broker = {shown!r}: cannot reach the broker ({reason}) — check that Redis "
        "or RabbitMQ runs there and that $VIGIA_QUEUE_BROKER (when set) holds the right URL "
        "and password"
    )
