"""RSS / Atom / RDF / JSON Feed sources: a news site, a blog, a Reddit or YouTube feed.

```toml
[[sources]]
name = "El Blog de Calderix"
kind = "rss"
url = "https://blog.example.com/feed.xml"   # or a local file: "feeds/sample.xml"
every = "30m"
```

Re-polling must be cheap, because most polls find nothing new: we send a conditional GET
(If-None-Match / If-Modified-Since) and stop at a 304; for servers without validators we
compare a hash of the body with the last one and skip parsing when nothing changed. Items
already seen (by id) are dropped so a feed that keeps old items never produces duplicates.
An ill-formed feed still yields what could be read, with a warning; a body that is not a
feed at all (an HTML page, an empty document) is a configuration problem.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote, urlsplit

from pydantic import ValidationInfo, field_validator, model_validator

from connectors.base import Connector, ConnectorOptions, FetchResult, SourceState
from connectors.feed_parse import ParsedFeed
from connectors.feed_url import check_feed_url
from monitor.core.errors import RetryLater, SourceMisconfigured
from monitor.core.netguard import redact_url

if TYPE_CHECKING:
    from connectors.feed_parse import ParsedFeed

_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


class RssOptions(ConnectorOptions):
    """`url`: an http(s) feed URL, a file:// URL, or a path relative to the settings folder.

    `opml` instead names an OPML file (relative to the settings folder) whose outlines become
    one rss source each when settings load (connectors/opml.py); the file is read and
    checked here so its problems are reported under this source's `opml` key.
    """

    url: str | None = None
    opml: str | None = None

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return None if value is None else check_feed_url(value)

    @field_validator("opml")
    @classmethod
    def _readable_opml(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        from connectors.opml import read_opml

        base_dir = Path((info.context or {}).get("base_dir", "."))
        read_opml(value, base_dir)
        return value

    @model_validator(mode="after")
    def _url_or_opml(self) -> RssOptions:
        if self.url is None and self.opml is None:
            raise ValueError(
                'url is missing — add url = "https://example.com/feed.xml" '
                '(or opml = "feeds.opml" to import a list of feeds)'
            )
        if self.url is not None and self.opml is not None:
            raise ValueError("both url and opml are set — keep one of them in this source")
        return self


class RssConnector(Connector):
    """Any RSS 0.9x–2.0, RDF, Atom 0.3/1.0 or JSON Feed 1.x source (over HTTP or a local file)."""

    kind: ClassVar[str] = "rss"
    Options: ClassVar[type[ConnectorOptions]] = RssOptions
    default_every: ClassVar[str] = "30m"

    options: RssOptions

    def fetch(self, state: SourceState) -> FetchResult:
        url = self.feed_url()
        if urlsplit(url).scheme in ("http", "https"):
            return self._fetch_http(url, state)
        return self._fetch_file(self._local_path(url), state)

    def feed_url(self) -> str:
        """Where the feed is; connectors that build it from their options override this."""
        if self.options.url is None:
            raise SourceMisconfigured(
                f"source {self.name!r} has no url — an opml entry is expanded into its feeds "
                "when settings load; load the settings with monitor.core.settings.load_settings"
            )
        return self.options.url

    # -- transports -------------------------------------------------------------------
    def _fetch_http(self, url: str, state: SourceState) -> FetchResult:
        headers = {"Accept": _FEED_ACCEPT}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        response = self.context.http.get(url, headers=headers)
        if response.status == 304:
            return FetchResult(posts=[], new_state=state, not_modified=True)
        digest = _digest(response.content)
        new_state = state.evolve(
            etag=response.headers.get("etag") or state.etag,
            last_modified=response.headers.get("last-modified") or state.last_modified,
            content_hash=digest,
        )
        if digest == state.content_hash:
            return FetchResult(posts=[], new_state=new_state, not_modified=True)
        parsed = self.context.parse_feed(
            response.content, source=self.name, headers=response.headers, base_url=response.url
        )
        return self._result(parsed, new_state, redact_url(response.url), response.warning)

    def _fetch_file(self, path: Path, state: SourceState) -> FetchResult:
        limit = self.context.http.settings.max_body_bytes
        try:
            with path.open("rb") as handle:
                content = handle.read(limit + 1)
        except OSError as exc:
            raise SourceMisconfigured(
                f"cannot read local feed {str(path)!r}: {exc.strerror or exc} — check the path "
                "(relative paths are resolved against the settings file's folder)"
            ) from None
        if len(content) > limit:
            # As over HTTP: retry on the next run, it may have shrunk (monitor/core/errors.py).
            raise RetryLater(
                f"local feed {str(path)!r} is larger than {limit} bytes — raise "
                "[http] max_body_bytes if it is really that big"
            )
        digest = _digest(content)
        new_state = state.evolve(content_hash=digest)
        if digest == state.content_hash:
            return FetchResult(posts=[], new_state=new_state, not_modified=True)
        # A file has no HTTP headers: application/xml lets the XML declaration pick the charset.
        parsed = self.context.parse_feed(
            content, source=self.name, headers={"content-type": "application/xml"}
        )
        return self._result(parsed, new_state, str(path), None)

    def _local_path(self, url: str) -> Path:
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path))
        else:
            path = Path(url).expanduser()
        return path if path.is_absolute() else self.context.base_dir / path

    # -- shared -----------------------------------------------------------------------
    def _result(
        self, parsed: ParsedFeed, state: SourceState, where: str, transfer_warning: str | None
    ) -> FetchResult:
        if not parsed.is_feed:
            reason = parsed.bozo_message or "no RSS, Atom or JSON Feed content"
            raise SourceMisconfigured(
                f"not a feed: {where} ({reason}) — check that the url points to the feed "
                "itself, not to the web page that links to it"
            )
        # Newest first, so that `remember` forgets the oldest ids when the list is full.
        ordered = sorted(
            parsed.posts,
            key=lambda p: p.published_at.timestamp() if p.published_at else float("-inf"),
            reverse=True,
        )
        seen = set(state.seen_ids)
        fresh, emitted = [], set()
        for post in parsed.posts:
            if post.external_id in seen or post.external_id in emitted:
                continue
            emitted.add(post.external_id)
            fresh.append(post)
        new_state = state.evolve(seen_ids=state.remember([p.external_id for p in ordered]))
        warnings = [w for w in (transfer_warning,) if w]
        if parsed.bozo and parsed.bozo_message:
            warnings.append(f"feed is not well-formed: {parsed.bozo_message}")
        return FetchResult(
            posts=fresh,
            new_state=new_state,
            warning="; ".join(warnings) or None,
            skipped=parsed.skipped,
        )


def _digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()
