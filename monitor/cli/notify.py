"""`monitor notify test ROUTE` and the routes' part of `monitor check`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from monitor.cli.common import HELP_MODE, console, context_of, open_db
from monitor.core.settings import Settings

notify_app = typer.Typer(
    help="Chat and webhook notifications ([routes] in settings.toml).",
    no_args_is_help=True,
    rich_markup_mode=HELP_MODE,
)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")


@notify_app.command("test")
def notify_test(
    ctx: typer.Context,
    route: Annotated[str, typer.Argument(help="alerts, leaks, digest, employees, complaints, "
                                              "weekly or escalations.")],
) -> None:
    """Send a test message to every target of one route (email too), through the outbox;
    exit 1 if any target failed (it stays in the outbox, retried with backoff)."""
    from classifiers.masking import mask_text
    from monitor.app.notify_test import send_test
    from monitor.app.pipeline import utcnow

    settings = context_of(ctx).settings()
    results = send_test(settings, open_db(settings), route, now=utcnow())
    table = Table(title=f"Test of route {escape(route)}")
    for column in ("channel", "to", "result"):
        table.add_column(column)
    for result in results:
        outcome = Text("sent", "green") if result.status == "sent" else Text(
            f"failed: {mask_text(result.error or '')}", "red"
        )
        table.add_row(Text(result.channel), Text(result.to), outcome)
    console.print(table)
    if any(result.status != "sent" for result in results):
        raise typer.Exit(1)


def check_routes(settings: Settings) -> bool:
    """Each chat/webhook target: its variables are set and Apprise accepts it (nothing sent)."""
    from monitor.core.errors import DeliveryError
    from monitor.core.routes import ROUTES, urls
    from reports.notifier import AppriseNotifier

    notifier = AppriseNotifier()
    ok = True
    for route in ROUTES:
        for target in urls(settings, route):
            try:
                shown = notifier.verify(target.value)
            except DeliveryError as exc:
                console.print(Text.assemble(("✗ ", "red"), f"routes.{route}: {exc}"))
                ok = False
                continue
            console.print(Text.assemble(("✓ ", "green"), f"routes.{route}: {shown}"))
    return ok
