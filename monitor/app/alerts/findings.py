"""What the alert rules found among a run's new mentions, as plain JSON-able dicts.

A finding is a dict with a `key` naming what it is about (`spike:2026-11-20T07:00Z`,
`mention:42`), so the same finding is never announced twice, plus the numbers an alert
email shows. Findings are stored as they are in `AlertState.pending` while a storm holds
them back, hence dicts and not objects.

Rules:
* spike: an hour of the brand's posts, by published time, whose total or negative count is
  far above its baseline (`monitor.app.alerts.spike`); posts, not stories, are counted, so a
  story carried by eight outlets counts eight;
* leak: a high-severity `leak` tag: `secret`, a `confidential` codename, or `pii` backed by
  an identifier whose checksum was validated (an email address or phone number alone is
  the digest's business, not a crisis);
* reach: a negative post whose reach is at least `[alerts] reach_threshold`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from monitor.app.alerts.spike import HOUR, WEEK, Baseline, baseline, hour_of, is_spike
from monitor.core.models import BrandMatch, Mention, MentionSource, Tag
from monitor.core.routes import is_high_severity
from monitor.core.settings import AlertSettings

Finding = dict[str, Any]

SPIKE, LEAK, REACH = "spike", "leak", "reach"
RULES = (SPIKE, LEAK, REACH)
TOP_POSTS = 5
#: When a post was published: its own date, else its story's, else when it was first seen.
_published = func.coalesce(
    MentionSource.published_at, Mention.published_at, MentionSource.first_seen_at
)


def newest_mention_ids(
    session: Session, brands: Iterable[str], floor: datetime
) -> dict[str, int]:
    """brand → the highest id among its mentions first seen at or after `floor`."""
    rows = session.execute(
        select(BrandMatch.brand, func.max(Mention.id))
        .join(Mention, Mention.id == BrandMatch.mention_id)
        .where(BrandMatch.brand.in_(list(brands)), Mention.first_seen_at >= floor)
        .group_by(BrandMatch.brand)
    ).all()
    return {brand: newest for brand, newest in rows if newest is not None}


def new_mention_ids(session: Session, brand: str, after: int, floor: datetime) -> list[int]:
    """Ids of the brand's mentions past `after` (the rule's last examined id) and `floor`."""
    return list(
        session.scalars(
            select(Mention.id)
            .join(BrandMatch, BrandMatch.mention_id == Mention.id)
            .where(BrandMatch.brand == brand, Mention.id > after, Mention.first_seen_at >= floor)
            .order_by(Mention.id)
        )
    )


def newest_post_ids(session: Session, brands: Iterable[str], floor: datetime) -> dict[str, int]:
    """brand → the highest id among its posts first seen at or after `floor`.

    The spike rule follows posts, not stories: seven copies of a story stored by a later run
    are seven new posts in their hour, though no new mention.
    """
    rows = session.execute(
        select(BrandMatch.brand, func.max(MentionSource.id))
        .join(BrandMatch, BrandMatch.mention_id == MentionSource.mention_id)
        .where(BrandMatch.brand.in_(list(brands)), MentionSource.first_seen_at >= floor)
        .group_by(BrandMatch.brand)
    ).all()
    return {brand: newest for brand, newest in rows if newest is not None}


def new_post_ids(session: Session, brand: str, after: int, floor: datetime) -> list[int]:
    """Ids of the brand's posts past `after` (the spike rule's last examined post) and `floor`."""
    return list(
        session.scalars(
            select(MentionSource.id)
            .join(BrandMatch, BrandMatch.mention_id == MentionSource.mention_id)
            .where(
                BrandMatch.brand == brand,
                MentionSource.id > after,
                MentionSource.first_seen_at >= floor,
            )
            .order_by(MentionSource.id)
        )
    )


def leak_findings(session: Session, brand: str, mention_ids: list[int]) -> list[Finding]:
    rows = session.execute(
        select(Tag.mention_id, Tag.label, Tag.evidence)
        .where(Tag.brand == brand, Tag.family == "leak", Tag.mention_id.in_(mention_ids))
        .order_by(Tag.mention_id, Tag.label)
    ).all()
    findings: dict[int, Finding] = {}
    for mention_id, label, evidence in rows:
        if not is_high_severity(label, evidence):
            continue
        finding = findings.setdefault(
            mention_id,
            {"key": f"mention:{mention_id}", "mention_id": mention_id, "labels": [], "reasons": []},
        )
        finding["labels"].append(label)
        reasons = [str(e.get("reason", "")) for e in evidence if isinstance(e, dict)]
        finding["reasons"] = sorted(set(finding["reasons"]) | {r for r in reasons if r})
    return list(findings.values())


def reach_findings(
    session: Session, brand: str, mention_ids: list[int], threshold: int
) -> list[Finding]:
    rows = session.execute(
        select(Mention.id, Mention.reach, Tag.score)
        .join(Tag, Tag.mention_id == Mention.id)
        .where(
            Mention.id.in_(mention_ids),
            Mention.reach >= threshold,
            Tag.brand == brand,
            Tag.family == "sentiment",
            Tag.label == "negative",
        )
        .order_by(Mention.reach.desc(), Mention.id)
    ).all()
    return [
        {
            "key": f"mention:{mention_id}",
            "mention_id": mention_id,
            "reach": reach,
            "polarity": round(float(score), 3),
            "threshold": threshold,
        }
        for mention_id, reach, score in rows
    ]


def spike_findings(
    session: Session,
    brand: str,
    post_ids: list[int],
    settings: AlertSettings,
    now: datetime,
) -> list[Finding]:
    """Spikes in the hours the new posts were published in (whatever day that was)."""
    hours = sorted(
        {
            hour_of(moment)
            for moment in session.scalars(
                select(_published)
                .join(Mention, Mention.id == MentionSource.mention_id)
                .where(MentionSource.id.in_(post_ids))
            )
            if moment is not None and moment <= now + HOUR
        }
    )
    if not hours:
        return []
    data_start = session.scalar(
        select(func.min(_published))
        .select_from(MentionSource)
        .join(Mention, Mention.id == MentionSource.mention_id)
        .join(BrandMatch, BrandMatch.mention_id == Mention.id)
        .where(BrandMatch.brand == brand)
    )
    assert data_start is not None  # the new posts themselves are the brand's
    window_start = hours[0] - max(
        settings.spike_history_weeks * WEEK, settings.spike_recent_hours * HOUR
    )
    negative = (Tag.mention_id == Mention.id) & (Tag.brand == brand) & (Tag.label == "negative")
    rows = session.execute(
        select(Mention.id, _published, Mention.reach, Tag.score)
        .select_from(MentionSource)
        .join(Mention, Mention.id == MentionSource.mention_id)
        .join(BrandMatch, and_(BrandMatch.mention_id == Mention.id, BrandMatch.brand == brand))
        .outerjoin(Tag, negative & (Tag.family == "sentiment"))
        .where(_published >= window_start, _published < hours[-1] + HOUR)
    ).all()
    totals: Counter[datetime] = Counter()
    negatives: Counter[datetime] = Counter()
    posts: dict[datetime, list[tuple[float, int, int]]] = {}
    for mention_id, moment, reach, polarity in rows:
        hour = hour_of(moment)
        totals[hour] += 1
        if polarity is not None:
            negatives[hour] += 1
        if hour in hours:
            strength = abs(polarity) if polarity is not None else 0.0
            posts.setdefault(hour, []).append((strength, reach or 0, mention_id))
    findings = []
    for hour in hours:
        judged = {
            name: (counts[hour], _baseline(counts, hour, data_start, settings))
            for name, counts in (("total", totals), ("negative", negatives))
        }
        fired = [
            name
            for name, (count, base) in judged.items()
            if is_spike(
                count,
                base,
                min_count=settings.spike_min_count,
                sensitivity=settings.spike_sensitivity,
            )
        ]
        if not fired:
            continue
        ranked = sorted(posts.get(hour, []), key=lambda p: (-p[0], -p[1], p[2]))
        stories = list(dict.fromkeys(mention_id for _, _, mention_id in ranked))
        findings.append(
            {
                "key": f"spike:{hour:%Y-%m-%dT%H:00Z}",
                "hour": hour.isoformat(),
                "fired": fired,
                "sensitivity": settings.spike_sensitivity,
                "min_count": settings.spike_min_count,
                **{
                    name: _describe(count, base, settings.spike_sensitivity)
                    for name, (count, base) in judged.items()
                },
                "mention_ids": stories[:TOP_POSTS],
                "hour_posts": len(ranked),
            }
        )
    return findings


def _baseline(
    counts: Counter[datetime], hour: datetime, data_start: datetime, settings: AlertSettings
) -> Baseline | None:
    return baseline(
        counts,
        hour,
        data_start,
        weeks=settings.spike_history_weeks,
        recent_hours=settings.spike_recent_hours,
    )


def _describe(count: int, base: Baseline | None, sensitivity: float) -> dict[str, Any]:
    if base is None:
        return {"count": count, "baseline": None}
    return {
        "count": count,
        "baseline": {
            "method": base.method,
            "samples": base.samples,
            "median": base.median,
            "mad": base.mad,
            "spread": round(base.spread, 2),
            "threshold": round(base.threshold(sensitivity), 2),
            "score": round(base.score(count), 1),
        },
    }
