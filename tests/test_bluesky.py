"""Bluesky connector: recorded searchPosts answers over local HTTP into stored mentions,
the cursor chain, and the `since` time cursor kept in the source state."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pydantic import ValidationError

from connectors.base import ConnectorContext, SourceState
from connectors.bluesky import BlueskyConnector, BlueskyOptions, parse_search_posts, post_url
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.api_support import NOW, api_server, loopback_client, pipeline_for, stored_mentions
from tests.corpus_server import ApiCorpus, Canned, CorpusServer, Request

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
FIRST_URI = "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"


def body(shared_dir: Path, name: str) -> object:
    return json.loads((shared_dir / "corpora" / "api" / "bluesky" / name).read_bytes())


def connector(server: CorpusServer, now: datetime = NOW, **options: object) -> BlueskyConnector:
    opts = BlueskyOptions.model_validate({"appview": server.base_url, **options})
    context = ConnectorContext(http=loopback_client(), base_dir=Path("."), now=now)
    return BlueskyConnector("bluesky", opts, context)


def query_of(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.query).items()}


def test_parse_search_posts(shared_dir: Path) -> None:
    posts, cursor, skipped = parse_search_posts(
        body(shared_dir, "searchPosts_redistricting_2025.json"), "b"
    )
    assert (len(posts), cursor, skipped) == (25, "25", 0)
    first = posts[0]
    assert first.external_id == FIRST_URI
    assert first.url == "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert first.author == "Sociology papers (journals + SocArXiv)"
    assert first.author_handle == "@socpaperbot.bsky.social"
    assert first.text.startswith("Ends Versus Means: Public Opinion on Congressional Redistricting")
    # createdAt (client clock) is earlier than indexedAt: the earlier one is the post's time.
    assert first.published_at == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=UTC)
    assert first.metrics == {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0}


def test_older_lexicon_without_quotes_and_with_langs(shared_dir: Path) -> None:
    posts, _cursor, _skipped = parse_search_posts(
        body(shared_dir, "searchPosts_redistricting_2023.json"), "b"
    )
    assert len(posts) == 23
    assert posts[0].lang == "en" and posts[0].metrics == {"likes": 1, "reposts": 0, "replies": 0}
    # A createdAt with "+00:00" instead of "Z" (seen in the 2025 page too) parses as UTC.
    assert all(p.published_at and p.published_at.tzinfo == UTC for p in posts)


def test_post_url_falls_back_to_the_did() -> None:
    uri = "at://did:plc:abc/app.bsky.feed.post/3kxyz"
    assert post_url(None, "did:plc:abc", uri) == "https://bsky.app/profile/did:plc:abc/post/3kxyz"


def test_search_into_stored_mentions_then_since_poll_adds_nothing(
    shared_dir: Path, db: Database, make_settings: Callable[..., Settings], database_url: str
) -> None:
    with api_server(shared_dir) as srv:
        pipeline, settings = pipeline_for(
            make_settings,
            database_url,
            db,
            brand_query="redistricting OR gerrymandering",
            source={"kind": "bluesky", "appview": srv.base_url, "query": "redistricting"},
        )
        first = pipeline.run_source(settings.sources[0])
        assert first.ok, first.error
        assert first.fetched == 25 and first.matched >= 20
        # Identical texts (a bot posting the same paper twice) are one mention, two sightings.
        assert first.new_mentions + first.new_sightings == len(stored_mentions(db)) >= 20
        assert query_of(srv.requests[0]) == {"q": "redistricting", "sort": "latest"}

        before = len(srv.requests)
        second = pipeline.run_source(settings.sources[0])
        assert second.ok and second.new_mentions == 0
        since = query_of(srv.requests[before])["since"]
        assert since == "2025-05-19T17:10:09.561858Z"  # from the stored state
    stored = stored_mentions(db)[FIRST_URI]
    assert stored.url == "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert stored.author == "Sociology papers (journals + SocArXiv)"
    assert stored.author_handle == "@socpaperbot.bsky.social"
    assert stored.published_at == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=UTC)
    assert stored.metrics == {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0}
    assert "Congressional Redistricting" in stored.text


def test_cursor_chain(shared_dir: Path) -> None:
    """The 2025 page's cursor ("25") is sent back; the older page for the same query (the
    2023 recording) answers it, and its cursor repeats, which ends the walk."""
    api = ApiCorpus(shared_dir / "corpora" / "api")
    older = api.recording("bluesky/searchPosts_redistricting_2023.json")

    def search(request: Request, base_url: str) -> Canned:
        if "cursor" in query_of(request):
            return api.respond(older, request, base_url)
        return api(request, base_url)

    with CorpusServer(api) as srv:
        srv.routes[SEARCH] = search
        result = connector(srv, query="redistricting", max_pages=5).fetch(SourceState())
        cursors = [query_of(r).get("cursor") for r in srv.requests]
    assert cursors == [None, "25"]
    assert len(result.posts) == 25 + 23 and result.new_state.cursor is not None
    assert json.loads(result.new_state.cursor) == {
        "search:redistricting": "2025-05-19T17:10:09.561858Z"
    }


def test_an_unfinished_later_run_keeps_its_cursor(shared_dir: Path) -> None:
    """Stopped by max_pages before reaching known posts: the gap is read next time."""
    state = SourceState(cursor=json.dumps({"search:redistricting": "2025-05-18T00:00:00Z"}))
    with api_server(shared_dir) as srv:
        result = connector(srv, query="redistricting", max_pages=1).fetch(state)
    assert len(result.posts) == 25
    assert result.new_state.cursor == '{"search:redistricting":"2025-05-18T00:00:00Z"}'


def test_posts_older_than_since_are_dropped_when_the_server_ignores_it(shared_dir: Path) -> None:
    state = SourceState(cursor=json.dumps({"search:redistricting": "2025-05-19T14:00:00Z"}))
    with api_server(shared_dir) as srv:
        result = connector(srv, query="redistricting").fetch(state)
    times = [p.published_at for p in result.posts]
    assert len(times) == 10  # the ten posts from 14:00 UTC on; the rest predate `since`
    assert all(t and t >= datetime(2025, 5, 19, 14, tzinfo=UTC) for t in times)


def test_the_cursor_never_passes_the_run_start(shared_dir: Path) -> None:
    early = datetime(2025, 5, 19, 12, 0, tzinfo=UTC)  # before the newest recorded posts
    with api_server(shared_dir) as srv:
        result = connector(srv, now=early, query="redistricting", max_pages=1).fetch(SourceState())
    assert json.loads(result.new_state.cursor or "{}") == {
        "search:redistricting": "2025-05-19T12:00:00Z"
    }


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"query": " "}, "query is empty"),
        ({"query": "x", "appview": "public.api.bsky.app"}, "https://public.api.bsky.app"),
        ({"query": "x", "limit": 500}, "less than or equal"),
        ({}, "query"),
        ({"query": "x", "since": "2024"}, "Extra inputs"),
    ],
)
def test_options_say_how_to_fix_them(options: dict[str, object], fix: str) -> None:
    with pytest.raises(ValidationError, match=fix):
        BlueskyOptions.model_validate(options)
