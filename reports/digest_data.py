"""What a digest shows, queried once into plain dataclasses.

Templates only ever see these dataclasses: no ORM object (and no lazy load hiding an N+1
query, or a session that has already closed) can leak into rendering. Per brand, the counts
are complete while the listed mentions are capped, because a reader wants the numbers to be
right and the list to be short.

A brand's digest has, in order: its volume and negative count against the previous day and
the 7-day average (both measured on the days just before the period, so a late digest still
compares like with like); one section per incident family (leaks, employee posts, policy
issues, complaints), each listing the tagged mentions with their evidence; then the top
stories. A story is one Mention: the store groups syndicated copies into it, one post
(`MentionSource`) per copy (classifiers/stories.py), so a card says "12 outlets" while volume
and sentiment counts count posts: a story carried by twelve outlets counts twelve.

Ranking ("most important first") uses `importance()`:

    importance = 4 × |sentiment polarity| of a negative verdict
               + log10(1 + reach)
               + Σ severity(family) × score, over the brand's non-sentiment tags

so a confidently negative post (≈4) outranks a merely popular one until its reach is about
ten thousand, and a leak (severity 5) outranks both. Ties go to the higher reach, then to
the newest mention.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from classifiers.stories import outlet_name
from monitor.core.models import BrandMatch, Mention, MentionSource, Tag
from monitor.core.settings import Settings
from reports.digest_models import ModelChange, model_changes
from reports.digest_sources import SourceProblem, source_problems
from reports.excerpts import Segment, analysed_text, excerpt, valid_spans

MAX_MENTIONS_PER_BRAND = 25
MAX_SECTION_ITEMS = 10
NEGATIVE_WEIGHT = 4.0
SEVERITY = {"leak": 5.0, "employee": 2.0, "policy": 2.0, "complaint": 1.5}
DEFAULT_SEVERITY = 1.0
SENTIMENTS = ("negative", "neutral", "positive")
# Incident families, in the order their sections appear (most urgent first).
SECTION_FAMILIES = ("leak", "employee", "policy", "complaint")


@dataclass(frozen=True)
class EvidenceItem:
    text: str
    reason: str


@dataclass(frozen=True)
class TagItem:
    family: str
    label: str
    score: float
    evidence: list[EvidenceItem] = field(default_factory=list)


@dataclass(frozen=True)
class LinkItem:
    """One post of the story: who carried it (`outlet_name`) and where; `url` is raw
    (templates only link http(s) URLs)."""

    source: str
    url: str | None


@dataclass(frozen=True)
class MentionItem:
    id: int
    title: str
    excerpt: list[Segment]
    url: str | None
    links: list[LinkItem]
    author: str | None
    published: datetime
    reach: int
    sentiment: str | None
    tags: list[TagItem]
    importance: float
    # Every outlet that carried the story, and how many posts it has.
    outlets: list[str] = field(default_factory=list)
    copies: int = 1

    @property
    def excerpt_plain(self) -> str:
        """The excerpt for the plain-text part, evidence marked as [[this]]."""
        return "".join(f"[[{s.text}]]" if s.mark else s.text for s in self.excerpt)


@dataclass(frozen=True)
class Trend:
    """A count in the period against the day before it and the daily average of the 7 before.

    `change_vs_*` are percentages, None when the baseline is zero (no meaningful ratio).
    """

    current: int
    previous_day: int
    week_average: float

    @property
    def change_vs_previous_day(self) -> float | None:
        return _percent_change(self.current, self.previous_day)

    @property
    def change_vs_week_average(self) -> float | None:
        return _percent_change(self.current, self.week_average)


@dataclass(frozen=True)
class Section:
    """Mentions tagged with one incident family; `total` counts them all, `items` is capped."""

    family: str
    total: int
    items: list[MentionItem]

    @property
    def not_listed(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class BrandDigest:
    name: str
    total: int
    negative: int
    neutral: int
    positive: int
    mentions: list[MentionItem]
    volume: Trend | None = None
    negatives: Trend | None = None
    sections: list[Section] = field(default_factory=list)
    stories: int = 0

    @property
    def unrated(self) -> int:
        """Mentions without a sentiment tag for this brand (shown apart, never guessed)."""
        return self.total - self.negative - self.neutral - self.positive

    @property
    def not_listed(self) -> int:
        """Stories that are neither in a section nor in the top list."""
        return max(self.stories - len(self.mentions) - self.in_sections, 0)

    @property
    def in_sections(self) -> int:
        return len({item.id for section in self.sections for item in section.items})


@dataclass(frozen=True)
class DigestData:
    """Everything the digest templates need; datetimes are in the configured time zone."""

    period_start: datetime
    period_end: datetime
    timezone: str
    brands: list[BrandDigest]
    source_problems: list[SourceProblem]
    #: Deployment models adopted in the period (`monitor train`, reports.digest_models).
    model_changes: list[ModelChange] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(brand.total for brand in self.brands)

    @property
    def negative(self) -> int:
        return sum(brand.negative for brand in self.brands)


def _percent_change(current: float, baseline: float) -> float | None:
    if baseline <= 0:
        return None
    return round((current - baseline) * 100 / baseline, 1)


def importance(reach: int, tags: list[tuple[str, str, float]]) -> float:
    """The ranking score described in the module docstring; tags are (family, label, score)."""
    value = math.log10(1 + max(reach, 0))
    for family, label, score in tags:
        if family == "sentiment":
            # sentiment scores are signed polarities (negative < 0); strength is what ranks
            value += NEGATIVE_WEIGHT * abs(score) if label == "negative" else 0.0
        else:
            value += SEVERITY.get(family, DEFAULT_SEVERITY) * score
    return value


def collect_digest(
    session: Session, settings: Settings, period_start: datetime, period_end: datetime
) -> DigestData:
    """The digest of mentions first seen in [period_start, period_end), per configured brand."""
    zone = settings.schedule.zone
    brands = [
        _collect_brand(session, brand.name, period_start, period_end, zone)
        for brand in settings.brands
    ]
    return DigestData(
        period_start=period_start.astimezone(zone),
        period_end=period_end.astimezone(zone),
        timezone=settings.schedule.timezone,
        brands=brands,
        source_problems=source_problems(session, settings, period_end),
        model_changes=model_changes(session, period_start, period_end),
    )


@dataclass
class _Ranked:
    """One in-period mention as the light queries see it (before anything is loaded)."""

    id: int
    reach: int
    first_seen: datetime
    tags: list[tuple[str, str, float]]
    score: float = 0.0

    @property
    def sort_key(self) -> tuple[float, int, float, int]:
        return (-self.score, -self.reach, -self.first_seen.timestamp(), self.id)


def _collect_brand(
    session: Session, brand: str, start: datetime, end: datetime, zone: Any
) -> BrandDigest:
    """A fixed number of light queries rank every story; only listed ones load in full.

    Counts are of the period's posts (a new copy of yesterday's story counts today too); the
    stories listed are those that began in the period, so a story is reported once.
    """
    in_period = (MentionSource.first_seen_at >= start) & (MentionSource.first_seen_at < end)
    posts: dict[int, int] = {
        mention_id: int(count)
        for mention_id, count in session.execute(
            select(MentionSource.mention_id, func.count())
            .join(
                BrandMatch,
                (BrandMatch.mention_id == MentionSource.mention_id) & (BrandMatch.brand == brand),
            )
            .where(in_period)
            .group_by(MentionSource.mention_id)
        )
    }
    rows = session.execute(
        select(Mention.id, Mention.reach, Mention.first_seen_at)
        .join(BrandMatch, BrandMatch.mention_id == Mention.id)
        .where(
            BrandMatch.brand == brand, Mention.first_seen_at >= start, Mention.first_seen_at < end
        )
    ).all()
    tag_rows = session.execute(
        select(Tag.mention_id, Tag.family, Tag.label, Tag.score).where(
            Tag.brand == brand,
            Tag.mention_id.in_(select(MentionSource.mention_id).where(in_period)),
        )
    ).all()
    tags_by_mention: dict[int, list[tuple[str, str, float]]] = {}
    for mention_id, family, label, score in tag_rows:
        tags_by_mention.setdefault(mention_id, []).append((family, label, score))

    counts = dict.fromkeys(SENTIMENTS, 0)
    for mention_id, count in posts.items():
        sentiment = _sentiment(tags_by_mention.get(mention_id, []))
        if sentiment in counts:
            counts[sentiment] += count
    ranked: list[_Ranked] = []
    for mention_id, reach, first_seen in rows:
        item = _Ranked(mention_id, reach or 0, first_seen, tags_by_mention.get(mention_id, []))
        item.score = importance(item.reach, item.tags)
        ranked.append(item)
    ranked.sort(key=lambda item: item.sort_key)

    section_ids = {
        family: [item.id for item in ranked if any(t[0] == family for t in item.tags)]
        for family in SECTION_FAMILIES
    }
    shown_in_sections = {i for ids in section_ids.values() for i in ids[:MAX_SECTION_ITEMS]}
    top = [item.id for item in ranked if item.id not in shown_in_sections]
    top = top[:MAX_MENTIONS_PER_BRAND]
    loaded = load_mentions(session, shown_in_sections | set(top))
    scores = {item.id: item.score for item in ranked}

    def item_for(mention_id: int) -> MentionItem:
        return mention_item(loaded[mention_id], brand, scores[mention_id], zone)

    sections = [
        Section(family, len(ids), [item_for(i) for i in ids[:MAX_SECTION_ITEMS]])
        for family, ids in section_ids.items()
        if ids
    ]
    total = sum(posts.values())
    volume, negatives = _trends(session, brand, start, total, counts["negative"])
    return BrandDigest(
        name=brand,
        total=total,
        negative=counts["negative"],
        neutral=counts["neutral"],
        positive=counts["positive"],
        mentions=[item_for(mention_id) for mention_id in top],
        volume=volume,
        negatives=negatives,
        sections=sections,
        stories=len(ranked),
    )


def load_mentions(session: Session, ids: Iterable[int]) -> dict[int, Mention]:
    wanted = list(ids)
    if not wanted:
        return {}
    return {
        mention.id: mention
        for mention in session.scalars(
            select(Mention)
            .where(Mention.id.in_(wanted))
            .options(
                selectinload(Mention.sources).selectinload(MentionSource.source),
                selectinload(Mention.tags),
            )
        )
    }


def _trends(
    session: Session, brand: str, start: datetime, total: int, negatives: int
) -> tuple[Trend, Trend]:
    """The period's posts and negative posts vs the 24 h and the 7 days before (one query)."""
    day_before, week_before = start - timedelta(days=1), start - timedelta(days=7)
    negative = (
        select(Tag.id)
        .where(
            Tag.mention_id == MentionSource.mention_id,
            Tag.brand == brand,
            Tag.label == "negative",
        )
        .exists()
    )
    last_day = MentionSource.first_seen_at >= day_before
    row = session.execute(
        select(
            func.count(case((last_day, 1))),
            func.count(),
            func.count(case((last_day & negative, 1))),
            func.count(case((negative, 1))),
        )
        .select_from(MentionSource)
        .join(BrandMatch, BrandMatch.mention_id == MentionSource.mention_id)
        .where(
            BrandMatch.brand == brand,
            MentionSource.first_seen_at >= week_before,
            MentionSource.first_seen_at < start,
        )
    ).one()
    day_total, week_total, day_negative, week_negative = (int(value or 0) for value in row)
    return (
        Trend(total, day_total, round(week_total / 7, 1)),
        Trend(negatives, day_negative, round(week_negative / 7, 1)),
    )


def _sentiment(tags: list[tuple[str, str, float]]) -> str | None:
    """The brand's sentiment label; if a classifier left two, the more confident one wins."""
    best = max((t for t in tags if t[0] == "sentiment"), key=lambda t: abs(t[2]), default=None)
    return best[1] if best else None


def mention_item(
    mention: Mention,
    brand: str,
    score: float,
    zone: Any,
) -> MentionItem:
    tags = [tag for tag in mention.tags if tag.brand == brand]
    full, body_offset = analysed_text(mention.title, mention.text)
    spans = [span for tag in tags for span in valid_spans(full, tag.evidence)]
    links = [
        LinkItem(outlet_name(ms.source.name, ms.source.kind, ms.author), ms.url)
        for ms in mention.sources
    ]
    sentiment = _sentiment([(t.family, t.label, t.score) for t in tags])
    return MentionItem(
        id=mention.id,
        title=(mention.title or "").strip(),
        excerpt=excerpt(full, body_offset, spans),
        url=mention.url or next((link.url for link in links if link.url), None),
        links=links,
        author=mention.author or mention.author_handle,
        published=(mention.published_at or mention.first_seen_at).astimezone(zone),
        reach=mention.reach or 0,
        sentiment=sentiment,
        tags=[
            TagItem(
                tag.family,
                tag.label,
                round(tag.score, 2),
                [
                    EvidenceItem(str(ev.get("text", "")), str(ev.get("reason", "")))
                    for ev in tag.evidence
                    if isinstance(ev, dict) and ev.get("text")
                ],
            )
            for tag in tags
        ],
        importance=round(score, 3),
        outlets=list(dict.fromkeys(link.source for link in links)),
        copies=max(len(links), 1),
    )
