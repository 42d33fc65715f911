"""The connector contract shared by built-in and third-party sources.

A connector is a small class with a `kind`, an `Options` pydantic model validated from its
`[[sources]]` entry, a default interval, and `fetch(state) -> FetchResult`. Fetching does I/O
through the shared `HttpClient`; parsing lives in pure functions tested on recorded bodies.
State goes in and comes out as a plain value so that the pipeline can store it in the same
transaction as the posts it covers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from connectors.feed_parse import ParsedFeed
    from monitor.core.http import HttpClient
    from monitor.core.rawpost import RawPost

#: Parses a feed body: (content, source name, response headers, base URL) → ParsedFeed.
FeedParser = Callable[[bytes, str, "Mapping[str, str] | None", "str | None"], "ParsedFeed"]

#: How many recently seen external ids a source remembers to drop repeats.
SEEN_IDS_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a source remembers between runs (stored as one row per source)."""

    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    seen_ids: tuple[str, ...] = ()

    def remember(self, ids: list[str], limit: int = SEEN_IDS_LIMIT) -> tuple[str, ...]:
        """Newest ids first, oldest forgotten past `limit`, no repeats."""
        merged = list(dict.fromkeys([*ids, *self.seen_ids]))
        return tuple(merged[:limit])

    def evolve(self, **changes: Any) -> SourceState:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The posts a run found and the state to store with them.

    `not_modified` is True when the server answered 304 (or the body was byte-identical);
    `warning` carries a non-fatal problem (an ill-formed feed whose items could be read).
    """

    posts: list[RawPost] = field(default_factory=list)
    new_state: SourceState = field(default_factory=SourceState)
    not_modified: bool = False
    warning: str | None = None
    skipped: int = 0


class ConnectorOptions(BaseModel):
    """Base for connector options: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class ConnectorContext:
    """What a connector may use besides its options: the HTTP client and the settings folder.

    `feed_parser`, when set, is where feed bodies are parsed (the pipeline's process pool);
    connectors call `parse_feed`, which falls back to parsing in this thread.
    """

    http: HttpClient
    base_dir: Path
    now: datetime
    feed_parser: FeedParser | None = None

    def parse_feed(
        self,
        content: bytes,
        *,
        source: str,
        headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> ParsedFeed:
        """`connectors.feed_parse.parse_feed`, run wherever the pipeline parses feeds."""
        plain = dict(headers.items()) if headers is not None else None
        if self.feed_parser is not None:
            return self.feed_parser(content, source, plain, base_url)
        from connectors.feed_parse import parse_feed

        return parse_feed(content, source=source, headers=plain, base_url=base_url)


class Connector:
    """Base class; subclasses set `kind`, `Options`, `default_every` and implement `fetch`."""

    kind: ClassVar[str]
    Options: ClassVar[type[ConnectorOptions]]
    default_every: ClassVar[str] = "15m"

    def __init__(self, name: str, options: ConnectorOptions, context: ConnectorContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def fetch(self, state: SourceState) -> FetchResult:  # pragma: no cover - interface
        raise NotImplementedError
