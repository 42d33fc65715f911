"""A feed address as settings may give it, checked the same way by every feed-based connector
and by OPML imports (its own module so that neither imports the other)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def check_feed_url(value: str) -> str:
    """A feed address as settings may give it: http(s) URL, file:// URL or local path.

    Raises ValueError saying how to write it; shared by every feed-based connector.
    """
    value = value.strip()
    if not value:
        raise ValueError(
            'the feed url is empty — write the feed address, like "https://example.com/feed.xml"'
        )
    if _WINDOWS_DRIVE.match(value):
        return value
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError(f"{value!r} has no host — write it as https://host/path/feed.xml")
    elif parts.scheme not in ("", "file"):
        raise ValueError(
            f"unsupported scheme {parts.scheme!r} in {value!r} — use an http:// or https:// "
            "URL, a file:// URL or a local path"
        )
    return value
