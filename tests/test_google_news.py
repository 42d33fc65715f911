"""google_news: the search URL from query/language/country, outlets as authors, incremental runs.

The feed served is the demo's Google News search (examples/demo/feeds), which keeps the real
shape of Google's RSS: "Headline - Outlet" titles, a `<source>` element, a description that
only repeats the headline and the outlet.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from connectors.base import SourceState
from connectors.google_news import GoogleNewsConnector, GoogleNewsOptions, search_feed_url
from monitor.app.pipeline import Pipeline
from monitor.core.errors import SettingsError, SourceMisconfigured
from monitor.core.models import Mention
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.corpus_server import CorpusServer
from tests.feed_support import connector_for, feed_responder

REPO = Path(__file__).resolve().parents[1]
DEMO_FEED = REPO / "examples" / "demo" / "feeds" / "google-news-calderix.xml"
RSS = "application/rss+xml; charset=UTF-8"


def test_search_url_encodes_the_query_and_edition() -> None:
    options = GoogleNewsOptions(query=' "Calderix"  OR  "Calderix Móvil" ', language="es",
                                country="es")
    url = search_feed_url(options)
    assert url.startswith("https://news.google.com/rss/search?q=")
    assert url.endswith("&hl=es&gl=ES&ceid=ES:es")
    query = parse_qs(url.split("?", 1)[1])
    assert query["q"] == ['"Calderix" OR "Calderix Móvil"']
    assert GoogleNewsOptions(query="x").country == "US"  # defaults: the US English edition


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"query": "   "}, "query is empty"),
        ({"query": "x", "language": "spanish"}, "not a language code"),
        ({"query": "x", "country": "ESP"}, "two letters"),
        ({"query": "x", "base_url": "news.google.com"}, r"not an http\(s\) address"),
        ({"query": "x", "url": "https://x"}, "Extra inputs"),
        ({}, "Field required"),
    ],
)
def test_bad_options_say_what_to_write(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        GoogleNewsOptions.model_validate(options)


def test_settings_errors_name_the_key(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SettingsError) as raised:
        make_settings(sources=[{"name": "gn", "kind": "google_news", "query": "x",
                                "country": "Spain"}])
    assert "sources[0] ('gn').country" in str(raised.value)


def test_fetch_credits_outlets_and_second_run_adds_nothing(tmp_path: Path) -> None:
    with CorpusServer() as server:
        server.routes["/rss/search"] = feed_responder(DEMO_FEED.read_bytes(), RSS)
        options = {"query": '"Calderix"', "language": "es", "country": "ES",
                   "base_url": server.base_url}
        with connector_for(GoogleNewsConnector, options, tmp_path) as connector:
            first = connector.fetch(SourceState())
            second = connector.fetch(first.new_state)
        asked = server.requests_to("/rss/search")
    assert parse_qs(asked[0].query) == {
        "q": ['"Calderix"'], "hl": ["es"], "gl": ["ES"], "ceid": ["ES:es"]
    }
    assert len(first.posts) == 12
    outage = next(p for p in first.posts if "avería deja sin fibra" in (p.title or ""))
    assert outage.title == (
        "Una avería deja sin fibra a miles de hogares del sur de Madrid y Calderix no da plazos"
    )
    assert outage.author == "El Faro Digital"
    assert outage.text == ""  # Google's description only repeats headline and outlet
    assert outage.published_at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    assert outage.url and outage.url.startswith("https://news.google.com/rss/articles/")
    assert all(p.author and not (p.title or "").endswith(f" - {p.author}") for p in first.posts)
    # The second poll sent the ETag back and got a 304: nothing parsed, nothing new.
    assert asked[1].headers.get("if-none-match")
    assert second.not_modified and second.posts == []


def test_an_html_page_is_reported_as_misconfigured(tmp_path: Path) -> None:
    with CorpusServer() as server:
        server.routes["/rss/search"] = feed_responder(
            b"<!doctype html><html><body>consent</body></html>", "text/html", etag=False
        )
        options = {"query": "x", "base_url": server.base_url}
        with (
            connector_for(GoogleNewsConnector, options, tmp_path) as connector,
            pytest.raises(SourceMisconfigured, match="not a feed"),
        ):
            connector.fetch(SourceState())


def test_pipeline_stores_each_story_once(
    make_settings: Callable[..., Settings], database_url: str, db: Database
) -> None:
    with CorpusServer() as server:
        server.routes["/rss/search"] = feed_responder(DEMO_FEED.read_bytes(), RSS)
        settings = make_settings(
            database_url,
            http={"allow_private_addresses": True},
            sources=[{"name": "gn", "kind": "google_news", "query": '"Calderix"',
                      "language": "es", "country": "ES", "base_url": server.base_url}],
        )
        pipeline = Pipeline(settings, db)
        try:
            first = pipeline.run_sources()
            second = pipeline.run_sources()
        finally:
            pipeline.close()
    assert first[0].error is None and first[0].new_mentions > 0
    assert second[0].not_modified and second[0].new_mentions == 0
    with db.sessions() as session:
        mentions = session.scalars(select(Mention)).all()
    assert len(mentions) == first[0].new_mentions
    assert {m.author for m in mentions} >= {"El Faro Digital"}
    assert not any((m.title or "").endswith(" - El Faro Digital") for m in mentions)
