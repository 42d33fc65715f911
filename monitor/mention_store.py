"""Writing one run's matched posts: new mentions, extra sightings of known ones, and tags.

Lookups are batched (one query for the run's external ids, one for its fingerprints) so a
run of hundreds of items costs a handful of queries. Uniqueness is enforced by the database;
if another worker wins a race, the whole store is retried once and finds its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from classifiers.tags import BrandAnalysis
from monitor.fingerprint import fingerprint
from monitor.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.rawpost import RawPost


@dataclass
class StoreCounts:
    new_mentions: int = 0
    new_sightings: int = 0
    already_known: int = 0


def reach_of(metrics: dict[str, int]) -> int:
    """A rough audience estimate for ranking: followers or views, plus weighted engagement."""
    audience = max(metrics.get("followers", 0), metrics.get("views", 0))
    engagement = (
        metrics.get("likes", 0)
        + 2 * metrics.get("reposts", 0)
        + metrics.get("replies", 0)
        + metrics.get("score", 0)
        + metrics.get("comments", 0)
    )
    return max(0, audience + engagement)


def _add_brand_results(mention: Mention, analyses: Sequence[BrandAnalysis]) -> None:
    known_brands = {match.brand for match in mention.brands}
    for analysis in analyses:
        if analysis.brand in known_brands:
            continue
        mention.brands.append(BrandMatch(brand=analysis.brand, terms=list(analysis.terms)))
        for tag in analysis.tags:
            mention.tags.append(
                Tag(
                    brand=analysis.brand,
                    family=tag.family,
                    label=tag.label,
                    score=round(float(tag.score), 4),
                    evidence=[e.as_dict() for e in tag.evidence],
                )
            )


def _new_mention(post: RawPost, digest: str, analyses: Sequence[BrandAnalysis], now: datetime) -> Mention:
    lang = analyses[0].lang if analyses else post.lang
    return Mention(
        fingerprint=digest,
        url=post.url,
        title=post.title,
        text=post.text,
        author=post.author,
        author_handle=post.author_handle,
        lang=lang,
        published_at=post.published_at,
        first_seen_at=now,
        metrics=dict(post.metrics),
        media=list(post.media),
        reach=reach_of(post.metrics),
    )


def store_matches(
    session: Session,
    source: Source,
    matched: Sequence[tuple[RawPost, Sequence[BrandAnalysis]]],
    now: datetime,
) -> StoreCounts:
    """Store posts that matched at least one brand; idempotent per (source, external id)."""
    counts = StoreCounts()
    if not matched:
        return counts
    external_ids = list({post.external_id for post, _ in matched})
    known_ids = set(
        session.scalars(
            select(MentionSource.external_id).where(
                MentionSource.source_id == source.id, MentionSource.external_id.in_(external_ids)
            )
        )
    )
    fresh = [(post, analyses) for post, analyses in matched if post.external_id not in known_ids]
    counts.already_known = len(matched) - len(fresh)
    digests = {post.external_id: fingerprint(post) for post, _ in fresh}
    existing = {
        mention.fingerprint: mention
        for mention in session.scalars(
            select(Mention)
            .where(Mention.fingerprint.in_(set(digests.values())))
            .options(selectinload(Mention.brands), selectinload(Mention.sources))
        )
    }
    for post, analyses in fresh:
        if post.external_id in known_ids:
            counts.already_known += 1  # a repeated id inside the same batch
            continue
        known_ids.add(post.external_id)
        digest = digests[post.external_id]
        mention = existing.get(digest)
        if mention is None:
            mention = _new_mention(post, digest, analyses, now)
            session.add(mention)
            existing[digest] = mention
            counts.new_mentions += 1
        else:
            counts.new_sightings += 1
            mention.reach = max(mention.reach, reach_of(post.metrics))
        mention.sources.append(
            MentionSource(source=source, external_id=post.external_id, url=post.url, first_seen_at=now)
        )
        _add_brand_results(mention, analyses)
    session.flush()
    return counts
