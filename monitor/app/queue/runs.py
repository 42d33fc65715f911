"""The `task_runs` records: what was enqueued, what a worker is running, what failed.

Celery keeps no history without a result backend, and Vigía's state lives in its database
anyway: the enqueuer writes a row (pending) before it publishes, the worker moves it to
running and then to a final state. A task redelivered after its worker died finds its row
still running and runs again; one whose row is already final (it finished, but the worker
died before acknowledging it) is not run twice. Rows are pruned after `[queue] keep_runs`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from monitor.app.pipeline import RunReport
from monitor.core.errors import Outcome
from monitor.core.queue_models import TaskRun
from monitor.core.storage import Database, insert_ignoring_conflicts, upsert_when

PENDING, RUNNING = "pending", "running"
SUCCEEDED, FAILED, SKIPPED, EXPIRED = "succeeded", "failed", "skipped", "expired"
FINAL = (SUCCEEDED, FAILED, SKIPPED, EXPIRED)
MAX_ERROR = 2000
#: Unfinished rows (their message lost with a broker, say) are kept at least this long.
UNFINISHED_KEEP = timedelta(days=7)


@dataclass(frozen=True)
class Enqueued:
    id: str
    name: str
    summary: str


def record_enqueued(db: Database, tasks: Iterable[Enqueued], now: datetime) -> None:
    """Pending rows for tasks about to be published (one transaction for all of them)."""
    rows = [
        {"id": t.id, "name": t.name, "summary": t.summary[:300], "state": PENDING,
         "enqueued_at": now}
        for t in tasks
    ]
    if rows:
        with db.transaction() as session:
            session.execute(insert_ignoring_conflicts(session, TaskRun), rows)


def record_started(
    db: Database, task_id: str, name: str, summary: str, worker: str, now: datetime
) -> bool:
    """Mark a task running; False when its row is already final (a redelivered copy of a
    task that finished: it must not run again)."""
    with db.transaction() as session:
        return upsert_when(
            session,
            TaskRun,
            TaskRun.id,
            {"id": task_id, "name": name, "summary": summary[:300], "state": RUNNING,
             "started_at": now, "worker": worker[:200]},
            ("state", "started_at", "worker"),
            lambda _proposed: TaskRun.state.not_in(FINAL),
        )


def record_finished(
    db: Database,
    task_id: str,
    state: str,
    now: datetime,
    *,
    error: str | None = None,
    result: dict[str, Any] | None = None,
    retry_at: datetime | None = None,
) -> None:
    with db.transaction() as session:
        session.execute(
            update(TaskRun)
            .where(TaskRun.id == task_id)
            .values(state=state, finished_at=now, error=error[:MAX_ERROR] if error else None,
                    result=result, retry_at=retry_at)
        )


def record_requeued(db: Database, task_id: str, reason: str) -> None:
    """A task that will run again later (a retry with a countdown): pending once more,
    unless its row is final already (a second copy of the task, published again by a
    waiting `run --once`, retrying while the first copy finished)."""
    with db.transaction() as session:
        session.execute(
            update(TaskRun)
            .where(TaskRun.id == task_id, TaskRun.state.not_in(FINAL))
            .values(state=PENDING, error=reason)
        )


def record_expired(db: Database, task_id: str, now: datetime) -> None:
    """A task a worker dropped unrun because its `expires` had passed (the queue was late)."""
    with db.transaction() as session:
        session.execute(
            update(TaskRun)
            .where(TaskRun.id == task_id, TaskRun.state.not_in(FINAL))
            .values(state=EXPIRED, finished_at=now)
        )


def runs_by_id(db: Database, ids: Sequence[str]) -> dict[str, TaskRun]:
    found: dict[str, TaskRun] = {}
    with db.reading() as session:
        for start in range(0, len(ids), 500):
            query = select(TaskRun).where(TaskRun.id.in_(ids[start : start + 500]))
            found.update((row.id, row) for row in session.scalars(query))
        session.expunge_all()  # detached with their values: the session rolls back
    return found


def retry_moves(db: Database, name: str, since: datetime, now: datetime) -> dict[str, datetime]:
    """Source name → the latest `retry_at` still ahead, for runs finished since `since`."""
    query = select(TaskRun.summary, TaskRun.retry_at).where(
        TaskRun.name == name, TaskRun.finished_at >= since, TaskRun.retry_at > now
    )
    moves: dict[str, datetime] = {}
    with db.reading() as session:
        for summary, retry_at in session.execute(query):
            if summary not in moves or retry_at > moves[summary]:
                moves[summary] = retry_at
    return moves


def prune(db: Database, now: datetime, keep: timedelta) -> int:
    """Delete finished rows older than `keep` and unfinished ones older than a week (or
    `keep`, whichever is longer); returns how many."""
    with db.transaction() as session:
        result = session.execute(
            delete(TaskRun).where(
                or_(
                    and_(TaskRun.state.in_(FINAL), TaskRun.finished_at < now - keep),
                    and_(TaskRun.state.not_in(FINAL),
                         TaskRun.enqueued_at < now - max(keep, UNFINISHED_KEEP)),
                )
            )
        )
    return int(result.rowcount or 0)


def report_to_json(report: RunReport) -> dict[str, Any]:
    """A source run's report as JSON (for the `result` column and `run --once`)."""
    data = dataclasses.asdict(report)
    data["outcome"] = report.outcome.value if report.outcome else None
    data["retry_at"] = report.retry_at.isoformat() if report.retry_at else None
    return data


def report_from_json(data: dict[str, Any]) -> RunReport:
    known = {f.name for f in dataclasses.fields(RunReport)}
    values = {k: v for k, v in data.items() if k in known}
    if values.get("outcome"):
        values["outcome"] = Outcome(values["outcome"])
    if values.get("retry_at"):
        values["retry_at"] = datetime.fromisoformat(values["retry_at"])
    return RunReport(**values)
