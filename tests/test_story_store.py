"""Storing posts as stories: copies within the window join one story, other posts never do.

Every post is stored once per (source, external id) whatever story it joins, so volume counts
posts while the digest lists stories.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from classifiers.tags import BrandAnalysis, TagResult
from monitor.app.mention_store import store_matches
from monitor.app.source_state import source_row
from monitor.core.models import Mention, MentionSource, Source
from monitor.core.rawpost import RawPost
from monitor.core.storage import Database

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
NEGATIVE = [BrandAnalysis("Calderix", ("calderix",), "es",
                          (TagResult("sentiment", "negative", -0.7),))]
HEADLINE = "Calderix sube el precio de la fibra"


def store(db: Database, source: str, kind: str, posts: list[RawPost], now: datetime = NOW) -> None:
    with db.transaction() as session:
        row = source_row(session, source, kind, lock=True)
        store_matches(session, row, [(post, NEGATIVE) for post in posts], now)


def counts(db: Database) -> tuple[int, int]:
    with db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Mention)) or 0,
            session.scalar(select(func.count()).select_from(MentionSource)) or 0,
        )


def test_the_same_headline_a_year_later_is_a_new_story(db: Database) -> None:
    store(db, "news", "rss", [RawPost("news", "2025", title=HEADLINE, published_at=NOW)])
    later = NOW + timedelta(days=365)
    store(db, "news", "rss", [RawPost("news", "2026", title=HEADLINE, published_at=later)], later)
    assert counts(db) == (2, 2)


def test_five_forum_threads_by_five_people_are_five_stories(db: Database) -> None:
    title = "Calderix caída total, sin fibra ni móvil"
    threads = [RawPost("forum", f"t{n}", title=title, author=f"user{n}", published_at=NOW)
               for n in range(5)]
    store(db, "forum", "rss", threads)
    posts = [RawPost("reddit", f"r{n}", title=title, author=f"redditor{n}", published_at=NOW)
             for n in range(5)]
    store(db, "reddit", "reddit", posts)
    assert counts(db) == (10, 10)


def test_syndicated_copies_are_one_story_with_a_post_each(db: Database) -> None:
    store(db, "elpais", "rss", [RawPost("elpais", "e1", title=HEADLINE, author="Ana Ruiz",
                                        published_at=NOW)])
    copies = [
        RawPost("gn", "g1", title=HEADLINE, author="El País", published_at=NOW),
        RawPost("gn", "g2", title=HEADLINE + " - Europa Press", author="Europa Press",
                published_at=NOW + timedelta(hours=5)),
    ]
    store(db, "gn", "google_news", copies, NOW + timedelta(hours=6))
    store(db, "gn", "google_news", copies, NOW + timedelta(hours=7))  # a rerun adds nothing
    assert counts(db) == (1, 3)
    with db.reading() as session:
        rows = session.execute(
            select(MentionSource.author, MentionSource.published_at).order_by(MentionSource.id)
        ).all()
    assert rows == [("Ana Ruiz", NOW), ("El País", NOW),
                    ("Europa Press", NOW + timedelta(hours=5))]


def _feed(tmp_path, name: str, guid: str, published: str) -> str:
    (tmp_path / name).write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><guid>{guid}</guid><title>{HEADLINE} en Sevilla</title>"
        f"<link>https://{guid}.example/</link><pubDate>{published}</pubDate>"
        "<description>Los clientes de Calderix protestan.</description></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    return name


def test_the_pipeline_groups_with_the_configured_window(tmp_path, make_settings, database_url):
    from monitor.app.pipeline import Pipeline
    from monitor.core.storage import open_database

    sources = [
        {"kind": "rss", "name": "a", "url": _feed(tmp_path, "a.xml", "a1",
                                                   "Fri, 20 Nov 2026 06:00:00 +0000")},
        {"kind": "rss", "name": "b", "url": _feed(tmp_path, "b.xml", "b1",
                                                   "Fri, 20 Nov 2026 09:00:00 +0000")},
    ]
    for window, stories in (("72h", 1), ("2h", 2)):
        settings = make_settings(database_url, sources=sources, stories={"window": window})
        db = open_database(database_url)
        pipeline = Pipeline(settings, db, clock=lambda: NOW)
        reports = pipeline.run_sources()
        assert all(report.ok for report in reports), reports
        assert counts(db) == (stories, 2)
        with db.transaction() as session:  # start over for the next window
            for table in (MentionSource, Mention):
                session.execute(table.__table__.delete())
            session.execute(Source.__table__.delete())
        pipeline.close()
        db.dispose()


def test_a_sighting_raises_the_story_reach_and_never_lowers_it(db: Database) -> None:
    store(db, "elpais", "rss", [RawPost("elpais", "e1", title=HEADLINE, published_at=NOW,
                                        metrics={"views": 100})])
    copies = [  # the larger of two sightings of one story in a batch wins, whatever the order
        RawPost("gn", "g1", title=HEADLINE, published_at=NOW, metrics={"views": 5000}),
        RawPost("gn", "g2", title=HEADLINE, published_at=NOW, metrics={"views": 900}),
    ]
    store(db, "gn", "google_news", copies)
    store(db, "blog", "rss", [RawPost("blog", "b1", title=HEADLINE, published_at=NOW,
                                      metrics={"views": 10})])
    assert counts(db) == (1, 4)
    with db.reading() as session:
        assert session.scalars(select(Mention.reach)).one() == 5000
