"""A local HTTP server over the recorded corpora in ../shared/corpora.

Connectors must be tested through the real HTTP path (status codes, headers, encodings,
redirects, conditional GET), never by reading files directly, so this serves the recorded
bodies unchanged from 127.0.0.1. Serving is generic (`CorpusServer`: a threaded server, a
request log, extra routes for hand-made cases); what to answer is a `Responder`.
`FeedCorpus` implements the rules of corpora/README.md for `feeds/`, `ApiCorpus` those for
`api/` (recorded JSON API answers, routed on path + query).

    with CorpusServer(FeedCorpus(shared / "corpora" / "feeds")) as server:
        url = server.url("wellformed/rss/item_title.xml")
    with CorpusServer(ApiCorpus(shared / "corpora" / "api")) as server:
        instance = server.base_url   # e.g. a Mastodon instance, a Bluesky AppView
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass(frozen=True)
class Request:
    """One request the server saw (header names lower-case)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    peer: str = ""  # "address:port" of the client's connection (shows connection reuse)


@dataclass
class Canned:
    """A response to send: status, headers in order, body bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


Responder = Callable[[Request, str], Canned]
"""(request, base_url) → response; base_url is "http://127.0.0.1:PORT" (no slash)."""


# -- feeds/ rules ------------------------------------------------------------------------
_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_HEADER = re.compile(r"^[ \t]*Header:[ \t]+([^:\s]+):[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_FIELD = re.compile(r"^[ \t]*(Description|Expect|SkipUnless):[ \t]*(.*?)[ \t]*$", re.MULTILINE)
FEEDPARSER_HOST = "http://localhost:8097"


@dataclass(frozen=True)
class FeedMeta:
    """The metadata comment of a feedparser test file."""

    headers: list[tuple[str, str]]
    description: str | None
    expect: str | None
    skip_unless: str | None = None

    @property
    def status(self) -> int:
        value = next((v for k, v in self.headers if k.lower() == "status"), "200")
        return int(value)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _text_of(data: bytes) -> str:
    """The file as text, so the comment can be read (UTF-16/32 files included)."""
    boms = (
        (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
        (b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
        (b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be"),
    )
    for bom, codec in boms:
        if data.startswith(bom):
            return data.decode(codec, errors="replace").lstrip("\ufeff")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_feed_meta(data: bytes) -> FeedMeta:
    """Header:/Description:/Expect: lines of the first comment (if any) of a corpus file."""
    text = _text_of(data[:8192])
    match = _COMMENT.search(text)
    if not match:
        return FeedMeta([], None, None)
    comment = match.group(1)
    fields = dict(_FIELD.findall(comment))
    return FeedMeta(
        _HEADER.findall(comment),
        fields.get("Description"),
        fields.get("Expect"),
        fields.get("SkipUnless"),
    )


def guess_content_type(path: Path, data: bytes) -> str:
    """What a plain web server would send for a file without a Content-type header line."""
    suffix = path.suffix.lower()
    if suffix in (".gz", ".z"):
        return "application/xml"
    if suffix == ".json":
        return "application/feed+json"
    if suffix in (".html", ".htm"):
        return "text/html"
    head = _text_of(data[:4096])
    if re.search(r"<rss[\s>]", head):
        return "application/rss+xml"
    if re.search(r"<feed[\s>]", head):
        return "application/atom+xml"
    if "<rdf:RDF" in head:
        return "application/rdf+xml"
    return "application/xml"


class FeedCorpus:
    """Answers for `feeds/` exactly as corpora/README.md describes (served under /tests/)."""

    prefix = "/tests/"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, relative: str) -> str:
        return self.prefix + relative

    def __call__(self, request: Request, base_url: str) -> Canned:
        if request.path == "/-/return-304.xml":
            # feedparser's server short-circuits this path for its redirect-to-304 test.
            return Canned(304, [("Content-Type", "text/xml")])
        if not request.path.startswith(self.prefix):
            return Canned(404, [("Content-Type", "text/plain")], b"not found")
        file = (self.root / unquote(request.path[len(self.prefix):])).resolve()
        if not file.is_file() or self.root not in file.parents:
            return Canned(404, [("Content-Type", "text/plain")], b"not found")
        data = file.read_bytes()
        meta = read_feed_meta(data)
        headers: list[tuple[str, str]] = []
        for name, value in meta.headers:
            if name.lower() == "status":
                continue
            if name.lower() == "location":
                value = value.replace(FEEDPARSER_HOST, base_url)
            headers.append((name, value))
        if meta.header("content-type") is None:
            headers.insert(0, ("Content-Type", guess_content_type(file, data)))
        if file.suffix == ".gz":
            headers.append(("Content-Encoding", "gzip"))
        elif file.suffix == ".z":
            headers.append(("Content-Encoding", "deflate"))
        etag, modified = meta.header("etag"), meta.header("last-modified")
        if (etag and request.headers.get("if-none-match") == etag) or (
            modified and request.headers.get("if-modified-since") == modified
        ):
            return Canned(304, [(k, v) for k, v in headers if k.lower() != "content-type"])
        return Canned(meta.status, headers, data)


# -- api/ rules -------------------------------------------------------------------------
#: Recorded headers never forwarded (corpora/README.md): bodies are stored decoded.
_HOP_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length", "connection"})
_YEAR = re.compile(r"(19|20)\d\d")


@dataclass(frozen=True)
class Recording:
    """One recorded API exchange (`X.meta.json` + its body file)."""

    name: str  # "service/body_file"
    path: str
    query: tuple[tuple[str, str], ...]
    origin: str  # scheme://host[:port] of the recorded request
    status: int
    headers: tuple[tuple[str, str], ...]
    body_file: Path
    year: int

    @property
    def etag(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "etag"), None)


def _route_path(path: str) -> str:
    """Paths compared without a trailing slash or `.json`: Reddit answers the same listing
    at `/r/x/new` (oauth.reddit.com, where the recordings were made) and `/r/x/new.json`
    (www.reddit.com, where anonymous clients ask)."""
    path = unquote(path).rstrip("/") or "/"
    return path.removesuffix(".json")


def load_recordings(root: Path) -> list[Recording]:
    """Every GET recording under `root` (`<service>/*.meta.json`), sorted by name."""
    found = []
    for meta_file in sorted(root.glob("*/*.meta.json")):
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        request, response = meta["request"], meta["response"]
        if request.get("method", "GET").upper() != "GET":
            continue
        url = urlsplit(request["url"])
        year = _YEAR.search(str(meta.get("recorded_at") or ""))
        found.append(
            Recording(
                name=f"{meta_file.parent.name}/{response['body_file']}",
                path=_route_path(url.path),
                query=tuple(parse_qsl(url.query, keep_blank_values=True)),
                origin=f"{url.scheme}://{url.netloc}",
                status=int(response["status"]),
                headers=tuple((k, str(v)) for k, v in (response.get("headers") or {}).items()),
                body_file=meta_file.parent / response["body_file"],
                year=int(year.group(0)) if year else 0,
            )
        )
    return found


class ApiCorpus:
    """Answers for `api/` as corpora/README.md describes: recorded status, headers and body.

    A request is answered by a recording of the same path whose query agrees with it on
    every parameter both name (parameters only one side names are ignored, as an API
    ignores the options a client leaves at their default); the recording that agrees on
    the most parameters wins, then the one with the fewest unmatched, then the newest.
    So `?limit=10&max_id=X` gets the page recorded for that `max_id`, and a cursor the
    corpus never saw gets the closest page, which a client must survive as a replay.
    Recorded hosts in `Link`/`Location` are rewritten to this server; an `If-None-Match`
    equal to the recorded ETag gets a 304.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.recordings = load_recordings(self.root)
        self._by_path: dict[str, list[Recording]] = {}
        for recording in self.recordings:
            self._by_path.setdefault(recording.path, []).append(recording)

    def match(self, path: str, query: str) -> Recording | None:
        asked = parse_qsl(query, keep_blank_values=True)
        asked_map: dict[str, list[str]] = {}
        for key, value in asked:
            asked_map.setdefault(key, []).append(value)
        best: tuple[tuple[int, int, int], Recording] | None = None
        for recording in self._by_path.get(_route_path(path), []):
            shared, extra, conflict = 0, 0, False
            for key, value in recording.query:
                if key not in asked_map:
                    extra += 1
                elif value in asked_map[key]:
                    shared += 1
                else:
                    conflict = True
                    break
            if conflict:
                continue
            rank = (shared, -extra, recording.year)
            if best is None or rank > best[0]:
                best = (rank, recording)
        return best[1] if best else None

    def __call__(self, request: Request, base_url: str) -> Canned:
        recording = self.match(request.path, request.query)
        if recording is None:
            return Canned(
                404,
                [("Content-Type", "application/json")],
                b'{"error":"no recording for this request"}',
            )
        return self.respond(recording, request, base_url)

    def recording(self, name: str) -> Recording:
        """The recording whose body is `name` ("service/file.json")."""
        return next(r for r in self.recordings if r.name == name)

    def respond(self, recording: Recording, request: Request, base_url: str) -> Canned:
        """The recorded answer, with recorded hosts rewritten to `base_url`."""
        headers = [
            (name, value.replace(recording.origin, base_url))
            for name, value in recording.headers
            if name.lower() not in _HOP_HEADERS
        ]
        etag = recording.etag
        if etag and request.headers.get("if-none-match") == etag:
            return Canned(304, [(k, v) for k, v in headers if k.lower() != "content-type"])
        return Canned(recording.status, headers, recording.body_file.read_bytes())


def feed_files(root: Path) -> list[str]:
    """Every corpus file under `root`, as sorted relative POSIX paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- serving ------------------------------------------------------------------------------
class _QuietServer(ThreadingHTTPServer):
    """A client hanging up mid-body (a size cap, a deadline) is expected, not a server error."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class CorpusServer:
    """ThreadingHTTPServer on 127.0.0.1 (free port) in a daemon thread, with a request log.

    `routes` maps an exact path to a responder that takes precedence over the corpus
    (for hand-made cases: stalls, 500s, huge bodies); `requests` logs everything received.
    """

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder = responder
        self.routes: dict[str, Responder] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """Absolute URL of a corpus-relative path (or of an absolute "/path")."""
        if not path.startswith("/"):
            prefix = getattr(self.responder, "prefix", "/")
            path = prefix + path
        return self.base_url + path

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> str:
        server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> CorpusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, request: Request) -> Canned:
        with self._lock:
            self.requests.append(request)
        route = self.routes.get(request.path)
        if route is not None:
            return route(request, self.base_url)
        if self.responder is None:
            return Canned(404, [("Content-Type", "text/plain")], b"not found")
        return self.responder(request, self.base_url)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each response waits ~40 ms for an ACK

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                peer = f"{self.client_address[0]}:{self.client_address[1]}"
                canned = owner._answer(Request("GET", parts.path, parts.query, headers, peer))
                self.send_response(canned.status)
                for name, value in canned.headers:
                    self.send_header(name, value)
                if canned.status != 304 and not any(
                    k.lower() == "content-length" for k, _ in canned.headers
                ):
                    self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                if canned.status != 304 and canned.body:
                    # The client may stop reading (size limit, timeout): that is expected.
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(canned.body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        return Handler
