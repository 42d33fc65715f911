"""What a brand's posts in a period count to: the queries the weekly report and the
dashboard share, so the two can never count differently.

Volume counts posts (`MentionSource` rows) at when they were said (`said_at`); rankings of
authors count stories at the story's own date. Every function takes `hidden`, the tag
families whose mentions the reader may not see (monitor.core.access.hidden_families): the
weekly report, which goes to management, passes none.

Share of voice counts `BrandMatch` rows per name over the same sources and period: the
Analyzer stores a row for a configured competitor (brand = the competitor's name) whenever a
post names it, exactly as it does for the brand, so the numbers are comparable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, func, select
from sqlalchemy.orm import Session

from monitor.core.inbox import visible_mentions
from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.core.settings import BrandSettings

MAX_RANKED = 10
STREAM_CHUNK = 2000


@dataclass(frozen=True)
class SentimentCounts:
    total: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0

    @property
    def unrated(self) -> int:
        return self.total - self.negative - self.neutral - self.positive

    @property
    def net_sentiment(self) -> float | None:
        """(positive − negative) per 100 mentions with a sentiment; None with none rated."""
        rated = self.negative + self.neutral + self.positive
        if not rated:
            return None
        return round((self.positive - self.negative) * 100 / rated, 1)


@dataclass(frozen=True)
class ShareItem:
    """One name's mentions in the share of voice; shares are percentages of all names'."""

    name: str
    is_brand: bool
    mentions: int
    previous: int
    share: float
    previous_share: float


@dataclass(frozen=True)
class RankedName:
    """A source or author: its stories, their summed reach and the biggest single one."""

    name: str
    mentions: int
    reach: int
    top_reach: int = 0


def said_at() -> ColumnElement[Any]:
    """When a post was said: its published time (else its story's), or when Vigía saw it.

    Volume counts posts (`MentionSource` rows), so every query using this joins them: a story
    carried by three outlets is three posts, each on its own day.
    """
    return func.coalesce(
        MentionSource.published_at, Mention.published_at, MentionSource.first_seen_at
    )


def in_window(start: datetime, end: datetime) -> ColumnElement[bool]:
    when = said_at()
    return and_(when >= start, when < end)


def story_in_window(start: datetime, end: datetime) -> ColumnElement[bool]:
    """For story-level rankings (authors, incidents): the story's own date is in the window."""
    when = func.coalesce(Mention.published_at, Mention.first_seen_at)
    return and_(when >= start, when < end)


def brand_rows(
    brand: str, start: datetime, end: datetime, hidden: frozenset[str] = frozenset()
) -> ColumnElement[bool]:
    """The brand's posts said in [start, end) that the reader may see."""
    return and_(BrandMatch.brand == brand, in_window(start, end), visible_mentions(hidden))


def strongest_sentiment(brand: str) -> Any:
    """The brand's sentiment label of a mention (the strongest |score| if there are several),
    as a scalar subquery correlated to `Mention`: one label per post, so counts add up."""
    return (
        select(Tag.label)
        .where(Tag.mention_id == Mention.id, Tag.brand == brand, Tag.family == "sentiment")
        .order_by(func.abs(Tag.score).desc())
        .limit(1)
        .correlate(Mention)
        .scalar_subquery()
    )


def stream_posts(
    session: Session,
    brand: str,
    start: datetime,
    end: datetime,
    *extra: Any,
    hidden: frozenset[str] = frozenset(),
) -> Iterator[Row[Any]]:
    """The brand's posts said in [start, end): (said at, sentiment label or None, *extra).

    Streamed in chunks, so a month of posts is never in memory at once. Mentions with a tag
    of a `hidden` family (monitor.core.access.hidden_families) are left out.
    """
    query = (
        select(said_at(), strongest_sentiment(brand), *extra)
        .select_from(MentionSource)
        .join(Mention, Mention.id == MentionSource.mention_id)
        .join(BrandMatch, BrandMatch.mention_id == Mention.id)
        .where(brand_rows(brand, start, end, hidden))
        .execution_options(yield_per=STREAM_CHUNK)
    )
    yield from session.execute(query)


def counts_of(counter: Counter[str]) -> SentimentCounts:
    """A tally keyed "total" and by sentiment label as SentimentCounts."""
    return SentimentCounts(
        counter["total"], counter["negative"], counter["neutral"], counter["positive"]
    )


def share_of_voice(
    session: Session,
    brand: BrandSettings,
    previous_start: datetime,
    start: datetime,
    end: datetime,
    hidden: frozenset[str] = frozenset(),
) -> list[ShareItem]:
    """Posts of the brand and each competitor in [start, end) and in [previous_start, start),
    from BrandMatch rows; the brand first, then by mentions."""
    names = list(dict.fromkeys([brand.name, *brand.competitors]))
    this_week = said_at() >= start
    rows = session.execute(
        select(
            BrandMatch.brand,
            func.count(case((this_week, 1))),
            func.count(case((~this_week, 1))),
        )
        .select_from(MentionSource)
        .join(Mention, Mention.id == MentionSource.mention_id)
        .join(BrandMatch, BrandMatch.mention_id == Mention.id)
        .where(
            BrandMatch.brand.in_(names),
            in_window(previous_start, end),
            visible_mentions(hidden),
        )
        .group_by(BrandMatch.brand)
    ).all()
    counts = {name: (int(now or 0), int(before or 0)) for name, now, before in rows}
    current_all = sum(now for now, _ in counts.values())
    previous_all = sum(before for _, before in counts.values())
    items = [
        ShareItem(
            name=name,
            is_brand=name == brand.name,
            mentions=counts.get(name, (0, 0))[0],
            previous=counts.get(name, (0, 0))[1],
            share=_percent(counts.get(name, (0, 0))[0], current_all),
            previous_share=_percent(counts.get(name, (0, 0))[1], previous_all),
        )
        for name in names
    ]
    return sorted(items, key=lambda item: (not item.is_brand, -item.mentions, item.name))


def _percent(part: int, whole: int) -> float:
    return round(part * 100 / whole, 1) if whole else 0.0


def top_sources(
    session: Session,
    brand: str,
    start: datetime,
    end: datetime,
    hidden: frozenset[str] = frozenset(),
    limit: int = MAX_RANKED,
) -> list[RankedName]:
    """Sources by the summed reach of the brand's mentions they carried."""
    reach = func.coalesce(func.sum(Mention.reach), 0)
    rows = session.execute(
        select(
            Source.name,
            func.count(func.distinct(Mention.id)),
            reach,
            func.coalesce(func.max(Mention.reach), 0),
        )
        .select_from(MentionSource)
        .join(Source, Source.id == MentionSource.source_id)
        .join(Mention, Mention.id == MentionSource.mention_id)
        .join(BrandMatch, BrandMatch.mention_id == Mention.id)
        .where(brand_rows(brand, start, end, hidden))
        .group_by(Source.name)
        .order_by(reach.desc(), func.count(func.distinct(Mention.id)).desc(), Source.name)
        .limit(limit)
    )
    return [RankedName(name, int(n), int(total), int(top)) for name, n, total, top in rows]


def top_authors(
    session: Session,
    brand: str,
    start: datetime,
    end: datetime,
    hidden: frozenset[str] = frozenset(),
    limit: int = MAX_RANKED,
) -> list[RankedName]:
    """Authors (name, else handle) by the summed reach of their mentions of the brand."""
    author = func.coalesce(Mention.author, Mention.author_handle)
    reach = func.coalesce(func.sum(Mention.reach), 0)
    rows = session.execute(
        select(author, func.count(), reach, func.coalesce(func.max(Mention.reach), 0))
        .join(BrandMatch, BrandMatch.mention_id == Mention.id)
        .where(
            BrandMatch.brand == brand,
            story_in_window(start, end),
            author.is_not(None),
            author != "",
            visible_mentions(hidden),
        )
        .group_by(author)
        .order_by(reach.desc(), func.count().desc(), author)
        .limit(limit)
    )
    return [RankedName(name, int(n), int(total), int(top)) for name, n, total, top in rows]
