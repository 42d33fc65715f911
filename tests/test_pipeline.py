"""The pipeline end to end on local feeds: nothing lost, nothing duplicated, failures isolated."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from connectors import registry
from connectors.base import Connector, ConnectorOptions, FetchResult, SourceState
from monitor import pipeline as pipeline_module
from monitor.config import Settings
from monitor.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.pipeline import Pipeline
from monitor.storage import Database

Item = tuple[str, str, str]  # guid, title, description


def rss(items: list[Item], link: str = "https://news.example") -> str:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>{link}/{guid}</link>"
        f"<pubDate>Fri, 20 Nov 2026 10:00:00 +0100</pubDate>"
        f"<description>{text}</description></item>"
        for guid, title, text in items
    )
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    return f"{head}{body}</channel></rss>"


ITEMS: list[Item] = [
    (
        "a1",
        "Calderix sube sus tarifas de fibra un diez por ciento",
        "Los clientes de Calderix están indignados.",
    ),
    (
        "a2",
        "Calderix mejora su cobertura 5G en Sevilla y Málaga",
        "Una noticia excelente para los usuarios.",
    ),
    ("a3", "El tiempo mañana en Madrid", "Sol y nubes, nada que ver con operadoras."),
    ("a4", "Obras en la Calle Calderix hasta el lunes", "Cortes de tráfico en el centro."),
]


def feed_file(
    tmp_path: Path, name: str, items: list[Item], link: str = "https://news.example"
) -> str:
    path = tmp_path / name
    path.write_text(rss(items, link), encoding="utf-8")
    return name


def count(db: Database, model: type, *where: object) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def settings_for(
    make_settings: Callable[..., Settings], database_url: str
) -> Callable[..., Settings]:
    def build(*sources: dict[str, str]) -> Settings:
        return make_settings(database_url, sources=[{"kind": "rss", **s} for s in sources])

    return build


def make_pipeline(settings: Settings, db: Database) -> Pipeline:
    return Pipeline(settings, db, clock=lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))


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
