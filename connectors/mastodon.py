"""Mastodon (and compatible fediverse servers): hashtag timelines and status search.

```toml
[[sources]]
name = "Mastodon #calderix"
kind = "mastodon"
instance = "https://mastodon.social"
tags = ["calderix"]            # public hashtag timelines, no account needed
query = "Calderix"             # v2 search, statuses (most servers require a token)
token_env = "MASTODON_TOKEN"   # optional: env var holding an access token
every = "10m"
```

Paging follows the server's own `Link` header: on the first run the newest page and then
`rel="next"` (older) pages up to `max_pages`; later runs ask `min_id=<newest seen>` and follow
`rel="prev"` (newer) pages, so nothing between two runs is missed and nothing is asked twice.
Ids are compared as numbers (they are snowflakes; as text "9" > "10").
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.api_common import (
    Page,
    TokenEnvOption,
    Walk,
    dump_cursors,
    expect,
    load_cursors,
    metrics,
    parse_items,
    parse_link_header,
    parse_time,
    read_json,
    remember_newest_first,
    same_origin,
    token_from_env,
    validate_base_url,
    walk_pages,
)
from connectors.base import Connector, ConnectorOptions, FetchResult, SourceState
from connectors.html_text import html_to_text, plain_text
from monitor.core.errors import SkipItem
from monitor.core.rawpost import RawPost

_TAG = re.compile(r"^\w+$")


class MastodonOptions(TokenEnvOption):
    """`instance`, then `tags` and/or `query`; `limit` is the page size (Mastodon max 40)."""

    instance: str
    tags: list[str] = Field(default_factory=list)
    query: str | None = None
    limit: int = Field(40, ge=1, le=40)

    @field_validator("instance")
    @classmethod
    def _instance(cls, value: str) -> str:
        return validate_base_url(value, "https://mastodon.social")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned = []
        for tag in value:
            name = tag.strip().lstrip("#")
            if not _TAG.match(name):
                raise ValueError(
                    f"{tag!r} is not a hashtag — write it without spaces or punctuation, "
                    'like "calderix"'
                )
            cleaned.append(name)
        return list(dict.fromkeys(cleaned))

    @field_validator("query")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError('query is empty — write the words to search, like "Calderix"')
        return value.strip() if value else value

    @model_validator(mode="after")
    def _something_to_follow(self) -> MastodonOptions:
        if not self.tags and not self.query:
            raise ValueError(
                'nothing to follow — set tags = ["yourbrand"], query = "Your Brand", or both'
            )
        return self


def status_id_key(status_id: str) -> tuple[int, str]:
    """Sort key for Mastodon ids: numeric snowflakes, compared as numbers."""
    return (len(status_id), status_id)


def parse_status(item: Any, source: str, instance_host: str) -> RawPost:
    """One status as a RawPost (a boost is read as the status it boosts)."""
    status = item.get("reblog") or item
    account = status.get("account") or {}
    uri = status.get("uri") or status.get("url")
    if not uri:
        raise SkipItem("status without uri")
    acct = str(account.get("acct") or account.get("username") or "")
    handle = None
    if acct:
        # A local account's acct has no domain; its profile URL carries the server's own.
        domain = urlsplit(str(account.get("url") or "")).hostname or instance_host
        handle = "@" + (acct if "@" in acct else f"{acct}@{domain}")
    spoiler = plain_text(status.get("spoiler_text"))
    return RawPost(
        source=source,
        external_id=str(uri),
        url=status.get("url") or str(uri),
        author=plain_text(account.get("display_name")) or account.get("username") or None,
        author_handle=handle,
        title=spoiler or None,
        text=html_to_text(status.get("content")),
        published_at=parse_time(status.get("created_at")),
        lang=status.get("language") or None,
        metrics=metrics(
            likes=status.get("favourites_count"),
            reposts=status.get("reblogs_count"),
            replies=status.get("replies_count"),
            quotes=status.get("quotes_count"),
            followers=account.get("followers_count"),
        ),
        media=tuple(
            str(m["url"])
            for m in status.get("media_attachments") or []
            if isinstance(m, dict) and m.get("url")
        ),
    )


def parse_statuses(
    body: Any, source: str, instance_host: str, url: str = ""
) -> tuple[list[RawPost], list[str], int]:
    """Posts, the Mastodon ids of the page (for cursors) and how many items were skipped."""
    items = expect(body, list, "a list of statuses", url)
    posts, skipped = parse_items(items, lambda i: parse_status(i, source, instance_host), source)
    ids = [str(i["id"]) for i in items if isinstance(i, dict) and i.get("id") is not None]
    return posts, ids, skipped


def parse_search(
    body: Any, source: str, instance_host: str, url: str = ""
) -> tuple[list[RawPost], list[str], int]:
    """The statuses of a v2 search answer (`{"accounts": …, "statuses": […], …}`)."""
    answer = expect(body, dict, "a search result object", url)
    return parse_statuses(answer.get("statuses") or [], source, instance_host, url)


class MastodonConnector(Connector):
    """Public hashtag timelines and (with a token, on most servers) full-text status search."""

    kind: ClassVar[str] = "mastodon"
    Options: ClassVar[type[ConnectorOptions]] = MastodonOptions
    default_every: ClassVar[str] = "10m"

    options: MastodonOptions

    def fetch(self, state: SourceState) -> FetchResult:
        token = token_from_env(self.options.token_env)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        cursors = load_cursors(state)
        seen = set(state.seen_ids)
        posts: list[RawPost] = []
        skipped, warnings = 0, []
        streams = [(f"tag:{t}", self._tag_url(t)) for t in self.options.tags]
        if self.options.query:
            streams.append((f"search:{self.options.query}", self._search_url()))
        for key, base in streams:
            since = cursors.get(key)
            walk, newest = self._walk(key, base, since, headers, seen)
            posts.extend(walk.posts)
            skipped += walk.skipped
            if walk.warning:
                warnings.append(f"{key}: {walk.warning}")
            if newest:
                cursors[key] = newest
        new_state = state.evolve(
            cursor=dump_cursors(cursors), seen_ids=remember_newest_first(state, posts)
        )
        return FetchResult(
            posts=posts, new_state=new_state, warning="; ".join(warnings) or None, skipped=skipped
        )

    def _walk(
        self, key: str, base: str, since: str | None, headers: dict[str, str], seen: set[str]
    ) -> tuple[Walk, str | None]:
        """Walk one stream; returns what was found and the newest id known afterwards."""
        host = urlsplit(self.options.instance).hostname or ""
        parse = parse_search if key.startswith("search:") else parse_statuses
        # Forward (min_id) walks go to newer pages, first runs to older ones.
        rel = "prev" if since else "next"
        ids: list[str] = [since] if since else []

        def fetch_page(url: str) -> Page:
            response = self.context.http.get(url, headers=headers)
            found, page_ids, bad = parse(read_json(response), self.name, host, response.url)
            ids.extend(page_ids)
            link = parse_link_header(response.headers.get("link")).get(rel)
            if link and not same_origin(link, self.options.instance):
                link = None  # never follow (or send a token) off the instance
            return Page(found, link if page_ids else None, bad)

        first = base if since is None else _with(base, min_id=since)
        walk = walk_pages(fetch_page, first, max_pages=self.options.max_pages, seen=seen)
        return walk, max(ids, key=status_id_key) if ids else None

    def _tag_url(self, tag: str) -> str:
        query = urlencode({"limit": self.options.limit})
        return f"{self.options.instance}/api/v1/timelines/tag/{quote(tag)}?{query}"

    def _search_url(self) -> str:
        query = urlencode(
            {"q": self.options.query, "type": "statuses", "limit": self.options.limit}
        )
        return f"{self.options.instance}/api/v2/search?{query}"


def _with(url: str, **params: str) -> str:
    return f"{url}&{urlencode(params)}"
