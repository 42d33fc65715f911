"""The inbox query: one filtered, newest-first listing for the CLI, web pages, API and exports.

Pages are KEYSET-paginated on (first_seen_at desc, id desc), read straight off the
`ix_mentions_inbox` index: page 10,000 costs what page 1 costs, and a mention arriving while
someone pages does not shift what they see next (OFFSET would do both wrong). The cursor is
opaque to callers (base64 of the last row's key).

A page is plain frozen dataclasses, not ORM objects: the mentions' columns in one indexed
query, then their brands, tags and sources in one query each for the whole page. This is
several times cheaper than `selectinload` of ORM objects (benchmarks/web_bench.py measures it
against hand-written SQL) and the items can be handed to templates or serialised after the
session has closed.

Role rules are applied here, in the query, through `MentionFilter.hidden_families` (from
monitor.core.access.hidden_families): a mention with a tag of a hidden family never leaves
the database, so no page, API call or export can forget to drop it.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session

from monitor.core.access import REVIEW_STATUSES
from monitor.core.errors import VigiaError
from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.core.search import search_condition

SENTIMENTS = ("negative", "neutral", "positive")
EXPORT_CHUNK = 1000


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


@dataclass(frozen=True, slots=True)
class TagItem:
    brand: str
    family: str
    label: str
    score: float
    evidence: list[Any]


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One post of the story: the source's name and the post's URL."""

    name: str
    url: str | None


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    title: str | None
    text: str
    url: str | None
    author: str | None
    author_handle: str | None
    lang: str | None
    first_seen_at: datetime
    published_at: datetime | None
    reach: int
    metrics: dict[str, Any]
    review_status: str
    assigned_to: str | None
    brands: tuple[str, ...]
    tags: tuple[TagItem, ...]
    sources: tuple[SourceItem, ...]

    @property
    def sentiment(self) -> str | None:
        return next((t.label for t in self.tags if t.family == "sentiment"), None)

    @property
    def families(self) -> frozenset[str]:
        return frozenset(t.family for t in self.tags)


@dataclass(frozen=True, slots=True)
class InboxPage:
    items: list[InboxItem]
    #: Pass back as `cursor` for the next page; None on the last page.
    next_cursor: str | None


# --------------------------------------------------------------------------- filtering


def visible_mentions(hidden_families: frozenset[str]) -> ColumnElement[bool]:
    """A WHERE condition on `Mention`: none of its tags (for any brand) is of a hidden family.

    `hidden_families` comes from monitor.core.access.hidden_families(role); the rule that a
    restricted tag hides the whole mention lives there, this only expresses it in SQL, for the
    inbox and for every count (dashboard, weekly report).
    """
    if not hidden_families:
        return true()
    return ~Mention.tags.any(Tag.family.in_(sorted(hidden_families)))


def conditions(flt: MentionFilter, dialect: str) -> list[ColumnElement[bool]]:
    """The filter as WHERE conditions on Mention (shared by the inbox and find_mentions)."""
    where: list[ColumnElement[bool]] = []
    if flt.brand:
        where.append(Mention.brands.any(BrandMatch.brand == flt.brand))
    elif flt.brands:
        where.append(Mention.brands.any(BrandMatch.brand.in_(flt.brands)))
    if flt.source:
        where.append(
            Mention.sources.any(
                MentionSource.source_id.in_(select(Source.id).where(Source.name == flt.source))
            )
        )
    for family, label in ((None, flt.tag), ("sentiment", flt.sentiment)):
        if label:
            tag = Tag.label == label
            if family:
                tag = tag & (Tag.family == family)
            if flt.brand:
                tag = tag & (Tag.brand == flt.brand)
            where.append(Mention.tags.any(tag))
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
        where.append(search_condition(flt.search, dialect))
    if flt.hidden_families:
        where.append(visible_mentions(flt.hidden_families))
    return where


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
        return when, int(ident)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor(
            "this page link is damaged or out of date — go back to the first page"
        ) from None


def _after(cursor: str | None) -> ColumnElement[bool]:
    """Strictly after the cursor's row in (first_seen_at desc, id desc) order."""
    if cursor is None:
        return true()
    when, ident = decode_cursor(cursor)
    return or_(
        Mention.first_seen_at < when,
        and_(Mention.first_seen_at == when, Mention.id < ident),
    )


# --------------------------------------------------------------------------- reading

_COLUMNS = (
    Mention.id, Mention.title, Mention.text, Mention.url, Mention.author, Mention.author_handle,
    Mention.lang, Mention.first_seen_at, Mention.published_at, Mention.reach, Mention.metrics,
    Mention.review_status, Mention.assigned_to,
)


def page_select(flt: MentionFilter, dialect: str, cursor: str | None = None) -> Select[Any]:
    """The page's mention columns, newest first, after `cursor` (no LIMIT yet)."""
    return (
        select(*_COLUMNS)
        .where(_after(cursor), *conditions(flt, dialect))
        .order_by(Mention.first_seen_at.desc(), Mention.id.desc())
    )


def inbox_page(
    session: Session, flt: MentionFilter, *, limit: int = 50, cursor: str | None = None
) -> InboxPage:
    """One page of the inbox, newest first; raises InvalidCursor, InvalidFilter or
    SearchSyntaxError (all VigiaError) with a message for the user."""
    if limit < 1:
        raise InvalidFilter(f"a page holds at least one mention (limit={limit})")
    rows = session.execute(page_select(flt, _dialect(session), cursor).limit(limit + 1)).all()
    more = len(rows) > limit
    items = load_items(session, rows[:limit])
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
        session.expunge_all()


def load_items(session: Session, rows: Sequence[Any]) -> list[InboxItem]:
    """InboxItems for mention rows (in `_COLUMNS` order): one query per related table."""
    ids = [row[0] for row in rows]
    if not ids:
        return []
    brands: dict[int, list[str]] = defaultdict(list)
    for mention_id, brand in session.execute(
        select(BrandMatch.mention_id, BrandMatch.brand)
        .where(BrandMatch.mention_id.in_(ids)).order_by(BrandMatch.id)
    ):
        brands[mention_id].append(brand)
    tags: dict[int, list[TagItem]] = defaultdict(list)
    for mention_id, brand, family, label, score, evidence in session.execute(
        select(Tag.mention_id, Tag.brand, Tag.family, Tag.label, Tag.score, Tag.evidence)
        .where(Tag.mention_id.in_(ids)).order_by(Tag.id)
    ):
        tags[mention_id].append(TagItem(brand, family, label, score, evidence or []))
    sources: dict[int, list[SourceItem]] = defaultdict(list)
    for mention_id, name, url in session.execute(
        select(MentionSource.mention_id, Source.name, MentionSource.url)
        .join(Source, Source.id == MentionSource.source_id)
        .where(MentionSource.mention_id.in_(ids)).order_by(MentionSource.id)
    ):
        sources[mention_id].append(SourceItem(name, url))
    return [
        InboxItem(
            *row[:10], metrics=row[10] or {}, review_status=row[11], assigned_to=row[12],
            brands=tuple(brands[row[0]]), tags=tuple(tags[row[0]]),
            sources=tuple(sources[row[0]]),
        )
        for row in rows
    ]


def item_of(mention: Mention) -> InboxItem:
    """The InboxItem of an ORM mention (its relationships loaded), for callers holding one."""
    return InboxItem(
        mention.id, mention.title, mention.text, mention.url, mention.author,
        mention.author_handle, mention.lang, mention.first_seen_at, mention.published_at,
        mention.reach, mention.metrics or {}, mention.review_status, mention.assigned_to,
        brands=tuple(b.brand for b in mention.brands),
        tags=tuple(TagItem(t.brand, t.family, t.label, t.score, t.evidence or [])
                   for t in mention.tags),
        sources=tuple(SourceItem(s.source.name, s.url) for s in mention.sources),
    )


def get_mention(
    session: Session, mention_id: int, hidden_families: frozenset[str] = frozenset()
) -> InboxItem | None:
    """One mention by id, or None when it does not exist or its tags hide it from the role
    (the caller answers 404 for both: a hidden mention's existence is not told either)."""
    flt = MentionFilter(hidden_families=hidden_families)
    rows = session.execute(
        select(*_COLUMNS).where(Mention.id == mention_id, *conditions(flt, _dialect(session)))
    ).all()
    items = load_items(session, rows)
    return items[0] if items else None


def count_newer(session: Session, flt: MentionFilter, after: datetime, cap: int = 1000) -> int:
    """How many matches arrived after `after` (the inbox's "N new mentions"), up to `cap`:
    a bounded count, so a week-old open tab polling does not scan the whole table."""
    newer = (
        select(Mention.id)
        .where(Mention.first_seen_at > after, *conditions(flt, _dialect(session)))
        .limit(cap)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(newer)) or 0
