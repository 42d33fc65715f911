"""Feed bytes → RawPost list: a pure function, tested directly on recorded bodies.

feedparser does the hard part (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, CDF, encodings, dates). We
call it on bytes we fetched ourselves, with the response headers so that the HTTP charset and
Content-Location rules apply, and with HTML sanitising and relative-URI rewriting switched
off: we keep plain text, not HTML, and those passes are most of feedparser's run time. JSON
Feed (1.0/1.1), which feedparser 6.0 does not read, is parsed here with `json`.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from connectors.html_text import html_to_text, plain_text
from monitor.core.rawpost import RawPost

log = logging.getLogger("vigia.feeds")

_MIN_YEAR, _MAX_YEAR = 1970, 2100
_JSONFEED_VERSION = "https://jsonfeed.org/version/"


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What one feed body holds. `is_feed` is False for bodies that are no feed at all."""

    posts: list[RawPost] = field(default_factory=list)
    title: str | None = None
    bozo: bool = False
    bozo_message: str | None = None
    skipped: int = 0
    is_feed: bool = True
    version: str = ""


def parse_feed(
    content: bytes,
    *,
    source: str,
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> ParsedFeed:
    """Parse a feed body (RSS, Atom, RDF, CDF or JSON Feed) into RawPosts.

    `headers` are the HTTP response headers (charset, Content-Location, Content-Language);
    `base_url` is the URL the body was fetched from, for resolving relative links.
    """
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    if _looks_like_json(content, lower.get("content-type", "")):
        return parse_json_feed(content, source=source, base_url=base_url)
    # feedparser re-resolves its base URI on every element once it has one (about a fifth
    # of its run time), so give it one only when the feed needs it: a Content-Location
    # header or xml:base attributes. Otherwise relative links are resolved here, per item.
    if base_url and ("content-location" in lower or b"xml:base" in content):
        lower["content-location"] = urljoin(base_url, lower.get("content-location", ""))
    # BytesIO: feedparser treats a bare str/bytes argument as a possible URL or file path.
    result = feedparser.parse(
        io.BytesIO(content),
        response_headers=lower,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    feed = result.get("feed", {})
    feed_lang = _language(feed.get("language") or lower.get("content-language"))
    resolve_base = lower.get("content-location") or base_url or feed.get("link")
    posts: list[RawPost] = []
    skipped = 0
    for entry in result.get("entries", ()):
        try:
            posts.append(_entry_post(entry, source, resolve_base, feed_lang))
        except Exception as exc:  # one odd item must never stop the rest of the feed
            skipped += 1
            log.debug("skipping an item of %s: %r", source, exc)
    bozo = bool(result.get("bozo"))
    version = result.get("version") or ""
    exc = result.get("bozo_exception")
    return ParsedFeed(
        posts=posts,
        title=_text(feed.get("title_detail"), feed.get("title")) or None,
        bozo=bozo,
        bozo_message=_describe(exc) if bozo and exc is not None else None,
        skipped=skipped,
        # No entries: a feed only if well-formed and recognised (a version, or CDF's
        # versionless <CHANNEL> with a title or date); an (X)HTML page has none of these.
        is_feed=bool(posts or skipped)
        or (
            bool(version or "title" in feed or "updated" in feed)
            and (not bozo or _harmless(exc))
        ),
        version=version,
    )


def _entry_post(
    entry: dict[str, Any], source: str, base: str | None, feed_lang: str | None
) -> RawPost:
    # dict.get, not FeedParserDict.get: its key aliasing costs more than our whole conversion.
    get = dict.get
    title_detail = get(entry, "title_detail")
    title = _text(title_detail, get(entry, "title"))
    text = _body(entry)
    link = _http_url(get(entry, "link"), base)
    external_id = (get(entry, "id") or "").strip() or link or _content_id(title, text)
    author = _author(entry)
    outlet = plain_text(get(get(entry, "source") or {}, "title"))
    if outlet:
        title, text, author = _credit_outlet(title, text, author, outlet)
    detail = title_detail or get(entry, "summary_detail") or {}
    return RawPost(
        source=source,
        external_id=external_id,
        url=link,
        author=author or None,
        title=title or None,
        text=text,
        published_at=_when(
            get(entry, "published_parsed")
            or get(entry, "updated_parsed")
            or get(entry, "created_parsed")
        ),
        lang=_language(get(detail, "language")) or feed_lang,
        metrics=_metrics(entry) if "media_statistics" in entry or "media_starrating" in entry
        else {},
        media=_media(entry, base),
    )


def _author(entry: dict[str, Any]) -> str:
    """The entry's author as people would write it.

    feedparser splits RSS authors of the form "jo@example.com (Jo Doe)" or "Jo <jo@…>" into a
    name and an email, but it applies the same split to fediverse handles in `dc:creator`
    ("@ana@mastodon.social" became the name "@ple"). Its name is trusted only when the raw
    value really had that shape; otherwise the raw value is kept whole.
    """
    raw = plain_text(dict.get(entry, "author"))
    name = plain_text(dict.get(dict.get(entry, "author_detail") or {}, "name"))
    if name and (not raw or "(" in raw or "<" in raw or "@" not in raw):
        return name
    return raw or name


def _credit_outlet(title: str, text: str, author: str, outlet: str) -> tuple[str, str, str]:
    """Aggregators (Google News) cite the original outlet in RSS 2.0's <source> element and
    append it to the headline ("Headline - Outlet"); their description is only the headline
    and the outlet again. Give the outlet credit as the author and keep the bare headline, so
    the story is recognised as the same one the outlet's own feed carries.
    """
    suffix = f" - {outlet}"
    if title.endswith(suffix):
        title = title[: -len(suffix)].rstrip()
        if " ".join(text.split()) in (f"{title} {outlet}", title):
            text = ""
    return title, text, author or outlet


def _text(detail: Mapping[str, Any] | None, value: str | None) -> str:
    """Plain text of a feedparser text construct, stripping markup only when it is HTML.

    The value comes from the plain key (`title`), the type from `*_detail`: feedparser lets a
    nested element (an <image><title>) overwrite the detail but not the plain key.
    """
    kind = dict.get(detail, "type") if detail else None
    return plain_text(value) if kind == "text/plain" else html_to_text(value)


def _body(entry: dict[str, Any]) -> str:
    """The richest body: the longest of content[] and summary (raw length, cheap)."""
    best_detail: Mapping[str, Any] | None = dict.get(entry, "summary_detail")
    best = dict.get(entry, "summary") or ""
    for detail in dict.get(entry, "content") or ():
        value = dict.get(detail, "value") or ""
        if len(value) > len(best):
            best, best_detail = value, detail
    return _text(best_detail, best)


def _content_id(title: str, text: str) -> str:
    digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
    return f"sha256:{digest}"


def _http_url(value: str | None, base: str | None) -> str | None:
    """An absolute http(s) URL or None: links end up as hrefs in emails, so no javascript:."""
    if not value:
        return None
    value = value.strip()
    if base and not urlsplit(value).scheme:
        value = urljoin(base, value)
    return value if urlsplit(value).scheme in ("http", "https") else None


def _when(parsed: time.struct_time | tuple[int, ...] | None) -> datetime | None:
    """feedparser's UTC struct_time → aware datetime; None for absent or absurd dates."""
    if not parsed:
        return None
    try:
        stamp = calendar.timegm((*tuple(parsed)[:6], 0, 0, 0))
        when = datetime.fromtimestamp(stamp, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return when if _MIN_YEAR <= when.year <= _MAX_YEAR else None


def _language(value: str | None) -> str | None:
    """'es-ES' → 'es'; None for empty or non-language values."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def _media(entry: dict[str, Any], base: str | None) -> tuple[str, ...]:
    """Enclosures (links with rel=enclosure) and media:content / media:thumbnail URLs."""
    urls: list[str] = [
        dict.get(link, "href") or ""
        for link in dict.get(entry, "links") or ()
        if dict.get(link, "rel") == "enclosure"
    ]
    for key in ("media_content", "media_thumbnail"):
        for item in dict.get(entry, key) or ():
            if isinstance(item, Mapping):
                urls.append(dict.get(item, "url") or "")
    if not urls:
        return ()
    resolved = (_http_url(u, base) for u in urls if u)
    return tuple(dict.fromkeys(u for u in resolved if u))


def _metrics(entry: Mapping[str, Any]) -> dict[str, int]:
    """YouTube's media:statistics views and media:starRating count; nothing for plain feeds."""
    metrics: dict[str, int] = {}
    for key, sub, name in (("media_statistics", "views", "views"),
                           ("media_starrating", "count", "likes")):
        holder = entry.get(key)
        value = holder.get(sub) if isinstance(holder, Mapping) else None
        if isinstance(value, str) and value.strip().isdigit():
            metrics[name] = int(value)
    return metrics


def _harmless(exc: BaseException | None) -> bool:
    """feedparser's 'things nobody cares about': a wrong content type or charset label."""
    return isinstance(exc, feedparser.ThingsNobodyCaresAboutButMe)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


# -- JSON Feed ---------------------------------------------------------------------------
def _looks_like_json(content: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    return content[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def parse_json_feed(content: bytes, *, source: str, base_url: str | None = None) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1); anything else is not a feed."""
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return ParsedFeed(bozo=True, bozo_message=f"invalid JSON: {exc}", is_feed=False)
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(_JSONFEED_VERSION):
        message = "JSON without a jsonfeed.org version"
        return ParsedFeed(bozo=True, bozo_message=message, is_feed=False)
    base = doc.get("home_page_url") or base_url
    feed_lang = _language(doc.get("language"))
    posts: list[RawPost] = []
    skipped = 0
    items = doc.get("items")
    for item in items if isinstance(items, list) else ():
        try:
            posts.append(_json_item(item, source, base, feed_lang, doc))
        except Exception as exc:  # one odd item must never stop the rest of the feed
            skipped += 1
            log.debug("skipping an item of %s: %r", source, exc)
    return ParsedFeed(
        posts=posts,
        title=plain_text(str(doc.get("title") or "")) or None,
        skipped=skipped,
        is_feed=True,
        version="json" + str(doc["version"]).rsplit("/", 1)[-1].replace(".", ""),
    )


def _json_item(
    item: dict[str, Any], source: str, base: str | None, feed_lang: str | None, doc: dict[str, Any]
) -> RawPost:
    title = plain_text(str(item.get("title") or ""))
    if item.get("content_html"):
        text = html_to_text(str(item["content_html"]))
    else:
        text = plain_text(str(item.get("content_text") or item.get("summary") or ""))
    link = _http_url(item.get("url") or item.get("external_url"), base)
    raw_id = item.get("id")
    external_id = str(raw_id).strip() if raw_id not in (None, "") else ""
    authors = item.get("authors") or doc.get("authors") or []
    author = item.get("author") or doc.get("author") or (authors[0] if authors else None)
    name = author.get("name") if isinstance(author, dict) else None
    media = [a.get("url") for a in item.get("attachments") or () if isinstance(a, dict)]
    media += [item.get("image"), item.get("banner_image")]
    return RawPost(
        source=source,
        external_id=external_id or link or _content_id(title, text),
        url=link,
        author=plain_text(name) or None,
        title=title or None,
        text=text,
        published_at=_iso_date(item.get("date_published") or item.get("date_modified")),
        lang=_language(item.get("language")) or feed_lang,
        media=tuple(dict.fromkeys(u for u in (_http_url(m, base) for m in media if m) if u)),
    )


def _iso_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        # JSON Feed asks for RFC 3339, but real feeds (WordPress plugins) write RFC 822.
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when if _MIN_YEAR <= when.year <= _MAX_YEAR else None
