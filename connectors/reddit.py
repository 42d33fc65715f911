"""Reddit: search (or a subreddit's newest posts) through the public JSON listings.

```toml
[[sources]]
name = "Reddit Calderix"
kind = "reddit"
query = "Calderix"                    # Reddit search syntax
subreddits = ["spain", "askspain"]    # optional: only these; without query, their new posts
every = "15m"
```

Listings are read newest first (`sort=new`). The cursor is the newest post's fullname
(`t3_…`); the next run asks `before=<cursor>`, which returns only newer posts, and keeps
asking `before=<newest of the page>` while pages come back full. Fullnames are base-36
counters, so "newest" is decided numerically, and a server that ignores `before` only
brings back posts that are then dropped as already seen.

Reddit often refuses anonymous JSON (403, 429, or an HTML page). When it does, the source
falls back to the same search as an RSS feed (`search.rss`), whose entry ids are the same
fullnames, so switching back and forth never duplicates a post.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.api_common import (
    NotJson,
    Page,
    PagedOptions,
    Walk,
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
from monitor.core.errors import RetryLater, SkipItem, SourceError, SourceMisconfigured
from monitor.core.http_status import http_status_of
from monitor.core.netguard import redact_url
from monitor.core.rawpost import RawPost

_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_FULLNAME = re.compile(r"^t[1-6]_[0-9a-z]+$")
REDDIT_WEB = "https://www.reddit.com"
_FEED_ACCEPT = "application/atom+xml, application/rss+xml;q=0.9, */*;q=0.5"


class RedditOptions(PagedOptions):
    """`query` and/or `subreddits`; `base_url` for a mirror or a test server."""

    query: str | None = None
    subreddits: list[str] = Field(default_factory=list)
    base_url: str = "https://www.reddit.com"
    limit: int = Field(100, ge=1, le=100)
    fallback_rss: bool = True

    @field_validator("subreddits")
    @classmethod
    def _subreddits(cls, value: list[str]) -> list[str]:
        names = []
        for name in value:
            bare = name.strip().removeprefix("/").removeprefix("r/")
            if not _SUBREDDIT.match(bare):
                raise ValueError(f'{name!r} is not a subreddit name — write it like "spain"')
            names.append(bare)
        return list(dict.fromkeys(names))

    @field_validator("query")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError('query is empty — write the words to search, like "Calderix"')
        return value.strip() if value else value

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        return validate_base_url(value, "https://www.reddit.com")

    @model_validator(mode="after")
    def _something_to_follow(self) -> RedditOptions:
        if not self.query and not self.subreddits:
            raise ValueError(
                'nothing to follow — set query = "Your Brand", subreddits = ["name"], or both'
            )
        return self


def fullname_key(name: str) -> int:
    """Reddit ids are base-36 counters: larger is newer."""
    return int(name.split("_", 1)[1], 36)


def parse_thing(child: Any, source: str) -> RawPost | None:
    """One listing child: a link post (t3) or a comment (t1); other kinds are ignored."""
    kind, data = child.get("kind"), child.get("data") or {}
    if kind not in ("t3", "t1"):
        return None
    name = data.get("name") or f"{kind}_{data.get('id', '')}"
    if not _FULLNAME.match(str(name)):
        raise SkipItem(f"listing item without a usable id: {name!r}")
    author = data.get("author")
    if author in (None, "[deleted]"):
        author = None
    permalink = data.get("permalink") or ""
    # The public page, whichever API host answered; "?ref=search_posts" is only tracking.
    url = f"{REDDIT_WEB}{urlsplit(permalink).path}" if permalink.startswith("/") else permalink
    is_link = kind == "t3" and not data.get("is_self") and data.get("url")
    return RawPost(
        source=source,
        external_id=str(name),
        url=url or None,
        author=author,
        author_handle=f"u/{author}" if author else None,
        title=plain_text(data.get("title")) or None,
        text=plain_text(data.get("selftext") if kind == "t3" else data.get("body")),
        published_at=parse_time(data.get("created_utc")),
        metrics=metrics(score=data.get("score"), comments=data.get("num_comments")),
        media=(str(data["url"]),) if is_link else (),
    )


def parse_listing(
    body: Any, source: str, url: str = ""
) -> tuple[list[RawPost], str | None, str | None, int]:
    """Posts, the listing's `before` and `after` markers, and the number skipped."""
    listing = expect(body, dict, "a Listing object", url)
    data = expect(listing.get("data"), dict, "a Listing's data", url)
    children = expect(data.get("children", []), list, "a list of children", url)
    posts, skipped = parse_items(children, lambda c: parse_thing(c, source), source)
    return posts, data.get("before"), data.get("after"), skipped


class RedditConnector(Connector):
    """Reddit search (`sort=new`) or subreddits' new posts, with an RSS fallback."""

    kind: ClassVar[str] = "reddit"
    Options: ClassVar[type[ConnectorOptions]] = RedditOptions
    default_every: ClassVar[str] = "15m"

    options: RedditOptions

    def fetch(self, state: SourceState) -> FetchResult:
        cursors = load_cursors(state)
        key = self._stream_key()
        before = cursors.get(key)
        if before is not None and not _FULLNAME.match(before):
            before = None
        try:
            walk = self._walk_json(before, set(state.seen_ids))
        except SourceError as exc:
            if not self.options.fallback_rss or not _worth_a_fallback(exc):
                raise
            return self._from_rss(state, exc)
        names = [p.external_id for p in walk.posts] + ([before] if before else [])
        newest = max(names, key=fullname_key) if names else None
        if newest:
            cursors[key] = newest
        return FetchResult(
            posts=walk.posts,
            new_state=state.evolve(
                cursor=dump_cursors(cursors), seen_ids=remember_newest_first(state, walk.posts)
            ),
            warning=walk.warning,
            skipped=walk.skipped,
        )

    # -- JSON listings ----------------------------------------------------------------
    def _walk_json(self, before: str | None, seen: set[str]) -> Walk:
        def fetch_page(marker: tuple[str, str] | None) -> Page:
            response = self.context.http.get(
                self._listing_url("json", marker), headers={"Accept": "application/json"}
            )
            posts, page_before, page_after, skipped = parse_listing(
                read_json(response), self.name, response.url
            )
            if before is not None:
                # Walking toward newer posts: continue only while pages come back full.
                full = len(posts) + skipped >= self.options.limit
                newest = max((p.external_id for p in posts), key=fullname_key, default=None)
                nxt = ("before", page_before or newest) if full and newest else None
            else:
                nxt = ("after", page_after) if page_after else None
            return Page(posts, nxt, skipped)

        first = ("before", before) if before else ("", "")
        return walk_pages(fetch_page, first, max_pages=self.options.max_pages, seen=seen)

    def _listing_url(self, fmt: str, marker: tuple[str, str] | None) -> str:
        subs = "+".join(quote(s) for s in self.options.subreddits)
        prefix = f"/r/{subs}" if subs else ""
        params: dict[str, str | int] = {}
        if self.options.query:
            path = f"{prefix}/search.{fmt}"
            params.update(q=self.options.query, sort="new")
            if subs:
                params["restrict_sr"] = "1"
        else:
            path = f"{prefix}/new.{fmt}"
        params["limit"] = self.options.limit
        if fmt == "json":
            params["raw_json"] = 1  # text as written, not HTML-escaped
        if marker and marker[0]:
            params[marker[0]] = marker[1]
        return f"{self.options.base_url}{path}?{urlencode(params)}"

    def _stream_key(self) -> str:
        subs = "+".join(sorted(s.lower() for s in self.options.subreddits))
        return f"{'search' if self.options.query else 'new'}:{subs}:{self.options.query or ''}"

    # -- RSS fallback -----------------------------------------------------------------
    def _from_rss(self, state: SourceState, cause: SourceError) -> FetchResult:
        try:
            response = self.context.http.get(
                self._listing_url("rss", None), headers={"Accept": _FEED_ACCEPT}
            )
        except SourceError as exc:
            message = f"Reddit refused the JSON API ({cause}); the RSS fallback failed too: {exc}"
            # Either refusal may be temporary (a 429): then the next run tries both again.
            for error in (exc, cause):
                if isinstance(error, RetryLater):
                    raise RetryLater(message, retry_after=error.retry_after) from exc
            raise SourceMisconfigured(message) from exc
        parsed = self.context.parse_feed(
            response.content, source=self.name, headers=response.headers, base_url=response.url
        )
        if not parsed.is_feed:
            raise SourceMisconfigured(
                f"Reddit refused the JSON API ({cause}) and {redact_url(response.url)} is no "
                "feed either — check base_url"
            ) from None
        seen = set(state.seen_ids)
        posts = [_reddit_author(p) for p in parsed.posts if p.external_id not in seen]
        return FetchResult(
            posts=posts,
            # The cursor stays: feed entries carry no listing markers to continue from.
            new_state=state.evolve(seen_ids=remember_newest_first(state, posts)),
            warning=f"JSON API unavailable ({cause}); read the RSS feed instead",
            skipped=parsed.skipped,
        )


def _reddit_author(post: RawPost) -> RawPost:
    """Feed authors read "/u/name"; store them as the JSON listing does."""
    name = (post.author or "").strip().removeprefix("/").removeprefix("u/") or None
    return replace(post, author=name, author_handle=f"u/{name}" if name else None)


def _worth_a_fallback(exc: SourceError) -> bool:
    """Refusals of anonymous JSON clients (401/403, 429, a block page instead of JSON).

    Not a wrong address (404), a server error or a cut-off body: the feed would fail the
    same way, and the real cause must stay the reported one.
    """
    return isinstance(exc, NotJson) or http_status_of(exc) in (401, 403, 429)
