"""Bluesky: post search (`app.bsky.feed.searchPosts`) on a public AppView.

```toml
[[sources]]
name = "Bluesky Calderix"
kind = "bluesky"
query = "Calderix"
appview = "https://public.api.bsky.app"   # the default; any AppView or PDS proxy works
lang = "es"                               # optional: only posts in this language
every = "10m"
```

Results come newest first. The first run reads the newest page and follows `cursor` to older
pages up to `max_pages`; later runs send `since=<newest time seen>` (inclusive, so the
newest known post comes back and is dropped as seen) and follow the cursor until they reach
known posts. If a run stops before reaching them, the time cursor stays where it was, so
the gap is read next time. A post's time is the earlier of its `createdAt` (set by the
client, which may lie) and `indexedAt` (set by the AppView), as Bluesky's own `sortAt` is.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

from pydantic import Field, field_validator

from connectors.api_common import (
    Page,
    PagedOptions,
    advance_time_cursor,
    dump_cursors,
    expect,
    load_cursors,
    metrics,
    parse_items,
    parse_time,
    read_json,
    remember_newest_first,
    validate_base_url,
    walk_pages,
)
from connectors.base import Connector, ConnectorOptions, FetchResult, SourceState
from connectors.html_text import plain_text
from monitor.core.errors import SkipItem
from monitor.core.rawpost import RawPost

SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"


class BlueskyOptions(PagedOptions):
    """`query` (Lucene-like Bluesky search syntax), `appview` base URL, optional `lang`."""

    query: str
    appview: str = "https://public.api.bsky.app"
    lang: str | None = None
    limit: int | None = Field(None, ge=1, le=100)

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('query is empty — write the words to search, like "Calderix"')
        return value.strip()

    @field_validator("appview")
    @classmethod
    def _appview(cls, value: str) -> str:
        return validate_base_url(value, "https://public.api.bsky.app")


def post_url(handle: str | None, did: str | None, uri: str) -> str:
    """`https://bsky.app/profile/<handle>/post/<rkey>` from an at:// URI."""
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    return f"https://bsky.app/profile/{handle or did}/post/{rkey}"


def parse_post(item: Any, source: str) -> RawPost:
    uri = item.get("uri")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise SkipItem("post without an at:// uri")
    author = item.get("author") or {}
    record = item.get("record") or {}
    handle = author.get("handle")
    created = parse_time(record.get("createdAt"))
    indexed = parse_time(item.get("indexedAt"))
    times = [t for t in (created, indexed) if t is not None]
    langs = record.get("langs") or []
    return RawPost(
        source=source,
        external_id=uri,
        url=post_url(handle, author.get("did"), uri),
        author=plain_text(author.get("displayName")) or handle or None,
        author_handle=f"@{handle}" if handle else None,
        text=plain_text(record.get("text")),
        published_at=min(times) if times else None,
        lang=langs[0] if langs and isinstance(langs[0], str) else None,
        metrics=metrics(
            likes=item.get("likeCount"),
            reposts=item.get("repostCount"),
            replies=item.get("replyCount"),
            quotes=item.get("quoteCount"),
        ),
    )


def parse_search_posts(
    body: Any, source: str, url: str = ""
) -> tuple[list[RawPost], str | None, int]:
    """Posts, the next-page cursor (None at the end) and the number of skipped items."""
    answer = expect(body, dict, "a searchPosts result object", url)
    items = expect(answer.get("posts", []), list, "a list of posts", url)
    posts, skipped = parse_items(items, lambda i: parse_post(i, source), source)
    cursor = answer.get("cursor")
    return posts, str(cursor) if cursor not in (None, "") else None, skipped


class BlueskyConnector(Connector):
    """Public post search; no account needed on the public AppView."""

    kind: ClassVar[str] = "bluesky"
    Options: ClassVar[type[ConnectorOptions]] = BlueskyOptions
    default_every: ClassVar[str] = "10m"

    options: BlueskyOptions

    def fetch(self, state: SourceState) -> FetchResult:
        key = f"search:{self.options.query}"
        cursors = load_cursors(state)
        since = cursors.get(key)
        asked: set[str] = set()

        def fetch_page(page_cursor: str | None) -> Page:
            response = self.context.http.get(
                self._url(since, page_cursor), headers={"Accept": "application/json"}
            )
            posts, cursor, skipped = parse_search_posts(
                read_json(response), self.name, response.url
            )
            floor = parse_time(since)
            if floor is not None:
                # Servers that ignore `since` must not bring back what is older than it.
                posts = [p for p in posts if not (p.published_at and p.published_at < floor)]
            if cursor in asked:
                cursor = None  # the server answered the same cursor again: stop
            if cursor is not None:
                asked.add(cursor)
            return Page(posts, cursor or None, skipped)

        walk = walk_pages(
            fetch_page, "", max_pages=self.options.max_pages, seen=set(state.seen_ids)
        )
        newest = advance_time_cursor(walk, parse_time(since), self.context.now)
        if newest is not None:
            cursors[key] = newest.isoformat().replace("+00:00", "Z")
        new_state = state.evolve(
            cursor=dump_cursors(cursors), seen_ids=remember_newest_first(state, walk.posts)
        )
        return FetchResult(
            posts=walk.posts, new_state=new_state, warning=walk.warning, skipped=walk.skipped
        )

    def _url(self, since: str | None, cursor: str | None) -> str:
        params: dict[str, str | int] = {"q": self.options.query, "sort": "latest"}
        if self.options.limit:
            params["limit"] = self.options.limit
        if self.options.lang:
            params["lang"] = self.options.lang
        if since:
            params["since"] = since
        if cursor:
            params["cursor"] = cursor
        return f"{self.options.appview}{SEARCH_PATH}?{urlencode(params)}"
