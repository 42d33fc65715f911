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
from rich.markup import escape
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
report_app = typer.Typer(help="Reports beyond the daily digest.", no_args_is_help=True)
app.add_typer(report_app, name="report")


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
        for alert in result.alerts:
            console.print(
                f"Alert written: [bold]{alert.subject}[/] → {', '.join(alert.recipients)}",
                markup=True,
                highlight=False,
            )
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
    brand: Annotated[
        str | None, typer.Option(help="Only this brand (or a configured competitor).")
    ] = None,
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
    with db.reading() as session:
        found = find_mentions(
            session,
            brand=brand,
            brands=[b.name for b in settings.brands],
            since=_parse_since(since),
            tag=tag,
            limit=limit,
        )
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


@report_app.command("weekly")
def report_weekly(
    ctx: typer.Context,
    week: Annotated[
        str | None,
        typer.Option(help="ISO week (2025-W47) or a day in it; default the last complete week."),
    ] = None,
    preview: Annotated[
        Path | None,
        typer.Option(help="Write the report as one HTML file (charts embedded); nothing sent."),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Write it to the outbox for [email.recipients] weekly.")
    ] = False,
    brand: Annotated[str | None, typer.Option(help="Only this brand (default: all).")] = None,
) -> None:
    """The weekly reputation report: preview it as HTML and/or send it (once per week)."""
    from monitor.pipeline import utcnow
    from monitor.service import deliver_outbox
    from reports.weekly import (
        last_complete_week,
        parse_week,
        preview_weekly,
        report_path,
        save_standalone,
        send_weekly_reports,
    )

    settings = _ctx(ctx).settings()
    now = utcnow()
    if send and brand is not None:
        raise VigiaError("--send sends every brand's report; leave out --brand")
    try:
        chosen = parse_week(week, settings) if week else last_complete_week(settings, now)
        reports = (
            preview_weekly(_open(settings), settings, week=chosen, brand=brand)
            if preview or not send
            else []
        )
    except ValueError as exc:
        raise VigiaError(str(exc)) from None
    for index, report in enumerate(reports):
        # --preview FILE names the first brand's page; the others get their own beside it
        path = report_path(settings, report)
        if preview is not None:
            path = preview if index == 0 else preview.with_name(f"{preview.stem}-{path.name}")
        save_standalone(report, path)
        console.print(f"{report.brand} {chosen.label}: preview written to [bold]{path}[/]")
    if send:
        db = _open(settings)
        written = send_weekly_reports(db, settings, now=now, week=chosen)
        deliver_outbox(settings, db, now=now)
        if not written:
            console.print(f"The {chosen.label} reports were already sent.")
        for message in written:
            console.print(f"Weekly report written: [bold]{message.subject}[/]")


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise VigiaError(f"--date {value!r}: use YYYY-MM-DD, like 2026-11-20") from None


@app.command()
def check(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Argument(help="Source name (default: every enabled source).")
    ] = None,
) -> None:
    """Validate the settings and try each source live once (nothing is stored); exit 1 if any
    source fails."""
    from monitor.http import HttpClient
    from monitor.pipeline import utcnow
    from monitor.source_check import check_sources

    context = _ctx(ctx)
    settings = context.settings()
    console.print(
        f"[green]✓[/] settings: {context.settings_file} is valid "
        f"({len(settings.brands)} brands, {len(settings.sources)} sources)"
    )
    chosen = [_named_source(settings, source)] if source else settings.sources
    for skipped in (s for s in chosen if not s.enabled and not source):
        console.print(f"[dim]- {skipped.name}: disabled, not checked[/]")
    with HttpClient(settings.http) as http, _progress() as progress:
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
                f"[green]✓[/] {escape(result.name)} ({result.kind}): {result.items} items in "
                f"{result.seconds:.1f}s"
                + (f" [yellow](warning: {escape(result.warning)})[/]" if result.warning else "")
            )
        else:
            console.print(f"[red]✗[/] {escape(result.name)} ({result.kind}): "
                          f"{escape(result.error or '')}")
    failed = sum(not r.ok for r in results)
    if failed:
        console.print(f"[red]{failed} of {len(results)} sources failed[/]")
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
    from monitor.pipeline import utcnow
    from monitor.source_health import source_health

    settings = _ctx(ctx).settings()
    db = _open(settings)
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
            h.kind,
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
        str | None, typer.Option("--brand", help="Brand the labels refer to (default: the first).")
    ] = None,
) -> None:
    """Score the classifiers on labelled posts: P/R/F1 per label, sentiment, docs/s."""
    from classifiers.evaluation import evaluate as run_evaluation
    from classifiers.evaluation import report_rows

    settings = _ctx(ctx).settings()
    chosen = next((b for b in settings.brands if brand in (None, b.name)), None)
    if chosen is None:
        names = ", ".join(b.name for b in settings.brands)
        raise VigiaError(f"--brand {brand!r} is not in the settings — use one of: {names}")
    report = run_evaluation(file, chosen)
    if as_json:
        print(json.dumps(report))
        return
    table = Table(title=f"{file} — {report['n']} items, brand {chosen.name}")
    for column in ("label", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for row in report_rows(report):
        table.add_row(*row)
    console.print(table)
    if report["sentiment"] is not None:
        console.print(
            f"sentiment: accuracy {report['sentiment']['accuracy']:.3f}, "
            f"macro-F1 {report['sentiment']['macro_f1']:.3f}"
        )
    console.print(f"{report['docs_per_second']} documents per second")


@app.command()
def outbox(
    ctx: typer.Context,
    retry: Annotated[
        bool, typer.Option("--retry", help="Make unsent and failed emails due now, and deliver.")
    ] = False,
    limit: Annotated[int, typer.Option(help="Show at most N emails, newest first.")] = 30,
    unsent: Annotated[bool, typer.Option("--unsent", help="Only emails not sent yet.")] = False,
) -> None:
    """Emails waiting, retrying, failed or sent: attempts and last error; --retry sends now."""
    from classifiers.masking import mask_text
    from monitor.alerts.engine import pending_findings
    from monitor.pipeline import utcnow
    from monitor.service import deliver_outbox
    from reports.outbox import list_outbox, make_due

    settings = _ctx(ctx).settings()
    db = _open(settings)
    if retry:
        now = utcnow()
        due = make_due(db, now)
        report = deliver_outbox(settings, db, now=now)
        console.print(
            f"{due} email(s) made due: {report.sent} sent, {report.failed} failed "
            f"({report.pending} still pending, {report.dead} given up)"
        )
    zone = settings.schedule.zone
    table = Table(title=f"Outbox ({settings.email.smtp_host or settings.outbox_dir})")
    for column in ("id", "kind", "state", "tries", "created", "next/sent", "to", "subject"):
        table.add_column(
            column,
            justify="right" if column in ("id", "tries") else "left",
            no_wrap=column != "subject",
        )
    colours = {"sent": "green", "pending": "yellow", "retrying": "yellow", "failed": "red"}
    for entry in list_outbox(db, limit=limit, unsent_only=unsent):
        when = entry.sent_at if entry.state == "sent" else entry.next_attempt_at
        subject = mask_text(entry.subject)
        if entry.last_error and entry.state != "sent":
            subject += f"\n[red]last error: {mask_text(entry.last_error)}[/]"
        table.add_row(
            str(entry.id),
            entry.kind,
            f"[{colours.get(entry.state, 'white')}]{entry.state}[/]",
            str(entry.attempts),
            entry.created_at.astimezone(zone).strftime("%m-%d %H:%M"),
            when.astimezone(zone).strftime("%m-%d %H:%M") if when else "",
            ", ".join(entry.recipients) or "[red](no recipients)[/]",
            subject,
        )
    console.print(table)
    with db.reading() as session:
        for held in pending_findings(session):
            console.print(
                f"{held['held']} {held['rule']} finding(s) for {held['brand']} held for the "
                f"next update (at most one per {settings.alerts.update_every})"
            )


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
