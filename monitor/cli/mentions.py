"""`monitor mentions`: the stored mentions, newest first, read through the inbox query."""

from __future__ import annotations

import getpass
import json
import logging
import sys
from itertools import islice
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from monitor.cli.common import console, context_of, open_db, parse_since
from monitor.core.errors import VigiaError
from monitor.core.settings import Settings


def register(app: typer.Typer) -> None:
    app.command()(mentions)


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
    search: Annotated[
        str | None,
        typer.Option(help='Full-text search: words, "phrases", OR, -word, (groups), prefix*.'),
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Review status: new, reviewed, false_positive, escalated.")
    ] = None,
    sentiment: Annotated[
        str | None, typer.Option(help="Only this sentiment: negative, neutral or positive.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only posts from this source.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most N (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal",
            help="Show personal data and secrets unmasked (masked by default); the unmasked "
            "listing is logged.",
        ),
    ] = False,
) -> None:
    """List stored mentions, newest first (personal data and secrets masked)."""
    from classifiers.masking import mask_text
    from monitor.core.inbox import EXPORT_CHUNK, MentionFilter, iter_mentions
    from monitor.core.queries import mention_as_dict

    settings = context_of(ctx).settings()
    _known_brand(settings, brand)
    if reveal:
        logging.getLogger("vigia.audit").warning(
            "mentions listed unmasked (--reveal) by %s", getpass.getuser()
        )
    show = (lambda text: text) if reveal else mask_text
    db = open_db(settings)
    with db.reading() as session:
        flt = MentionFilter(
            brands=tuple(b.name for b in settings.brands),
            brand=brand,
            since=parse_since(since),
            tag=tag,
            search=search,
            status=status,
            sentiment=sentiment,
            source=source,
        )
        chunk = min(limit, EXPORT_CHUNK) if limit else EXPORT_CHUNK
        found = islice(iter_mentions(session, flt, chunk=max(chunk, 1)), limit)
        if as_json:
            for mention in found:
                row = mention_as_dict(mention, show)
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        table = Table()
        for column in ("seen", "brand", "sentiment", "source", "title / text"):
            table.add_column(column)
        for m in found:
            # Titles are remote text: as Text objects, `[/]` or `[link=…]` are just characters.
            table.add_row(
                m.first_seen_at.strftime("%Y-%m-%d %H:%M"),
                Text(", ".join(m.brands)),
                Text(m.sentiment or ""),
                Text(", ".join(s.name for s in m.sources)),
                Text(show(m.title or m.text)[:90]),
            )
        console.print(table)


def _known_brand(settings: Settings, brand: str | None) -> None:
    """`--brand` must name a configured brand or competitor: a typo is not an empty table."""
    if brand is None:
        return
    names = [b.name for b in settings.brands]
    competitors = sorted({c for b in settings.brands for c in b.competitors} - set(names))
    if brand not in names and brand not in competitors:
        raise VigiaError(
            f"--brand {brand!r} is not a configured brand — brands: {', '.join(names)}"
            + (f"; competitors: {', '.join(competitors)}" if competitors else "")
        )
