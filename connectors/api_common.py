"""What every JSON API connector (Mastodon, Bluesky, Reddit, Hacker News) does the same way.

Kept in one place so that the rules are the same for every source:
- a body is decoded as JSON or the run fails with a *classified* error (an HTML page where
  JSON was expected is a settings problem; a cut-off body is worth retrying), never a crash;
- the per-source cursor is a small JSON object in `SourceState.cursor`, one entry per stream
  (a tag, a query), so one source can follow several streams;
- already seen ids are dropped, so a server that ignores our cursor cannot create repeats;
- a time cursor never moves past the run's start time (a post dated in the future by a
  wrong clock must not make us skip everything published until then);
- one unreadable item is skipped and counted, the rest of the page goes on;
- paging stops at a page limit, at the end, when a page brings nothing new (a server that
  replays the same page must not loop us), or when the host asks us to wait after the first
  page (what was read is kept and the cursor is only moved as far as it is safe).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from connectors.base import ConnectorOptions, SourceState
from monitor.core.errors import RetryLater, SkipItem, SourceMisconfigured
from monitor.core.http import HttpResponse
from monitor.core.netguard import redact_url
from monitor.core.rawpost import RawPost

log = logging.getLogger("vigia.connectors")

T = TypeVar("T")
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r'rel\s*=\s*"?([^";,]+)"?', re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PagedOptions(ConnectorOptions):
    """Options shared by the API connectors.

    `max_pages` bounds the requests of one run, so a burst (or a server that never stops
    paging) costs a known amount; what is left is picked up on the next run.
    """

    max_pages: int = Field(3, ge=1, le=50)


def validate_base_url(value: str, example: str) -> str:
    """An http(s) base URL without a trailing slash, or a ValueError that says how to fix it."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) base URL — write it like {example!r}")
    if parts.query or parts.fragment:
        raise ValueError(
            f"{value!r} must not carry a query or fragment — write it like {example!r}"
        )
    return value


def validate_env_name(value: str | None) -> str | None:
    """The name of an environment variable (the secret itself never goes in settings)."""
    if value is None:
        return None
    if not _ENV_NAME.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name — name the variable that holds "
            'the token, like "MASTODON_TOKEN", and export the token there'
        )
    return value


class TokenEnvOption(PagedOptions):
    """`token_env`: the environment variable holding an access token (optional)."""

    token_env: str | None = None

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return validate_env_name(value)


def token_from_env(name: str | None) -> str | None:
    """The token in environment variable `name`, or a settings error naming the variable."""
    if name is None:
        return None
    token = os.environ.get(name, "").strip()
    if not token:
        raise SourceMisconfigured(
            f"token_env names {name!r} but that environment variable is empty or unset — "
            f"export {name}=<token> before starting Vigía, or remove token_env"
        )
    return token


# -- JSON bodies --------------------------------------------------------------------------
class NotJson(SourceMisconfigured):
    """The API answered with a web page instead of JSON (a wrong URL, or a block page)."""


def read_json(response: HttpResponse) -> Any:
    """The decoded JSON body, or a classified error (the body is already size-bounded)."""
    shown = redact_url(response.url)
    if response.content[:512].lstrip().startswith(b"<"):
        raise NotJson(
            f"{shown} answered with an HTML/XML page, not the API's JSON — check the base URL "
            "(it must point to the API host itself)"
        )
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError) as exc:
        # Cut-off or garbled JSON from an API that normally answers well: a transient fault.
        raise RetryLater(f"invalid JSON from {shown} (truncated or garbled): {exc}") from None


def expect(value: Any, kind: type[T], what: str, url: str) -> T:
    """`value` if it has the JSON type the API documents, else a classified error."""
    if isinstance(value, kind):
        return value
    raise SourceMisconfigured(
        f"{redact_url(url)} answered JSON without {what} — is this really the API endpoint?"
    )


def parse_items(
    items: Iterable[Any], parse_one: Callable[[Any], RawPost | None], source: str
) -> tuple[list[RawPost], int]:
    """Parse each item on its own: one broken item is skipped and counted, never fatal."""
    posts: list[RawPost] = []
    skipped = 0
    for item in items:
        try:
            post = parse_one(item)
        except (SkipItem, KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped += 1
            log.info("%s: skipped an unreadable item (%s: %s)", source, type(exc).__name__, exc)
            continue
        if post is not None:
            posts.append(post)
    return posts, skipped


# -- small value helpers ------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """A timezone-aware UTC time from ISO 8601 text or epoch seconds (None if unusable)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        when = datetime.fromisoformat(str(value).strip())
    except (ValueError, OverflowError, OSError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def count(value: Any) -> int | None:
    """A non-negative integer metric (APIs send floats, nulls and strings at times)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number >= 0 else None


def metrics(**values: Any) -> dict[str, int]:
    """Only the metrics the source really gave (absent ones are not zeros)."""
    return {name: n for name, raw in values.items() if (n := count(raw)) is not None}


def not_after(when: datetime, now: datetime) -> datetime:
    """A time cursor never passes the run's start: later posts are future-dated by mistake."""
    return min(when, now)


def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, (a.hostname or "").lower(), a.port) == (
        b.scheme,
        (b.hostname or "").lower(),
        b.port,
    )


def parse_link_header(value: str | None) -> dict[str, str]:
    """`Link: <url>; rel="next", <url>; rel="prev"` → {"next": url, "prev": url}."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(value or ""):
        rel = _REL.search(match.group(2) or "")
        if rel:
            for name in rel.group(1).split():
                links.setdefault(name.lower(), match.group(1).strip())
    return links


# -- cursor state -------------------------------------------------------------------------
def load_cursors(state: SourceState) -> dict[str, str]:
    """Per-stream cursors stored as a JSON object; anything else (a kind change) starts over."""
    if not state.cursor:
        return {}
    try:
        value = json.loads(state.cursor)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str | int)}


def dump_cursors(cursors: Mapping[str, str]) -> str | None:
    return json.dumps(dict(sorted(cursors.items())), separators=(",", ":")) if cursors else None


# -- paging -------------------------------------------------------------------------------
@dataclass
class Page:
    """One page of a stream: its posts, how to ask for the next one (None: the end)."""

    posts: list[RawPost]
    next: Any = None
    skipped: int = 0


@dataclass
class Walk:
    """What a walk over pages found. `complete` is False when it stopped before the end."""

    posts: list[RawPost] = field(default_factory=list)
    pages: int = 0
    skipped: int = 0
    complete: bool = True
    warning: str | None = None


def walk_pages(
    fetch_page: Callable[[Any], Page],
    first: Any,
    *,
    max_pages: int,
    seen: set[str],
) -> Walk:
    """Follow a stream page by page, within the bounds described in the module docstring.

    `seen` is updated with the ids met, so streams of one source share it. The first page's
    errors propagate (the run fails and stores nothing); a later page's `RetryLater` ends the
    walk early with a warning, keeping what was read.
    """
    walk = Walk()
    request = first
    while request is not None:
        if walk.pages >= max_pages:
            walk.complete = False
            break
        try:
            page = fetch_page(request)
        except RetryLater as exc:
            if walk.pages == 0:
                raise
            walk.complete = False
            walk.warning = f"stopped after {walk.pages} page(s): {exc}"
            break
        walk.pages += 1
        walk.skipped += page.skipped
        fresh = [post for post in page.posts if post.external_id not in seen]
        seen.update(post.external_id for post in fresh)
        walk.posts.extend(fresh)
        if not fresh:
            break  # nothing new on this page: the rest is older or a replay
        request = page.next
    return walk


def advance_time_cursor(walk: Walk, known: datetime | None, now: datetime) -> datetime | None:
    """Where a newest-first time cursor may move after `walk`, or None to leave it.

    It moves to the newest post's time (never past the run's start), and only when the walk
    reached known ground: a later run that stopped early keeps the old cursor, so the gap
    between what it read and what was known is read next time. A first run has no gap.
    """
    dated = [p.published_at for p in walk.posts if p.published_at]
    if not dated or not (walk.complete or known is None):
        return None
    newest = not_after(max(dated), now)
    return newest if known is None or newest > known else None


def remember_newest_first(state: SourceState, posts: list[RawPost]) -> tuple[str, ...]:
    """Seen ids with the newest posts first, so the oldest are forgotten past the limit."""
    ordered = sorted(
        posts,
        key=lambda p: p.published_at.timestamp() if p.published_at else float("-inf"),
        reverse=True,
    )
    return state.remember([p.external_id for p in ordered])
