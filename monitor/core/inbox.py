"""The inbox query: one filtered, newest-first listing for the CLI, web pages, API and exports.

Pages are KEYSET-paginated on (first_seen_at desc, id desc), read straight off the
`ix_mentions_inbox` index: page 10,000 costs what page 1 costs, and a mention arriving while
someone pages does not shift what they see next (OFFSET would do both wrong). The cursor is
opaque to callers (base64 of the last row's key).

A page is plain frozen dataclasses, not ORM objects (monitor.core.inbox_items).

Role rules are applied here, in the query, through `MentionFilter.hidden_families` (from
monitor.core.access.hidden_families): a mention with a tag of a hidden family never leaves
the database, so no page, API call or export can forget to drop it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    exists,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from monitor.core.access import REVIEW_STATUSES
from monitor.core.errors import VigiaError
from monitor.core.inbox_items import ITEM_COLUMNS, InboxItem, InboxPage, load_items
from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.core.search import count_matches, search_condition

SENTIMENTS = ("negative", "neutral", "positive")
EXPORT_CHUNK = 1000
#: The largest mention id (an INTEGER primary key: 32 bits on PostgreSQL).
MAX_ID = 2**31 - 1


class InvalidCursor(VigiaError):
    """A page cursor that this module did not write (edited, truncated or from elsewhere)."""


class InvalidFilter(VigiaError):
    """A filter value that cannot match anything by construction (a typo, most likely)."""


@dataclass(frozen=True, slots=True)
class MentionFilter:
    """What the inbox lists. Empty fields do not filter.

    `brands` is the default scope (the configured brand names): without `brand`, only
    mentions about one of them are listed, so posts kept only for a competitor's share of
    voice do not crowd the brand's inbox. `brand` (a brand or competitor) replaces it, and
    `tag`/`sentiment` then apply to that brand's tags. `since` is inclusive, `until`
    exclusive, both on first_seen_at.
    """

    brands: tuple[str, ...] = ()
    brand: str | None = None
    source: str | None = None
    tag: str | None = None
    sentiment: str | None = None
    status: str | None = None
    lang: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    assigned_to: str | None = None
    hidden_families: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.sentiment is not None and self.sentiment not in SENTIMENTS:
            raise InvalidFilter(
                f"unknown sentiment {self.sentiment!r} — use one of: {', '.join(SENTIMENTS)}"
            )
        if self.status is not None and self.status not in REVIEW_STATUSES:
            raise InvalidFilter(
                f"unknown review status {self.status!r} — use one of: "
                f"{', '.join(REVIEW_STATUSES)}"
            )
        # A tuple keeps the filter hashable (and frozen) whatever sequence was passed.
        object.__setattr__(self, "brands", tuple(self.brands))


# --------------------------------------------------------------------------- filtering


def visible_mentions(hidden_families: frozenset[str]) -> ColumnElement[bool]:
    """A WHERE condition on `Mention`: none of its tags (for any brand) is of a hidden family.

    `hidden_families` comes from monitor.core.access.hidden_families(role); the rule that a
    restricted tag hides the whole mention lives there, this only expresses it in SQL, for the
    inbox and for every count (dashboard, weekly report).
    """
    if not hidden_families:
        return true()
    return ~_tagged(Tag.family.in_(sorted(hidden_families)))


def conditions(
    flt: MentionFilter, dialect: str, *, walk: bool = False
) -> list[ColumnElement[bool]]:
    """The filter as WHERE conditions on Mention (shared by the inbox and find_mentions);
    `walk` as in search_condition (see page_select).

    Correlated EXISTS written out (not relationship `.any()`, which costs a millisecond to
    build each time), so the planner walks ix_mentions_inbox newest first and probes each
    mention's brands and tags by their (mention_id, …) unique indexes.
    """
    where: list[ColumnElement[bool]] = []
    if flt.brand:
        where.append(_brand_match(BrandMatch.brand == flt.brand))
    elif flt.brands:
        where.append(_brand_match(BrandMatch.brand.in_(flt.brands)))
    if flt.source:
        where.append(
            exists().where(
                MentionSource.mention_id == Mention.id,
                MentionSource.source_id.in_(select(Source.id).where(Source.name == flt.source)),
            )
        )
    for family, label in ((None, flt.tag), ("sentiment", flt.sentiment)):
        if label:
            tag = [Tag.label == label]
            if family:
                tag.append(Tag.family == family)
            if flt.brand:
                tag.append(Tag.brand == flt.brand)
            where.append(_tagged(*tag))
    if flt.status:
        where.append(Mention.review_status == flt.status)
    if flt.assigned_to:
        where.append(Mention.assigned_to == flt.assigned_to)
    if flt.lang:
        where.append(Mention.lang == flt.lang)
    if flt.since:
        where.append(Mention.first_seen_at >= flt.since)
    if flt.until:
        where.append(Mention.first_seen_at < flt.until)
    if flt.search:
        where.append(search_condition(flt.search, dialect, walk=walk))
    if flt.hidden_families:
        where.append(visible_mentions(flt.hidden_families))
    return where


def _brand_match(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(BrandMatch.mention_id == Mention.id, condition)


def _tagged(*condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Tag.mention_id == Mention.id, *condition)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# --------------------------------------------------------------------------- cursors


def encode_cursor(first_seen_at: datetime, mention_id: int) -> str:
    key = f"{first_seen_at.astimezone(UTC).isoformat()}|{mention_id}"
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError("naive")
        mention_id = int(ident)
        if not 0 <= mention_id <= MAX_ID:  # the database would fail on it, not this check
            raise ValueError("id out of range")
        return when, mention_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor(
            "this page link is damaged or out of date — go back to the first page"
        ) from None


# Rows after the cursor's key in (first_seen_at desc, id desc) order. The leading `<=` is
# implied by the rest but is what lets SQLite start the index walk at the cursor: with only
# `a < x OR (a = x AND id < y)` it reads the index from the newest row and filters, so a
# page 20,000 rows deep cost 20,000 index entries.
_AFTER = and_(
    Mention.first_seen_at <= bindparam("after_at", type_=Mention.first_seen_at.type),
    or_(Mention.first_seen_at < bindparam("after_at"), Mention.id < bindparam("after_id")),
)


# --------------------------------------------------------------------------- reading

#: A search matching at least this many mentions is read by walking the inbox index (below):
#: on SQLite, and on PostgreSQL, whose count costs more (a scan that stops at the cap) and
#: whose FTS-first plan costs more per match (each is probed by primary key), so the
#: crossover comes sooner (measured at 200,000 mentions: a walk for 2,000 matches ~7 ms).
SEARCH_WALK_FROM = 5000
SEARCH_WALK_FROM_POSTGRESQL = 1000


@lru_cache(maxsize=256)
def page_select(
    flt: MentionFilter, dialect: str, after: bool = False, walk: bool = False
) -> Select[Any]:
    """The page's mention columns, newest first (LIMIT `page_limit`); with `after`, only rows
    past the `after_at`/`after_id` parameters. Cached per filter: building the statement
    costs about what running it does.

    With `walk`, the rows are read off the date index newest first and each is tested
    against the search until the page is full. Without it the search is read FTS-first:
    every match's row, sorted by date before the LIMIT applies, which is right for a rare
    word and seconds for a common one (a third of a million rows). `search_plan_walks`
    chooses; both return the same rows (search_condition says how, per dialect).
    """
    return (
        select(*ITEM_COLUMNS)
        .where(*([_AFTER] if after else []), *conditions(flt, dialect, walk=walk))
        .order_by(Mention.first_seen_at.desc(), Mention.id.desc())
        .limit(bindparam("page_limit"))
    )


def search_plan_walks(connection: Connection, flt: MentionFilter, dialect: str) -> bool:
    """Whether a page of `flt` should walk the inbox index (page_select's `walk`).

    Only a search needs the choice, made on the number of matches counted up to the
    dialect's threshold (SEARCH_WALK_FROM: about 0.1 ms on SQLite;
    SEARCH_WALK_FROM_POSTGRESQL: about 1.4 ms for a common word, less for a rare one):
    below it FTS-first costs at most a few milliseconds; above it the walk stops after
    about `limit` × (mentions ÷ matches) index entries when the matches are spread over
    time, and after one pass over the index (tens of milliseconds per million mentions)
    when they are all old. PostgreSQL's own estimate cannot choose: a word outside its
    most-common list is estimated at 0.5% of the rows, whether it has one match or
    thousands.
    """
    if not flt.search:
        return False
    cap = SEARCH_WALK_FROM_POSTGRESQL if dialect == "postgresql" else SEARCH_WALK_FROM
    return count_matches(connection, flt.search, dialect, cap) >= cap


def inbox_page(
    session: Session, flt: MentionFilter, *, limit: int = 50, cursor: str | None = None
) -> InboxPage:
    """One page of the inbox, newest first; raises InvalidCursor, InvalidFilter or
    SearchSyntaxError (all VigiaError) with a message for the user."""
    if limit < 1:
        raise InvalidFilter(f"a page holds at least one mention (limit={limit})")
    params: dict[str, Any] = {"page_limit": limit + 1}
    if cursor is not None:
        params["after_at"], params["after_id"] = decode_cursor(cursor)
    # Core execution on the session's connection: the same transaction, without the ORM's
    # per-statement bookkeeping (nothing here is an ORM entity).
    connection = session.connection()
    dialect = _dialect(session)
    walk = search_plan_walks(connection, flt, dialect)
    rows = connection.execute(page_select(flt, dialect, cursor is not None, walk), params).all()
    more = len(rows) > limit
    items = load_items(connection, rows[:limit])
    last = items[-1] if more and items else None
    return InboxPage(items, encode_cursor(last.first_seen_at, last.id) if last else None)


def iter_mentions(
    session: Session, flt: MentionFilter, *, chunk: int = EXPORT_CHUNK
) -> Iterator[InboxItem]:
    """Every match, newest first, `chunk` at a time (one keyset page each): memory stays
    flat however many rows an export has, and no cursor is held open between chunks."""
    cursor: str | None = None
    while True:
        page = inbox_page(session, flt, limit=chunk, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def get_mention(
    session: Session, mention_id: int, hidden_families: frozenset[str] = frozenset()
) -> InboxItem | None:
    """One mention by id, or None when it does not exist or its tags hide it from the role
    (the caller answers 404 for both: a hidden mention's existence is not told either)."""
    flt = MentionFilter(hidden_families=hidden_families)
    rows = session.execute(
        select(*ITEM_COLUMNS).where(Mention.id == mention_id, *conditions(flt, _dialect(session)))
    ).all()
    items = load_items(session, rows)
    return items[0] if items else None


def newer_than(
    session: Session, flt: MentionFilter, cursor: str, *, limit: int = 50
) -> tuple[list[InboxItem], bool]:
    """The matches that come before `cursor`'s row in the inbox order (those that arrived
    since a page was drawn), newest first, at most `limit`; and whether there are more.

    The cursor is a row's key (encode_cursor of the page's first row), so a mention stored in
    the same second as that row, with a higher id, still counts as new. The key condition is
    written as a range (`>=` first), so the date index starts at the cursor.
    """
    when, ident = decode_cursor(cursor)
    newer = and_(
        Mention.first_seen_at >= when,
        or_(Mention.first_seen_at > when, Mention.id > ident),
    )
    dialect = _dialect(session)
    walk = search_plan_walks(session.connection(), flt, dialect)
    rows = session.execute(
        select(*ITEM_COLUMNS)
        .where(newer, *conditions(flt, dialect, walk=walk))
        .order_by(Mention.first_seen_at.desc(), Mention.id.desc())
        .limit(limit + 1)
    ).all()
    return load_items(session, rows[:limit]), len(rows) > limit
