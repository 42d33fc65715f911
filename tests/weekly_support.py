"""A seeded week of mentions for the weekly report's tests (and the screenshots)."""


from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.core.models import BrandMatch, Source
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.digest_support import add_mention

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2025, 11, 17, 7, 30, tzinfo=UTC)  # Monday 08:30 in Madrid
MONDAY = datetime(2025, 11, 10, tzinfo=MADRID)
HOSTILE = '"><img src=x onerror=alert(1)>'


def weekly_settings(make_settings: Callable[..., Settings], language: str = "en") -> Settings:
    return make_settings(
        email={
            "from": "Vigía <vigia@example.com>",
            "language": language,
            "recipients": {"weekly": ["board@example.com"]},
        },
    )


def said(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in the seeded week, plus the 30 minutes add_mention takes off again."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute + 30)


def seed_week(db: Database) -> None:
    with db.transaction() as session:
        news = Source(name="El Diario", kind="rss")
        forum = Source(name="Foro Hogar", kind="html")
        social = Source(name="Mastodon", kind="mastodon")
        session.add_all([news, forum, social])
        rows: list[tuple[Any, ...]] = [
            # key, source, when, title, text, reach, author, tags
            (
                "c1",
                news,
                said(0, 0, 30),
                "Calderix boilers fail again #apagon",
                "Heating outage in Valencia. #apagon #calderix",
                5000,
                "Ana Ruiz",
                [("sentiment", "negative", -0.9, ["fail again"])],
            ),
            (
                "c2",
                forum,
                said(0, 12),
                None,
                "Calderix outage again, no heating #apagon",
                300,
                "@pepe",
                [("sentiment", "negative", -0.6, ["no heating"])],
            ),
            (
                "c3",
                social,
                said(1, 9),
                None,
                "Calderix heat pump installed, great heating #eficiencia",
                50,
                "@maria",
                [("sentiment", "positive", 0.8, ["great"])],
            ),
            (
                "c4",
                news,
                said(2, 18),
                "Calderix opens a plant in Zaragoza next to Redalia",
                "A heating factory with 200 jobs.",
                900,
                "Redacción",
                [("sentiment", "neutral", 0.0, [])],
            ),
            (
                "c5",
                forum,
                said(3, 8),
                None,
                "Calderix staff are idiots",
                20,
                "@enfadado",
                [
                    ("policy", "insult", 0.8, ["idiots"]),
                    ("sentiment", "negative", -0.7, ["idiots"]),
                ],
            ),
            (
                "c6",
                forum,
                said(4, 11),
                "Calderix invoice posted",
                "The invoice of Juan (DNI 48215763N) is online.",
                120,
                "@filtrador",
                [("leak", "pii", 0.97, ["48215763N"]), ("sentiment", "negative", -0.4, ["online"])],
            ),
            (
                "c7",
                social,
                said(5, 21),
                None,
                "Cosy evening, thanks Calderix #eficiencia heating",
                40,
                "@maria",
                [("sentiment", "positive", 0.7, ["thanks"])],
            ),
            (
                "c8",
                news,
                said(6, 0, 15),
                "Calderix price list for winter",
                "Prices.",
                10,
                "@lector",
                [("sentiment", "neutral", 0.0, [])],
            ),
            ("c9", social, said(6, 20), None, "Calderix.", 0, None, []),
            (
                "c10",
                forum,
                said(3, 22),
                "<script>alert(1)</script> Calderix",
                f"{HOSTILE} Calderix <b>bad</b>",
                2,
                HOSTILE,
                [("sentiment", "negative", -0.5, ["<b>bad</b>"])],
            ),
            # the previous week (2025-W45)
            (
                "p1",
                news,
                said(-7, 10),
                "Calderix wins an award",
                "Prize.",
                100,
                "Redacción",
                [("sentiment", "positive", 0.9, [])],
            ),
            (
                "p2",
                news,
                said(-6, 10),
                "Calderix awards again",
                "Prize.",
                100,
                "Redacción",
                [("sentiment", "positive", 0.9, [])],
            ),
            (
                "p3",
                forum,
                said(-5, 10),
                None,
                "Calderix is slow",
                5,
                "@pepe",
                [("sentiment", "negative", -0.5, [])],
            ),
            (
                "p4",
                forum,
                said(-1, 23),
                None,
                "Calderix ok",
                5,
                "@pepe",  # Sun 23:00
                [("sentiment", "neutral", 0.0, [])],
            ),
            # outside both weeks: never counted
            (
                "late",
                news,
                said(7, 0, 5),
                "Calderix next week",
                "Later.",
                999,
                "X",
                [("sentiment", "negative", -0.9, [])],
            ),
            (
                "early",
                news,
                said(-8, 10),
                "Calderix long ago",
                "Before.",
                999,
                "Y",
                [("leak", "secret", 0.9, [])],
            ),
        ]
        for key, source, when, title, text, reach, author, tags in rows:
            mention = add_mention(
                session,
                source,
                key,
                title=title,
                text=text,
                seen=when,
                reach=reach,
                url=f"https://example.com/{key}",
                author=author,
                tags=tags,
            )
            if key == "c4":
                mention.brands.append(BrandMatch(brand="Redalia", terms=["Redalia"]))
        competitors = [("Fonaris", 5, 0), ("Redalia", 1, 0), ("Fonaris", 4, -7)]
        for name, count, offset in competitors:
            for i in range(count):
                add_mention(
                    session,
                    news,
                    f"{name}-{offset}-{i}",
                    title=None,
                    text=f"{name} news {i}",
                    seen=said(offset + i % 7, 9),
                    brand=name,
                )
