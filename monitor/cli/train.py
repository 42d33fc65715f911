"""`monitor train`: a deployment model from the team's corrections, adopted only if better.

The work is monitor.app.training; this module prints what it decided, family by family:
the held-out macro-F1 of the model in force (the shipped one, or the deployment's) and of
the candidate, and whether the candidate replaced it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import console, context_of, open_db

if TYPE_CHECKING:
    from monitor.app.training import TrainingReport


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    ctx: typer.Context,
    brand: Annotated[str | None, typer.Option(
        "--brand", help="Learn from this brand's corrections only, for its posts only.")] = None,
    min_labels: Annotated[int | None, typer.Option(
        "--min-labels", min=1,
        help="Labelled posts needed (default [learning] min_labels).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Train even below the minimum (the held-out test still decides).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train on the reviewed mentions over the shipped model; adopt each family's model only
    when it beats the current one on the held-out reviews."""
    from monitor.app.pipeline import utcnow
    from monitor.app.training import train_scope

    settings = context_of(ctx).settings()
    db = open_db(settings)
    try:
        report = train_scope(db, settings, now=utcnow(), brand=brand, min_labels=min_labels,
                             force=force)
    finally:
        db.dispose()
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print_training(report)
    if report.status == "too_few":
        raise typer.Exit(1)


def print_training(report: TrainingReport) -> None:
    scope = f"brand {report.scope}" if report.scope else "the deployment"
    if report.status == "too_few":
        console.print(
            f"Not trained for {escape(scope)}: {report.labels} labelled posts, "
            f"{report.needed} needed (below that a model of your own was measured worse than "
            "the shipped one). Review more mentions in the web app, or pass --min-labels.")
        return
    table = Table(title=escape(f"Training for {scope} on {report.labels} labelled posts "
                               "(held-out macro-F1)"))
    for column in ("family", "trained on", "held out", "current", "candidate", "decision"):
        table.add_column(column, justify="left" if column in ("family", "decision") else "right")
    for result in report.results:
        current = "–" if result.current is None else (
            f"{result.current:.3f} ({result.current_model})")
        candidate = "–" if result.candidate is None else f"{result.candidate:.3f}"
        decision = ("[green]adopted[/]" if result.adopted
                    else f"kept the {result.current_model}: {escape(result.reason)}")
        table.add_row(result.family, str(result.trained_on), str(result.held_out), current,
                      candidate, decision)
    console.print(table)
