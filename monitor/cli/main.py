"""The `monitor` command line (Typer + Rich).

Errors Vigía can explain (settings, sources, delivery) are printed as one clear message with
exit code 2, never as a traceback; `-v` turns on debug logging for everything else.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from monitor.cli import emails as cli_email
from monitor.cli import mentions as cli_mentions
from monitor.cli import notify as cli_notify
from monitor.cli import queue as cli_queue
from monitor.cli import train as cli_train
from monitor.cli import users as cli_users
from monitor.cli import web as cli_web
from monitor.cli.common import (
    HELP_MODE,
    Context,
    console,
    context_of,
    errors,
    open_db,
)
from monitor.cli.labels import labels_app
from monitor.cli.passes import exit_if_all_failed, print_pass, print_runs, progress_bar
from monitor.core.errors import VigiaError
from monitor.core.settings import Settings
from monitor.core.settings_file import settings_path

app = typer.Typer(
    help="Vigía: brand-mention monitor for communications teams.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MODE,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(
    help="Database maintenance.", no_args_is_help=True, rich_markup_mode=HELP_MODE
)
app.add_typer(db_app, name="db")
app.add_typer(labels_app, name="labels")


@app.callback()
def options(
    ctx: typer.Context,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings", "-s", help="Settings file (default ./settings.toml or $VIGIA_SETTINGS)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=errors, show_path=False, rich_tracebacks=verbose)],
    )
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = Context(settings_path(settings))


def _pipeline(settings: Settings):  # type: ignore[no-untyped-def]
    from monitor.app.pipeline import Pipeline

    return Pipeline(settings, open_db(settings))


def _run_with_progress(pipeline, sources):  # type: ignore[no-untyped-def]
    chosen = [s for s in sources if s.enabled]
    with progress_bar() as progress:
        task = progress.add_task("Fetching", total=len(chosen))
        return pipeline.run_sources(chosen, on_done=lambda _r: progress.advance(task))


@app.command()
def run(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="One pass of every source, its alerts and today's digest, then exit."
        ),
    ] = False,
    no_wait: Annotated[
        bool,
        typer.Option("--no-wait", help="With --once and a [queue] broker: enqueue the pass's "
                     "source runs and return at once (the workers alert; the scheduler sends "
                     "the digest on time)."),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(min=1, help="With --once and a [queue] broker: seconds to wait for the "
                     "workers before the unfinished sources count as failed."),
    ] = 3600,
) -> None:
    """Run the monitor: as a service (default) or one pass (--once); with a [queue] broker,
    --once runs the pass's sources on the workers (`monitor worker`)."""
    settings = context_of(ctx).settings()
    if settings.queue.enabled:
        if not once:
            raise VigiaError(
                "[queue] broker is set: the service is `monitor scheduler` plus "
                "`monitor worker` processes (or use `monitor run --once`)"
            )
        cli_queue.run_once_queued(settings, wait=not no_wait, timeout=timeout)
        return
    pipeline = _pipeline(settings)
    try:
        if not once:
            from monitor.app.scheduler import serve

            serve(settings, pipeline)
            return
        from monitor.app.jobs import run_once

        enabled = [s for s in settings.sources if s.enabled]
        with progress_bar() as progress:
            task = progress.add_task("Fetching", total=len(enabled))
            result = run_once(settings, pipeline, on_done=lambda _r: progress.advance(task))
        print_pass(settings, result)
    finally:
        pipeline.close()


@app.command()
def fetch(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Argument(help="Source name (default: every source).")
    ] = None,
) -> None:
    """Fetch sources now and store new mentions (no digest)."""
    settings = context_of(ctx).settings()
    chosen = settings.sources
    if source:
        found = settings.source(source)
        if found is None:
            names = ", ".join(s.name for s in settings.sources) or "none configured"
            raise VigiaError(f"no source named {source!r} — configured sources: {names}")
        chosen = [found]
    pipeline = _pipeline(settings)
    try:
        reports = _run_with_progress(pipeline, chosen)
        print_runs(reports)
        exit_if_all_failed(reports)
    finally:
        pipeline.close()


@app.command()
def check(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Argument(help="Source name (default: every enabled source).")
    ] = None,
) -> None:
    """Validate the settings, log in to the SMTP server, check each chat/webhook route's URL and
    variables, and try each source live once (nothing is stored or sent); exit 1 if the login,
    a route or any source fails."""
    from monitor.app.pipeline import utcnow
    from monitor.app.source_check import check_sources
    from monitor.core.http import HttpClient

    context = context_of(ctx)
    settings = context.settings()
    console.print(
        f"[green]✓[/] settings: {context.settings_file} is valid "
        f"({len(settings.brands)} brands, {len(settings.sources)} sources)"
    )
    email_ok = source is not None or cli_email.check_email(settings)
    email_ok = (source is not None or cli_notify.check_routes(settings)) and email_ok
    chosen = [_named_source(settings, source)] if source else settings.sources
    for skipped in (s for s in chosen if not s.enabled and not source):
        console.print(f"[dim]- {escape(skipped.name)}: disabled, not checked[/]")
    with HttpClient(settings.http) as http, progress_bar() as progress:
        task = progress.add_task("Checking", total=len(chosen))
        results = check_sources(
            settings,
            [s for s in chosen if s.enabled or source],
            http,
            utcnow(),
            on_done=lambda _r: progress.advance(task),
        )
    for result in results:
        if result.ok:
            console.print(
                f"[green]✓[/] {escape(result.name)} ({escape(result.kind)}): "
                f"{result.items} items in {result.seconds:.1f}s"
                + (f" [yellow](warning: {escape(result.warning)})[/]" if result.warning else "")
            )
        else:
            console.print(f"[red]✗[/] {escape(result.name)} ({escape(result.kind)}): "
                          f"{escape(result.error or '')}")
    failed = sum(not r.ok for r in results)
    if failed:
        console.print(f"[red]{failed} of {len(results)} sources failed[/]")
    if failed or not email_ok:
        raise typer.Exit(1)


def _named_source(settings: Settings, name: str):  # type: ignore[no-untyped-def]
    found = settings.source(name)
    if found is None:
        names = ", ".join(s.name for s in settings.sources) or "none configured"
        raise VigiaError(f"no source named {name!r} — configured sources: {names}")
    return found


@app.command()
def sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Each source's health (ok, failing, silent, never run, disabled): last success, items
    seen, mentions stored, failures and last error."""
    from monitor.app.pipeline import utcnow
    from monitor.core.source_health import source_health

    settings = context_of(ctx).settings()
    db = open_db(settings)
    now = utcnow()
    with db.reading() as session:
        healths = source_health(session, settings, now)
    if as_json:
        for health in healths:
            sys.stdout.write(json.dumps(health.as_dict(), ensure_ascii=False) + "\n")
        return
    zone = settings.schedule.zone
    colours = {"ok": "green", "failing": "red", "silent": "yellow"}
    table = Table(title=f"Sources ({settings.health.max_failures} failures in a row = failing)")
    for column in ("source", "kind", "status", "last success", "items", "mentions", "failures",
                   "last error"):
        table.add_column(
            column,
            justify="right" if column in ("items", "mentions", "failures") else "left",
            no_wrap=column in ("source", "status"),  # in a narrow terminal the rest wraps
            ratio=1 if column == "last error" else None,
        )
    for h in healths:
        # Why silent, or how close to failing, when there is no error to show.
        note = h.last_error or h.last_warning or (h.reason if h.status in ("ok", "silent") else "")
        table.add_row(
            escape(h.name),
            escape(h.kind),
            f"[{colours.get(h.status, 'dim')}]{h.status}[/]",
            h.last_success_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            if h.last_success_at
            else "never",
            str(h.items_seen),
            str(h.mentions_stored),
            str(h.failures),
            escape(note),
        )
    console.print(table)


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Labelled posts, one JSON object per line.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    brand: Annotated[
        str | None,
        typer.Option("--brand", help="Score only this brand's items (default: each item for "
                     "its `brand` field, or the first brand)."),
    ] = None,
    show_errors: Annotated[
        int, typer.Option("--errors", min=0, help="Also show the N worst mistakes and why.")
    ] = 0,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Also break the figures down by a field of the items: "
                     '--by channel, --by lang, --by "channel=news+blog,social+forum+review".'),
    ] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="base, deployment (your `monitor train` models) or both; default "
                        "both when you have one.")] = None,
) -> None:
    """Score the classifiers on labelled posts: P/R/F1 per label, sentiment, the routed
    lists' precision, docs/s."""
    from monitor.cli.evaluate import models_to_score, print_reports

    settings = context_of(ctx).settings()
    if brand is not None and brand not in {b.name for b in settings.brands}:
        names = ", ".join(b.name for b in settings.brands)
        raise VigiaError(f"--brand {brand!r} is not in the settings — use one of: {names}")
    print_reports(file, settings.brands, models_to_score(settings, model), only=brand,
                  as_json=as_json, errors=show_errors, by=by)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply database migrations (also done automatically at every start)."""
    settings = context_of(ctx).settings()
    open_db(settings).dispose()
    console.print("[green]✓[/] database is up to date")


cli_email.register(app)
cli_mentions.register(app)
cli_notify.register(app)
cli_users.register(app)
cli_web.register(app)
cli_queue.register(app)
cli_train.register(app)


def main() -> None:
    try:
        app()
    except VigiaError as exc:
        errors.print(f"error: {exc}", style="red", highlight=False, markup=False)
        sys.exit(2)
