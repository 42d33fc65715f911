"""Source health: failing after N failures, silent after too long without new items, and the
digest and `monitor sources` saying so — judged on real pipeline runs over local feeds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.app.pipeline import Pipeline
from monitor.core.errors import SettingsError
from monitor.core.models import Source
from monitor.core.settings import Settings
from monitor.core.source_health import (
    DISABLED,
    FAILING,
    NEVER_RUN,
    OK,
    SILENT,
    assess,
    problems,
    silence_limit,
    source_health,
)
from monitor.core.storage import Database
from reports.digest_data import collect_digest

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def rss(*guids: str, about: str = "El tiempo en Madrid") -> str:
    items = "".join(
        f"<item><guid>{g}</guid><title>{about} {g}</title><link>https://news.example/{g}</link>"
        "<pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item>"
        for g in guids
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    return f"{head}{items}</channel></rss>"


class Clock:
    """The pipeline's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def setup(
    tmp_path: Path, make_settings: Callable[..., Settings], database_url: str, db: Database,
    clock: Clock,
) -> Callable[..., tuple[Settings, Pipeline]]:
    """Settings with one local feed `news.xml` (plus extra sources) and a pipeline on `db`."""
    pipelines: list[Pipeline] = []

    def build(
        *extra: dict[str, Any], health: dict[str, Any] | None = None, **news: Any
    ) -> tuple[Settings, Pipeline]:
        sources = [{"name": "news", "kind": "rss", "url": "news.xml", **news}, *extra]
        settings = make_settings(database_url, sources=sources, health=health or {})
        pipeline = Pipeline(settings, db, clock=clock)
        pipelines.append(pipeline)
        return settings, pipeline

    yield build
    for pipeline in pipelines:
        pipeline.close()


def health_of(db: Database, settings: Settings, now: datetime, name: str = "news"):  # type: ignore[no-untyped-def]
    with db.sessions() as session:
        return next(h for h in source_health(session, settings, now) if h.name == name)


def test_default_silence_follows_the_interval(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        sources=[
            {"name": "a", "kind": "rss", "url": "a.xml"},  # rss default: every 30m
            {"name": "b", "kind": "rss", "url": "b.xml", "every": "6h"},
            {"name": "c", "kind": "rss", "url": "c.xml", "silent_after": "5h"},
            {"name": "d", "kind": "youtube", "channel_id": "UC7_gcs09iThXybpVgjHZ_7g",
             "every": "1d"},
        ]
    )
    limits = [silence_limit(s.kind, s, settings) for s in settings.sources]
    assert limits == [timedelta(days=2), timedelta(days=3), timedelta(hours=5),
                      timedelta(days=12)]
    overridden = make_settings(
        health={"silent_after": "7d"}, sources=[{"name": "a", "kind": "rss", "url": "a.xml"}]
    )
    assert silence_limit("rss", overridden.sources[0], overridden) == timedelta(days=7)


@pytest.mark.parametrize(
    ("health", "source", "key"),
    [
        ({"max_failures": 0}, {}, "health.max_failures"),
        ({"silent_after": "soon"}, {}, "health.silent_after"),
        ({}, {"silent_after": "2 days"}, "sources[0] ('news').silent_after"),
    ],
)
def test_bad_health_settings_name_the_key(
    make_settings: Callable[..., Settings], health: dict[str, Any], source: dict[str, Any],
    key: str,
) -> None:
    with pytest.raises(SettingsError) as raised:
        make_settings(health=health, sources=[{"name": "news", "kind": "rss", "url": "n.xml",
                                               **source}])
    assert key in str(raised.value)


def test_verdicts_on_stored_rows(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        sources=[
            {"name": "on", "kind": "rss", "url": "a.xml"},
            {"name": "off", "kind": "rss", "url": "b.xml", "enabled": False},
        ]
    )
    on, off = settings.sources

    def row(**values: Any) -> Source:
        base = {"name": "on", "kind": "rss", "consecutive_failures": 0, "items_seen": 5,
                "mentions_stored": 1, "last_attempt_at": T0, "last_success_at": T0,
                "last_new_at": T0}
        return Source(**{**base, **values})

    assert assess(None, on, settings, T0).status == NEVER_RUN
    assert assess(row(), off, settings, T0).status == DISABLED
    assert assess(row(), on, settings, T0 + timedelta(days=1)).status == OK
    silent = assess(row(), on, settings, T0 + timedelta(days=2, minutes=1))
    assert silent.status == SILENT and "no new item for 2d" in silent.reason
    retrying = assess(row(consecutive_failures=2, last_error="HTTP 503"), on, settings, T0)
    assert retrying.status == OK and "failing at 3" in retrying.reason
    failing = assess(
        row(consecutive_failures=3, last_error="HTTP 503 from x"), on, settings,
        T0 + timedelta(days=9),
    )
    assert failing.status == FAILING and "HTTP 503 from x" in failing.reason
    assert [h.name for h in problems([failing, silent, retrying])] == ["on", "on"]


def test_failing_after_max_failures_and_healed_by_a_success(
    tmp_path: Path, setup: Callable[..., tuple[Settings, Pipeline]], db: Database,
    clock: Clock,
) -> None:
    settings, pipeline = setup(health={"max_failures": 2})
    for failures in (1, 2):  # news.xml does not exist yet
        [report] = pipeline.run_sources()
        assert report.error
        health = health_of(db, settings, clock.now)
        assert health.failures == failures
        assert health.status == (OK if failures < 2 else FAILING)
    assert "cannot read local feed" in (health.last_error or "")
    with db.sessions() as session:
        digest = collect_digest(session, settings, clock.now - timedelta(days=1), clock.now)
    [problem] = digest.source_problems
    assert (problem.name, problem.status, problem.failures) == ("news", FAILING, 2)
    assert problem.error and "cannot read local feed" in problem.error

    (tmp_path / "news.xml").write_text(rss("a1"), encoding="utf-8")
    pipeline.run_sources()
    health = health_of(db, settings, clock.now)
    assert (health.status, health.failures, health.last_error) == (OK, 0, None)


def test_silent_when_nothing_new_for_too_long(
    tmp_path: Path, setup: Callable[..., tuple[Settings, Pipeline]], db: Database,
    clock: Clock,
) -> None:
    feed = tmp_path / "news.xml"
    feed.write_text(rss("a1", "a2"), encoding="utf-8")
    settings, pipeline = setup(silent_after="1d")
    pipeline.run_sources()
    # New items keep a source alive even when none names the brand.
    health = health_of(db, settings, clock.now)
    assert (health.status, health.items_seen, health.mentions_stored) == (OK, 2, 0)

    clock.now += timedelta(hours=20)
    feed.write_text(rss("a1", "a2", "a3"), encoding="utf-8")
    pipeline.run_sources()
    clock.now += timedelta(hours=20)
    pipeline.run_sources()  # unchanged: a success, but nothing new
    assert health_of(db, settings, clock.now).status == OK  # 20h since a3

    clock.now += timedelta(hours=5)
    pipeline.run_sources()
    health = health_of(db, settings, clock.now)
    assert health.status == SILENT and health.failures == 0
    assert health.reason == "no new item for 1d 1h (expected within 1d)"
    with db.sessions() as session:
        digest = collect_digest(session, settings, clock.now - timedelta(days=1), clock.now)
    [problem] = digest.source_problems
    assert problem.status == SILENT and problem.warning == health.reason


def test_digest_leaves_out_healthy_disabled_and_retrying_sources(
    tmp_path: Path, setup: Callable[..., tuple[Settings, Pipeline]], db: Database,
    clock: Clock,
) -> None:
    (tmp_path / "news.xml").write_text(rss("a1"), encoding="utf-8")
    settings, pipeline = setup(
        {"name": "broken", "kind": "rss", "url": "missing.xml"},
        {"name": "off", "kind": "rss", "url": "missing.xml", "enabled": False},
    )
    pipeline.run_sources()  # news: ok; broken: 1 failure (below 3); off: not run
    with db.sessions() as session:
        digest = collect_digest(session, settings, clock.now - timedelta(days=1), clock.now)
        statuses = {h.name: h.status for h in source_health(session, settings, clock.now)}
    assert digest.source_problems == []
    assert statuses == {"news": OK, "broken": OK, "off": DISABLED}
