"""Moving a source's incremental state between its database row and the connector.

Connectors see an immutable `SourceState` value; only the pipeline writes the row, in the
same transaction as the mentions the new state covers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from connectors.base import SourceState
from monitor.core.errors import Outcome
from monitor.core.models import Source
from monitor.core.storage import insert_if_absent

#: Names per `IN (...)` list, well below every database's bound-parameter limit.
_IN_CHUNK = 500


def _new_source(name: str, kind: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "seen_ids": [],
        "consecutive_failures": 0,
        "items_seen": 0,
        "items_skipped": 0,
        "mentions_stored": 0,
    }


def _match_kind(row: Source, kind: str) -> Source:
    if row.kind != kind:
        # The kind changed in settings: the old cursor means nothing to the new connector.
        row.kind = kind
        write_state(row, SourceState())
    return row


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
        insert_if_absent(session, Source, Source.name, _new_source(name, kind))
        row = session.scalars(query).one()
    return _match_kind(row, kind)


def _rows_named(session: Session, names: Sequence[str]) -> dict[str, Source]:
    rows: dict[str, Source] = {}
    for start in range(0, len(names), _IN_CHUNK):
        query = select(Source).where(Source.name.in_(names[start : start + _IN_CHUNK]))
        rows.update((row.name, row) for row in session.scalars(query))
    return rows


def source_rows(session: Session, wanted: Mapping[str, str]) -> dict[str, Source]:
    """`source_row` for many sources (name → kind) at once: a multi-source run reads every
    state in one query instead of one transaction per source."""
    rows = _rows_named(session, list(wanted))
    missing = [name for name in wanted if name not in rows]
    for name in missing:
        insert_if_absent(session, Source, Source.name, _new_source(name, wanted[name]))
    rows.update(_rows_named(session, missing))
    return {name: _match_kind(rows[name], kind) for name, kind in wanted.items()}


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


def record_failure(row: Source, message: str, now: datetime, outcome: Outcome) -> None:
    """A failed run; its outcome decides how source health judges it (monitor/core/errors.py)."""
    row.consecutive_failures = (row.consecutive_failures or 0) + 1
    row.last_error = message
    row.last_outcome = outcome.value
    row.last_attempt_at = now


def record_success(
    row: Source, now: datetime, warning: str | None, items: int, stored: int, skipped: int = 0
) -> None:
    row.consecutive_failures = 0
    row.last_error = None
    row.last_outcome = None
    row.last_warning = warning
    row.last_attempt_at = now
    row.last_success_at = now
    row.items_seen = (row.items_seen or 0) + items
    row.items_skipped = (row.items_skipped or 0) + skipped
    row.mentions_stored = (row.mentions_stored or 0) + stored
    if items:
        # New items, matched or not: silence detection (monitor/core/source_health.py) asks whether
        # the source still publishes, and a news feed may go weeks without naming the brand.
        row.last_new_at = now


@dataclass(frozen=True)
class UnchangedPoll:
    """A successful poll that found nothing new (304, or an identical body): health only."""

    source_id: int
    at: datetime
    warning: str | None


def record_unchanged(session: Session, polls: Sequence[UnchangedPoll]) -> None:
    """Record unchanged polls with one executemany UPDATE, however many there are.

    Such polls are most of a deployment's day, and one transaction each was most of the cost
    of re-polling hundreds of unchanged feeds. A poll older than the row's last attempt
    (another worker or process recorded a newer one meanwhile) is skipped, so a batch that
    waited cannot reset a failure count or a success time that is newer than itself.
    """
    if not polls:
        return
    table = Source.__table__
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("poll_source_id"),
            or_(
                table.c.last_attempt_at.is_(None),
                table.c.last_attempt_at <= bindparam("poll_at"),
            ),
        )
        .values(
            consecutive_failures=0,
            last_error=None,
            last_outcome=None,
            last_warning=bindparam("poll_warning"),
            last_attempt_at=bindparam("poll_at"),
            last_success_at=bindparam("poll_at"),
        )
    )
    session.execute(
        statement,
        [
            {"poll_source_id": p.source_id, "poll_at": p.at, "poll_warning": p.warning}
            for p in polls
        ],
    )
