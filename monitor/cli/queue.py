"""The scale-out commands: `monitor worker`, `monitor scheduler`, `monitor status`, and
`monitor run --once` through the queue (README "Scale out").

Celery is imported inside the commands, so the embedded commands never pay for it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import console, context_of, errors, open_db
from monitor.cli.passes import print_pass, progress_bar
from monitor.core.errors import VigiaError
from monitor.core.settings import Settings
from monitor.core.settings_file import SETTINGS_ENV

NO_BROKER = (
    "[queue] broker is empty: set it (redis://host:6379/0 or amqp://user@host:5672/vhost) "
    "or the environment variable VIGIA_QUEUE_BROKER, or run `monitor run` (embedded mode)"
)
POOLS = ("prefork", "threads", "solo")


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.command()(scheduler)
    app.command()(status)


def _queued_settings(ctx: typer.Context) -> Settings:
    settings = context_of(ctx).settings()
    if not settings.queue.enabled:
        raise VigiaError(NO_BROKER)
    return settings


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=512, help="Worker processes (default: the CPU count)."),
    ] = None,
    queues: Annotated[
        str,
        typer.Option(help="Vigía queues to consume, comma-separated: sources, reports."),
    ] = "sources,reports",
    pool: Annotated[
        str, typer.Option(help="Celery pool: prefork (default: one process per core), "
                          "threads or solo.")
    ] = "prefork",
) -> None:
    """A Celery worker: runs sources, alerts, delivery, the digest and the weekly report."""
    from monitor.app.queue.celery_app import QUEUE_NAMES, make_app, shown_broker
    from monitor.app.workers import default_workers

    context = context_of(ctx)
    settings = _queued_settings(ctx)
    chosen = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in QUEUE_NAMES]
    if unknown or not chosen:
        raise VigiaError(f"--queues {queues!r}: use one or more of {', '.join(QUEUE_NAMES)}")
    if pool not in POOLS:
        raise VigiaError(f"--pool {pool!r}: use one of {', '.join(POOLS)}")
    # Every task re-reads this file, in processes forked after this point.
    os.environ[SETTINGS_ENV] = str(context.settings_file.resolve())
    open_db(settings).dispose()  # migrate once, here, and fail now if the database is down
    app = make_app(settings)
    prefix = settings.queue.prefix
    errors.print(f"worker on {shown_broker(settings)}, queues {', '.join(chosen)}",
                 highlight=False, markup=False)
    app.worker_main([
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency or default_workers()}",
        f"--queues={','.join(settings.queue.queue(name) for name in chosen)}",
        f"--hostname={prefix}.{os.getpid()}@{socket.gethostname()}",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=INFO",
    ])


def scheduler(ctx: typer.Context) -> None:
    """Enqueue due jobs on the schedule's intervals and cron times; one leads, others stand by."""
    from monitor.app.queue.scheduler import serve_queue

    serve_queue(_queued_settings(ctx))


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Queue depth, workers alive, running and failed tasks, the oldest pending job; exit 1
    when the broker cannot be reached."""
    from monitor.app.pipeline import utcnow
    from monitor.app.queue.celery_app import make_app
    from monitor.app.queue.status import collect

    settings = _queued_settings(ctx)
    db = open_db(settings)
    try:
        report = collect(settings, db, make_app(settings), utcnow())
    finally:
        db.dispose()
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
    else:
        _print_status(report)
    if report.broker_error:
        raise typer.Exit(1)


def _print_status(report) -> None:  # type: ignore[no-untyped-def]
    console.print(f"Broker: {escape(report.broker)}", highlight=False)
    if report.broker_error:
        console.print(f"[red]cannot reach the broker: {escape(report.broker_error)}[/]")
    depths = ", ".join(
        f"{escape(name)} {'?' if depth is None else depth} waiting"
        for name, depth in report.queues.items()
    )
    console.print(f"Queues: {depths}", highlight=False)
    names = f" ({escape(', '.join(report.workers))})" if report.workers else ""
    colour = "green" if report.workers else "red"
    console.print(f"Workers alive: [{colour}]{len(report.workers)}[/]{names}", highlight=False)
    lead = report.scheduler
    if lead and lead["alive"]:
        console.print(f"Scheduler: {escape(lead['holder'])} leads (until {lead['expires_at']})",
                      highlight=False)
    else:
        console.print("Scheduler: [yellow]none leading[/]")
    oldest = report.oldest_pending
    console.print(
        f"Pending: {report.pending}"
        + (f" (oldest {oldest['age_seconds']:.0f}s: {escape(oldest['name'])} "
           f"{escape(oldest['summary'])})" if oldest else ""),
        highlight=False,
    )
    for title, rows, when in (("Running", report.running, "started_at"),
                              ("Failed in the last 24 h", report.failed, "finished_at")):
        if not rows:
            console.print(f"{title}: none")
            continue
        table = Table(title=title)
        for column in ("task", "about", "at", "worker", "error"):
            table.add_column(column, ratio=1 if column == "error" else None)
        for row in rows:
            table.add_row(escape(row["name"]), escape(row["summary"]), row[when] or "",
                          escape(row["worker"] or ""), escape(row["error"] or ""))
        console.print(table)


def run_once_queued(settings: Settings, *, wait: bool, timeout: float) -> None:
    """`monitor run --once` with a broker (monitor/app/queue/once.py)."""
    from monitor.app.queue.celery_app import make_app
    from monitor.app.queue.once import run_once_queued as run_pass

    db = open_db(settings)
    try:
        enabled = [s for s in settings.sources if s.enabled]
        with progress_bar() as progress:
            task = progress.add_task("Fetching (queued)", total=len(enabled))
            queued = run_pass(
                settings, db, make_app(settings), wait=wait, timeout=timeout,
                on_done=lambda _r: progress.advance(task),
            )
        if queued.report is None:
            console.print(f"{len(queued.ids)} source run(s) enqueued.")
            return
        print_pass(settings, queued.report, exit_on_failure=not queued.broken)
        if queued.broken:
            errors.print(f"[red]{len(queued.broken)} source task(s) failed or did not finish[/]")
            raise typer.Exit(1)
    finally:
        db.dispose()
