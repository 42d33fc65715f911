"""RssConnector over a local server: conditional GET, incremental runs, errors, local files.

Sleeps go to a list instead of the clock, so retry tests run instantly and can assert the
waits the client asked for.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import connectors.feed_parse
import connectors.rss
from connectors import registry
from connectors.base import ConnectorContext, SourceState
from connectors.rss import RssConnector, RssOptions
from monitor.core.errors import RetryLater, SourceMisconfigured
from monitor.core.http import HttpClient
from monitor.core.settings import HttpSettings
from tests.corpus_server import Canned, CorpusServer, FeedCorpus, Request

XML = [("Content-Type", "application/rss+xml; charset=utf-8")]


def rss(*items: str, build: str = "Mon, 06 Jan 2025 10:00:00 GMT") -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>https://example.com/{t}</link><guid>id-{t}</guid>"
        f"<pubDate>Mon, 0{i + 1} Jan 2025 10:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;About {t}&lt;/p&gt;</description></item>"
        for i, t in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test</title>'
        f"<lastBuildDate>{build}</lastBuildDate><language>es-ES</language>{body}</channel></rss>"
    ).encode()


@pytest.fixture
def server() -> Iterator[CorpusServer]:
    with CorpusServer() as srv:
        yield srv


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(sleeps: list[float], tmp_path: Path) -> Iterator[Callable[..., RssConnector]]:
    clients: list[HttpClient] = []

    def build(url: str, **settings: Any) -> RssConnector:
        http = HttpClient(
            HttpSettings(**settings), trusted_networks=["127.0.0.1/32"], sleep=sleeps.append
        )
        clients.append(http)
        context = ConnectorContext(http=http, base_dir=tmp_path, now=datetime.now(UTC))
        return RssConnector("test-feed", RssOptions(url=url), context)

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Records every parse the connector does (to prove the cheap paths skip it)."""
    calls: list[bytes] = []
    real = connectors.feed_parse.parse_feed

    def spy(content: bytes, **kwargs: Any) -> Any:
        calls.append(content)
        return real(content, **kwargs)

    # ConnectorContext.parse_feed looks the parser up at each call (it is imported lazily).
    monkeypatch.setattr(connectors.feed_parse, "parse_feed", spy)
    return calls


def test_registered_under_rss() -> None:
    assert registry.get("rss") is RssConnector
    assert RssConnector.kind == "rss" and RssConnector.default_every == "30m"


@pytest.mark.parametrize(
    ("url", "fix"),
    [("", "write the feed address"), ("   ", "write the feed address"),
     ("https:///feed.xml", "has no host"), ("ftp://example.com/feed", "use an http")],
)
def test_options_reject_bad_urls_with_a_fix(url: str, fix: str) -> None:
    with pytest.raises(ValidationError, match=fix):
        RssOptions(url=url)
    with pytest.raises(ValidationError, match="Extra inputs"):
        RssOptions.model_validate({"url": "https://example.com/f", "urll": "x"})


def test_fields_of_a_post(server: CorpusServer, make: Callable[..., RssConnector]) -> None:
    server.routes["/f"] = lambda _r, _b: Canned(200, XML, rss("Uno", "Dos"))
    result = make(server.url("/f")).fetch(SourceState())
    first = result.posts[0]
    assert (first.source, first.external_id, first.title) == ("test-feed", "id-Uno", "Uno")
    assert first.url == "https://example.com/Uno" and first.text == "About Uno"
    assert first.published_at == datetime(2025, 1, 1, 10, tzinfo=UTC) and first.lang == "es"
    assert result.warning is None and result.skipped == 0 and not result.not_modified
    assert result.new_state.seen_ids == ("id-Dos", "id-Uno")  # newest first


def test_304_when_the_etag_matches(
    shared_dir: Path, make: Callable[..., RssConnector], parse_calls: list[bytes]
) -> None:
    with CorpusServer(FeedCorpus(shared_dir / "corpora" / "feeds")) as srv:
        connector = make(srv.url("http/http_status_304.xml"))
        first = connector.fetch(SourceState())
        assert [p.title for p in first.posts] == ["title 304"]
        assert first.new_state.etag == '"abc123"'
        assert first.new_state.last_modified == "Thu, 21 Apr 2011 19:02:20 GMT"
        second = connector.fetch(first.new_state)
        assert srv.requests[1].headers["if-none-match"] == '"abc123"'
        assert srv.requests[1].headers["if-modified-since"] == "Thu, 21 Apr 2011 19:02:20 GMT"
    assert second.not_modified and second.posts == [] and second.new_state == first.new_state
    assert len(parse_calls) == 1


def test_content_hash_skips_parsing_when_the_server_has_no_validators(
    server: CorpusServer, make: Callable[..., RssConnector], parse_calls: list[bytes]
) -> None:
    server.routes["/f"] = lambda _r, _b: Canned(200, XML, rss("A", "B"))
    connector = make(server.url("/f"))
    first = connector.fetch(SourceState())
    second = connector.fetch(first.new_state)
    assert len(first.posts) == 2 and first.new_state.content_hash.startswith("sha256:")
    assert second.not_modified and second.posts == [] and len(parse_calls) == 1
    assert "if-none-match" not in server.requests[1].headers


def test_two_runs_never_duplicate(server: CorpusServer, make: Callable[..., RssConnector]) -> None:
    bodies = iter([rss("A", "B"), rss("A", "B", build="Tue, 07 Jan 2025 10:00:00 GMT"),
                   rss("A", "B", "C")])
    server.routes["/f"] = lambda _r, _b: Canned(200, XML, next(bodies))
    connector = make(server.url("/f"))
    run1 = connector.fetch(SourceState())
    run2 = connector.fetch(run1.new_state)  # body changed, items did not
    run3 = connector.fetch(run2.new_state)
    assert [p.title for p in run1.posts] == ["A", "B"]
    assert run2.posts == [] and not run2.not_modified
    assert [p.title for p in run3.posts] == ["C"]
    assert run3.new_state.seen_ids[0] == "id-C" and set(run3.new_state.seen_ids) == {
        "id-A", "id-B", "id-C"}


@pytest.mark.parametrize("status", [301, 302, 303, 307])
def test_corpus_redirects(shared_dir: Path, make: Callable[..., RssConnector], status: int) -> None:
    with CorpusServer(FeedCorpus(shared_dir / "corpora" / "feeds")) as srv:
        result = make(srv.url(f"http/http_status_{status}.xml")).fetch(SourceState())
        assert [r.path for r in srv.requests] == [
            f"/tests/http/http_status_{status}.xml", "/tests/http/target.xml"]
    assert [p.title for p in result.posts] == ["target"]


def test_404_is_misconfigured(shared_dir: Path, make: Callable[..., RssConnector]) -> None:
    with CorpusServer(FeedCorpus(shared_dir / "corpora" / "feeds")) as srv:
        with pytest.raises(SourceMisconfigured, match="HTTP 404"):
            make(srv.url("http/http_status_404.xml")).fetch(SourceState())
        assert len(srv.requests) == 1  # no retries for a permanent error


def test_500_with_retry_after_retries_then_gives_up(
    server: CorpusServer, make: Callable[..., RssConnector], sleeps: list[float]
) -> None:
    server.routes["/f"] = lambda _r, _b: Canned(500, [("Retry-After", "7")], b"oops")
    started = time.monotonic()
    with pytest.raises(RetryLater) as caught:
        make(server.url("/f"), retries=2).fetch(SourceState())
    assert caught.value.retry_after == 7 and "HTTP 500" in str(caught.value)
    assert sleeps == [7, 7] and len(server.requests) == 3
    assert time.monotonic() - started < 2  # the sleeps were not real


def test_429_beyond_the_cap_is_left_to_the_scheduler(
    server: CorpusServer, make: Callable[..., RssConnector], sleeps: list[float]
) -> None:
    server.routes["/f"] = lambda _r, _b: Canned(429, [("Retry-After", "3600")])
    with pytest.raises(RetryLater) as caught:
        make(server.url("/f")).fetch(SourceState())
    assert caught.value.retry_after == 3600 and sleeps == [] and len(server.requests) == 1


def test_transient_errors_back_off_then_succeed(
    server: CorpusServer, make: Callable[..., RssConnector], sleeps: list[float]
) -> None:
    answers = iter([Canned(503, []), Canned(502, []), Canned(200, XML, rss("A"))])
    server.routes["/f"] = lambda _r, _b: next(answers)
    result = make(server.url("/f"), retries=2).fetch(SourceState())
    assert [p.title for p in result.posts] == ["A"]
    assert len(sleeps) == 2 and all(0 < s <= 31 for s in sleeps)


def test_oversized_body_is_refused(server: CorpusServer, make: Callable[..., RssConnector]) -> None:
    big = rss(*[f"item{i}" for i in range(200)])
    server.routes["/f"] = lambda _r, _b: Canned(200, XML, big)
    server.routes["/gz"] = lambda _r, _b: Canned(
        200, [*XML, ("Content-Encoding", "gzip")], gzip.compress(big)
    )
    for path in ("/f", "/gz"):
        with pytest.raises(RetryLater, match="larger than 5000 bytes"):
            make(server.url(path), max_body_bytes=5000).fetch(SourceState())


def test_timeout_is_retry_later(server: CorpusServer, make: Callable[..., RssConnector]) -> None:
    def stall(_r: Request, _b: str) -> Canned:
        time.sleep(1.0)
        return Canned(200, XML, rss("late"))

    server.routes["/slow"] = stall
    started = time.monotonic()
    with pytest.raises(RetryLater, match="timed out"):
        make(server.url("/slow"), timeout=0.2, retries=0).fetch(SourceState())
    assert time.monotonic() - started < 0.9


def test_not_a_feed(server: CorpusServer, make: Callable[..., RssConnector]) -> None:
    page = b"<!DOCTYPE html><html><head><title>Blog</title></head><body><p>Hi</p></body></html>"
    server.routes["/page"] = lambda _r, _b: Canned(200, [("Content-Type", "text/html")], page)
    server.routes["/empty"] = lambda _r, _b: Canned(200, XML, b"")
    for path in ("/page", "/empty"):
        with pytest.raises(SourceMisconfigured, match="not a feed"):
            make(server.url(path)).fetch(SourceState())
    server.routes["/none"] = lambda _r, _b: Canned(200, XML, rss())
    result = make(server.url("/none")).fetch(SourceState())
    assert result.posts == [] and result.warning is None  # an empty feed is fine


def test_ill_formed_feed_keeps_readable_items(
    server: CorpusServer, make: Callable[..., RssConnector]
) -> None:
    broken = rss("A", "B").replace(b"</channel></rss>", b"<item><title>C &bogus; </title>")
    server.routes["/f"] = lambda _r, _b: Canned(200, XML, broken)
    result = make(server.url("/f")).fetch(SourceState())
    assert [p.title for p in result.posts][:2] == ["A", "B"]
    assert result.warning and result.warning.startswith("feed is not well-formed:")


def test_one_bad_item_does_not_stop_the_rest(
    server: CorpusServer, make: Callable[..., RssConnector], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = connectors.feed_parse._entry_post

    def fragile(entry: dict[str, Any], *args: Any) -> Any:
        if entry.get("title") == "B":
            raise ValueError("unusable item")
        return real(entry, *args)

    monkeypatch.setattr(connectors.feed_parse, "_entry_post", fragile)
    server.routes["/f"] = lambda _r, _b: Canned(200, XML, rss("A", "B", "C"))
    result = make(server.url("/f")).fetch(SourceState())
    assert [p.title for p in result.posts] == ["A", "C"] and result.skipped == 1


def test_local_file_sources(tmp_path: Path, make: Callable[..., RssConnector]) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "local.xml").write_bytes(rss("A", "B"))
    (tmp_path / "feeds" / "big.xml").write_bytes(rss(*[f"item{i}" for i in range(50)]))
    relative = make("feeds/local.xml")  # resolved against the settings folder (tmp_path)
    first = relative.fetch(SourceState())
    assert [p.title for p in first.posts] == ["A", "B"] and first.warning is None
    assert relative.fetch(first.new_state).not_modified
    by_uri = make((tmp_path / "feeds" / "local.xml").as_uri()).fetch(SourceState())
    assert len(by_uri.posts) == 2
    with pytest.raises(SourceMisconfigured, match="cannot read local feed"):
        make("feeds/missing.xml").fetch(SourceState())
    with pytest.raises(RetryLater, match="larger than"):
        make("feeds/big.xml", max_body_bytes=5000).fetch(SourceState())
