"""Exports of a filtered inbox: CSV and JSON Lines, streamed.

Flat memory however many rows: the response body is a generator that reads the mentions
through `monitor.core.inbox.iter_mentions` (one keyset page at a time) and writes them out
`ROWS_PER_CHUNK` rows at a time. The database session is opened inside the generator, so it
lives exactly as long as the stream (a session opened by the route would be closed before
the first row is sent).

The filter is tried once before the stream starts (a one-row page): a search the parser
cannot read or an unknown filter value is then an ordinary 400, not a stream cut short
after a 200 has gone out.

Hostile content: every text is masked (monitor.web.api_models.mention_json), and a CSV cell
that a spreadsheet would read as a formula (=, +, -, @, tab, carriage return first: OWASP's
"CSV injection") gets a leading single quote, so opening the export never runs what a post
wrote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import StreamingResponse

from monitor.core.inbox import MentionFilter, inbox_page, iter_mentions
from monitor.core.inbox_items import InboxItem
from monitor.web.api_models import MentionOut, mention_json
from monitor.web.context import WebContext

ROWS_PER_CHUNK = 200
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id", "first_seen_at", "published_at", "brands", "sentiment", "tags", "review_status",
    "assigned_to", "title", "text", "author", "author_handle", "url", "urls", "sources",
    "lang", "reach",
)
LISTS = ("brands", "urls", "sources")
SEPARATOR = " | "


def neutralised(cell: Any) -> Any:
    """A cell a spreadsheet shows as text: formula-looking strings get a leading quote."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_row(item: InboxItem) -> list[Any]:
    data = mention_json(item)
    for name in LISTS:
        data[name] = SEPARATOR.join(data[name])
    data["tags"] = SEPARATOR.join(f"{t['family']}:{t['label']}" for t in data["tags"])
    return [neutralised("" if data[c] is None else data[c]) for c in CSV_COLUMNS]


def csv_chunks(items: Iterable[InboxItem]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for count, item in enumerate(items, 1):
        writer.writerow(csv_row(item))
        if count % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def jsonl_chunks(items: Iterable[InboxItem]) -> Iterator[str]:
    lines: list[str] = []
    for item in items:
        # Through the API's model: a line is byte for byte what GET /mentions/{id} gives.
        lines.append(MentionOut.model_validate(mention_json(item)).model_dump_json() + "\n")
        if len(lines) == ROWS_PER_CHUNK:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


FORMATS: dict[str, tuple[str, Callable[[Iterable[InboxItem]], Iterator[str]]]] = {
    "csv": ("text/csv; charset=utf-8", csv_chunks),
    "jsonl": ("application/x-ndjson", jsonl_chunks),
}


def _mentions(context: WebContext, flt: MentionFilter) -> Iterator[InboxItem]:
    with context.db.reading() as session:
        yield from iter_mentions(session, flt)


def export_response(context: WebContext, flt: MentionFilter, kind: str) -> StreamingResponse:
    """The streamed export of `flt` as `kind` (csv or jsonl); raises VigiaError (before
    anything is sent) for a filter the inbox query refuses."""
    media_type, chunks = FORMATS[kind]
    with context.db.reading() as session:
        inbox_page(session, flt, limit=1)
    day = datetime.now(UTC).date().isoformat()
    return StreamingResponse(
        chunks(_mentions(context, flt)),
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename=vigia-mentions-{day}.{kind}"},
    )
