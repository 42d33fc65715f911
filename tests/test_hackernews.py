"""Hacker News connector: the recorded 2014 Algolia answers (the minimal schema a connector
must tolerate) over local HTTP into stored mentions, and the created_at_i time cursor."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pydantic import ValidationError

from connectors.base import ConnectorContext, SourceState
from connectors.hackernews import HackerNewsConnector, HackerNewsOptions, parse_hits
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.api_support import NOW, api_server, loopback_client, pipeline_for, stored_mentions
from tests.corpus_server import Request

STORY_TIME = 1403235346  # created_at_i of the recorded "apple" story
COMMENT_TIME = 1403235154


def body(shared_dir: Path, name: str) -> object:
    return json.loads((shared_dir / "corpora" / "api" / "hackernews" / name).read_bytes())


def query_of(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.query).items()}


def connector(server_url: str, now: datetime = NOW, **options: object) -> HackerNewsConnector:
    opts = HackerNewsOptions.model_validate({"base_url": server_url, **options})
    context = ConnectorContext(http=loopback_client(), base_dir=Path("."), now=now)
    return HackerNewsConnector("hn", opts, context)


def test_parse_story(shared_dir: Path) -> None:
    posts, next_page, skipped = parse_hits(
        body(shared_dir, "search_by_date_tags-story_query-apple.json"), "hn"
    )
    assert (len(posts), next_page, skipped) == (1, 1, 0)  # page 0 of nbPages 1000
    story = posts[0]
    assert story.external_id == "7919424"
    assert story.url == "https://news.ycombinator.com/item?id=7919424"
    assert story.title == "Judge says concerned about Apple, Google hiring settlement"
    assert story.text == "" and story.author == "bradleyjg"
    assert story.published_at == datetime(2014, 6, 20, 3, 35, 46, tzinfo=UTC)
    assert story.metrics == {"score": 1, "comments": 0}
    assert story.media == (
        "http://in.reuters.com/article/2014/06/19/apple-google-settlement-idINL2N0P01ZI20140619",
    )


def test_parse_comment_html(shared_dir: Path) -> None:
    (comment,), _next, _skipped = parse_hits(
        body(shared_dir, "search_by_date_tags-comment_query-apple.json"), "hn"
    )
    assert comment.title is None and comment.author == "fleitz"
    assert comment.text.startswith("Yeah the article seems stupid, while technically they aren't")
    assert "\nI'm not the biggest fan of starbucks" in comment.text  # <p> → a new line
    assert comment.metrics == {"score": 1}  # num_comments is null on comments: not a zero


def test_stories_and_comments_into_stored_mentions_then_nothing_new(
    shared_dir: Path, db: Database, make_settings: Callable[..., Settings], database_url: str
) -> None:
    with api_server(shared_dir) as srv:
        pipeline, settings = pipeline_for(
            make_settings,
            database_url,
            db,
            brand_query="apple",
            source={
                "kind": "hackernews",
                "base_url": srv.base_url,
                "query": "apple",
                "hits_per_page": 1,
            },
        )
        first = pipeline.run_source(settings.sources[0])
        assert first.ok, first.error
        # Algolia matched the comment on "applauded"; the brand query (whole words) does not.
        assert (first.fetched, first.matched, first.new_mentions) == (2, 1, 1)
        asked = [query_of(r) for r in srv.requests]
        assert {q["tags"] for q in asked} == {"(story)", "(comment)"}
        assert all(q["query"] == "apple" and "numericFilters" not in q for q in asked)

        before = len(srv.requests)
        second = pipeline.run_source(settings.sources[0])
        assert second.ok and second.new_mentions == 0 and second.fetched == 0
        filters = {query_of(r)["numericFilters"] for r in srv.requests[before:]}
        assert filters == {f"created_at_i>={STORY_TIME}", f"created_at_i>={COMMENT_TIME}"}
    (story,) = stored_mentions(db).values()
    assert story.url == "https://news.ycombinator.com/item?id=7919424"
    assert story.author == "bradleyjg" and story.author_handle == "bradleyjg"
    assert story.title == "Judge says concerned about Apple, Google hiring settlement"
    assert story.published_at == datetime(2014, 6, 20, 3, 35, 46, tzinfo=UTC)
    assert story.metrics == {"score": 1, "comments": 0}


def test_pages_follow_until_nothing_new(shared_dir: Path) -> None:
    """nbPages says 1000; page 1 (never recorded) replays page 0, which ends the walk."""
    with api_server(shared_dir) as srv:
        result = connector(srv.base_url, query="apple", tags=["story"], hits_per_page=1).fetch(
            SourceState()
        )
        pages = [query_of(r).get("page") for r in srv.requests]
    assert pages == [None, "1"] and len(result.posts) == 1
    assert json.loads(result.new_state.cursor or "{}") == {"story:apple": str(STORY_TIME)}


def test_the_cursor_never_passes_the_run_start(shared_dir: Path) -> None:
    early = datetime(2014, 6, 20, 3, 0, tzinfo=UTC)  # before the recorded story
    with api_server(shared_dir) as srv:
        result = connector(
            srv.base_url, now=early, query="apple", tags=["story"], hits_per_page=1
        ).fetch(SourceState())
    assert json.loads(result.new_state.cursor or "{}") == {
        "story:apple": str(int(early.timestamp()))
    }


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"query": ""}, "query is empty"),
        ({"query": "x", "tags": ["job"]}, "'story', 'comment'"),
        ({"query": "x", "tags": []}, "at least 1"),
        ({"query": "x", "hits_per_page": 5000}, "less than or equal"),
        ({"query": "x", "base_url": "ftp://hn"}, "https://hn.algolia.com"),
    ],
)
def test_options_say_how_to_fix_them(options: dict[str, object], fix: str) -> None:
    with pytest.raises(ValidationError, match=fix):
        HackerNewsOptions.model_validate(options)
