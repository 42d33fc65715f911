"""Source health: failing after N failures, silent after too long without new items, and the
digest and `monitor sources` saying so — judged on real pipeline runs over local feeds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors import registry
from connectors.base import Connector, ConnectorOptions, FetchResult, SourceState
from monitor.app.pipeline import Pipeline
from monitor.core.errors import SettingsError
from monitor.core.http import HttpClient
from monitor.core.models import Source
from monitor.core.rawpost import RawPost
from monitor.core.settings import Settings
from monitor.core.source_health import (
    DISABLED,
    FAILING,
    NEVER_RUN,
    OK,
    SILENT,
    SourceHealth,
    assess,
    problems,
    silence_limit,
    source_health,
)
from monitor.core.storage import Database
from reports.digest_data import collect_digest
from tests.corpus_server import Canned, CorpusServer

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
        *extra: dict[str, Any], health: dict[str, Any] | None = None,
        http: dict[str, Any] | None = None, **news: Any,
    ) -> tuple[Settings, Pipeline]:
        sources = [{"name": "news", "kind": "rss", "url": "news.xml", **news}, *extra]
        settings = make_settings(
            database_url, sources=sources, health=health or {}, http=http or {}
        )
        # Retries back off on a fake clock: no test sleeps.
        client = HttpClient(settings.http, sleep=lambda _s: None)
        pipeline = Pipeline(settings, db, http=client, clock=clock)
        pipelines.append(pipeline)
        return settings, pipeline

    yield build
    for pipeline in pipelines:
        pipeline.close()


def health_list(db: Database, settings: Settings, now: datetime) -> list[SourceHealth]:
    with db.sessions() as session:
        return source_health(session, settings, now)


def health_of(
    db: Database, settings: Settings, now: datetime, name: str = "news"
) -> SourceHealth:
    return next(h for h in health_list(db, settings, now) if h.name == name)


#: Sources on the loopback test server, without retries inside a run.
LOCAL_HTTP: dict[str, Any] = {"http": {"allow_private_addresses": True, "retries": 0}}
XML = [("Content-Type", "application/rss+xml")]


@pytest.fixture
def server() -> Iterator[CorpusServer]:
    with CorpusServer() as srv:
        yield srv


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
    # A misconfigured source is failing at its first failure, whether it ever worked or not.
    gone = assess(
        row(consecutive_failures=1, last_error="HTTP 404 from x", last_outcome="misconfigured",
            last_success_at=None, last_new_at=None, items_seen=0),
        on, settings, T0,
    )
    assert gone.status == FAILING and gone.reason == (
        "misconfigured (never succeeded): HTTP 404 from x"
    )
    moved = assess(
        row(consecutive_failures=1, last_error="HTTP 410", last_outcome="misconfigured"),
        on, settings, T0,
    )
    assert moved.status == FAILING and moved.reason.startswith("misconfigured (last success ")
    # One failure to retry later is not failing yet, but a source that never worked says so.
    new = assess(
        row(consecutive_failures=1, last_error="HTTP 503", last_outcome="retry later",
            last_success_at=None, last_new_at=None),
        on, settings, T0,
    )
    assert new.status == OK
    assert new.reason == "never succeeded; 1 failed run(s) in a row, failing at 3"


def test_failing_after_max_failures_and_healed_by_a_success(
    setup: Callable[..., tuple[Settings, Pipeline]], db: Database, clock: Clock,
    server: CorpusServer,
) -> None:
    answers = [Canned(503), Canned(503)]
    server.routes["/news.xml"] = lambda _r, _b: (
        answers.pop(0) if answers else Canned(200, XML, rss("a1").encode())
    )
    settings, pipeline = setup(
        health={"max_failures": 2}, url=server.url("/news.xml"), **LOCAL_HTTP
    )
    for failures in (1, 2):  # the server is down: retried next run, failing after 2
        [report] = pipeline.run_sources()
        assert report.error
        health = health_of(db, settings, clock.now)
        assert health.failures == failures
        assert health.status == (OK if failures < 2 else FAILING)
    assert "HTTP 503" in (health.last_error or "")
    with db.sessions() as session:
        digest = collect_digest(session, settings, clock.now - timedelta(days=1), clock.now)
    [problem] = digest.source_problems
    assert (problem.name, problem.status, problem.failures) == ("news", FAILING, 2)
    assert problem.error and "HTTP 503" in problem.error

    pipeline.run_sources()
    health = health_of(db, settings, clock.now)
    assert (health.status, health.failures, health.last_error) == (OK, 0, None)


def test_a_misconfigured_source_is_failing_at_once_and_in_the_digest(
    tmp_path: Path, setup: Callable[..., tuple[Settings, Pipeline]], db: Database,
    clock: Clock, server: CorpusServer,
) -> None:
    """Issue 9: a source that had never succeeded showed `ok` after a 404."""
    (tmp_path / "news.xml").write_text(rss("a1"), encoding="utf-8")
    settings, pipeline = setup(
        {"name": "gone", "kind": "rss", "url": server.url("/gone.xml")},
        {"name": "missing", "kind": "rss", "url": "missing.xml"},
        **LOCAL_HTTP,
    )
    pipeline.run_sources()
    statuses = {h.name: (h.status, h.failures) for h in health_list(db, settings, clock.now)}
    assert statuses == {"news": (OK, 0), "gone": (FAILING, 1), "missing": (FAILING, 1)}
    assert "never succeeded" in health_of(db, settings, clock.now, "gone").reason
    with db.sessions() as session:
        digest = collect_digest(session, settings, clock.now - timedelta(days=1), clock.now)
    problems_by_name = {p.name: p for p in digest.source_problems}
    assert set(problems_by_name) == {"gone", "missing"}
    assert "HTTP 404" in (problems_by_name["gone"].error or "")
    assert problems_by_name["gone"].status == FAILING

    server.routes["/gone.xml"] = lambda _r, _b: Canned(200, XML, rss("b1").encode())
    pipeline.run_sources()
    gone = health_of(db, settings, clock.now, "gone")
    assert (gone.status, gone.failures, gone.last_error) == (OK, 0, None)


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
    clock: Clock, server: CorpusServer,
) -> None:
    (tmp_path / "news.xml").write_text(rss("a1"), encoding="utf-8")
    server.routes["/down.xml"] = lambda _r, _b: Canned(503)
    settings, pipeline = setup(
        {"name": "broken", "kind": "rss", "url": server.url("/down.xml")},
        {"name": "off", "kind": "rss", "url": "missing.xml", "enabled": False},
        **LOCAL_HTTP,
    )
    pipeline.run_sources()  # news: ok; broken: 1 failure to retry (below 3); off: not run
    with db.sessions() as session:
        digest = collect_digest(session, settings, clock.now - timedelta(days=1), clock.now)
        statuses = {h.name: h.status for h in source_health(session, settings, clock.now)}
    assert digest.source_problems == []
    assert statuses == {"news": OK, "broken": OK, "off": DISABLED}


class SkippingConnector(Connector):
    """Gives one readable post and two unreadable items per run (new ones each time)."""

    kind: ClassVar[str] = "skipping"
    runs = 0

    class Options(ConnectorOptions):
        pass

    def fetch(self, state: SourceState) -> FetchResult:
        SkippingConnector.runs += 1
        post = RawPost(
            source=self.name, external_id=f"p{self.runs}", url=None, author=None,
            author_handle=None, title=f"El tiempo {self.runs}", text="",
            published_at=T0, lang="es",
        )
        return FetchResult([post], state.evolve(cursor=str(self.runs)), skipped=2)


def test_skipped_items_are_counted_in_source_health(
    make_settings: Callable[..., Settings], database_url: str, db: Database, clock: Clock
) -> None:
    registry.register("skipping", SkippingConnector)
    try:
        settings = make_settings(database_url, sources=[{"name": "api", "kind": "skipping"}])
        pipeline = Pipeline(settings, db, clock=clock)
        first = pipeline.run_source(settings.sources[0])
        second = pipeline.run_source(settings.sources[0])
    finally:
        registry.unregister("skipping")
    assert first.skipped == second.skipped == 2
    health = health_of(db, settings, clock.now, "api")
    assert (health.items_seen, health.items_skipped) == (2, 4)
    assert health.as_dict()["items_skipped"] == 4
