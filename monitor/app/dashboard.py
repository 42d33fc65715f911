"""What a brand's dashboard shows (web page `/brands/{name}`, `GET /api/v1/brands/{name}/stats`).

Numbers come from the same queries as the weekly report (`reports.period_counts`): volume
counts posts (`MentionSource` rows) at when they were said (published, else first seen),
exactly as the weekly report and the spike rule count them, so the dashboard, the weekly
email and an alert can never disagree about how many posts an hour or a day had.

Buckets are in the settings' time zone (`[schedule] timezone`): a day bucket runs from local
midnight to the next local midnight (23 or 25 hours on a daylight-saving day), an hour bucket
is one real hour starting on a local full hour (so the autumn night shows 02:00+02:00 and
02:00+01:00 as two buckets). The period asked for is widened to whole buckets: `since` down
to its bucket's start, `until` up to its bucket's end, and every figure (share of voice,
rankings, alerts) covers that same widened period, `BrandStats.start`/`end`.

Role rules: a mention with a tag of a `hidden_families` family (from
monitor.core.access.hidden_families) is left out of every count and list, and so are the
alerts that quote such mentions (monitor.app.alert_log).
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from classifiers.masking import mask_text
from monitor.app.alert_log import AlertItem, recent_alerts
from monitor.core.settings import BrandSettings, Settings
from monitor.core.source_health import SourceHealth, source_health
from reports.period_counts import (
    RankedName,
    SentimentCounts,
    ShareItem,
    counts_of,
    share_of_voice,
    stream_posts,
    top_authors,
    top_sources,
)

HOUR, DAY = "hour", "day"
BUCKETS = (HOUR, DAY)
#: More bars than this make neither a readable chart nor a sensible request (e.g. a year of
#: hours); 93 days of hours still fit.
MAX_BUCKETS = 93 * 24
RANKED = 10
ALERTS_SHOWN = 20


@dataclass(frozen=True)
class Bucket:
    """One bar of the volume chart: posts said in [start, end), by sentiment."""

    start: datetime  # aware, in the settings' time zone
    end: datetime
    counts: SentimentCounts

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                **_counts(self.counts)}


@dataclass(frozen=True)
class BrandStats:
    """One brand's dashboard over one period; tuples so that it is immutable and hashable."""

    brand: str
    timezone: str
    bucket: str
    start: datetime
    end: datetime
    series: tuple[Bucket, ...]
    totals: SentimentCounts
    share_of_voice: tuple[ShareItem, ...]
    top_sources: tuple[RankedName, ...]
    top_authors: tuple[RankedName, ...]
    alerts: tuple[AlertItem, ...]
    sources: tuple[SourceHealth, ...]

    @property
    def has_competitors(self) -> bool:
        return len(self.share_of_voice) > 1

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `GET /api/v1/brands/{name}/stats` (datetimes ISO 8601)."""
        return {
            "brand": self.brand,
            "timezone": self.timezone,
            "bucket": self.bucket,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "totals": _counts(self.totals),
            "series": [point.as_dict() for point in self.series],
            "share_of_voice": [asdict(item) for item in self.share_of_voice],
            "top_sources": [asdict(item) for item in self.top_sources],
            "top_authors": [asdict(item) for item in self.top_authors],
            "alerts": [alert.as_dict() for alert in self.alerts],
            "sources": [health.as_dict() for health in self.sources],
        }


def _counts(counts: SentimentCounts) -> dict[str, Any]:
    return {**asdict(counts), "unrated": counts.unrated, "net_sentiment": counts.net_sentiment}


def find_brand(settings: Settings, name: str) -> BrandSettings:
    """The configured brand called `name`; ValueError (a 404 for the web app) otherwise."""
    for brand in settings.brands:
        if brand.name == name:
            return brand
    raise ValueError(f"{name!r} is not a configured brand")


def bucket_edges(since: datetime, until: datetime, bucket: str, zone: tzinfo) -> list[datetime]:
    """The bucket boundaries covering [since, until), in UTC (n buckets → n + 1 edges).

    UTC, because two aware datetimes of the *same* zone compare by wall time, which makes
    the two 02:00 of an autumn night equal; converted to the zone only for display.
    """
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("since and until must be aware datetimes")
    if bucket not in BUCKETS:
        raise ValueError(f"bucket {bucket!r}: use one of {', '.join(BUCKETS)}")
    if until <= since:
        raise ValueError("until must be after since")
    local = since.astimezone(zone)
    day = local.date()
    if bucket == DAY:
        edges = [datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)]
    else:
        edges = [local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)]
    while edges[-1] < until:
        if len(edges) > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} {bucket} buckets: ask for a shorter period")
        if bucket == DAY:
            day += timedelta(days=1)
            edges.append(datetime.combine(day, time(), tzinfo=zone).astimezone(UTC))
        else:
            edges.append(edges[-1] + timedelta(hours=1))
    return edges


def brand_stats(
    session: Session,
    settings: Settings,
    brand: str,
    *,
    since: datetime,
    until: datetime,
    bucket: str,
    hidden_families: frozenset[str],
    now: datetime | None = None,
) -> BrandStats:
    """`brand`'s dashboard for [since, until) widened to whole `bucket`s (see the module
    docstring), for a reader who may not see `hidden_families`. ValueError for an unknown
    brand, a bad bucket or period. `now` judges source health (default: the clock)."""
    configured = find_brand(settings, brand)
    zone = settings.schedule.zone
    edges = bucket_edges(since, until, bucket, zone)
    start, end = edges[0], edges[-1]
    hidden = frozenset(hidden_families)
    series = _series(session, brand, edges, zone, hidden)
    return BrandStats(
        brand=brand,
        timezone=settings.schedule.timezone,
        bucket=bucket,
        start=start.astimezone(zone),
        end=end.astimezone(zone),
        series=series,
        totals=_total(series),
        share_of_voice=tuple(
            share_of_voice(session, configured, start - (end - start), start, end, hidden)
        ),
        top_sources=tuple(top_sources(session, brand, start, end, hidden, RANKED)),
        top_authors=tuple(
            RankedName(mask_text(item.name), item.mentions, item.reach, item.top_reach)
            for item in top_authors(session, brand, start, end, hidden, RANKED)
        ),
        alerts=tuple(
            recent_alerts(
                session,
                hidden_families=hidden,
                limit=ALERTS_SHOWN,
                brand=brand,
                since=start,
                until=end,
            )
        ),
        sources=tuple(source_health_rows(session, settings, now=now)),
    )


def _series(
    session: Session, brand: str, edges: list[datetime], zone: tzinfo, hidden: frozenset[str]
) -> tuple[Bucket, ...]:
    """Posts per bucket and sentiment, in one streamed pass over the period's posts."""
    tallies: list[Counter[str]] = [Counter() for _ in edges[:-1]]
    for when, label in stream_posts(session, brand, edges[0], edges[-1], hidden=hidden):
        index = bisect.bisect_right(edges, when) - 1
        if 0 <= index < len(tallies):
            tallies[index]["total"] += 1
            if label:
                tallies[index][label] += 1
    return tuple(
        Bucket(edges[i].astimezone(zone), edges[i + 1].astimezone(zone), counts_of(tally))
        for i, tally in enumerate(tallies)
    )


def _total(series: tuple[Bucket, ...]) -> SentimentCounts:
    return SentimentCounts(
        sum(point.counts.total for point in series),
        sum(point.counts.negative for point in series),
        sum(point.counts.neutral for point in series),
        sum(point.counts.positive for point in series),
    )


def source_health_rows(
    session: Session, settings: Settings, *, now: datetime | None = None
) -> list[SourceHealth]:
    """Every configured source's health, as `monitor sources` shows it (`as_dict()` is the
    `monitor sources --json` shape)."""
    return source_health(session, settings, now or datetime.now(UTC))
