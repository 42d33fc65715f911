"""`monitor run --once` with a broker: one pass of every enabled source on the workers.

Every enabled source is enqueued as a forced run (`force`: a pass
runs every source, however recently it was polled; a source being run by a scheduled task
right now is run again once that run ends), without its own alerting unless `--no-wait`
leaves the rest to the workers and the scheduler. The command then waits for each task's
`task_runs` row to become final and reads its report from there, and does what follows a
pass in this process (`finish_pass`: alerts once over everything the pass stored, then the
digest, the routed lists and one delivery), exactly as the embedded pass does. Each of
those steps is idempotent and locked where it must be, so a scheduler's minutely flush
running meanwhile cannot make it write anything twice.

The wait survives what the workers survive: a database restart (it reads again once the
database answers) and tasks the broker lost or a dead worker held (`LostTasks` publishes
them again); what does not finish within `--timeout` is reported as not finished.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from celery import Celery
from sqlalchemy.exc import DBAPIError

from monitor.app.jobs import PassReport, finish_pass
from monitor.app.pipeline import RunReport, utcnow
from monitor.app.queue.celery_app import RUN_SOURCE
from monitor.app.queue.enqueue import Planned, enqueue, publish
from monitor.app.queue.runs import (
    FAILED,
    FINAL,
    SUCCEEDED,
    report_from_json,
    runs_by_id,
)
from monitor.app.queue.status import queue_depths
from monitor.core.queue_models import TaskRun
from monitor.core.settings import Settings
from monitor.core.storage import Database

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25


@dataclass
class QueuedPass:
    """What a queued pass did: its task ids, and (when it waited) the pass's report and the
    sources whose task failed or did not finish in time."""

    ids: list[str]
    report: PassReport | None = None
    broken: list[str] = field(default_factory=list)


def _report(source: str, run: TaskRun) -> RunReport:
    if run.state == SUCCEEDED and run.result:
        return report_from_json(run.result)
    if run.state == FAILED:
        return RunReport(source=source, error=f"task failed on a worker: {run.error}")
    return RunReport(source=source, error=f"not run ({run.state}): {run.error or ''}".strip())


def run_once_queued(
    settings: Settings,
    db: Database,
    app: Celery,
    *,
    wait: bool = True,
    timeout: float = 3600.0,
    on_done: Callable[[RunReport], None] | None = None,
) -> QueuedPass:
    """Enqueue one forced run of every enabled source and, with `wait`, wait for them and
    report; unfinished tasks that all stand still for `[queue] republish_after` are taken
    for lost and published again (`LostTasks`)."""
    sources = [s.name for s in settings.sources if s.enabled]
    planned = [
        Planned(RUN_SOURCE, name, args=(name,), kwargs={"force": True, "alert": not wait})
        for name in sources
    ]
    ids = enqueue(app, db, planned, utcnow())
    result = QueuedPass(ids)
    if not wait:
        return result
    watch = LostTasks(settings, app, dict(zip(ids, planned, strict=True)))
    waiting = dict(zip(ids, sources, strict=True))
    reports: dict[str, RunReport] = {}
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        runs = _runs(db, list(waiting))
        for task_id, run in runs.items():
            if run.state not in FINAL:
                continue
            source = waiting.pop(task_id)
            reports[source] = _report(source, run)
            if run.state != SUCCEEDED:
                result.broken.append(source)
            if on_done:
                on_done(reports[source])
        if waiting:
            watch.check({i: r for i, r in runs.items() if i in waiting})
            time.sleep(POLL_SECONDS)
    for source in waiting.values():
        reports[source] = RunReport(
            source=source,
            error=f"not finished after {timeout:.0f}s — is a worker running? "
            "(`monitor status` shows the queue and its workers)",
        )
        result.broken.append(source)
    runs = [reports[name] for name in sources]
    result.report = finish_pass(settings, db, runs, now=utcnow())
    return result


def _runs(db: Database, ids: list[str]) -> dict[str, TaskRun]:
    """The rows of `ids`; none while the database is unreachable (a restart): the pass
    waits for it, within its timeout, as the workers do."""
    try:
        return runs_by_id(db, ids)
    except DBAPIError as exc:
        log.warning("cannot read the task records (%s): waiting for the database",
                    type(exc).__name__)
        return {}


class LostTasks:
    """Publishes again, under their own ids, the tasks of a pass that nothing will run.

    A task is lost when the broker lost its message (a Redis that keeps nothing on disk,
    restarted) or when it was taken by a worker that died, before the broker hands it to
    another (on Redis, after `[queue] visibility_timeout`). The sign: for `[queue]
    republish_after` none of the pass's unfinished rows changed, the sources queue is
    empty, and no live worker says it is running, holding or retrying the task (Celery's
    `query_task`).
    Publishing again is safe: a row that is final already is never run again, and a copy
    that finds its run under way waits for it (monitor.app.queue.tasks).
    """

    def __init__(self, settings: Settings, app: Celery, planned: dict[str, Planned]) -> None:
        self.settings, self.app, self.planned = settings, app, planned
        self.stall = settings.queue.republish_delta.total_seconds()
        self._seen: dict[str, tuple[object, ...]] = {}
        self._since = time.monotonic()

    def check(self, unfinished: dict[str, TaskRun]) -> None:
        state = {i: (r.state, r.started_at, r.worker, r.error) for i, r in unfinished.items()}
        if not state or state != self._seen:
            self._seen, self._since = state, time.monotonic()
            return
        if time.monotonic() - self._since < self.stall:
            return
        self._since = time.monotonic()  # look again one stall period later, whatever happens
        try:
            lost = self._lost(unfinished)
            if lost:
                list(publish(self.app, [(i, self.planned[i]) for i in lost], utcnow()))
        except Exception as exc:  # the broker is down too: try again later
            log.warning("could not check the queue for lost tasks: %s", exc)
            return
        if lost:
            log.warning("%d task(s) of this pass were neither queued nor running for %.0f s "
                        "(lost with a broker restart, or held by a worker that died): "
                        "published again", len(lost), self.stall)

    def _lost(self, unfinished: dict[str, TaskRun]) -> list[str]:
        sources = self.settings.queue.queue("sources")
        if queue_depths(self.app, [sources]).get(sources):
            return []  # still queued: the workers are busy
        held = held_by_workers(self.app, list(unfinished))
        return [task_id for task_id in unfinished if task_id not in held]


def held_by_workers(app: Celery, ids: list[str], timeout: float = 1.0) -> set[str]:
    """Which of `ids` a live worker is running, has reserved or holds for a retry."""
    replies = app.control.inspect(timeout=timeout).query_task(*ids) or {}
    return {task_id for tasks in replies.values() for task_id in (tasks or {})}
