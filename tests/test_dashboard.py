"""The brand dashboard's numbers, charts and alert list, on SQLite and PostgreSQL.

Buckets are in the settings' zone (Europe/Madrid in BASE_SETTINGS): the tests place posts
where a UTC bucket would count them differently, and across the autumn DST change.
"""

from __future__ import annotations

import base64
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from monitor.app.alert_log import recent_alerts
from monitor.app.alerts import evaluate_alerts
from monitor.app.dashboard import BrandStats, brand_stats, source_health_rows
from monitor.app.dashboard_charts import clear_cache, dashboard_charts
from monitor.core.access import hidden_families
from monitor.core.models import Source
from monitor.core.source_health import source_health
from monitor.core.storage import Database
from reports.weekly_data import collect_weekly
from tests.digest_support import add_mention
from tests.weekly_support import MADRID, MONDAY, seed_week, weekly_settings

COMMS, SECURITY = hidden_families("comms"), hidden_families("security")
NEGATIVE = ("sentiment", "negative", -0.8, [])
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc9f"


def post(session: Any, source: Source, key: str, said: datetime, *, tags: Any = (), **kw: Any):
    """A post said at `said` (add_mention publishes 30 minutes before first seen)."""
    return add_mention(
        session, source, key, title=None, text=kw.pop("text", f"Calderix {key}"),
        seen=said + timedelta(minutes=30), tags=list(tags), **kw,
    )


def stats(db: Database, settings: Any, since: datetime, until: datetime, bucket: str,
          hidden: frozenset[str] = frozenset()) -> BrandStats:
    with db.reading() as session:
        return brand_stats(
            session, settings, "Calderix", since=since, until=until, bucket=bucket,
            hidden_families=hidden,
        )


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 11, day, hour, minute, tzinfo=MADRID)


def seed_hour(db: Database) -> None:
    """Wed 12 Nov, 10:00–11:00 Madrid: 3 negative posts and a negative leak; around it one
    unrated post at 09:59 and a positive one at 11:10."""
    with db.transaction() as session:
        news = Source(name="El Diario", kind="rss")
        session.add(news)
        for k, minute in enumerate((5, 20, 50)):
            post(session, news, f"neg{k}", local(12, 10, minute), tags=[NEGATIVE], reach=10 * k)
        post(session, news, "leak", local(12, 10, 40), reach=999, author="@filtrador",
             tags=[NEGATIVE, ("leak", "secret", 0.9, [])])
        post(session, news, "early", local(12, 9, 59))
        post(session, news, "pos", local(12, 11, 10), tags=[("sentiment", "positive", 0.7, [])])


def test_hour_buckets_count_posts_by_sentiment_and_hide_leaks_for_comms(
    db: Database, make_settings: Any
) -> None:
    seed_hour(db)
    settings = make_settings()
    comms = stats(db, settings, local(12, 8, 15), local(12, 11, 30), "hour", COMMS)
    # widened to whole local hours: 08:00 … 12:00
    assert comms.start.isoformat() == "2025-11-12T08:00:00+01:00"
    assert comms.end.isoformat() == "2025-11-12T12:00:00+01:00"
    by_hour = {b.start.hour: b.counts for b in comms.series}
    assert list(by_hour) == [8, 9, 10, 11]
    assert (by_hour[10].total, by_hour[10].negative, by_hour[10].positive) == (3, 3, 0)
    assert (by_hour[9].total, by_hour[9].unrated) == (1, 1)
    assert (by_hour[11].total, by_hour[11].positive) == (1, 1)
    assert by_hour[8].total == 0
    assert (comms.totals.total, comms.totals.negative) == (5, 3)
    assert "@filtrador" not in [a.name for a in comms.top_authors]
    assert sum(s.mentions for s in comms.top_sources) == 5

    security = stats(db, settings, local(12, 8, 15), local(12, 11, 30), "hour", SECURITY)
    ten = next(b.counts for b in security.series if b.start.hour == 10)
    assert (ten.total, ten.negative) == (4, 4)
    assert security.top_authors[0].name == "@filtrador"
    assert security.top_authors[0].top_reach == 999
    assert security.top_sources[0].top_reach == 999


def test_day_buckets_are_local_days(db: Database, make_settings: Any) -> None:
    with db.transaction() as session:
        news = Source(name="El Diario", kind="rss")
        session.add(news)
        # 23:30 UTC on the 11th is 00:30 on the 12th in Madrid: a UTC day would say the 11th
        post(session, news, "after-midnight", datetime(2025, 11, 11, 23, 30, tzinfo=UTC))
        post(session, news, "before-midnight", datetime(2025, 11, 11, 22, 30, tzinfo=UTC))
    result = stats(db, make_settings(), local(11, 15), local(12, 9), "day")
    assert [(b.start.isoformat(), b.counts.total) for b in result.series] == [
        ("2025-11-11T00:00:00+01:00", 1),
        ("2025-11-12T00:00:00+01:00", 1),
    ]
    assert result.end.isoformat() == "2025-11-13T00:00:00+01:00"


def test_the_autumn_dst_night_has_two_0200_buckets_and_a_25_hour_day(
    db: Database, make_settings: Any
) -> None:
    with db.transaction() as session:
        news = Source(name="El Diario", kind="rss")
        session.add(news)
        post(session, news, "cest", datetime(2025, 10, 26, 0, 30, tzinfo=UTC))  # 02:30 +02:00
        post(session, news, "cet", datetime(2025, 10, 26, 1, 30, tzinfo=UTC))  # 02:30 +01:00
        post(session, news, "cet2", datetime(2025, 10, 26, 1, 45, tzinfo=UTC))
    settings = make_settings()
    day_start = datetime(2025, 10, 26, tzinfo=MADRID)
    hours = stats(db, settings, day_start, datetime(2025, 10, 27, tzinfo=MADRID), "hour")
    assert len(hours.series) == 25
    two = [(b.start.isoformat(), b.counts.total) for b in hours.series if b.start.hour == 2]
    assert two == [("2025-10-26T02:00:00+02:00", 1), ("2025-10-26T02:00:00+01:00", 2)]
    days = stats(db, settings, day_start, day_start + timedelta(hours=1), "day")
    [day] = days.series
    # (subtracting in UTC: two datetimes of one zone subtract by wall time)
    assert day.end.astimezone(UTC) - day.start.astimezone(UTC) == timedelta(hours=25)
    assert day.counts.total == 3


def test_a_week_of_day_buckets_agrees_with_the_weekly_report(
    db: Database, make_settings: Any
) -> None:
    seed_week(db)
    settings = weekly_settings(make_settings)
    with db.reading() as session:
        weekly = collect_weekly(session, settings, settings.brands[0], "2025-W46", MONDAY)
    everything = stats(db, settings, MONDAY, MONDAY + timedelta(days=7), "day", SECURITY)
    assert [b.counts for b in everything.series] == [d.counts for d in weekly.days]
    assert list(everything.share_of_voice) == weekly.share_of_voice
    assert [s.name for s in everything.top_sources] == [s.name for s in weekly.top_sources]
    assert everything.totals.total == 10

    comms = stats(db, settings, MONDAY, MONDAY + timedelta(days=7), "day", COMMS)
    friday = comms.series[4].counts  # c6, the leaked invoice, was said on Friday
    assert (friday.total, friday.negative) == (0, 0)
    assert everything.series[4].counts.negative == 1
    assert comms.totals.total == 9
    own = next(item for item in comms.share_of_voice if item.is_brand)
    assert own.mentions == 9 and {i.name for i in comms.share_of_voice} == {
        "Calderix", "Fonaris", "Redalia"
    }
    assert "@filtrador" not in [a.name for a in comms.top_authors]
    json.dumps(comms.as_dict())  # JSON-able as it is


ALERT_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def seed_alerts(db: Database) -> None:
    """A leaked Stripe key and a negative post with reach 50 000, both just seen."""
    with db.transaction() as session:
        news = Source(name="El Diario", kind="rss")
        session.add(news)
        post(session, news, "key", ALERT_NOW - timedelta(hours=1), text=f"Calderix {STRIPE}",
             tags=[("leak", "secret", 0.9, [STRIPE])])
        post(session, news, "viral", ALERT_NOW - timedelta(hours=2), reach=50_000,
             text="Calderix left me without heating", tags=[NEGATIVE])


def test_alerts_are_listed_with_why_and_leaks_only_for_security(
    db: Database, make_settings: Any
) -> None:
    seed_alerts(db)
    settings = make_settings()
    report = evaluate_alerts(settings, db, now=ALERT_NOW)
    assert len(report.written) == 2
    with db.reading() as session:
        for_security = recent_alerts(session, hidden_families=SECURITY)
        for_comms = recent_alerts(session, hidden_families=COMMS, brand="Calderix")
        other_brand = recent_alerts(session, hidden_families=SECURITY, brand="Fonaris")
    assert sorted(a.rule for a in for_security) == ["leak", "reach"]
    [reach] = for_comms
    assert (reach.rule, reach.brand, reach.status) == ("reach", "Calderix", "pending")
    assert "50,000" in reach.why and "10,000" in reach.why  # the reach and the threshold
    assert "left me without heating" in reach.why
    assert reach.created_at == ALERT_NOW and "Calderix" in reach.subject
    leak = next(a for a in for_security if a.rule == "leak")
    assert STRIPE not in leak.why and "sk_live_" in leak.why  # masked, provider kept
    assert other_brand == []
    json.dumps([a.as_dict() for a in for_security])

    day = ALERT_NOW.astimezone(MADRID).replace(hour=0)
    dashboard = stats(db, settings, day, day + timedelta(days=1), "day", COMMS)
    assert [a.rule for a in dashboard.alerts] == ["reach"]
    earlier = stats(db, settings, day - timedelta(days=3), day - timedelta(days=1), "day")
    assert earlier.alerts == ()  # alerts of the period only


def test_source_health_is_what_monitor_sources_shows(db: Database, make_settings: Any) -> None:
    settings = make_settings(sources=[{"name": "El Diario", "kind": "rss",
                                       "url": "https://eldiario.example/rss"}])
    now = datetime(2025, 11, 21, tzinfo=UTC)
    with db.transaction() as session:
        session.add(Source(name="El Diario", kind="rss", consecutive_failures=5,
                           last_error="HTTP 503", last_attempt_at=now))
    with db.reading() as session:
        rows = source_health_rows(session, settings, now=now)
        assert rows == source_health(session, settings, now)
    assert [(h.name, h.status) for h in rows] == [("El Diario", "failing")]


def test_bad_requests_are_refused(db: Database, make_settings: Any) -> None:
    settings = make_settings()
    start = local(1, 0)
    for brand, since, until, bucket in [
        ("Nadie", start, local(2, 0), "day"),
        ("Calderix", start, local(2, 0), "week"),
        ("Calderix", local(2, 0), start, "day"),
        ("Calderix", start.replace(tzinfo=None), local(2, 0), "day"),
        ("Calderix", start, start + timedelta(days=365), "hour"),
    ]:
        with db.reading() as session, pytest.raises(ValueError):
            brand_stats(session, settings, brand, since=since, until=until, bucket=bucket,
                        hidden_families=frozenset())


RED = (0xDC, 0x26, 0x26)


def _colours(uri: str) -> dict[tuple[int, int, int], int]:
    return {c: n for n, c in _png(uri).convert("RGB").getcolors(1 << 20) or []}


def _png(uri: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(uri[len(prefix):])))


def test_charts_are_inline_pngs_and_a_30_day_dashboard_renders_fast_enough(
    db: Database, make_settings: Any
) -> None:
    seed_week(db)
    settings = weekly_settings(make_settings)
    month = stats(db, settings, MONDAY - timedelta(days=20), MONDAY + timedelta(days=10), "day")
    assert len(month.series) == 30
    clear_cache()
    began = time.perf_counter()
    charts = dashboard_charts(month)
    first = time.perf_counter() - began
    assert set(charts) == {"volume", "share_of_voice"}
    assert _png(charts["volume"]).size == (960, 390)
    assert RED in _colours(charts["volume"])
    began = time.perf_counter()
    assert dashboard_charts(month) == charts  # same numbers: drawn once, then cached
    again = time.perf_counter() - began
    print(f"30-day dashboard charts: {first * 1000:.0f} ms drawn, {again * 1000:.2f} ms cached")
    assert again < first
    # a week of hours: 168 buckets, drawn as stacked areas rather than bars
    hours = stats(db, settings, MONDAY, MONDAY + timedelta(days=7), "hour")
    drawn = dashboard_charts(hours, language="es")
    assert len(hours.series) == 168 and set(drawn) == {"volume", "share_of_voice"}
    assert _colours(drawn["volume"])[RED] > 100
    alone = make_settings(brands=[{"name": "Calderix", "query": "Calderix"}])
    assert set(dashboard_charts(stats(db, alone, MONDAY, MONDAY + timedelta(days=1), "day"))) \
        == {"volume"}
