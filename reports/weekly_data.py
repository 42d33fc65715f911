"""What a weekly reputation report shows for one brand, computed into plain dataclasses.

A week is placed by *when a mention was said* (`published_at`, or when Vigía first saw it if
the source gave no date): a weekly report answers "what did people say last week", and a
backfill run on Monday must not pile last month's posts into Monday's bar.

Everything that can be counted in SQL is (share of voice, top sources and authors, tag
counts); the one pass over the week's rows that Python makes (for the per-day series and
the themes) streams them in chunks, so memory stays flat however big the week is. The
counting queries the dashboard shares (posts, share of voice, rankings) live in
`reports.period_counts`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.core.models import BrandMatch, Mention, MentionSource, Tag
from monitor.core.settings import BrandSettings, Settings
from reports.digest_data import MentionItem, importance, load_mentions, mention_item
from reports.period_counts import (
    RankedName,
    SentimentCounts,
    ShareItem,
    brand_rows,
    counts_of,
    in_window,
    share_of_voice,
    story_in_window,
    stream_posts,
    top_authors,
    top_sources,
)
from reports.weekly_themes import Theme, Themes, brand_words

MAX_INCIDENTS = 15
INCIDENT_FAMILIES = ("leak", "policy")


@dataclass(frozen=True)
class DayPoint:
    day: date
    counts: SentimentCounts


@dataclass(frozen=True)
class WeekTotals:
    counts: SentimentCounts
    leaks: int
    policy: int


@dataclass(frozen=True)
class Change:
    """One line of "what changed": `key` names the i18n label, `unit` how to show the delta."""

    key: str
    current: float | None
    previous: float | None
    unit: str  # "count" (with a % change) or "points" (a difference of two scores)
    suffix: str = ""  # "%" when the values themselves are percentages

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 1)

    @property
    def percent(self) -> float | None:
        if self.unit != "count" or not self.previous or self.current is None:
            return None
        return round((self.current - self.previous) * 100 / self.previous, 1)


@dataclass(frozen=True)
class WeeklyData:
    """One brand's week; datetimes are in the configured time zone."""

    brand: str
    week: str
    start: datetime
    end: datetime
    timezone: str
    days: list[DayPoint]
    totals: WeekTotals
    previous: WeekTotals
    share_of_voice: list[ShareItem]
    top_sources: list[RankedName]
    top_authors: list[RankedName]
    hashtags: list[Theme]
    terms: list[Theme]
    incidents: list[MentionItem]
    incidents_total: int
    changes: list[Change] = field(default_factory=list)

    @property
    def has_competitors(self) -> bool:
        return len(self.share_of_voice) > 1

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()


def collect_weekly(
    session: Session, settings: Settings, brand: BrandSettings, week: str, start: datetime
) -> WeeklyData:
    """`brand`'s report for the 7 days from `start` (aware), compared with the 7 before."""
    zone = settings.schedule.zone
    start = start.astimezone(zone)
    end = start + timedelta(days=7)
    previous_start = start - timedelta(days=7)
    days, hashtags, terms = _stream_week(session, brand, start, end, zone)
    totals = _totals(session, brand.name, start, end)
    previous = _totals(session, brand.name, previous_start, start)
    share = share_of_voice(session, brand, previous_start, start, end)
    incidents, incidents_total = _incidents(session, brand.name, start, end, zone)
    return WeeklyData(
        brand=brand.name,
        week=week,
        start=start,
        end=end,
        timezone=settings.schedule.timezone,
        days=days,
        totals=totals,
        previous=previous,
        share_of_voice=share,
        top_sources=top_sources(session, brand.name, start, end),
        top_authors=top_authors(session, brand.name, start, end),
        hashtags=hashtags,
        terms=terms,
        incidents=incidents,
        incidents_total=incidents_total,
        changes=_changes(totals, previous, share),
    )


def _stream_week(
    session: Session, brand: BrandSettings, start: datetime, end: datetime, zone: Any
) -> tuple[list[DayPoint], list[Theme], list[Theme]]:
    """One streamed pass: sentiment per local day, and the week's hashtags and terms."""
    by_day: dict[date, Counter[str]] = {
        (start + timedelta(days=i)).date(): Counter() for i in range(7)
    }
    themes = Themes(brand_words(brand))
    rows = stream_posts(session, brand.name, start, end, Mention.id, Mention.title, Mention.text)
    themed: set[int] = set()  # a story's words count once, however many outlets carried it
    for when, label, mention_id, title, text in rows:
        counter = by_day.get(when.astimezone(zone).date())
        if counter is not None:  # a said-at exactly on a DST edge still lands in the week
            counter["total"] += 1
            if label:
                counter[label] += 1
        if mention_id not in themed:
            themed.add(mention_id)
            themes.add(f"{title or ''}\n{text or ''}")
    days = [DayPoint(day, counts_of(c)) for day, c in by_day.items()]
    return days, themes.top_hashtags(), themes.top_terms()


def _totals(session: Session, brand: str, start: datetime, end: datetime) -> WeekTotals:
    """Posts, posts per sentiment label and stories per incident family: three aggregates."""
    total = session.scalar(
        select(func.count())
        .select_from(MentionSource)
        .join(Mention, Mention.id == MentionSource.mention_id)
        .join(BrandMatch, BrandMatch.mention_id == Mention.id)
        .where(brand_rows(brand, start, end))
    )
    labels = _tagged(session, brand, start, end, Tag.label, ("sentiment",), MentionSource.id)
    families = _tagged(session, brand, start, end, Tag.family, INCIDENT_FAMILIES, Tag.mention_id)
    return WeekTotals(
        SentimentCounts(
            int(total or 0),
            int(labels.get("negative", 0)),
            int(labels.get("neutral", 0)),
            int(labels.get("positive", 0)),
        ),
        leaks=int(families.get("leak", 0)),
        policy=int(families.get("policy", 0)),
    )


def _tagged(
    session: Session,
    brand: str,
    start: datetime,
    end: datetime,
    key: Any,
    families: tuple[str, ...],
    counted: Any,
) -> dict[str, int]:
    """Distinct `counted` (posts or stories) per `key` (Tag.label or Tag.family) among the
    brand's `families` tags."""
    rows = session.execute(
        select(key, func.count(func.distinct(counted)))
        .select_from(Tag)
        .join(Mention, Mention.id == Tag.mention_id)
        .join(MentionSource, MentionSource.mention_id == Mention.id)
        .join(BrandMatch, (BrandMatch.mention_id == Mention.id) & (BrandMatch.brand == brand))
        .where(Tag.brand == brand, Tag.family.in_(families), in_window(start, end))
        .group_by(key)
    )
    return {name: int(count) for name, count in rows}


def _incidents(
    session: Session, brand: str, start: datetime, end: datetime, zone: Any
) -> tuple[list[MentionItem], int]:
    """The week's leaks and policy incidents, most important first (capped), and their count."""
    rows = session.execute(
        select(Mention.id, Mention.reach, Tag.family, Tag.label, Tag.score)
        .join(Tag, Tag.mention_id == Mention.id)
        .join(BrandMatch, (BrandMatch.mention_id == Mention.id) & (BrandMatch.brand == brand))
        .where(
            Tag.brand == brand,
            story_in_window(start, end),
            Mention.id.in_(
                select(Tag.mention_id).where(Tag.brand == brand, Tag.family.in_(INCIDENT_FAMILIES))
            ),
        )
    ).all()
    tags: dict[int, list[tuple[str, str, float]]] = {}
    reach: dict[int, int] = {}
    for mention_id, mention_reach, family, label, score in rows:
        tags.setdefault(mention_id, []).append((family, label, score))
        reach[mention_id] = mention_reach or 0
    scores = {i: importance(reach[i], found) for i, found in tags.items()}
    ranked = sorted(scores, key=lambda i: (-scores[i], -reach[i], i))[:MAX_INCIDENTS]
    loaded = load_mentions(session, ranked)
    return [mention_item(loaded[i], brand, scores[i], zone) for i in ranked], len(scores)


def _changes(current: WeekTotals, previous: WeekTotals, share: list[ShareItem]) -> list[Change]:
    """The lines of "what changed against the previous week"."""
    changes = [
        Change("mentions_column", current.counts.total, previous.counts.total, "count"),
        Change("negative_label", current.counts.negative, previous.counts.negative, "count"),
        Change(
            "net_sentiment",
            current.counts.net_sentiment,
            previous.counts.net_sentiment,
            "points",
        ),
    ]
    own = next((item for item in share if item.is_brand), None)
    if own is not None and len(share) > 1:
        changes.append(Change("share_of_voice_brand", own.share, own.previous_share, "points", "%"))
    changes.append(Change("leaks", current.leaks, previous.leaks, "count"))
    changes.append(Change("policy_incidents", current.policy, previous.policy, "count"))
    return changes
