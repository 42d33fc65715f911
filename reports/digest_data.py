"""What a digest shows, queried once into plain dataclasses.

Templates only ever see these dataclasses: no ORM object (and no lazy load hiding an N+1
query, or a session that has already closed) can leak into rendering. Per brand, the counts
are complete while the listed mentions are capped, because a reader wants the numbers to be
right and the list to be short.

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
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from monitor.config import Settings
from monitor.models import BrandMatch, Mention, MentionSource, Source, Tag

MAX_MENTIONS_PER_BRAND = 25
EXCERPT_CHARS = 280
NEGATIVE_WEIGHT = 4.0
SEVERITY = {"leak": 5.0, "employee": 2.0, "policy": 2.0, "complaint": 1.5}
DEFAULT_SEVERITY = 1.0
SENTIMENTS = ("negative", "neutral", "positive")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Segment:
    """A piece of an excerpt; `mark` pieces are evidence and are highlighted."""

    text: str
    mark: bool = False


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
    """A place the mention was seen; `url` is raw (templates only link http(s) URLs)."""

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

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(link.source for link in self.links))

    @property
    def excerpt_plain(self) -> str:
        """The excerpt for the plain-text part, evidence marked as [[this]]."""
        return "".join(f"[[{s.text}]]" if s.mark else s.text for s in self.excerpt)


@dataclass(frozen=True)
class BrandDigest:
    name: str
    total: int
    negative: int
    neutral: int
    positive: int
    mentions: list[MentionItem]

    @property
    def unrated(self) -> int:
        """Mentions without a sentiment tag for this brand (shown apart, never guessed)."""
        return self.total - self.negative - self.neutral - self.positive

    @property
    def not_listed(self) -> int:
        return self.total - len(self.mentions)


@dataclass(frozen=True)
class SourceProblem:
    name: str
    kind: str
    failures: int
    error: str | None
    warning: str | None
    last_success: datetime | None


@dataclass(frozen=True)
class DigestData:
    """Everything the digest templates need; datetimes are in the configured time zone."""

    period_start: datetime
    period_end: datetime
    timezone: str
    brands: list[BrandDigest]
    source_problems: list[SourceProblem]

    @property
    def total(self) -> int:
        return sum(brand.total for brand in self.brands)

    @property
    def negative(self) -> int:
        return sum(brand.negative for brand in self.brands)


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
        source_problems=_source_problems(session, zone),
    )


def _collect_brand(
    session: Session, brand: str, start: datetime, end: datetime, zone: Any
) -> BrandDigest:
    """Three light queries rank every mention; only the listed ones are loaded in full."""
    in_period = (
        select(Mention.id, Mention.reach, Mention.first_seen_at)
        .join(BrandMatch, BrandMatch.mention_id == Mention.id)
        .where(
            BrandMatch.brand == brand, Mention.first_seen_at >= start, Mention.first_seen_at < end
        )
    )
    rows = session.execute(in_period).all()
    tag_rows = session.execute(
        select(Tag.mention_id, Tag.family, Tag.label, Tag.score)
        .join(Mention, Mention.id == Tag.mention_id)
        .join(BrandMatch, (BrandMatch.mention_id == Mention.id) & (BrandMatch.brand == brand))
        .where(Tag.brand == brand, Mention.first_seen_at >= start, Mention.first_seen_at < end)
    ).all()
    tags_by_mention: dict[int, list[tuple[str, str, float]]] = {}
    for mention_id, family, label, score in tag_rows:
        tags_by_mention.setdefault(mention_id, []).append((family, label, score))

    counts = dict.fromkeys(SENTIMENTS, 0)
    ranked: list[tuple[float, int, datetime, int]] = []
    for mention_id, reach, first_seen in rows:
        tags = tags_by_mention.get(mention_id, [])
        sentiment = _sentiment(tags)
        if sentiment in counts:
            counts[sentiment] += 1
        ranked.append((importance(reach or 0, tags), reach or 0, first_seen, mention_id))
    ranked.sort(key=lambda item: (-item[0], -item[1], -item[2].timestamp(), item[3]))
    top = ranked[:MAX_MENTIONS_PER_BRAND]

    loaded = (
        {
            mention.id: mention
            for mention in session.scalars(
                select(Mention)
                .where(Mention.id.in_([item[3] for item in top]))
                .options(
                    selectinload(Mention.sources).selectinload(MentionSource.source),
                    selectinload(Mention.tags),
                )
            )
        }
        if top
        else {}
    )
    mentions = [_mention_item(loaded[item[3]], brand, item[0], zone) for item in top]
    return BrandDigest(
        brand, len(rows), counts["negative"], counts["neutral"], counts["positive"], mentions
    )


def _sentiment(tags: list[tuple[str, str, float]]) -> str | None:
    """The brand's sentiment label; if a classifier left two, the more confident one wins."""
    best = max((t for t in tags if t[0] == "sentiment"), key=lambda t: t[2], default=None)
    return best[1] if best else None


def _mention_item(mention: Mention, brand: str, score: float, zone: Any) -> MentionItem:
    tags = [tag for tag in mention.tags if tag.brand == brand]
    full, body_offset = _analysed_text(mention)
    spans = [span for tag in tags for span in _valid_spans(full, tag.evidence)]
    links = [LinkItem(ms.source.name, ms.url) for ms in mention.sources]
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
    )


def _analysed_text(mention: Mention) -> tuple[str, int]:
    """The text the classifiers saw (title + "\\n" + text) and where the body starts in it."""
    title, text = mention.title or "", mention.text or ""
    if title and text:
        return f"{title}\n{text}", len(title) + 1
    if text:
        return text, 0
    return title, len(title)  # title only: no body to excerpt


def _valid_spans(full: str, evidence: list[Any]) -> list[tuple[int, int]]:
    """Evidence offsets that really point at their text; stale or hostile ones are dropped."""
    spans = []
    for item in evidence:
        if not isinstance(item, dict):
            continue
        start, end, text = item.get("start"), item.get("end"), item.get("text")
        in_range = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(full)
        if in_range and (not text or full[start:end] == text):
            spans.append((start, end))
    return spans


def excerpt(full: str, body_offset: int, spans: list[tuple[int, int]]) -> list[Segment]:
    """About EXCERPT_CHARS of the body around the first evidence, evidence marked.

    The window starts at the body (the title is shown on its own) unless the first piece
    of evidence lies further in, in which case it starts a little before that evidence so
    the reader sees why the post was tagged. Cuts fall on spaces and are shown with "…".
    """
    body_spans = sorted(s for s in spans if s[1] > body_offset)
    start = body_offset
    if body_spans and body_spans[0][0] - body_offset > EXCERPT_CHARS // 2:
        start = _word_start(full, max(body_offset, body_spans[0][0] - 60), body_offset)
    end = min(len(full), start + EXCERPT_CHARS)
    if end < len(full):
        space = full.rfind(" ", start + EXCERPT_CHARS // 2, end)
        end = space if space > 0 else end
    segments: list[Segment] = [Segment("…")] if start > body_offset else []
    cursor = start
    for span_start, span_end in _merge(body_spans):
        lo, hi = max(span_start, cursor), min(span_end, end)
        if lo >= hi:
            continue
        if lo > cursor:
            segments.append(Segment(full[cursor:lo]))
        segments.append(Segment(full[lo:hi], mark=True))
        cursor = hi
    if cursor < end:
        segments.append(Segment(full[cursor:end]))
    if end < len(full):
        segments.append(Segment("…"))
    return [Segment(_SPACES.sub(" ", s.text), s.mark) for s in segments]


def _word_start(full: str, index: int, floor: int) -> int:
    space = full.find(" ", index)
    return space + 1 if 0 <= space < index + 30 else max(index, floor)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _source_problems(session: Session, zone: Any) -> list[SourceProblem]:
    rows = session.scalars(
        select(Source)
        .where(
            or_(
                (Source.consecutive_failures > 0) & Source.last_error.is_not(None),
                Source.last_warning.is_not(None),
            )
        )
        .order_by(Source.consecutive_failures.desc(), Source.name)
    )
    return [
        SourceProblem(
            name=source.name,
            kind=source.kind,
            failures=source.consecutive_failures,
            error=source.last_error if source.consecutive_failures > 0 else None,
            warning=source.last_warning,
            last_success=source.last_success_at.astimezone(zone)
            if source.last_success_at
            else None,
        )
        for source in rows
    ]
