"""500 sources in one pass, then the same pass with every source unchanged (ETag → 304).

What a deployment does all day: most polls find nothing new, so a re-poll of unchanged
sources must cost a small fraction of a pass that finds everything new. The sources are a
mix of the feed-based kinds, each in its real wire format, served from a loopback server in
its own process (benchmarks/local_feed_server.py) with ETags like real servers:

- `rss`: RSS 2.0 news feeds (benchmarks/synthetic_feeds.py);
- `rss` on JSON Feed 1.1 bodies;
- `google_news`: the search feed, "Headline - Outlet" titles and a `<source>` per item;
- `youtube`: channel Atom feeds with `media:group` statistics;
and, when ../shared/corpora is there, API sources answered from the recorded responses
(tests/corpus_server.py's ApiCorpus, in a second process): `mastodon` (tag timeline with Link
paging), `bluesky` (searchPosts with a cursor) and `hackernews` (Algolia search), asking for
the recordings the connector contract test uses. Their unchanged pass asks from the stored
cursor and gets nothing new. `reddit` is left out: its recorded corpus holds a later poll
with newer posts, so its second pass is not an unchanged one.

Both passes run the real pipeline (fetch, parse, match, classify, store in SQLite) with
`monitor run`'s worker threads. Requests are counted at the HTTP transport, so redirects or
retries would show, and database transactions at the engine. Printed: wall time, requests
per second and transactions of each pass, and the ratio unchanged / first (the goal is a
small fraction: < 0.10). Environment: BENCH_SOURCES (500),
BENCH_ITEMS (items per source, 20), BENCH_WORKERS (4), BENCH_REPEATS (1).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import httpx
from sqlalchemy import event, select

from benchmarks.local_feed_server import serve_feeds
from benchmarks.synthetic_feeds import OTHER, SUBJECTS_ES, VERBS_ES, make_feed
from connectors.google_news import GoogleNewsOptions, search_feed_url
from connectors.youtube import YoutubeOptions, videos_feed_url
from monitor.app.configuration import parse_settings
from monitor.app.pipeline import Pipeline
from monitor.core.http import HttpClient
from monitor.core.models import Source
from monitor.core.rawpost import RawPost
from monitor.core.storage import open_database

BRAND = {"name": "Calderix", "query": 'Calderix OR "Calderix Móvil" OR @calderix OR #calderix'}
#: Share of each feed kind among the sources (the rest are plain RSS feeds).
FEED_MIX = {"jsonfeed": 0.1, "google_news": 0.1, "youtube": 0.1}
#: Share of each API kind, served from the recorded corpus when ../shared is there.
API_MIX = {"mastodon": 0.04, "bluesky": 0.03, "hackernews": 0.03}
MASTODON_TAG = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"
#: Options asking for recorded responses (the same as tests/test_connector_contract.py).
API_OPTIONS: dict[str, Callable[[str], dict[str, Any]]] = {
    "mastodon": lambda url: {"instance": url, "tags": [MASTODON_TAG], "limit": 10},
    "bluesky": lambda url: {"appview": url, "query": "redistricting"},
    "hackernews": lambda url: {"base_url": url, "query": "apple", "hits_per_page": 1},
}
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIGIA_SHARED_DIR", REPO.parent / "shared"))
BRAND_SHARE = 0.2
START = datetime(2026, 11, 20, 12, tzinfo=UTC)


# -- bodies in each wire format ----------------------------------------------------------
def _headlines(index: int, items: int) -> list[tuple[str, datetime]]:
    """Deterministic headlines, `BRAND_SHARE` of them about the brand, newest first."""
    rng = random.Random(index * 7919)
    found = []
    for i in range(items):
        subject = rng.choice(SUBJECTS_ES if rng.random() < BRAND_SHARE else OTHER)
        found.append((f"{subject} {rng.choice(VERBS_ES)} ({index}-{i})",
                      START - timedelta(minutes=23 * i + index)))
    return found


def json_feed(index: int, items: int) -> bytes:
    entries = [
        {
            "id": f"json{index}-{i}",
            "url": f"https://blog{index}.example/{i}",
            "title": title,
            "content_html": f"<p>{escape(title)}. Más detalles en el blog.</p>",
            "date_published": when.isoformat(),
            "authors": [{"name": f"Autor {index}"}],
        }
        for i, (title, when) in enumerate(_headlines(index, items))
    ]
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"Blog {index}",
        "home_page_url": f"https://blog{index}.example/",
        "language": "es",
        "items": entries,
    }
    return json.dumps(document, ensure_ascii=False).encode()


def google_news_feed(index: int, items: int) -> bytes:
    body = []
    for i, (title, when) in enumerate(_headlines(index, items)):
        outlet = f"Diario {index % 37}"
        link = f"https://news.google.com/rss/articles/CBMi{index}x{i}?oc=5"
        description = f'<a href="{link}">{escape(title)}</a>&nbsp;&nbsp;<font>{outlet}</font>'
        body.append(
            f"<item><title>{escape(title)} - {outlet}</title><link>{link}</link>"
            f'<guid isPermaLink="false">CBMi{index}x{i}</guid>'
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(description)}</description>"
            f'<source url="https://diario{index % 37}.example">{outlet}</source></item>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Calderix - Google News</title><language>es</language>{''.join(body)}"
        "</channel></rss>"
    ).encode()


def youtube_feed(index: int, items: int) -> bytes:
    channel = f"UC{index:022d}"
    entries = []
    for i, (title, when) in enumerate(_headlines(index, items)):
        video = f"v{index:05d}x{i:04d}"
        entries.append(
            f"<entry><id>yt:video:{video}</id><yt:videoId>{video}</yt:videoId>"
            f"<title>{escape(title)}</title>"
            f'<link rel="alternate" href="https://www.youtube.com/watch?v={video}"/>'
            f"<author><name>Canal {index}</name></author>"
            f"<published>{when.isoformat()}</published>"
            f"<media:group><media:title>{escape(title)}</media:title>"
            f"<media:description>{escape(title)} — vídeo completo.</media:description>"
            "<media:community>"
            f'<media:starRating count={quoteattr(str(37 * i + index))} average="4.8"/>'
            f'<media:statistics views={quoteattr(str(1000 * i + index))}/>'
            "</media:community></media:group></entry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns:yt="http://www.youtube.com/xml/'
        'schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" '
        f'xmlns="http://www.w3.org/2005/Atom"><id>yt:channel:{channel}</id>'
        f"<title>Canal {index}</title>{''.join(entries)}</feed>"
    ).encode()


# -- the 500 sources -----------------------------------------------------------------------
def _kind_of(index: int, sources: int, with_api: bool) -> str:
    """Kinds in contiguous blocks sized by FEED_MIX (and API_MIX); the rest RSS."""
    edge = 0
    for kind, share in (FEED_MIX | API_MIX if with_api else FEED_MIX).items():
        edge += round(share * sources)
        if index < edge:
            return kind
    return "rss"


def kinds(sources: int, with_api: bool) -> dict[str, int]:
    """How many sources of each kind the plan has."""
    counts: dict[str, int] = {}
    for index in range(sources):
        kind = _kind_of(index, sources, with_api)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def source(
    index: int, sources: int, base_url: str, api_url: str | None = None
) -> tuple[dict[str, Any], str]:
    """Source number `index`: its `[[sources]]` entry and, for a feed, the request path (with
    query) its first poll asks for. API sources (only with `api_url`) point at the recorded
    API server and ask for the recordings the connector contract test uses."""
    kind, name = _kind_of(index, sources, api_url is not None), f"source {index}"
    if kind in API_MIX:
        return {"name": name, "kind": kind, **API_OPTIONS[kind](api_url or "")}, ""
    if kind == "google_news":
        options = GoogleNewsOptions(query=f'"Calderix" {index}', language="es", country="ES",
                                    base_url=base_url)
        url = search_feed_url(options)
        entry = {"name": name, "kind": kind, **options.model_dump()}
    elif kind == "youtube":
        youtube = YoutubeOptions(channel_id=f"UC{index:022d}", base_url=base_url)
        url = videos_feed_url(youtube)
        entry = {"name": name, "kind": kind, **youtube.model_dump(exclude_none=True)}
    else:
        url = f"{base_url}/f/{index}.{'json' if kind == 'jsonfeed' else 'xml'}"
        entry = {"name": name, "kind": "rss", "url": url}
    return entry, url.removeprefix(base_url)


def source_entries(sources: int, base_url: str, api_url: str | None = None) -> list[dict[str, Any]]:
    """The `[[sources]]` entries, pointing at the loopback servers."""
    return [source(index, sources, base_url, api_url)[0] for index in range(sources)]


BODIES = {
    "rss": lambda index, items: make_feed(index, items, BRAND_SHARE),
    "jsonfeed": json_feed,
    "google_news": google_news_feed,
    "youtube": youtube_feed,
}


def make_bodies(sources: int, items: int, with_api: bool = False) -> dict[str, bytes]:
    """Request path (with query) → body, for every feed source; run in the server process."""
    api = "http://api" if with_api else None
    bodies = {}
    for index in range(sources):
        kind = _kind_of(index, sources, with_api)
        if kind not in API_MIX:
            bodies[source(index, sources, "http://server", api)[1]] = BODIES[kind](index, items)
    return bodies


def _serve_api(root: str, ready: Connection) -> None:
    from tests.corpus_server import ApiCorpus, CorpusServer

    server = CorpusServer(ApiCorpus(Path(root)))
    ready.send(server.start())
    threading.Event().wait()  # serve until terminated


@contextmanager
def serve_recorded_api(root: Path) -> Iterator[str]:
    """The recorded API responses (tests/corpus_server.py's ApiCorpus) from a child process,
    so that serving them does not compete with the pipeline for the GIL; yields the URL."""
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_api, args=(str(root), send), daemon=True
    )
    process.start()
    try:
        if not receive.poll(60):
            raise RuntimeError("recorded API server did not start")
        yield receive.recv()
    finally:
        process.terminate()
        process.join(10)


# -- measuring -----------------------------------------------------------------------------
class CountingTransport(httpx.HTTPTransport):
    """Counts the requests that reach the wire (redirect hops and retries included)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
        return super().handle_request(request)


def _pass(pipeline: Pipeline, transport: CountingTransport, workers: int) -> dict[str, Any]:
    before = transport.requests
    transactions = [0]

    def count_transaction(_connection: object) -> None:
        transactions[0] += 1

    event.listen(pipeline.db.engine, "begin", count_transaction)
    started = time.perf_counter()
    try:
        reports = pipeline.run_sources(workers=workers)
    finally:
        seconds = time.perf_counter() - started
        event.remove(pipeline.db.engine, "begin", count_transaction)
    failed = [r for r in reports if r.error]
    if failed:
        raise SystemExit(f"benchmark source failed: {failed[0].source}: {failed[0].error}")
    requests = transport.requests - before
    return {
        "seconds": seconds,
        "requests": requests,
        "rps": requests / seconds,
        "items": sum(r.fetched for r in reports),
        "mentions": sum(r.new_mentions for r in reports),
        "not_modified": sum(r.not_modified for r in reports),
        "transactions": transactions[0],
    }


def _round_trips(
    http: HttpClient, pipeline: Pipeline, feed_urls: dict[str, str], workers: int
) -> float:
    """Seconds for the unchanged pass's conditional GETs alone (same client, same threads):
    the floor under the unchanged pass, whose rest is state and health bookkeeping."""
    with pipeline.db.sessions() as session:
        etags = {name: etag for name, etag in session.execute(select(Source.name, Source.etag))}

    def poll(item: tuple[str, str]) -> int:
        name, url = item
        return http.get(url, headers={"If-None-Match": etags[name] or ""}).status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(poll, feed_urls.items()))
    if set(statuses) != {304}:
        raise SystemExit(f"expected only 304s from the feed server, got {set(statuses)}")
    return time.perf_counter() - started


def run(
    sources: int = int(os.environ.get("BENCH_SOURCES", "500")),
    items: int = int(os.environ.get("BENCH_ITEMS", "20")),
    workers: int = int(os.environ.get("BENCH_WORKERS", "4")),
    repeats: int = int(os.environ.get("BENCH_REPEATS", "1")),
    with_api: bool | None = None,
) -> dict[str, Any]:
    """Both passes, `repeats` times on fresh databases; prints and returns the best of each.

    `with_api` (default: when the recorded corpora are there) adds the API sources.
    """
    api_root = SHARED / "corpora" / "api"
    with_api = api_root.is_dir() if with_api is None else with_api
    plan = kinds(sources, with_api)
    feeds = sum(n for kind, n in plan.items() if kind not in API_MIX)
    firsts, unchanged_runs = [], []
    with ExitStack() as stack:
        base_url = stack.enter_context(serve_feeds(partial(make_bodies, sources, items, with_api)))
        api_url = stack.enter_context(serve_recorded_api(api_root)) if with_api else None
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        entries = source_entries(sources, base_url, api_url)
        feed_urls = {
            entry["name"]: base_url + path
            for entry, path in (source(i, sources, base_url, api_url) for i in range(sources))
            if path
        }
        for attempt in range(repeats):
            settings = parse_settings(
                {
                    "storage": {"url": f"sqlite:///{tmp}/sources{attempt}.db"},
                    # One loopback host stands for hundreds of real ones: let every worker
                    # thread reach it at once, as they would reach distinct hosts.
                    "http": {"allow_private_addresses": True, "per_host_concurrency": workers},
                    # The synthetic feeds have fixed dates: store every item, however old.
                    "fetch": {"backfill": "all"},
                    # In-process, as measured so far (the analyzer is warmed up below).
                    "pipeline": {"workers": 1},
                    "brands": [BRAND],
                    "sources": entries,
                },
                Path(tmp),
            )
            transport = CountingTransport()
            http = HttpClient(settings.http, transport=transport)
            pipeline = Pipeline(settings, open_database(settings.database_url), http=http)
            # Models load once at start-up; that is not what a pass costs.
            pipeline.analyzer.analyse([RawPost(source="warm", external_id="1", text="Calderix")])
            firsts.append(_pass(pipeline, transport, workers))
            unchanged = _pass(pipeline, transport, workers)
            # Feeds answer 304; API sources ask from their cursor and get nothing new.
            if unchanged["not_modified"] != feeds or unchanged["items"]:
                raise SystemExit("the unchanged pass was expected to find nothing new")
            unchanged["round_trips"] = _round_trips(http, pipeline, feed_urls, workers)
            unchanged_runs.append(unchanged)
            pipeline.close()
            pipeline.db.dispose()
    first = min(firsts, key=lambda r: r["seconds"])
    again = min(unchanged_runs, key=lambda r: r["seconds"])
    ratio = again["seconds"] / first["seconds"]
    print(
        f"sources: {sources} sources ({', '.join(f'{n} {k}' for k, n in plan.items())}), "
        f"{items} items per feed, {workers} workers, best of {repeats}"
        + ("" if with_api else " (no API sources: recorded corpora not found)")
        + f"\n  first pass      {first['seconds']:7.2f} s  {first['requests']:4d} requests "
        f"{first['rps']:8.1f} req/s  {first['items']} items, {first['mentions']} mentions stored\n"
        f"  unchanged       {again['seconds']:7.2f} s  {again['requests']:4d} requests "
        f"{again['rps']:8.1f} req/s  {again['not_modified']} feeds not modified (304), "
        f"{again['items']} new items, {again['transactions']} database transactions "
        f"(first pass {first['transactions']})\n"
        f"    of which the {feeds} conditional GETs alone (same client and threads) "
        f"{again['round_trips']:.2f} s\n"
        f"  ratio unchanged / first {ratio:.3f} (goal < 0.10)"
    )
    return {"first": first, "unchanged": again, "ratio": ratio, "kinds": plan}


if __name__ == "__main__":
    run()
