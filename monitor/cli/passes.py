"""Printing what a pass or a fetch did: the sources' table, alerts, digest and delivery.

Shared by `monitor run --once` (embedded or queued) and `monitor fetch`, so the two modes
print the same summary and exit the same way.
"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.cli import emails as cli_email
from monitor.cli.common import console, errors
from monitor.core.settings import Settings


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )


def print_runs(reports) -> None:  # type: ignore[no-untyped-def]
    table = Table(title="Sources")
    for column in ("source", "items", "matched", "new", "status"):
        table.add_column(
            column, justify="right" if column in ("items", "matched", "new") else "left"
        )
    for r in reports:
        # Errors quote servers and hints ("[http] allow_private_addresses"): never markup.
        if r.error:
            status = f"[red]{escape(r.error)}[/]"
        else:
            status = "not modified" if r.not_modified else "ok"
            if r.warning:
                status += f" [yellow](warning: {escape(r.warning)})[/]"
        if r.too_old:
            status += f" [dim]({r.too_old} older than \\[fetch] backfill: seen, not stored)[/]"
        table.add_row(escape(r.source), str(r.fetched), str(r.matched), str(r.new_mentions), status)
    console.print(table)


def exit_if_all_failed(reports) -> None:  # type: ignore[no-untyped-def]
    """Exit 1 when there were sources and none of them worked: cron must notice."""
    if reports and all(not r.ok for r in reports):
        errors.print(f"[red]all {len(reports)} source(s) failed[/]")
        raise typer.Exit(1)


def print_pass(settings: Settings, result, *, exit_on_failure: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A pass's summary: the sources' table, the alerts, the digest and the delivery."""
    from reports.mailer import FileMailer
    from reports.outbox import parse_stored

    print_runs(result.runs)
    for alert in result.alerts:
        console.print(
            f"Alert written: [bold]{escape(alert.subject)}[/] → "
            f"{escape(', '.join(alert.recipients))}",
            markup=True,
            highlight=False,
        )
    cli_email.print_digest_outcome(settings, result.digest)
    digest = result.digest.message
    if not settings.email.smtp_host:
        if digest is not None and digest.channel == "email":
            eml = FileMailer(settings.outbox_dir).path_for(parse_stored(digest.message))
            html_twin = escape(str(eml.with_suffix(".html")))
            console.print(f"Open it in a browser: [bold]{html_twin}[/]")
        console.print(
            f"Emails are in [bold]{escape(str(settings.outbox_dir))}[/] "
            "(.eml and browsable .html)."
        )
    if result.delivery is not None:
        cli_email.report_delivery(settings, result.delivery)
    if exit_on_failure:
        exit_if_all_failed(result.runs)
