"""Hacker News: stories and comments through the Algolia search API (`search_by_date`).

```toml
[[sources]]
name = "Hacker News Calderix"
kind = "hackernews"
query = "Calderix"
tags = ["story", "comment"]   # the default; also "ask_hn", "show_hn", "poll"
every = "30m"
```

Each tag is one stream, read newest first. The cursor is the newest `created_at_i` seen
(never later than the run's start); the next run asks `numericFilters=created_at_i>=cursor`,
so posts from the cursor's own second come back and are dropped as seen rather than
missed. A run that stops before reaching known posts leaves the cursor where it was.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
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
from connectors.html_text import html_to_text
from monitor.core.errors import SkipItem
from monitor.core.rawpost import RawPost

SEARCH_PATH = "/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
HnTag = Literal["story", "comment", "ask_hn", "show_hn", "poll"]


class HackerNewsOptions(PagedOptions):
    """`query`, the item `tags` to follow, and `hits_per_page` (Algolia's page size)."""

    query: str
    tags: list[HnTag] = Field(default_factory=lambda: ["story", "comment"], min_length=1)
    hits_per_page: int = Field(100, ge=1, le=1000)
    base_url: str = "https://hn.algolia.com"

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('query is empty — write the words to search, like "Calderix"')
        return value.strip()

    @field_validator("tags")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        return validate_base_url(value, "https://hn.algolia.com")


def parse_hit(hit: Any, source: str) -> RawPost:
    object_id = hit.get("objectID")
    if not object_id:
        raise SkipItem("hit without objectID")
    tags = hit.get("_tags") or []
    is_comment = "comment" in tags or (hit.get("comment_text") and not hit.get("title"))
    body = hit.get("comment_text") if is_comment else hit.get("story_text")
    link = hit.get("url")
    author = hit.get("author") or None
    return RawPost(
        source=source,
        external_id=str(object_id),
        url=ITEM_URL.format(object_id),
        author=author,
        author_handle=author,
        title=None if is_comment else html_to_text(hit.get("title")) or None,
        text=html_to_text(body),
        published_at=parse_time(hit.get("created_at_i")) or parse_time(hit.get("created_at")),
        metrics=metrics(score=hit.get("points"), comments=hit.get("num_comments")),
        media=(str(link),) if link else (),
    )


def parse_hits(body: Any, source: str, url: str = "") -> tuple[list[RawPost], int | None, int]:
    """Posts, the next page number (None at the end) and the number of skipped hits."""
    answer = expect(body, dict, "a search result object", url)
    hits = expect(answer.get("hits", []), list, "a list of hits", url)
    posts, skipped = parse_items(hits, lambda h: parse_hit(h, source), source)
    page, pages = answer.get("page"), answer.get("nbPages")
    more = isinstance(page, int) and isinstance(pages, int) and page + 1 < pages
    return posts, page + 1 if more else None, skipped


class HackerNewsConnector(Connector):
    """Stories and comments that match a query, newest first."""

    kind: ClassVar[str] = "hackernews"
    Options: ClassVar[type[ConnectorOptions]] = HackerNewsOptions
    default_every: ClassVar[str] = "30m"

    options: HackerNewsOptions

    def fetch(self, state: SourceState) -> FetchResult:
        cursors = load_cursors(state)
        seen = set(state.seen_ids)
        posts: list[RawPost] = []
        skipped, warnings = 0, []
        for tag in self.options.tags:
            key = f"{tag}:{self.options.query}"
            since = cursors.get(key)
            since_i = int(since) if since and since.isdigit() else None
            walk = walk_pages(
                lambda page, tag=tag, since_i=since_i: self._page(tag, since_i, page),
                0,
                max_pages=self.options.max_pages,
                seen=seen,
            )
            posts.extend(walk.posts)
            skipped += walk.skipped
            if walk.warning:
                warnings.append(f"{tag}: {walk.warning}")
            known = parse_time(since_i) if since_i is not None else None
            newest = advance_time_cursor(walk, known, self.context.now)
            if newest is not None:
                cursors[key] = str(int(newest.timestamp()))
        new_state = state.evolve(
            cursor=dump_cursors(cursors), seen_ids=remember_newest_first(state, posts)
        )
        return FetchResult(
            posts=posts, new_state=new_state, warning="; ".join(warnings) or None, skipped=skipped
        )

    def _page(self, tag: str, since: int | None, page: int) -> Page:
        params: dict[str, str | int] = {
            "query": self.options.query,
            "tags": f"({tag})",
            "hitsPerPage": self.options.hits_per_page,
        }
        if since is not None:
            params["numericFilters"] = f"created_at_i>={since}"
        if page:
            params["page"] = page
        url = f"{self.options.base_url}{SEARCH_PATH}?{urlencode(params)}"
        response = self.context.http.get(url, headers={"Accept": "application/json"})
        posts, next_page, skipped = parse_hits(read_json(response), self.name, response.url)
        if since is not None:
            # Servers that ignore the filter must not bring back what is older than it.
            posts = [p for p in posts if not p.published_at or p.published_at.timestamp() >= since]
        return Page(posts, next_page, skipped)
