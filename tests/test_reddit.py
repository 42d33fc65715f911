"""Reddit connector: recorded listings over local HTTP into stored mentions, the recorded
`before` polling chain (/r/all/new then /r/all/new?before=t3_5jo13y), and the RSS fallback."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from connectors.base import ConnectorContext, SourceState
from connectors.reddit import RedditConnector, RedditOptions, parse_listing
from monitor.core.errors import RetryLater, SourceMisconfigured
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.api_support import NOW, api_server, loopback_client, pipeline_for, stored_mentions
from tests.corpus_server import ApiCorpus, Canned, CorpusServer, Request

BASE = "https://www.reddit.com"


def body(shared_dir: Path, name: str) -> object:
    return json.loads((shared_dir / "corpora" / "api" / "reddit" / name).read_bytes())


def connector(server: CorpusServer, **options: object) -> RedditConnector:
    opts = RedditOptions.model_validate({"base_url": server.base_url, **options})
    context = ConnectorContext(http=loopback_client(), base_dir=Path("."), now=NOW)
    return RedditConnector("reddit", opts, context)


def test_parse_listing(shared_dir: Path) -> None:
    posts, before, after, skipped = parse_listing(body(shared_dir, "r_all_new_2016.json"), "r")
    assert (len(posts), before, after, skipped) == (100, None, "t3_5jo10c", 0)
    first = posts[0]
    assert first.external_id == "t3_5jo13y"
    assert first.url == (
        "https://www.reddit.com/r/LeagueOfVideos/comments/5jo13y/"
        "farewell_rush_we_will_never_forget_your_stream/"
    )
    assert (first.author, first.author_handle) == ("AnotherProGamer", "u/AnotherProGamer")
    assert first.title == "Farewell Rush - We will never forget your stream"
    assert first.published_at == datetime(2016, 12, 22, 2, 17, 30, tzinfo=UTC)
    assert first.metrics == {"score": 1, "comments": 0}
    assert first.media == ("https://www.youtube.com/watch?v=w5aNSHEUfJE",)


def test_parse_search_listing_with_self_posts(shared_dir: Path) -> None:
    posts, *_ = parse_listing(body(shared_dir, "search_r_all_relevance_2016.json"), "r")
    assert len(posts) == 6
    first = posts[0]
    assert first.text.startswith("# solved") and first.media == ()  # a self post
    assert first.metrics == {"score": 0, "comments": 21}
    # The search permalink's "?ref=search_posts" is tracking, not part of the post's URL.
    assert first.url == (
        "https://www.reddit.com/r/redditdev/comments/3gpbiu/"
        "prawoauth2util_problem_using_get_banned_raise/"
    )


def test_before_chain_into_stored_mentions(
    shared_dir: Path, db: Database, make_settings: Callable[..., Settings], database_url: str
) -> None:
    with api_server(shared_dir) as srv:
        pipeline, settings = pipeline_for(
            make_settings,
            database_url,
            db,
            brand_query="Trump OR Alzheimer*",
            source={"kind": "reddit", "base_url": srv.base_url, "subreddits": ["all"]},
        )
        source = settings.sources[0]
        first = pipeline.run_source(source)
        assert first.ok, first.error
        assert first.fetched == 100 and first.new_mentions == 5  # five titles name Trump
        assert srv.requests[0].path == "/r/all/new.json"
        assert parse_qs(srv.requests[0].query) == {"limit": ["100"], "raw_json": ["1"]}

        asked = len(srv.requests)
        second = pipeline.run_source(source)  # r_all_new_before_2016.json: four newer posts
        assert second.ok and second.fetched == 4 and second.new_mentions == 1
        assert parse_qs(srv.requests[asked].query)["before"] == ["t3_5jo13y"]
        assert len(srv.requests) == asked + 1  # a page that is not full ends the walk

        asked = len(srv.requests)
        third = pipeline.run_source(source)
        assert third.ok and third.new_mentions == 0 and third.fetched == 0
        assert parse_qs(srv.requests[asked].query)["before"] == ["t3_5jo144"]
    stored = stored_mentions(db)
    assert len(stored) == 6
    news = stored["t3_5jo144"]
    assert news.title is not None and news.title.startswith("Newly discovered disease")
    assert news.author == "3joan" and news.author_handle == "u/3joan"
    assert news.url == (
        f"{BASE}/r/UpliftingNews/comments/5jo144/newly_discovered_disease_could_hold_key_to/"
    )
    assert news.published_at == datetime(2016, 12, 22, 2, 17, 32, tzinfo=UTC)
    assert news.metrics == {"score": 1, "comments": 0}


def test_search_url_with_subreddits() -> None:
    with CorpusServer() as srv:
        srv.routes["/r/spain+askspain/search.json"] = lambda _r, _b: Canned(
            200, [], b'{"kind": "Listing", "data": {"children": [], "after": null}}'
        )
        connector(srv, query="Calderix", subreddits=["r/spain", "askspain"]).fetch(SourceState())
        (request,) = srv.requests
    assert parse_qs(request.query) == {
        "q": ["Calderix"],
        "sort": ["new"],
        "restrict_sr": ["1"],
        "limit": ["100"],
        "raw_json": ["1"],
    }


def test_refused_json_falls_back_to_the_rss_search_feed(shared_dir: Path) -> None:
    """The quarantine 403 (recorded) on the JSON endpoint; the recorded search.rss answers."""
    api = ApiCorpus(shared_dir / "corpora" / "api")
    refusal = api.recording("reddit/error_403_quarantined_2016.json")
    feed = (
        shared_dir / "corpora" / "feeds" / "real" / "feed-rs" / "rss_2.0_reddit.xml"
    ).read_bytes()
    with CorpusServer(api) as srv:
        srv.routes["/search.json"] = lambda r, b: api.respond(refusal, r, b)
        srv.routes["/search.rss"] = lambda _r, _b: Canned(
            200, [("Content-Type", "application/atom+xml; charset=UTF-8")], feed
        )
        conn = connector(srv, query="site:kevincox.ca")
        result = conn.fetch(SourceState())
        assert [r.path for r in srv.requests] == ["/search.json", "/search.rss"]
        assert parse_qs(srv.requests[1].query)["sort"] == ["new"]
        again = conn.fetch(result.new_state)
    assert result.warning and "RSS" in result.warning and "403" in result.warning
    first = result.posts[0]
    assert first.external_id == "t3_qksbf1"  # the same fullname as the JSON listing
    assert first.title == "Announcing FeedMail"
    assert (first.author, first.author_handle) == ("kevincox_ca", "u/kevincox_ca")
    assert first.url == "https://www.reddit.com/r/kevincox/comments/qksbf1/announcing_feedmail/"
    assert again.posts == []  # the fallback is incremental too


def test_no_fallback_for_a_wrong_address(shared_dir: Path) -> None:
    with api_server(shared_dir) as srv:
        conn = connector(srv, subreddits=["doesnotexist"])
        with pytest.raises(SourceMisconfigured, match="404"):
            conn.fetch(SourceState())
        assert [urlsplit(r.path).path for r in srv.requests] == ["/r/doesnotexist/new.json"]


def test_html_instead_of_json_is_a_clear_error(shared_dir: Path) -> None:
    api = ApiCorpus(shared_dir / "corpora" / "api")
    page = api.recording("reddit/redirect_301_share_url_2023.html")

    def html(request: Request, base_url: str) -> Canned:
        canned = api.respond(page, request, base_url)
        return Canned(200, [("Content-Type", "text/html")], canned.body)

    with CorpusServer(api) as srv:
        srv.routes["/r/all/new.json"] = html
        with pytest.raises(SourceMisconfigured, match="HTML"):
            connector(srv, subreddits=["all"], fallback_rss=False).fetch(SourceState())


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({}, "nothing to follow"),
        ({"subreddits": ["no spaces"]}, 'like "spain"'),
        ({"query": "x", "base_url": "reddit.com"}, "https://www.reddit.com"),
        ({"query": "x", "limit": 0}, "greater than or equal"),
        ({"query": "x", "sort": "hot"}, "Extra inputs"),
    ],
)
def test_options_say_how_to_fix_them(options: dict[str, object], fix: str) -> None:
    with pytest.raises(ValidationError, match=fix):
        RedditOptions.model_validate(options)


@pytest.mark.parametrize(
    ("json_answer", "error", "asked"),
    [
        # A refusal, and no feed either: both causes are reported, and it is not temporary.
        (Canned(403, [], b'{"reason": "quarantined"}'), SourceMisconfigured, 2),
        # A long 429 pauses the whole host: the feed is not even asked, and it stays temporary.
        (Canned(429, [("Retry-After", "3600")], b""), RetryLater, 1),
        # A cut-off body or a server error is not a refusal: no fallback, the real cause.
        (Canned(200, [("Content-Type", "application/json")], b'{"kind": "List'), RetryLater, 1),
    ],
)
def test_fallback_only_for_refusals_and_failures_name_the_cause(
    json_answer: Canned, error: type[Exception], asked: int
) -> None:
    with CorpusServer() as srv:
        srv.routes["/r/all/new.json"] = lambda _r, _b: json_answer
        with pytest.raises(error) as caught:
            connector(srv, subreddits=["all"]).fetch(SourceState())
        assert len(srv.requests) == asked
    if json_answer.status != 200:
        assert str(json_answer.status) in str(caught.value) and "RSS" in str(caught.value)
