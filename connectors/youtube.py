"""A YouTube channel or playlist as a source, through YouTube's public Atom feeds (no API key).

```toml
[[sources]]
name = "YouTube: Calderix channel"
kind = "youtube"
channel_id = "UC7_gcs09iThXybpVgjHZ_7g"     # or playlist_id = "PL…", or feed_url = "https://…"
every = "1h"
```

The connector builds https://www.youtube.com/feeds/videos.xml?channel_id=… (or
?playlist_id=…) and fetches it like any feed (connectors/rss.py). feed_parse reads the
`media:group`: the description becomes the text, `media:statistics/@views` the `views`
metric and `media:starRating/@count` the `likes` metric, which rank the digest by reach.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

from pydantic import field_validator, model_validator

from connectors.base import ConnectorOptions
from connectors.feed_url import check_feed_url
from connectors.rss import RssConnector

YOUTUBE = "https://www.youtube.com"
#: Channel ids are "UC" + 22 URL-safe base64 characters.
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
#: Playlist ids: a 2-letter prefix (PL, UU, OL, FL…) and at least 10 URL-safe characters.
_PLAYLIST_ID = re.compile(r"^[A-Za-z]{2}[A-Za-z0-9_-]{10,64}$")


class YoutubeOptions(ConnectorOptions):
    """Exactly one of `channel_id`, `playlist_id` or `feed_url`; `base_url` for tests."""

    channel_id: str | None = None
    playlist_id: str | None = None
    feed_url: str | None = None
    base_url: str = YOUTUBE

    @field_validator("channel_id")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.match(value.strip()):
            raise ValueError(
                f"{value!r} is not a channel id — it starts with UC and has 24 characters; "
                "find it in the channel page's address or its 'Share channel' menu"
            )
        return value.strip() if value else value

    @field_validator("playlist_id")
    @classmethod
    def _playlist(cls, value: str | None) -> str | None:
        if value is not None and not _PLAYLIST_ID.match(value.strip()):
            raise ValueError(
                f"{value!r} is not a playlist id — copy the list=… value of the playlist's "
                "address, like PLxxxxxxxxxxxxxxxx"
            )
        return value.strip() if value else value

    @field_validator("feed_url")
    @classmethod
    def _feed(cls, value: str | None) -> str | None:
        return None if value is None else check_feed_url(value)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{value!r} is not an http(s) address — leave base_url out to use {YOUTUBE}"
            )
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _exactly_one(self) -> YoutubeOptions:
        given = [k for k in ("channel_id", "playlist_id", "feed_url") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                (" and ".join(given) + " are set together — keep only one") if given else
                'say which videos to watch: channel_id = "UC…", playlist_id = "PL…" '
                'or feed_url = "https://www.youtube.com/feeds/videos.xml?channel_id=…"'
            )
        return self


def videos_feed_url(options: YoutubeOptions) -> str:
    """The Atom feed of the channel or playlist (or the `feed_url` as given)."""
    if options.feed_url:
        return options.feed_url
    if options.channel_id:
        query = {"channel_id": options.channel_id}
    else:
        query = {"playlist_id": options.playlist_id or ""}
    return f"{options.base_url}/feeds/videos.xml?{urlencode(query)}"


class YoutubeConnector(RssConnector):
    """The latest videos (YouTube lists 15) of a channel or playlist, with views and likes."""

    kind: ClassVar[str] = "youtube"
    Options: ClassVar[type[ConnectorOptions]] = YoutubeOptions
    default_every: ClassVar[str] = "1h"

    options: YoutubeOptions  # type: ignore[assignment]

    def feed_url(self) -> str:
        return videos_feed_url(self.options)
