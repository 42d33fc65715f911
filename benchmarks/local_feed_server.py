"""A loopback HTTP server for benchmark feeds, with ETag conditional GET like real servers.

It runs in its own process: a server sharing our interpreter would compete with the code
under test for the GIL, which a real remote server never does.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection


def _serve(make_feeds: Callable[[], dict[str, bytes]], ready: Connection) -> None:
    feeds = make_feeds()
    etags = {path: '"' + hashlib.sha1(body).hexdigest() + '"' for path, body in feeds.items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # http.server sends headers and body in two writes; with Nagle's algorithm and the
            # client's delayed ACK that costs ~40 ms a response, which no real server has.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            body = feeds.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == etags[self.path]:
                self.send_response(304)
                self.send_header("ETag", etags[self.path])
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etags[self.path])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ready.send(server.server_address[1])
    server.serve_forever()


@contextmanager
def serve_feeds(make_feeds: Callable[[], dict[str, bytes]]) -> Iterator[str]:
    """Serve `make_feeds()` (path → body) from a child process; yields the base URL."""
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(make_feeds, send), daemon=True
    )
    process.start()
    try:
        if not receive.poll(60):
            raise RuntimeError("benchmark feed server did not start")
        yield f"http://127.0.0.1:{receive.recv()}"
    finally:
        process.terminate()
        process.join(10)
