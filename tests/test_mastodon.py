"""Mastodon connector: recorded Mastodon 4.6 answers served over local HTTP, stored through
the pipeline; the recorded Link chain of a tag timeline walked page by page."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.base import ConnectorContext, SourceState
from connectors.mastodon import MastodonConnector, MastodonOptions, parse_statuses
from monitor.core.errors import SourceMisconfigured
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.api_support import NOW, api_server, loopback_client, pipeline_for, stored_mentions
from tests.corpus_server import Canned, CorpusServer, Request

TAG = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"
TAG_PATH = f"/api/v1/timelines/tag/{TAG}"
NEWEST = "117020582251615632"  # first status of timelines_tag_page1.json


def corpus(shared_dir: Path, name: str) -> object:
    return json.loads((shared_dir / "corpora" / "api" / "mastodon" / name).read_bytes())


def connector(server: CorpusServer, **options: object) -> MastodonConnector:
    opts = MastodonOptions.model_validate({"instance": server.base_url, **options})
    context = ConnectorContext(http=loopback_client(), base_dir=Path("."), now=NOW)
    return MastodonConnector("mastodon", opts, context)


def test_parse_statuses_is_a_pure_function_of_the_body(shared_dir: Path) -> None:
    posts, ids, skipped = parse_statuses(
        corpus(shared_dir, "timelines_tag_page1.json"), "m", "127.0.0.1"
    )
    assert skipped == 0 and len(posts) == 10 and ids[0] == NEWEST
    first = posts[0]
    assert first.external_id == (
        "http://localhost:3000/ap/users/117020566092212359/statuses/117020582251615632"
    )
    assert first.url == "http://localhost:3000/@mastodonpy_test_2/117020582251615632"
    assert first.text == f"Toot number 29! #{TAG}"  # HTML content → text
    assert first.author == "mastodonpy_test_2"  # empty display name → username
    assert first.author_handle == "@mastodonpy_test_2@localhost"  # the account's own domain
    assert first.published_at == datetime(2026, 8, 1, 13, 53, 0, 550000, tzinfo=UTC)
    assert first.lang == "ja"
    assert first.metrics == {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0, "followers": 0}


def test_public_timeline_keeps_followers_and_decodes_entities(shared_dir: Path) -> None:
    body = corpus(shared_dir, "timelines_public_anonymous.json")
    assert isinstance(body, list)
    posts, _ids, _skipped = parse_statuses(body, "m", "127.0.0.1")
    texts = {p.text for p in posts}
    assert "you can't say that on television" in texts
    followers = {p.url: p.metrics["followers"] for p in posts}
    assert followers == {s["url"]: s["account"]["followers_count"] for s in body}
    assert 1 in followers.values()


def test_one_broken_status_does_not_stop_the_page(shared_dir: Path) -> None:
    body = corpus(shared_dir, "timelines_tag_page1.json")
    assert isinstance(body, list)
    body[3] = {"id": "1", "account": None}  # no uri, no content
    body[5] = "not a status"
    posts, _ids, skipped = parse_statuses(body, "m", "127.0.0.1")
    assert len(posts) == 8 and skipped == 2


def test_link_chain_into_stored_mentions_then_min_id_poll(
    shared_dir: Path, db: Database, make_settings: Callable[..., Settings], database_url: str
) -> None:
    """page1 → page2 → page3 → page4_empty by rel="next"; then a min_id poll finds nothing."""
    with api_server(shared_dir) as srv:
        pipeline, settings = pipeline_for(
            make_settings,
            database_url,
            db,
            brand_query='"toot number"',
            source={
                "kind": "mastodon",
                "instance": srv.base_url,
                "tags": [f"#{TAG}"],
                "limit": 10,
                "max_pages": 10,
            },
        )
        first = pipeline.run_source(settings.sources[0])
        assert first.ok, first.error
        assert [r.query for r in srv.requests] == [
            "limit=10",
            "limit=10&max_id=117020582177108552",
            "limit=10&max_id=117020582097668259",
            "limit=10&max_id=117020582018205171",  # timelines_tag_page4_empty: [] ends it
        ]
        assert all(r.path == TAG_PATH for r in srv.requests)
        assert (first.fetched, first.matched, first.new_mentions) == (30, 30, 30)

        second = pipeline.run_source(settings.sources[0])
        assert second.ok and second.new_mentions == 0 and second.fetched == 0
        assert srv.requests[-1].query == f"limit=10&min_id={NEWEST}"  # the rel="prev" poll
        assert len(srv.requests) == 5
    mentions = stored_mentions(db)
    assert len(mentions) == 30
    zero = mentions["http://localhost:3000/ap/users/117020566092212359/statuses/117020582018205171"]
    assert zero.text == f"Toot number 0! #{TAG}"
    assert zero.url == "http://localhost:3000/@mastodonpy_test_2/117020582018205171"
    assert zero.author == "mastodonpy_test_2"
    assert zero.author_handle == "@mastodonpy_test_2@localhost"
    assert zero.published_at is not None and zero.published_at.year == 2026
    assert zero.metrics == {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0, "followers": 0}


def test_page_limit_bounds_a_run_and_the_cursor_is_the_newest_id(shared_dir: Path) -> None:
    with api_server(shared_dir) as srv:
        result = connector(srv, tags=[TAG], limit=10, max_pages=2).fetch(SourceState())
        assert len(srv.requests) == 2 and len(result.posts) == 20
    assert json.loads(result.new_state.cursor or "{}") == {f"tag:{TAG}": NEWEST}


def test_a_server_that_replays_a_page_cannot_loop_us(shared_dir: Path) -> None:
    """#hoot's rel="next" was never recorded: the server answers the same page again."""
    with api_server(shared_dir) as srv:
        result = connector(srv, tags=["hoot"], max_pages=10).fetch(SourceState())
        assert len(srv.requests) == 2
    assert [p.text for p in result.posts] == ["#hoot (hashtag toot)"]


def test_search_with_token_from_the_environment(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIA_TEST_MASTODON_TOKEN", "s3cret-token")
    with api_server(shared_dir) as srv:
        conn = connector(
            srv, query="mastodonpy_test", token_env="VIGIA_TEST_MASTODON_TOKEN", limit=10
        )
        result = conn.fetch(SourceState())
        (request,) = srv.requests
    assert request.path == "/api/v2/search"
    assert "type=statuses" in request.query and "q=mastodonpy_test" in request.query
    assert request.headers["authorization"] == "Bearer s3cret-token"
    assert result.posts == []  # search_v2_type_statuses_empty.json: no statuses


def test_missing_token_names_the_variable(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIGIA_TEST_MASTODON_TOKEN", raising=False)
    with api_server(shared_dir) as srv:
        conn = connector(srv, tags=[TAG], token_env="VIGIA_TEST_MASTODON_TOKEN")
        with pytest.raises(SourceMisconfigured, match="VIGIA_TEST_MASTODON_TOKEN"):
            conn.fetch(SourceState())
        assert srv.requests == []


def test_links_off_the_instance_are_not_followed(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile Link header must not send our token (or us) to another host."""
    monkeypatch.setenv("VIGIA_TEST_MASTODON_TOKEN", "s3cret-token")
    page = (shared_dir / "corpora" / "api" / "mastodon" / "timelines_tag_page1.json").read_bytes()

    def hostile(_r: Request, _b: str) -> Canned:
        link = '<http://evil.example/steal?max_id=1>; rel="next"'
        return Canned(200, [("Content-Type", "application/json"), ("Link", link)], page)

    with api_server(shared_dir) as srv:
        srv.routes[TAG_PATH] = hostile
        conn = connector(srv, tags=[TAG], token_env="VIGIA_TEST_MASTODON_TOKEN", max_pages=5)
        assert len(conn.fetch(SourceState()).posts) == 10
        assert len(srv.requests) == 1


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"instance": "https://m.example"}, "tags ="),
        ({"instance": "mastodon.social", "tags": ["x"]}, "https://mastodon.social"),
        ({"instance": "https://m.example", "tags": ["two words"]}, "without spaces"),
        ({"instance": "https://m.example", "query": "  "}, "query is empty"),
        ({"instance": "https://m.example", "tags": ["x"], "token_env": "my token"}, "export"),
        ({"instance": "https://m.example", "tags": ["x"], "limit": 80}, "less than or equal"),
        ({"instance": "https://m.example", "tags": ["x"], "tag": ["typo"]}, "Extra inputs"),
    ],
)
def test_options_say_how_to_fix_them(options: dict[str, object], fix: str) -> None:
    with pytest.raises(ValidationError, match=fix):
        MastodonOptions.model_validate(options)
