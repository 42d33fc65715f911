"""The `monitor` commands about email: the daily digest, the weekly report and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from monitor.cli.common import HELP_MODE, console, context_of, open_db, parse_day
from monitor.core.errors import VigiaError
from monitor.core.settings import Settings

if TYPE_CHECKING:
    from reports.digest import DigestOutcome
    from reports.outbox import DeliveryReport


def register(app: typer.Typer) -> None:
    """Add `digest`, `report weekly` and `outbox` to the command line."""
    report_app = typer.Typer(
        help="Reports beyond the daily digest.", no_args_is_help=True, rich_markup_mode=HELP_MODE
    )
    app.add_typer(report_app, name="report")
    app.command()(digest)
    report_app.command("weekly")(report_weekly)
    app.command()(outbox)


def print_digest_outcome(settings: Settings, outcome: DigestOutcome) -> None:
    """One line on what became of the day's digest: written, already written, or empty."""
    if outcome.status == "written" and outcome.message is not None:
        console.print(f"Digest written: [bold]{escape(outcome.message.subject)}[/]")
    elif outcome.status == "already":
        console.print(
            "That day's digest was already written (use [bold]monitor digest --force[/] to "
            "send it again)."
        )
    else:
        since = ""
        if outcome.period_start is not None:
            local = outcome.period_start.astimezone(settings.schedule.zone)
            since = f" since {local:%Y-%m-%d %H:%M}"
        console.print(
            f"No digest sent: no new mention and no source problem{since} "
            "(nothing empty goes to a list; the next digest covers this period too)."
        )


def report_delivery(settings: Settings, report: DeliveryReport) -> None:
    """Say what was delivered and what waits in the outbox; exit 1 when delivery failed.

    A refused or unreachable SMTP server must not read as success: the emails stay in the
    outbox (retried with backoff), and the command says why and fails.
    """
    from classifiers.masking import mask_text

    host = settings.email.smtp_host
    if report.sent:
        where = f"via {host}" if host else f"to {settings.outbox_dir}"
        console.print(f"Delivered {report.sent} email(s) {where}.")
    for error in report.errors:
        console.print(f"[red]Not delivered:[/] {escape(mask_text(error))}")
    if report.pending:
        console.print(
            f"{report.pending} email(s) waiting in the outbox, retried with backoff "
            "(see [bold]monitor outbox[/]; [bold]monitor outbox --retry[/] tries now)."
        )
    if report.failed:
        raise typer.Exit(1)


def check_email(settings: Settings) -> bool:
    """Connect to the SMTP server and log in as delivery will (nothing is sent)."""
    from monitor.core.errors import DeliveryError
    from reports.mailer import SmtpMailer, mailer_for

    mailer = mailer_for(settings)
    if not isinstance(mailer, SmtpMailer):
        console.print(
            f"[green]✓[/] email: no smtp_host, emails are written to {settings.outbox_dir}"
        )
        return True
    s = settings.email
    try:
        mailer.verify()
    except DeliveryError as exc:
        console.print(f"[red]✗[/] email: {escape(str(exc))}")
        return False
    login = f", logged in as {s.username}" if s.username else " (no login: username is empty)"
    console.print(f"[green]✓[/] email: {escape(f'{s.smtp_host}:{s.smtp_port}')}{escape(login)}")
    return True


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
    from monitor.app.jobs import send_daily_emails, send_digest
    from monitor.app.pipeline import utcnow
    from reports.digest import preview_digest

    settings = context_of(ctx).settings()
    db = open_db(settings)
    chosen_day = parse_day(day)
    now = utcnow()
    if chosen_day and chosen_day < now.astimezone(settings.schedule.zone).date():
        # A past day's digest is as of that day's digest time, not of now.
        now = datetime.combine(chosen_day, time(23, 59, 59), settings.schedule.zone).astimezone(UTC)
    if preview:
        rendered = preview_digest(db, settings, now=now, day=chosen_day)
        preview.write_text(rendered.html, encoding="utf-8")
        console.print(f"Preview written to [bold]{escape(str(preview))}[/]")
        return
    if chosen_day is None:  # today: the digest with the routed daily emails, as scheduled
        sent = send_daily_emails(settings, db, now=now, force=force)
    else:
        sent = send_digest(settings, db, now=now, day=chosen_day, force=force)
    print_digest_outcome(settings, sent.outcome)
    report_delivery(settings, sent.delivery)


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
    from monitor.app.jobs import deliver_outbox
    from monitor.app.pipeline import utcnow
    from reports.weekly import (
        enqueue_weekly_reports,
        last_complete_week,
        parse_week,
        preview_weekly,
        report_path,
        save_standalone,
    )

    settings = context_of(ctx).settings()
    now = utcnow()
    if send and brand is not None:
        raise VigiaError("--send sends every brand's report; leave out --brand")
    try:
        chosen = parse_week(week, settings) if week else last_complete_week(settings, now)
        reports = (
            preview_weekly(open_db(settings), settings, week=chosen, brand=brand)
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
        console.print(
            f"{escape(report.brand)} {chosen.label}: preview written to "
            f"[bold]{escape(str(path))}[/]"
        )
    if send:
        db = open_db(settings)
        result = enqueue_weekly_reports(db, settings, now=now, week=chosen)
        for name in result.empty:
            console.print(
                f"{escape(name)} {chosen.label}: no mentions that week nor the week before — "
                "nothing sent."
            )
        if not result.written and not result.empty:
            console.print(f"The {chosen.label} reports were already sent.")
        for message in result.written:
            console.print(f"Weekly report written: [bold]{escape(message.subject)}[/]")
        report_delivery(settings, deliver_outbox(settings, db, now=now))


def outbox(
    ctx: typer.Context,
    retry: Annotated[
        bool, typer.Option("--retry", help="Make unsent and failed emails due now, and deliver.")
    ] = False,
    limit: Annotated[int, typer.Option(help="Show at most N emails, newest first.")] = 30,
    unsent: Annotated[bool, typer.Option("--unsent", help="Only emails not sent yet.")] = False,
) -> None:
    """Emails and chat/webhook notifications waiting, retrying, failed or sent, with their
    channel, attempts and last error; --retry sends now."""
    from classifiers.masking import mask_text
    from monitor.app.alerts.engine import pending_findings
    from monitor.app.jobs import deliver_outbox
    from monitor.app.pipeline import utcnow
    from reports.outbox import list_outbox, make_due

    settings = context_of(ctx).settings()
    db = open_db(settings)
    now = utcnow()
    if retry:
        due = make_due(db, now)
        report = deliver_outbox(settings, db, now=now)
        console.print(
            f"{due} email(s) made due: {report.sent} sent, {report.failed} failed "
            f"({report.pending} still pending, {report.dead} given up)"
        )
    zone = settings.schedule.zone
    table = Table(title=escape(f"Outbox ({settings.email.smtp_host or settings.outbox_dir})"))
    for column in (
        "id", "kind", "channel", "state", "tries", "created", "next/sent", "to", "subject"
    ):
        table.add_column(
            column,
            justify="right" if column in ("id", "tries") else "left",
            no_wrap=column != "subject",
        )
    colours = {"sent": "green", "pending": "yellow", "retrying": "yellow", "failed": "red"}
    for entry in list_outbox(db, limit=limit, unsent_only=unsent):
        when = entry.sent_at if entry.state == "sent" else entry.next_attempt_at
        # Subjects quote posts and errors quote servers ("451 [/x]"): Text, never markup.
        subject = Text(mask_text(entry.subject))
        if entry.claimed_until and entry.claimed_until > now and entry.state != "sent":
            until = entry.claimed_until.astimezone(zone).strftime("%H:%M")
            subject.append(f"\nbeing sent by {entry.claimed_by} (claim until {until})", "yellow")
        if entry.last_error and entry.state != "sent":
            subject.append(f"\nlast error: {mask_text(entry.last_error)}", "red")
        table.add_row(
            str(entry.id),
            Text(entry.kind),
            Text(entry.channel),
            f"[{colours.get(entry.state, 'white')}]{entry.state}[/]",
            str(entry.attempts),
            entry.created_at.astimezone(zone).strftime("%m-%d %H:%M"),
            when.astimezone(zone).strftime("%m-%d %H:%M") if when else "",
            Text(", ".join(entry.recipients)) if entry.recipients else "[red](no recipients)[/]",
            subject,
        )
    console.print(table)
    with db.reading() as session:
        for held in pending_findings(session):
            console.print(
                f"{held['held']} {escape(str(held['rule']))} finding(s) for "
                f"{escape(str(held['brand']))} held for the "
                f"next update (at most one per {settings.alerts.update_every})"
            )
