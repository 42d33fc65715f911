"""A source's first run reads the archive but stores only the last `[fetch] backfill`.

A feed's first poll returns everything it holds (years of a blog); without a horizon a new
brand's first digest was items from 2016-2018. Old items are remembered as seen, so they are
never offered again, and the horizon applies to the first run only: later runs store what is
new to the source, whatever its date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from monitor.app.pipeline import Pipeline
from monitor.core.models import Mention, Source
from monitor.core.settings import Settings
from monitor.core.storage import Database

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def feed(path: Path, items: list[tuple[str, str]]) -> None:
    """An RSS file with (guid, RFC 822 date) items, each naming the brand."""
    body = "".join(
        f"<item><guid>{guid}</guid><title>Calderix noticia {guid}</title>"
        f"<link>https://news.example/{guid}</link><pubDate>{when}</pubDate>"
        f"<description>Calderix y su fibra, caso {guid}.</description></item>"
        for guid, when in items
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"{body}</channel></rss>",
        encoding="utf-8",
    )


def stored(db: Database) -> set[str]:
    with db.sessions() as session:
        return {url.rsplit("/", 1)[1] for url in session.scalars(select(Mention.url))}


def test_first_run_stores_only_the_horizon_and_remembers_the_rest(
    tmp_path: Path, db: Database, make_settings: Callable[..., Settings], database_url: str
) -> None:
    feed(
        tmp_path / "news.xml",
        [
            ("fresh", "Wed, 02 Dec 2026 09:00:00 +0000"),
            ("lastweek", "Mon, 23 Nov 2026 09:00:00 +0000"),
            ("archive", "Tue, 12 Jul 2016 09:00:00 +0000"),
        ],
    )
    settings = make_settings(
        database_url,
        fetch={"backfill": "3d"},
        sources=[{"name": "news", "kind": "rss", "url": "news.xml"}],
    )
    pipeline = Pipeline(settings, db, clock=lambda: NOW)
    first = pipeline.run_source(settings.sources[0])
    assert first.ok, first.error
    assert (first.fetched, first.too_old, first.new_mentions) == (3, 2, 1)
    assert stored(db) == {"fresh"}
    with db.sessions() as session:
        row = session.scalars(select(Source)).one()
        assert {"fresh", "lastweek", "archive"} <= set(row.seen_ids)  # seen, never offered again

    # Not a first run any more: an item new to the feed is stored whatever its date.
    feed(
        tmp_path / "news.xml",
        [
            ("backdated", "Sun, 01 Nov 2026 09:00:00 +0000"),
            ("fresh", "Wed, 02 Dec 2026 09:00:00 +0000"),
            ("lastweek", "Mon, 23 Nov 2026 09:00:00 +0000"),
            ("archive", "Tue, 12 Jul 2016 09:00:00 +0000"),
        ],
    )
    second = pipeline.run_source(settings.sources[0])
    assert (second.too_old, second.new_mentions) == (0, 1)
    assert stored(db) == {"fresh", "backdated"}


def test_backfill_all_stores_the_whole_archive(
    tmp_path: Path, db: Database, make_settings: Callable[..., Settings], database_url: str
) -> None:
    feed(tmp_path / "news.xml", [("archive", "Tue, 12 Jul 2016 09:00:00 +0000")])
    settings = make_settings(
        database_url,
        fetch={"backfill": "all"},
        sources=[{"name": "news", "kind": "rss", "url": "news.xml"}],
    )
    report = Pipeline(settings, db, clock=lambda: NOW).run_source(settings.sources[0])
    assert (report.too_old, report.new_mentions) == (0, 1)
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 1
