"""Every file of the recorded feed corpus, fetched through RssConnector over local HTTP.

Three things are checked per file:
1. the outcome: posts, or a *classified* error only where one is expected (404, no Location,
   bodies that are no feed at all); anything feedparser calls bozo is flagged by us too;
2. the file's own `Expect:` expression, evaluated against feedparser's result for the bytes
   and headers our HttpClient received (as feedparser's own suite does): this proves the
   server and the client deliver the corpus faithfully;
3. every `Expect:` comparison about a value we store (entry title, link, id, author, date,
   body, enclosures) is re-checked against the RawPost we produced. The number of such
   checks is counted and must stay substantial.
"""

from __future__ import annotations

import ast
import builtins
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import feedparser.api
import pytest

from connectors.base import ConnectorContext, FetchResult, SourceState
from connectors.feed_parse import parse_feed
from connectors.html_text import html_to_text, plain_text
from connectors.rss import RssConnector, RssOptions
from monitor.core.errors import SourceError, SourceMisconfigured
from monitor.core.http import HttpClient, HttpResponse
from monitor.core.rawpost import RawPost
from monitor.core.settings import HttpSettings
from tests.conftest import SHARED
from tests.corpus_server import CorpusServer, FeedCorpus, feed_files, read_feed_meta

FEEDS = SHARED / "corpora" / "feeds"
FILES = feed_files(FEEDS) if FEEDS.is_dir() else ["(corpus missing)"]
CANONICAL = "http://127.0.0.1:8097"  # where feedparser's own suite served these files

#: Files whose classified outcome is an error, and why.
EXPECTED_ERRORS: dict[str, type[SourceError]] = {
    "http/http_status_404.xml": SourceMisconfigured,  # 404
    "http/http_status_302-no-location.xml": SourceMisconfigured,  # redirect to nowhere
    "compression/gzip-struct-error.gz": SourceMisconfigured,  # corrupt gzip: truncated XML
    "encoding/bozo_invalid-bytes-with-bom.xml": SourceMisconfigured,  # unclosed, no items
    "encoding/miniflux/xml_iso88591.xml": SourceMisconfigured,  # a <note>, not a feed
    "encoding/miniflux/xml_iso88591_utf8_mismatch.xml": SourceMisconfigured,  # same
    "illformed/aaa_illformed.xml": SourceMisconfigured,  # "</rss" and nothing else
    "illformed/rss_empty_document.xml": SourceMisconfigured,  # empty document
    "illformed/undeclared_namespace.xml": SourceMisconfigured,  # broken, no items
    "real/feed-rs/rss_2.0_invalid_1.xml": SourceMisconfigured,  # truncated before any item
}
#: Expect expressions that cannot be evaluated on a plain-bytes parse, with the reason.
EXPECT_SKIPS = {
    "http/": "HTTP status cases: checked through the connector outcome instead",
    "illformed/chardet/": "needs the chardet package, which is not installed",
}
#: Old feedparser keys used in wellformed/date (corpora/README.md).
DATE_KEYS = {"date_parsed": "published_parsed", "modified_parsed": "updated_parsed"}

#: (file, field) pairs where our value differs from feedparser's on purpose, with the reason.
KNOWN_DIFFERENCES = {
    ("encoding/bozo_linenoise.xml", "summary"): "a literal '<>' is text to an HTML5 parser; "
    "feedparser's sanitiser deletes it",
    ("wellformed/sanitize/entry_content_iframe.xml", "content"): "an <iframe>'s inner text is "
    "never shown by a browser; we drop it with the iframe, feedparser keeps it",
}
#: Expectations written in 2011 that feedparser 6.0 itself no longer meets (its date parser
#: changed for these legacy formats); the stored date is checked against feedparser's value.
FEEDPARSER6_DIFFERS = {
    "wellformed/date/channel_pubDate_hungarian_1.xml",
    "wellformed/date/channel_pubDate_korean_nate.xml",
    "wellformed/date/channel_pubDate_mssql.xml",
    "wellformed/date/item_pubDate_euc-kr.xml",
}

CHECKED: dict[str, int] = {}  # file → number of Expect comparisons re-checked on RawPosts


@pytest.fixture(scope="module")
def corpus() -> Iterator[tuple[CorpusServer, HttpClient]]:
    if not FEEDS.is_dir():
        pytest.skip(f"feed corpus not found at {FEEDS}")
    with CorpusServer(FeedCorpus(FEEDS)) as server, HttpClient(
        HttpSettings(retries=0), allow_private=True, sleep=lambda _s: None
    ) as http:
        yield server, http


def _fetch(http: HttpClient, url: str) -> FetchResult:
    context = ConnectorContext(http=http, base_dir=Path("."), now=datetime.now(UTC))
    return RssConnector("corpus", RssOptions(url=url), context).fetch(SourceState())


def _feedparser_view(response: HttpResponse, path: str, monkeypatch: Any) -> Any:
    """feedparser's result for exactly what we received, populated as its http.get does."""
    href = CANONICAL + path

    def open_resource(_stream: Any, *_args: Any) -> bytes:
        result = _args[-1]
        result["headers"] = dict(response.headers)
        if "etag" in response.headers:
            result["etag"] = response.headers["etag"]
        if response.headers.get("last-modified"):
            result["modified"] = response.headers["last-modified"]
            result["modified_parsed"] = feedparser.api._parse_date(result["modified"])
        result["href"] = href
        result["status"] = response.status
        return response.content

    monkeypatch.setattr(feedparser.api, "_open_resource", open_resource)
    return feedparser.parse(io.BytesIO(response.content))


@pytest.mark.parametrize("relative", FILES)
def test_corpus_file(
    relative: str, shared_dir: Path, corpus: tuple[CorpusServer, HttpClient], monkeypatch: Any
) -> None:
    server, http = corpus
    url = server.url(relative)
    meta = read_feed_meta((FEEDS / relative).read_bytes())

    expected_error = EXPECTED_ERRORS.get(relative)
    if expected_error is not None:
        with pytest.raises(expected_error):
            _fetch(http, url)
    else:
        result = _fetch(http, url)
    if relative.startswith("http/"):
        return

    if relative.endswith(".json"):
        _check_json_feed(relative, result)
        return
    response = http.get(url)
    assert response.status == 200
    ours = parse_feed(
        response.content, source="corpus", headers=response.headers, base_url=response.url
    ).posts
    parsed = _feedparser_view(response, server.responder.path_for(relative), monkeypatch)
    if parsed.get("bozo") and expected_error is None:
        assert result.warning, f"feedparser: bozo ({parsed.bozo_exception!r}); we did not flag it"
    if relative.startswith("illformed/") and (meta.expect or "").startswith("bozo"):
        assert expected_error is not None or result.warning

    if meta.expect is None:
        return
    skip = next((why for prefix, why in EXPECT_SKIPS.items() if relative.startswith(prefix)), None)
    expect = meta.expect
    if relative.startswith("wellformed/date/"):
        for old, new in DATE_KEYS.items():
            expect = expect.replace(old, new)
    namespace = {"feedparser": feedparser, "__builtins__": builtins}
    if meta.skip_unless and not _holds(meta.skip_unless, namespace):
        return  # the expectation only holds in a configuration we do not have
    if skip is None and relative not in FEEDPARSER6_DIFFERS:
        assert eval(expect, namespace, parsed), f"Expect failed: {expect}"
    if relative in FEEDPARSER6_DIFFERS:
        for post, entry in zip(result.posts, parsed.entries, strict=True):
            date = entry.get("published_parsed") or entry.get("updated_parsed")
            assert post.published_at is not None and date is not None
            assert post.published_at.timetuple()[:6] == tuple(date)[:6]
    elif expected_error is None and result.posts:
        # Index-wise comparison needs every item, so use parse_feed (what the connector
        # calls) and prove that the connector's posts are exactly its de-duplicated output.
        assert result.posts == list({p.external_id: p for p in reversed(ours)}.values())[::-1]
        CHECKED[relative] = _check_rawpost(relative, expect, parsed, ours, server.base_url)


def _holds(condition: str, namespace: dict[str, Any]) -> bool:
    try:
        return bool(eval(condition, dict(namespace)))
    except Exception:  # e.g. __import__('chardet') when it is not installed
        return False


def _check_json_feed(relative: str, result: FetchResult) -> None:
    """feedparser 6.0 cannot read JSON Feed; check our own parse, and the embedded Expect."""
    assert result.warning is None
    assert result.posts and all(p.external_id and (p.title or p.text) for p in result.posts)
    assert all(p.published_at is None or p.published_at.tzinfo is UTC for p in result.posts)
    text = (FEEDS / relative).read_text(encoding="utf-8")
    match = re.search(r"Expect:\s*(.*?)\s*-->", text)
    if match:
        parsed = parse_feed(text.encode(), source="corpus")
        namespace = {"bozo": parsed.bozo, "feed": feedparser.FeedParserDict(title=parsed.title),
                     "entries": parsed.posts}
        assert eval(match.group(1), {"__builtins__": builtins}, namespace)
        CHECKED[relative] = 1


# -- Expect comparisons → RawPost fields -----------------------------------------------
_ALIASES = {"guid": "id", "description": "summary", "date_parsed": "updated_parsed",
            "modified_parsed": "updated_parsed", "issued_parsed": "published_parsed"}
_DATES = ("published_parsed", "updated_parsed", "created_parsed")


def _entry_path(node: ast.AST) -> tuple[Any, ...] | None:
    """`entries[1]['a'][0].b` → (1, 'a', 0, 'b'); None for anything else."""
    keys: list[Any] = []
    while True:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            keys.append(node.slice.value)
            node = node.value
        elif isinstance(node, ast.Attribute):
            keys.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name) and node.id == "entries":
            keys.reverse()
            return tuple(keys) if keys and isinstance(keys[0], int) else None
        else:
            return None


def _comparisons(expect: str) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(entry index + key path, expected value) for each `entries[i]… == literal`."""
    for node in ast.walk(ast.parse(expect, mode="eval")):
        if not isinstance(node, ast.Compare) or not all(isinstance(o, ast.Eq) for o in node.ops):
            continue
        try:
            value = ast.literal_eval(node.comparators[-1])
        except ValueError:
            continue
        for side in (node.left, *node.comparators[:-1]):
            if isinstance(side, ast.Call) and getattr(side.func, "id", "") == "ord":
                path = _entry_path(side.args[0])
                if path is not None:
                    yield path, chr(value)
                continue
            path = _entry_path(side)
            if path is not None:
                yield path, value


def _as_text(detail: Any, value: str) -> str:
    kind = (detail or {}).get("type", "text/html")
    return plain_text(value) if kind == "text/plain" else html_to_text(value)


def _check_rawpost(
    relative: str, expect: str, parsed: Any, posts: list[RawPost], base_url: str
) -> int:
    """Assert each storable expectation on our posts; return how many were checked."""
    checked = 0
    for (index, *keys), value in _comparisons(expect):
        path = tuple(keys)
        entry, post = parsed.entries[index], posts[index]
        key = _ALIASES.get(path[0], path[0])
        if (relative, key) in KNOWN_DIFFERENCES:
            continue
        if key == "title" and path in (("title",), ("title_detail", "value")):
            assert (post.title or "") == _as_text(entry.get("title_detail"), value)
        elif key == "link" and len(path) == 1:
            assert (post.url or "").replace(base_url, CANONICAL) == value
        elif key == "id" and len(path) == 1:
            assert post.external_id == value
        elif path in (("author",), ("author_detail", "name")):
            assert post.author == value
        elif key in _DATES and len(path) == 1:
            stored = next((k for k in _DATES if entry.get(k)), None)
            if stored != key:
                continue  # not the date we keep (published wins over updated)
            assert post.published_at is not None
            assert post.published_at.timetuple()[:6] == tuple(value)[:6]
        elif path in (("summary",), ("summary_detail", "value"), ("content", 0, "value")):
            detail = entry.get("summary_detail") if key != "content" else entry["content"][0]
            richest = max([*(c.get("value", "") for c in entry.get("content", ())),
                           entry.get("summary", "")], key=len)
            if detail.get("value") != richest:
                continue  # we keep the richest body, which is another field
            assert post.text == _as_text(detail, value)
        elif key == "enclosures" and (len(path) == 2 or path[-1] in ("url", "href")):
            url = value if isinstance(value, str) else value.get("href")
            assert url in post.media
        elif key == "media_thumbnail" and path[-1] == "url":
            assert value in post.media
        else:
            continue
        checked += 1
    return checked


def test_expectations_checked_on_our_fields(shared_dir: Path) -> None:
    """Runs after the per-file tests: the RawPost cross-checks must be substantial."""
    if len(CHECKED) < 10:
        pytest.skip("run the whole module to count the RawPost cross-checks")
    total = sum(CHECKED.values())
    print(f"\n{total} Expect comparisons checked against RawPost fields "
          f"in {sum(1 for n in CHECKED.values() if n)} files")
    assert total >= 50  # 51 when written: a drop means a field we store regressed
