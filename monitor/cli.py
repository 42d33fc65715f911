"""The `monitor` command line (Typer + Rich).

Errors Vigía can explain (settings, sources, delivery) are printed as one clear message with
exit code 2, never as a traceback; `-v` turns on debug logging for everything else.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.config import Settings, load_settings, settings_path
from monitor.errors import VigiaError

console = Console(soft_wrap=True)
errors = Console(stderr=True)
app = typer.Typer(
    help="Vigía: brand-mention monitor for communications teams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@dataclass
class Context:
    settings_file: Path

    def settings(self) -> Settings:
        return load_settings(self.settings_file)


def _ctx(ctx: typer.Context) -> Context:
    return ctx.obj  # type: ignore[no-any-return]


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


def _open(settings: Settings):  # type: ignore[no-untyped-def]
    from monitor.storage import open_database

    return open_database(settings.database_url)


def _pipeline(settings: Settings):  # type: ignore[no-untyped-def]
    from monitor.pipeline import Pipeline

    return Pipeline(settings, _open(settings))


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )


def _print_runs(reports) -> None:  # type: ignore[no-untyped-def]
    table = Table(title="Sources")
    for column in ("source", "items", "matched", "new", "status"):
        table.add_column(
            column, justify="right" if column in ("items", "matched", "new") else "left"
        )
    for r in reports:
        status = f"[red]{r.error}" if r.error else ("not modified" if r.not_modified else "ok")
        if r.warning and not r.error:
            status += f" [yellow](warning: {r.warning})"
        table.add_row(r.source, str(r.fetched), str(r.matched), str(r.new_mentions), status)
    console.print(table)


def _run_with_progress(pipeline, sources):  # type: ignore[no-untyped-def]
    chosen = [s for s in sources if s.enabled]
    with _progress() as progress:
        task = progress.add_task("Fetching", total=len(chosen))
        return pipeline.run_sources(chosen, on_done=lambda _r: progress.advance(task))


@app.command()
def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="One pass of every source, the digest, then exit.")
    ] = False,
) -> None:
    """Run the monitor: as a service (default) or one pass (--once)."""
    settings = _ctx(ctx).settings()
    pipeline = _pipeline(settings)
    try:
        if not once:
            from monitor.scheduler import serve

            serve(settings, pipeline)
            return
        from monitor.service import run_once
        from reports.mailer import FileMailer
        from reports.outbox import parse_stored

        enabled = [s for s in settings.sources if s.enabled]
        with _progress() as progress:
            task = progress.add_task("Fetching", total=len(enabled))
            result = run_once(settings, pipeline, on_done=lambda _r: progress.advance(task))
        _print_runs(result.runs)
        digest = result.digest
        if digest is None:
            console.print(
                "Today's digest was already written "
                "(use [bold]monitor digest --force[/] to resend)."
            )
        else:
            console.print(f"Digest written: [bold]{digest.subject}[/]")
        if not settings.email.smtp_host:
            if digest is not None:
                eml = FileMailer(settings.outbox_dir).path_for(parse_stored(digest.message))
                console.print(f"Open it in a browser: [bold]{eml.with_suffix('.html')}[/]")
            console.print(
                f"Emails are in [bold]{settings.outbox_dir}[/] (.eml and browsable .html)."
            )
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
    settings = _ctx(ctx).settings()
    chosen = settings.sources
    if source:
        found = settings.source(source)
        if found is None:
            names = ", ".join(s.name for s in settings.sources) or "none configured"
            raise VigiaError(f"no source named {source!r} — configured sources: {names}")
        chosen = [found]
    pipeline = _pipeline(settings)
    try:
        _print_runs(_run_with_progress(pipeline, chosen))
    finally:
        pipeline.close()


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise VigiaError(
            f"--since {value!r}: use a date like 2026-11-20 or 2026-11-20T08:00"
        ) from None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@app.command()
def mentions(
    ctx: typer.Context,
    brand: Annotated[str | None, typer.Option(help="Only this brand.")] = None,
    since: Annotated[
        str | None, typer.Option(help="First seen at or after (ISO date/time, UTC).")
    ] = None,
    tag: Annotated[
        str | None, typer.Option(help="Only mentions with this tag label, e.g. negative.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most N (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List stored mentions, newest first."""
    from monitor.queries import find_mentions, mention_as_dict

    settings = _ctx(ctx).settings()
    db = _open(settings)
    with db.sessions() as session:
        found = find_mentions(session, brand=brand, since=_parse_since(since), tag=tag, limit=limit)
        if as_json:
            for mention in found:
                sys.stdout.write(json.dumps(mention_as_dict(mention), ensure_ascii=False) + "\n")
            return
        table = Table()
        for column in ("seen", "brand", "sentiment", "source", "title / text"):
            table.add_column(column)
        for m in found:
            sentiment = next((t.label for t in m.tags if t.family == "sentiment"), "")
            table.add_row(
                m.first_seen_at.strftime("%Y-%m-%d %H:%M"),
                ", ".join(b.brand for b in m.brands),
                sentiment,
                ", ".join(s.source.name for s in m.sources),
                (m.title or m.text)[:90],
            )
        console.print(table)


@app.command()
def digest(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Option("--date", help="Day (YYYY-MM-DD); default today.")
    ] = None,
    preview: Annotated[
        Path | None, typer.Option(help="Write the HTML here instead of sending.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Send again even if already sent.")
    ] = False,
) -> None:
    """Write (and deliver) the daily digest, or preview it as an HTML file."""
    from monitor.pipeline import utcnow
    from monitor.service import send_digest
    from reports.digest import preview_digest

    settings = _ctx(ctx).settings()
    db = _open(settings)
    chosen_day = _parse_day(day)
    now = utcnow()
    if chosen_day and chosen_day < now.astimezone(settings.schedule.zone).date():
        # A past day's digest is as of that day's digest time, not of now.
        now = datetime.combine(chosen_day, time(23, 59, 59), settings.schedule.zone).astimezone(UTC)
    if preview:
        rendered = preview_digest(db, settings, now=now, day=chosen_day)
        preview.write_text(rendered.html, encoding="utf-8")
        console.print(f"Preview written to [bold]{preview}[/]")
        return
    message = send_digest(settings, db, now=now, day=chosen_day, force=force)
    if message is None:
        console.print("That day's digest was already sent; use --force to send it again.")
    else:
        console.print(f"Digest written: [bold]{message.subject}[/]")


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise VigiaError(f"--date {value!r}: use YYYY-MM-DD, like 2026-11-20") from None


@app.command()
def check(ctx: typer.Context) -> None:
    """Validate the settings and try each source once (nothing is stored)."""
    from connectors.base import SourceState
    from monitor.http import HttpClient
    from monitor.pipeline import utcnow
    from monitor.sources import build_connector

    context = _ctx(ctx)
    settings = context.settings()
    console.print(
        f"[green]✓[/] settings: {context.settings_file} is valid "
        f"({len(settings.brands)} brands, {len(settings.sources)} sources)"
    )
    failures = 0
    with HttpClient(settings.http) as http:
        for source in settings.sources:
            try:
                connector = build_connector(settings, source, http, utcnow())
                result = connector.fetch(SourceState())
                console.print(
                    f"[green]✓[/] {source.name}: {len(result.posts)} items"
                    + (f" [yellow](warning: {result.warning})" if result.warning else "")
                )
            except VigiaError as exc:
                failures += 1
                console.print(f"[red]✗[/] {source.name}: {exc}")
    if failures:
        raise typer.Exit(1)


@app.command()
def sources(ctx: typer.Context) -> None:
    """Each source's health: last success, items seen, failures and last error."""
    from monitor.queries import list_sources

    settings = _ctx(ctx).settings()
    db = _open(settings)
    with db.sessions() as session:
        rows = {row.name: row for row in list_sources(session)}
    table = Table()
    for column in ("source", "kind", "last success", "items", "mentions", "failures", "last error"):
        table.add_column(column)
    for source in settings.sources:
        row = rows.get(source.name)
        if row is None:
            table.add_row(source.name, source.kind, "never", "0", "0", "0", "")
            continue
        table.add_row(
            source.name,
            source.kind,
            row.last_success_at.strftime("%Y-%m-%d %H:%M") if row.last_success_at else "never",
            str(row.items_seen),
            str(row.mentions_stored),
            str(row.consecutive_failures),
            row.last_error or row.last_warning or "",
        )
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply database migrations (also done automatically at every start)."""
    settings = _ctx(ctx).settings()
    _open(settings).dispose()
    console.print("[green]✓[/] database is up to date")


def main() -> None:
    try:
        app()
    except VigiaError as exc:
        errors.print(f"error: {exc}", style="red", highlight=False, markup=False)
        sys.exit(2)
