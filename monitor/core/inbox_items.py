"""What an inbox page holds: plain frozen dataclasses, and how they are loaded.

Not ORM objects: the mentions' columns come from the page's one indexed query
(`ITEM_COLUMNS`), then their brands, tags and sources in one query each for the whole page.
This is several times cheaper than `selectinload` of ORM objects (benchmarks/web_bench.py
measures it against hand-written SQL), and the items can be handed to templates or
serialised after the session has closed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag


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


#: The mention columns of an InboxItem, in its field order (a page selects these).
ITEM_COLUMNS = (
    Mention.id, Mention.title, Mention.text, Mention.url, Mention.author, Mention.author_handle,
    Mention.lang, Mention.first_seen_at, Mention.published_at, Mention.reach, Mention.metrics,
    Mention.review_status, Mention.assigned_to,
)


_IDS = bindparam("ids", expanding=True)
_BRANDS = (select(BrandMatch.mention_id, BrandMatch.brand)
           .where(BrandMatch.mention_id.in_(_IDS)).order_by(BrandMatch.id))
_TAGS = (select(Tag.mention_id, Tag.brand, Tag.family, Tag.label, Tag.score, Tag.evidence)
         .where(Tag.mention_id.in_(_IDS)).order_by(Tag.id))
_SOURCES = (select(MentionSource.mention_id, Source.name, MentionSource.url)
            .join(Source, Source.id == MentionSource.source_id)
            .where(MentionSource.mention_id.in_(_IDS)).order_by(MentionSource.id))


def load_items(connection: Connection, rows: Sequence[Any]) -> list[InboxItem]:
    """InboxItems for mention rows (in `ITEM_COLUMNS` order): one query per related table."""
    ids = {"ids": [row[0] for row in rows]}
    if not rows:
        return []
    brands: dict[int, list[str]] = defaultdict(list)
    for mention_id, brand in connection.execute(_BRANDS, ids):
        brands[mention_id].append(brand)
    tags: dict[int, list[TagItem]] = defaultdict(list)
    for mention_id, brand, family, label, score, evidence in connection.execute(_TAGS, ids):
        tags[mention_id].append(TagItem(brand, family, label, score, evidence or []))
    sources: dict[int, list[SourceItem]] = defaultdict(list)
    for mention_id, name, url in connection.execute(_SOURCES, ids):
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
