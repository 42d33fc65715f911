"""The dashboard's charts as data: URIs, drawn server side by the weekly report's functions.

No script and no request leaves the page: the PNGs are inline (`img-src 'self' data:` in the
page's CSP). Drawing is the slow part of a dashboard (tens of milliseconds per chart), and
the same numbers are asked for again on every reload, so rendered charts are kept in a small
in-process LRU cache keyed by what they draw (the buckets with their counts, the share of
voice, the language). A new post or a review that moves a sentiment changes the counts and
so the key: a cached chart can never show stale numbers.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from monitor.app.dashboard import DAY, BrandStats, Bucket
from reports import charts, i18n
from reports.period_counts import ShareItem

CACHED_DASHBOARDS = 64


def dashboard_charts(stats: BrandStats, *, language: str = "en") -> dict[str, str]:
    """Chart name → `data:image/png;base64,…`: "volume" (posts per bucket, stacked by
    sentiment) and, with competitors, "share_of_voice" (bars)."""
    return dict(_render(stats.series, stats.bucket, stats.share_of_voice, language))


def clear_cache() -> None:
    """Forget every drawn chart (for timing and tests; the cache never needs it to be right)."""
    _render.cache_clear()


@lru_cache(maxsize=CACHED_DASHBOARDS)
def _render(
    series: tuple[Bucket, ...], bucket: str, share: tuple[ShareItem, ...], language: str
) -> tuple[tuple[str, str], ...]:
    t = i18n.strings(language)
    legend = [t["negative"], t["neutral"], t["positive"], t["unrated"]]
    labels = [_label(point, bucket, language) for point in series]
    found = [("volume", _uri(charts.volume_chart(series, labels, legend)))]
    if len(share) > 1:
        found.append(("share_of_voice", _uri(charts.share_chart(share))))
    return tuple(found)


def _label(point: Bucket, bucket: str, language: str) -> str:
    day = i18n.format_weekday(point.start.date(), language).replace(" ", "\n")
    return day if bucket == DAY else f"{day}\n{point.start:%H:%M}"


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
