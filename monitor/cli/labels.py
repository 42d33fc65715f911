"""`monitor labels export`: the team's corrections as a `monitor eval` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from monitor.cli.common import HELP_MODE, console, context_of, open_db
from monitor.core.errors import VigiaError

labels_app = typer.Typer(
    help="The team's review corrections as labelled posts.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MODE,
)


@labels_app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the JSONL file.")],
    brand: Annotated[
        str | None, typer.Option("--brand", help="Only this brand's labels (default: all).")
    ] = None,
) -> None:
    """Write every labelled post as JSONL that `monitor eval` reads. The file holds the posts'
    unmasked text: keep it as private as the database."""
    from monitor.app.labels import export_labels

    settings = context_of(ctx).settings()
    db = open_db(settings)
    try:
        with db.reading() as session, file.open("w", encoding="utf-8") as out:
            count = export_labels(session, out, brand=brand)
    except OSError as exc:
        raise VigiaError(f"{file}: cannot write the file ({exc.strerror or exc})") from None
    finally:
        db.dispose()
    console.print(
        f"{count} labelled post(s) written to [bold]{escape(str(file))}[/] "
        "(unmasked text: keep it private); score them with [bold]monitor eval[/]."
    )
