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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from celery import Celery

from monitor.app.jobs import PassReport, finish_pass
from monitor.app.pipeline import RunReport, utcnow
from monitor.app.queue.celery_app import RUN_SOURCE
from monitor.app.queue.enqueue import Planned, enqueue
from monitor.app.queue.runs import FAILED, FINAL, SUCCEEDED, report_from_json, runs_by_id
from monitor.core.models import TaskRun
from monitor.core.settings import Settings
from monitor.core.storage import Database

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
    sources = [s.name for s in settings.sources if s.enabled]
    planned = [
        Planned(RUN_SOURCE, name, args=(name,), kwargs={"force": True, "alert": not wait})
        for name in sources
    ]
    ids = enqueue(app, db, planned, utcnow())
    result = QueuedPass(ids)
    if not wait:
        return result
    waiting = dict(zip(ids, sources, strict=True))
    reports: dict[str, RunReport] = {}
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for task_id, run in runs_by_id(db, list(waiting)).items():
            if run.state not in FINAL:
                continue
            source = waiting.pop(task_id)
            reports[source] = _report(source, run)
            if run.state != SUCCEEDED:
                result.broken.append(source)
            if on_done:
                on_done(reports[source])
        if waiting:
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
