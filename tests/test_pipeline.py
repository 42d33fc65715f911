"""The pipeline end to end on local feeds: nothing lost, nothing duplicated, failures isolated."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select

from connectors import registry
from connectors.base import Connector, ConnectorOptions, FetchResult, SourceState
from monitor.app import pipeline as pipeline_module
from monitor.app.source_state import source_row
from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.pipeline_support import ITEMS, count, feed_file, make_pipeline


@pytest.fixture
def settings_for(
    make_settings: Callable[..., Settings], database_url: str
) -> Callable[..., Settings]:
    def build(*sources: dict[str, str]) -> Settings:
        return make_settings(database_url, sources=[{"kind": "rss", **s} for s in sources])

    return build


def test_two_runs_store_each_mention_once(tmp_path: Path, db: Database, settings_for) -> None:
    settings = settings_for({"name": "news", "url": feed_file(tmp_path, "news.xml", ITEMS)})
    pipeline = make_pipeline(settings, db)
    first = pipeline.run_source(settings.sources[0])
    assert first.ok, first.error
    assert (first.fetched, first.matched, first.new_mentions) == (4, 2, 2)
    second = pipeline.run_source(settings.sources[0])
    assert second.ok and second.new_mentions == 0 and second.not_modified
    assert count(db, Mention) == 2
    assert count(db, MentionSource) == 2
    assert count(db, BrandMatch, BrandMatch.brand == "Calderix") == 2
    # Every stored mention carries its sentiment, with evidence for non-neutral verdicts.
    assert count(db, Tag, Tag.family == "sentiment") == 2
    with db.sessions() as session:
        row = session.scalars(select(Source)).one()
        assert row.consecutive_failures == 0 and row.last_success_at is not None
        assert set(row.seen_ids) >= {"a1", "a2", "a3", "a4"}
        titles = set(session.scalars(select(Mention.title)))
    assert "Obras en la Calle Calderix hasta el lunes" not in titles  # the look-alike is excluded


def test_new_items_are_picked_up_incrementally(tmp_path: Path, db: Database, settings_for) -> None:
    settings = settings_for({"name": "news", "url": feed_file(tmp_path, "news.xml", ITEMS[:1])})
    pipeline = make_pipeline(settings, db)
    assert pipeline.run_source(settings.sources[0]).new_mentions == 1
    feed_file(tmp_path, "news.xml", ITEMS[:2])
    assert pipeline.run_source(settings.sources[0]).new_mentions == 1
    assert count(db, Mention) == 2


def test_syndicated_copy_is_one_mention_with_both_urls(
    tmp_path: Path, db: Database, settings_for
) -> None:
    copy = [("x9", ITEMS[0][1], "Resumen distinto de otra agencia sobre Calderix.")]
    settings = settings_for(
        {"name": "news", "url": feed_file(tmp_path, "news.xml", ITEMS)},
        {
            "name": "aggregator",
            "url": feed_file(tmp_path, "agg.xml", copy, link="https://agg.example"),
        },
    )
    reports = make_pipeline(settings, db).run_sources()
    assert all(r.ok for r in reports), [r.error for r in reports]
    assert count(db, Mention) == 2
    with db.sessions() as session:
        urls = set(session.scalars(select(MentionSource.url)))
    assert {"https://news.example/a1", "https://agg.example/x9"} <= urls


def test_a_failing_source_never_stops_the_others(
    tmp_path: Path, db: Database, settings_for
) -> None:
    settings = settings_for(
        {"name": "broken", "url": "missing.xml"},
        {"name": "news", "url": feed_file(tmp_path, "news.xml", ITEMS)},
    )
    broken, news = make_pipeline(settings, db).run_sources()
    assert broken.error and news.ok and news.new_mentions == 2
    make_pipeline(settings, db).run_source(settings.sources[0])
    with db.sessions() as session:
        row = session.scalars(select(Source).where(Source.name == "broken")).one()
    assert row.consecutive_failures == 2
    assert "missing.xml" in (row.last_error or "")


class ExplodingConnector(Connector):
    kind: ClassVar[str] = "exploding"

    class Options(ConnectorOptions):
        pass

    def fetch(self, state: SourceState) -> FetchResult:
        raise RuntimeError("bug in a third-party connector")


def test_an_unexpected_error_is_recorded_not_raised(
    tmp_path: Path, db: Database, make_settings, database_url
) -> None:
    registry.register("exploding", ExplodingConnector)
    try:
        settings = make_settings(database_url, sources=[{"name": "boom", "kind": "exploding"}])
        report = make_pipeline(settings, db).run_source(settings.sources[0])
    finally:
        registry.unregister("exploding")
    assert report.error and "RuntimeError" in report.error


def test_crash_while_storing_keeps_old_state_and_no_mentions(
    tmp_path: Path, db: Database, settings_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for({"name": "news", "url": feed_file(tmp_path, "news.xml", ITEMS)})
    real_store = pipeline_module.store_matches

    def store_then_crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_store(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(pipeline_module, "store_matches", store_then_crash)
    assert make_pipeline(settings, db).run_source(settings.sources[0]).error
    assert count(db, Mention) == 0 and count(db, MentionSource) == 0
    with db.sessions() as session:
        row = session.scalars(select(Source)).one()
        assert row.seen_ids == [] and row.content_hash is None
    monkeypatch.setattr(pipeline_module, "store_matches", real_store)
    assert make_pipeline(settings, db).run_source(settings.sources[0]).new_mentions == 2
    assert count(db, Mention) == 2


def test_concurrent_runs_of_one_source_never_duplicate(
    tmp_path: Path, db: Database, settings_for
) -> None:
    settings = settings_for({"name": "news", "url": feed_file(tmp_path, "news.xml", ITEMS)})
    barrier = threading.Barrier(3)
    reports = []

    def worker() -> None:
        pipeline = make_pipeline(settings, db)
        barrier.wait()
        reports.append(pipeline.run_source(settings.sources[0]))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(r.ok for r in reports), [r.error for r in reports]
    assert count(db, Mention) == 2 and count(db, MentionSource) == 2


def test_two_workers_storing_one_story_at_once_both_succeed(db: Database) -> None:
    """Worker B looks the story up while A's insert is still uncommitted (one article in two
    feeds polled in parallel): B must wait, then record a sighting of A's mention."""
    from classifiers.tags import BrandAnalysis, TagResult
    from monitor.app.mention_store import store_matches
    from monitor.core.rawpost import RawPost

    with db.transaction() as session:
        ids = [source_row(session, name, "rss").id for name in ("feed-a", "feed-b")]
    analysis = [BrandAnalysis("Calderix", ("calderix",), "es",
                              (TagResult("sentiment", "neutral", 0.0),))]
    title = "Calderix abre una tienda nueva en el centro de Sevilla"
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    a_inserted, b_looked_up = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def worker(name: str, source_id: int, first: bool) -> None:
        try:
            with db.transaction() as session:
                if not first:
                    a_inserted.wait(10)
                    b_looked_up.set()  # B starts while A holds its uncommitted insert
                source = session.get(Source, source_id)
                post = RawPost(source=name, external_id=f"{name}-1", title=title,
                               url=f"https://{name}.example/1")
                results[name] = store_matches(session, source, [(post, analysis)], now)
                if first:
                    a_inserted.set()
                    b_looked_up.wait(10)
                    threading.Event().wait(0.3)  # let B reach its insert and wait on ours
        except Exception as exc:  # the assertion below shows it
            results[name] = exc

    threads = [threading.Thread(target=worker, args=("feed-a", ids[0], True)),
               threading.Thread(target=worker, args=("feed-b", ids[1], False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    errors = {k: v for k, v in results.items() if isinstance(v, Exception)}
    assert not errors, errors
    assert count(db, Mention) == 1
    assert count(db, MentionSource) == 2
    assert count(db, BrandMatch) == 1 and count(db, Tag) == 1

