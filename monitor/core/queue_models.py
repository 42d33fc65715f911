"""The task queue's tables: leases (who runs a source, who leads the scheduler) and the
record of queued tasks that `monitor status` reads (Celery runs without a result backend)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor.core.models import Base


class Lease(Base):
    """A named lease with an expiry (`source:<name>`, `scheduler`), held by one process.

    Taken atomically (monitor.app.queue.leases): a row still in force is never taken over,
    an expired one is, so a holder that died (kill -9, a lost machine) blocks nothing for
    longer than its lease.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(300))
    expires_at: Mapped[datetime]


class TaskRun(Base):
    """One queued task (a Celery task id), for `monitor status`: Celery runs without a result
    backend, so what it enqueued, started, finished or failed is recorded here.

    Written by the enqueuer (pending) and by the worker (running, then succeeded, failed,
    skipped or expired); `result` holds a source run's report, `retry_at` the time its server
    asked the next run to wait for. Pruned after `[queue] keep_runs`.
    """

    __tablename__ = "task_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[str] = mapped_column(String(20), index=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    retry_at: Mapped[datetime | None]
