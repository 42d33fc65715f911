"""Moving a source's incremental state between its database row and the connector.

Connectors see an immutable `SourceState` value; only the pipeline writes the row, in the
same transaction as the mentions the new state covers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.base import SourceState
from monitor.models import Source
from monitor.storage import insert_if_absent


def source_row(session: Session, name: str, kind: str, *, lock: bool = False) -> Source:
    """The row for a configured source, created on first use.

    With `lock`, PostgreSQL holds the row for the transaction (SQLite serialises writers
    anyway), so two workers running one source cannot interleave their state updates.
    """
    query = select(Source).where(Source.name == name)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        # Two workers may meet a new source at once: the database decides who creates it.
        insert_if_absent(
            session,
            Source,
            Source.name,
            {
                "name": name,
                "kind": kind,
                "seen_ids": [],
                "consecutive_failures": 0,
                "items_seen": 0,
                "mentions_stored": 0,
            },
        )
        row = session.scalars(query).one()
    if row.kind != kind:
        # The kind changed in settings: the old cursor means nothing to the new connector.
        row.kind = kind
        write_state(row, SourceState())
    return row


def read_state(row: Source) -> SourceState:
    return SourceState(
        cursor=row.cursor,
        etag=row.etag,
        last_modified=row.last_modified,
        content_hash=row.content_hash,
        seen_ids=tuple(row.seen_ids or ()),
    )


def write_state(row: Source, state: SourceState) -> None:
    row.cursor = state.cursor
    row.etag = state.etag
    row.last_modified = state.last_modified
    row.content_hash = state.content_hash
    row.seen_ids = list(state.seen_ids)


def record_failure(row: Source, message: str, now: datetime) -> None:
    row.consecutive_failures = (row.consecutive_failures or 0) + 1
    row.last_error = message
    row.last_attempt_at = now


def record_success(
    row: Source, now: datetime, warning: str | None, items: int, stored: int
) -> None:
    row.consecutive_failures = 0
    row.last_error = None
    row.last_warning = warning
    row.last_attempt_at = now
    row.last_success_at = now
    row.items_seen = (row.items_seen or 0) + items
    row.mentions_stored = (row.mentions_stored or 0) + stored
    if stored:
        row.last_new_at = now


def record_unchanged(session: Session, name: str, now: datetime, warning: str | None) -> None:
    """A successful poll that found nothing new (304, or an identical body): health only."""
    session.execute(
        update(Source)
        .where(Source.name == name)
        .values(
            consecutive_failures=0,
            last_error=None,
            last_warning=warning,
            last_attempt_at=now,
            last_success_at=now,
        )
    )
