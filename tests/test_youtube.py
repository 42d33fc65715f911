"""youtube: channel/playlist feed URLs, and the real recorded channel feed served locally
(corpora/feeds/real/feed-rs/atom_mediarss_youtube_1.xml) into posts and stored mentions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from connectors.base import SourceState
from connectors.youtube import YoutubeConnector, YoutubeOptions, videos_feed_url
from monitor.app.pipeline import Pipeline
from monitor.core.models import Mention
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.corpus_server import CorpusServer
from tests.feed_support import connector_for, feed_responder

CHANNEL = "UC7_gcs09iThXybpVgjHZ_7g"
ATOM = "application/atom+xml; charset=UTF-8"


@pytest.fixture
def youtube_feed(shared_dir: Path) -> bytes:
    return (shared_dir / "corpora/feeds/real/feed-rs/atom_mediarss_youtube_1.xml").read_bytes()


def test_feed_urls() -> None:
    assert videos_feed_url(YoutubeOptions(channel_id=CHANNEL)) == (
        f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"
    )
    playlist = "UU7_gcs09iThXybpVgjHZ_7g"
    assert videos_feed_url(YoutubeOptions(playlist_id=playlist)) == (
        f"https://www.youtube.com/feeds/videos.xml?playlist_id={playlist}"
    )
    own = "https://feeds.example/videos.xml"
    assert videos_feed_url(YoutubeOptions(feed_url=own)) == own


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "say which videos to watch"),
        ({"channel_id": CHANNEL, "playlist_id": "PLabcdefghijkl"}, "keep only one"),
        ({"channel_id": "pbsspacetime"}, "starts with UC"),
        ({"playlist_id": "x"}, "not a playlist id"),
        ({"feed_url": "ftp://x/y"}, "unsupported scheme"),
    ],
)
def test_bad_options_say_what_to_write(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        YoutubeOptions.model_validate(options)


def test_recorded_channel_feed(youtube_feed: bytes, tmp_path: Path) -> None:
    with CorpusServer() as server:
        # YouTube sends no validators: the unchanged body is recognised by its hash.
        server.routes["/feeds/videos.xml"] = feed_responder(youtube_feed, ATOM, etag=False)
        options = {"channel_id": CHANNEL, "base_url": server.base_url}
        with connector_for(YoutubeConnector, options, tmp_path) as connector:
            first = connector.fetch(SourceState())
            second = connector.fetch(first.new_state)
        asked = server.requests_to("/feeds/videos.xml")
    assert parse_qs(asked[0].query) == {"channel_id": [CHANNEL]}
    [video] = first.posts
    assert video.external_id == "yt:video:0A1ouV7iD8o"
    assert video.url == "https://www.youtube.com/watch?v=0A1ouV7iD8o"
    assert video.title == "Navigating with Quantum Entanglement"
    assert video.author == "PBS Space Time"
    assert video.text.startswith("Check Out Weathered on PBS Terra")
    assert video.published_at == datetime(2020, 12, 22, 19, 15, 1, tzinfo=UTC)
    assert video.metrics == {"views": 304321, "likes": 15020}
    assert "https://i1.ytimg.com/vi/0A1ouV7iD8o/hqdefault.jpg" in video.media
    assert len(asked) == 2 and second.not_modified and second.posts == []


def test_pipeline_stores_the_video_once(
    youtube_feed: bytes,
    make_settings: Callable[..., Settings],
    database_url: str,
    db: Database,
) -> None:
    with CorpusServer() as server:
        server.routes["/feeds/videos.xml"] = feed_responder(youtube_feed, ATOM)
        settings = make_settings(
            database_url,
            brands=[{"name": "Quantum", "query": "quantum"}],
            http={"allow_private_addresses": True},
            sources=[{"name": "yt", "kind": "youtube", "channel_id": CHANNEL,
                      "base_url": server.base_url}],
        )
        pipeline = Pipeline(settings, db)
        try:
            first = pipeline.run_sources()
            second = pipeline.run_sources()
        finally:
            pipeline.close()
    assert first[0].error is None and first[0].new_mentions == 1
    assert second[0].new_mentions == 0
    with db.sessions() as session:
        [mention] = session.scalars(select(Mention)).all()
        assert mention.author == "PBS Space Time"
        assert mention.url == "https://www.youtube.com/watch?v=0A1ouV7iD8o"
        assert mention.metrics == {"views": 304321, "likes": 15020}
        assert mention.published_at == datetime(2020, 12, 22, 19, 15, 1, tzinfo=UTC)
