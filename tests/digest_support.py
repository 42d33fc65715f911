"""A seeded day of mentions for the digest's tests (and the screenshots)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from monitor.core.models import (
    BrandMatch,
    Mention,
    MentionSource,
    Source,
    Tag,
)
from monitor.core.settings import Settings
from monitor.core.storage import Database

NOW = datetime(2025, 11, 21, 7, 0, tzinfo=UTC)  # 08:00 in Madrid, the digest time
BRANDS = [{"name": "Calderix", "query": "Calderix"}, {"name": "Fonaris", "query": "Fonaris"}]


def settings_for(make_settings: Callable[..., Settings], language: str = "en") -> Settings:
    return make_settings(
        brands=BRANDS,
        email={
            "from": "Vigía <vigia@example.com>",
            "language": language,
            "recipients": {"digest": ["comms@example.com", "ceo@example.com"]},
        },
    )


def add_mention(
    session: Session,
    source: Source,
    key: str,
    *,
    title: str | None,
    text: str,
    seen: datetime,
    reach: int = 0,
    url: str | None = None,
    author: str | None = None,
    brand: str = "Calderix",
    tags: Sequence[tuple[str, str, float, list[str]]] = (),
) -> Mention:
    """A mention with tags; evidence is given as substrings and located in the full text."""
    full = f"{title}\n{text}" if title and text else (title or text)
    mention = Mention(
        fingerprint=key,
        title=title,
        text=text,
        url=url,
        author=author,
        reach=reach,
        published_at=seen - timedelta(minutes=30),
        first_seen_at=seen,
        lang="en",
    )
    mention.sources.append(
        MentionSource(source=source, external_id=key, url=url, first_seen_at=seen)
    )
    mention.brands.append(BrandMatch(brand=brand, terms=[brand]))
    for family, label, score, spans in tags:
        evidence = [
            {
                "start": full.index(s),
                "end": full.index(s) + len(s),
                "text": s,
                "reason": f"{label} cue",
            }
            for s in spans
        ]
        mention.tags.append(
            Tag(brand=brand, family=family, label=label, score=score, evidence=evidence)
        )
    session.add(mention)
    return mention


def seed(db: Database) -> None:
    """A fixed day: ranked mentions, hostile content, one outside the period, bad sources."""
    with db.transaction() as session:
        news = Source(name="El Diario", kind="rss", last_success_at=NOW - timedelta(hours=1))
        forum = Source(
            name="Foro Hogar",
            kind="html",
            consecutive_failures=3,
            last_error="HTTP 503 from foro.example (retrying)",
            last_success_at=NOW - timedelta(days=2),
        )
        blog = Source(
            name="Blog", kind="rss", last_warning="feed moved to https://blog.example/feed"
        )
        agency = Source(name="Agencia Norte", kind="rss")
        session.add_all([news, forum, blog, agency])
        add_mention(
            session,
            news,
            "m1",
            title="Calderix boiler explodes in Valencia flat",
            text="Neighbours say the Calderix boiler was faulty and the company ignored complaints "
            "for months. Firefighters needed two hours to secure the building.",
            seen=NOW - timedelta(hours=3),
            reach=48_000,
            url="https://eldiario.example/calderix",
            author="Ana Ruiz",
            tags=[
                ("sentiment", "negative", -0.92, ["faulty", "ignored complaints"]),
                ("complaint", "complaint", 0.8, ["ignored complaints"]),
            ],
        )
        add_mention(
            session,
            forum,
            "m2",
            title=None,
            text="Just installed my new Calderix heat pump, great service and a quiet unit. "
            "Recommended!",
            seen=NOW - timedelta(hours=10),
            reach=35,
            url="https://foro.example/t/991",
            author="@pepe",
            tags=[("sentiment", "positive", 0.88, ["great service"])],
        )
        add_mention(
            session,
            forum,
            "m3",
            title="Calderix <script>alert('x')</script>",
            text='Click "><img src=x onerror=alert(1)> now <b>bold</b> & co',
            seen=NOW - timedelta(hours=5),
            reach=2,
            url="javascript:alert(document.cookie)",
            author='"><img src=x onerror=alert(2)>',
            tags=[("sentiment", "negative", -0.75, ["<b>bold</b>"])],
        )
        add_mention(
            session,
            news,
            "m4",
            title="Calderix opens a plant in Zaragoza",
            text="The company will hire 200 people.",
            seen=NOW - timedelta(hours=20),
            reach=900,
            url="https://eldiario.example/zaragoza",
            tags=[("sentiment", "neutral", 0.7, [])],
        )
        add_mention(
            session,
            news,
            "m5",
            title="Calderix price list",
            text="No sentiment tag here.",
            seen=NOW - timedelta(hours=1),
            reach=10,
            url="https://eldiario.example/prices",
        )
        add_mention(
            session,
            forum,
            "leak",
            title="Calderix customer list posted",
            text="Someone posted the Calderix invoice of Juan (DNI 48215763N) on the forum.",
            seen=NOW - timedelta(hours=4),
            reach=120,
            url="https://foro.example/t/1200",
            author="@filtrador",
            tags=[
                ("leak", "pii", 0.97, ["48215763N"]),
                ("sentiment", "negative", -0.4, ["posted"]),
            ],
        )
        add_mention(
            session,
            forum,
            "staff",
            title=None,
            text="As a Calderix engineer I can say the new pump line is ready, we are proud.",
            seen=NOW - timedelta(hours=6),
            reach=80,
            url="https://foro.example/t/1300",
            author="@luis_calderix",
            tags=[
                ("employee", "employee", 0.9, ["As a Calderix engineer"]),
                ("sentiment", "positive", 0.6, ["proud"]),
            ],
        )
        add_mention(
            session,
            forum,
            "insult",
            title=None,
            text="Calderix support staff are idiots, never again.",
            seen=NOW - timedelta(hours=7),
            reach=15,
            url="https://foro.example/t/1400",
            author="@enfadado",
            tags=[
                ("policy", "insult", 0.8, ["idiots"]),
                ("sentiment", "negative", -0.7, ["never again"]),
            ],
        )
        # One story, syndicated: three posts from three sources (the store grouped the agency's
        # copy, "CALDERIX recalls 3.000 boilers after safety review - Agencia Norte", into it).
        recall = add_mention(
            session,
            news,
            "recall-1",
            title="Calderix recalls 3,000 boilers after safety review",
            text="The recall covers models sold in 2023.",
            seen=NOW - timedelta(hours=8),
            reach=5_000,
            url="https://eldiario.example/recall",
            tags=[("sentiment", "neutral", 0.1, [])],
        )
        recall.sources.append(
            MentionSource(
                source=blog,
                external_id="recall-blog",
                url="https://blog.example/recall",
                first_seen_at=NOW - timedelta(hours=8),
            )
        )
        recall.sources.append(
            MentionSource(
                source=agency,
                external_id="recall-2",
                url="https://agencia.example/recall",
                first_seen_at=NOW - timedelta(hours=7),
            )
        )
        for hours in (26, 30, 40):  # the day before the period: the trend's baseline
            add_mention(
                session,
                news,
                f"prev-{hours}",
                title=f"Calderix earlier story {hours}",
                text="Earlier.",
                seen=NOW - timedelta(hours=hours),
                tags=[("sentiment", "negative" if hours == 26 else "neutral", 0.5, [])],
            )
        add_mention(  # before the period: must not appear
            session,
            news,
            "old",
            title="Old Calderix story",
            text="From two days ago.",
            seen=NOW - timedelta(days=2),
            reach=10_000,
            url="https://eldiario.example/old",
            tags=[("sentiment", "negative", -0.99, [])],
        )
        add_mention(  # another brand, not configured: must not appear
            session,
            news,
            "other",
            title="Redalia news",
            text="Redalia is fine.",
            seen=NOW - timedelta(hours=2),
            brand="Redalia",
        )
