"""Rate limits and backoff in HttpClient, on a fake clock (no test really waits).

A host that says its budget is spent (x-ratelimit-* as Mastodon and Reddit send it,
RateLimit-* as Bluesky does) or asks for a long Retry-After is left alone until the reset:
short waits are slept inside the run, long ones become RetryLater with the wait, and no
request reaches the host meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.app.pipeline import Pipeline
from monitor.core.errors import RetryLater
from monitor.core.http_status import MAX_RETRY_AFTER, parse_rate_limit_reset, rate_limit_wait
from monitor.core.models import Source
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.api_support import NOW, FakeClock, api_server, loopback_client
from tests.corpus_server import ApiCorpus, Canned, CorpusServer, Request

OK = Canned(200, [("Content-Type", "application/json")], b"[]")


@pytest.fixture
def server() -> Iterator[CorpusServer]:
    with CorpusServer() as srv:
        yield srv


def answers(*canned: Canned):  # type: ignore[no-untyped-def]
    """A route that plays `canned` in order, then repeats the last one."""
    queue = list(canned)

    def route(_r: Request, _b: str) -> Canned:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


def test_reset_forms_of_the_apis_we_poll() -> None:
    now = 1_747_676_000.0
    assert parse_rate_limit_reset("15", now) == 15  # Reddit: seconds left
    assert parse_rate_limit_reset("1747676784", now) == 784  # Bluesky: epoch
    iso = datetime.fromtimestamp(now + 300, UTC).isoformat().replace("+00:00", ".000Z")
    assert parse_rate_limit_reset(iso, now) == pytest.approx(300)  # Mastodon: ISO 8601
    assert parse_rate_limit_reset("1747670000", now) == 0  # already past
    for junk in ("soon", "", None, "-5", "nan"):
        assert parse_rate_limit_reset(junk, now) is None


def test_wait_only_when_the_budget_is_spent() -> None:
    now = 1_000.0
    assert (
        rate_limit_wait({"x-ratelimit-remaining": "997.0", "x-ratelimit-reset": "15"}, now) is None
    )
    assert rate_limit_wait({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "15"}, now) == 15
    assert rate_limit_wait({"ratelimit-remaining": "0", "ratelimit-reset": "1300"}, now) == 1300
    assert rate_limit_wait({"ratelimit-remaining": "0"}, now) == 60  # no reset: a safe pause
    assert rate_limit_wait({"content-type": "text/plain"}, now) is None


@pytest.mark.parametrize(
    "recording",
    [
        "reddit/r_popular_hot_ratelimit_headers_2026.meta.json",
        "mastodon/timelines_tag_hoot.meta.json",
        "bluesky/searchPosts_redistricting_2025.meta.json",
    ],
)
def test_recorded_rate_limit_headers_with_budget_left_never_pause(
    shared_dir: Path, recording: str
) -> None:
    """The corpus' own headers (remaining 997 / 299 / 2983) must not slow anything down."""
    meta = json.loads((shared_dir / "corpora" / "api" / recording).read_text())
    url = meta["request"]["url"].split("://", 1)[1].split("/", 1)[1]
    clock = FakeClock()
    with api_server(shared_dir) as srv, loopback_client(clock) as http:
        for _ in range(3):
            assert http.get(f"{srv.base_url}/{url}").status == 200
        assert len(srv.requests) == 3
    assert clock.sleeps == []


def test_spent_budget_waits_for_the_reset_before_asking_again(server: CorpusServer) -> None:
    clock = FakeClock()
    reset = datetime.fromtimestamp(clock.now + 30, UTC).isoformat()
    server.routes["/api/v1/timelines/tag/x"] = answers(
        Canned(200, [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)], b"[]"), OK
    )
    with loopback_client(clock) as http:
        http.get(server.url("/api/v1/timelines/tag/x"))
        http.get(server.url("/api/v1/timelines/tag/x"))
    assert clock.sleeps == [pytest.approx(30)]
    assert len(server.requests) == 2


def test_long_pause_is_retry_later_and_the_host_is_not_asked(server: CorpusServer) -> None:
    clock = FakeClock()
    server.routes["/xrpc/app.bsky.feed.searchPosts"] = answers(
        Canned(200, [("RateLimit-Remaining", "0"), ("RateLimit-Reset", str(int(clock.now) + 600))])
    )
    server.routes["/other"] = answers(OK)
    with loopback_client(clock) as http:
        http.get(server.url("/xrpc/app.bsky.feed.searchPosts"))
        for path in ("/xrpc/app.bsky.feed.searchPosts", "/other"):  # any path of that host
            with pytest.raises(RetryLater, match="rate limit") as caught:
                http.get(server.url(path))
            assert caught.value.retry_after == pytest.approx(600)
        assert len(server.requests) == 1 and clock.sleeps == []
        clock.now += 601  # the window has reset
        assert http.get(server.url("/other")).status == 200
    assert len(server.requests) == 2


def test_429_with_a_short_retry_after_is_waited_then_retried(server: CorpusServer) -> None:
    clock = FakeClock()
    server.routes["/search"] = answers(Canned(429, [("Retry-After", "7")]), OK)
    with loopback_client(clock) as http:
        assert http.get(server.url("/search")).status == 200
    assert clock.sleeps == [7] and len(server.requests) == 2


def test_429_with_a_long_retry_after_blocks_the_host(server: CorpusServer) -> None:
    clock = FakeClock()
    server.routes["/search"] = answers(Canned(429, [("Retry-After", "3600")]))
    with loopback_client(clock) as http:
        with pytest.raises(RetryLater) as first:
            http.get(server.url("/search"))
        assert first.value.retry_after == 3600
        with pytest.raises(RetryLater):
            http.get(server.url("/search"))  # another source on the same host: not sent
    assert len(server.requests) == 1 and clock.sleeps == []


def test_429_without_retry_after_uses_the_rate_limit_reset(server: CorpusServer) -> None:
    clock = FakeClock()
    server.routes["/r/all/new.json"] = answers(
        Canned(429, [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "12")]), OK
    )
    with loopback_client(clock) as http:
        assert http.get(server.url("/r/all/new.json")).status == 200
    # The retry loop waits the reset (12 s), and the host pause ends at the same moment.
    assert clock.sleeps == [12] and len(server.requests) == 2


def test_server_errors_back_off_exponentially_with_jitter(server: CorpusServer) -> None:
    clock = FakeClock()
    server.routes["/flaky"] = answers(Canned(503, []))
    with loopback_client(clock, retries=4) as http, pytest.raises(RetryLater):
        http.get(server.url("/flaky"))
    assert len(server.requests) == 5 and len(clock.sleeps) == 4
    for attempt, slept in enumerate(clock.sleeps):
        assert 2**attempt <= slept <= 2**attempt + 1  # initial 1 s, doubling, ≤ 1 s jitter
    assert len(set(clock.sleeps)) == 4


def test_retry_after_beyond_the_cap_is_left_to_the_scheduler(server: CorpusServer) -> None:
    clock = FakeClock()
    when = datetime.fromtimestamp(clock.now, UTC) + timedelta(seconds=MAX_RETRY_AFTER + 100)
    server.routes["/busy"] = answers(
        Canned(503, [("Retry-After", when.strftime("%a, %d %b %Y %H:%M:%S GMT"))])
    )
    with loopback_client(clock) as http, pytest.raises(RetryLater) as caught:
        http.get(server.url("/busy"))
    assert caught.value.retry_after == pytest.approx(MAX_RETRY_AFTER + 100)
    assert len(server.requests) == 1 and clock.sleeps == []


def test_the_pause_outlives_the_run_that_saw_it(
    shared_dir: Path, db: Database, make_settings: Callable[..., Settings], database_url: str
) -> None:
    """The scheduler's next run of a source on a spent host is refused by the shared client
    before any request, and the source's failure says why and for how long."""
    api = ApiCorpus(shared_dir / "corpora" / "api")
    clock = FakeClock()
    search = api.recording("bluesky/searchPosts_redistricting_2025.json")

    def spent(request: Request, base_url: str) -> Canned:
        canned = api.respond(search, request, base_url)
        reset = ("RateLimit-Reset", str(int(clock.now) + 900))
        headers = [h for h in canned.headers if not h[0].lower().startswith("ratelimit-")]
        return Canned(200, [*headers, ("RateLimit-Remaining", "0"), reset], canned.body)

    with CorpusServer(api) as srv:
        srv.routes["/xrpc/app.bsky.feed.searchPosts"] = spent
        settings = make_settings(
            database_url,
            brands=[{"name": "Brand", "query": "redistricting"}],
            sources=[{"name": "sky", "kind": "bluesky", "appview": srv.base_url, "query": "x"}],
        )
        pipeline = Pipeline(settings, db, http=loopback_client(clock), clock=lambda: NOW)
        first = pipeline.run_source(settings.sources[0])
        assert first.ok and first.new_mentions > 0
        second = pipeline.run_source(settings.sources[0])
        assert second.error is not None and "rate limit" in second.error
        assert len(srv.requests) == 1
    with db.sessions() as session:
        row = session.scalars(select(Source)).one()
        assert row.consecutive_failures == 1 and "resets in 900s" in (row.last_error or "")
