"""Google News search as a source: every outlet Google indexes, through one RSS feed.

```toml
[[sources]]
name = "Google News: Calderix (ES)"
kind = "google_news"
query = '"Calderix" OR "Calderix Móvil"'   # anything the Google News search box accepts
language = "es"                            # the edition: hl=es, gl=ES, ceid=ES:es
country = "ES"
every = "30m"
```

The connector only builds the search feed's URL; fetching (conditional GET, unchanged-body
skip, seen ids) is the rss connector's. Google appends the outlet to each headline
("Titular - El País") and names it in RSS's `<source>` element; feed_parse credits that
outlet as the author and strips it from the title, so the story matches the outlet's own
feed item and both become one mention.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

from pydantic import field_validator

from connectors.base import ConnectorOptions
from connectors.rss import RssConnector

GOOGLE_NEWS = "https://news.google.com"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


class GoogleNewsOptions(ConnectorOptions):
    """`query` (required), the edition's `language` and `country`, and `base_url` for tests or
    a mirror."""

    query: str
    language: str = "en"
    country: str = "US"
    base_url: str = GOOGLE_NEWS

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError(
                'the query is empty — write what to search for, like query = \'"Acme"\''
            )
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        value = value.strip()
        if not _LANGUAGE.match(value):
            raise ValueError(
                f'{value!r} is not a language code — use one like "es", "en" or "pt-BR"'
            )
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.strip()
        if not _COUNTRY.match(value):
            raise ValueError(f'{value!r} is not a country code — use two letters, like "ES"')
        return value.upper()

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{value!r} is not an http(s) address — leave base_url out to use {GOOGLE_NEWS}"
            )
        return value.strip().rstrip("/")


def search_feed_url(options: GoogleNewsOptions) -> str:
    """The Google News RSS search URL, e.g. …/rss/search?q=%22Acme%22&hl=es&gl=ES&ceid=ES:es."""
    query = urlencode(
        {
            "q": options.query,
            "hl": options.language,
            "gl": options.country,
            "ceid": f"{options.country}:{options.language}",
        },
        safe=":",
    )
    return f"{options.base_url}/rss/search?{query}"


class GoogleNewsConnector(RssConnector):
    """A Google News search feed (RSS 2.0 with one `<source>` outlet per item)."""

    kind: ClassVar[str] = "google_news"
    Options: ClassVar[type[ConnectorOptions]] = GoogleNewsOptions
    default_every: ClassVar[str] = "30m"

    options: GoogleNewsOptions  # type: ignore[assignment]

    def feed_url(self) -> str:
        return search_feed_url(self.options)
