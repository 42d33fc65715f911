"""A loopback HTTP server for benchmark feeds, with ETag conditional GET like real servers.

It runs in its own process: a server sharing our interpreter would compete with the code
under test for the GIL, which a real remote server never does.

`latency` holds every response back that many seconds (a distant or slow server: the
I/O-bound benchmarks), and `servers` listens on that many ports at once, each serving every
feed: the HTTP client limits concurrent requests per host and port (`[http]
per_host_concurrency`), so sources spread over many ports stand for sources on many hosts.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection


def _serve(
    make_feeds: Callable[[], dict[str, bytes]], ready: Connection, servers: int, latency: float
) -> None:
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
            if latency:
                time.sleep(latency)
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

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # many clients connect at once in the I/O benchmark

    running = [Server(("127.0.0.1", 0), Handler) for _ in range(servers)]
    for server in running[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.send([server.server_address[1] for server in running])
    running[0].serve_forever()


@contextmanager
def serve_feeds_on_ports(
    make_feeds: Callable[[], dict[str, bytes]], servers: int = 1, latency: float = 0.0
) -> Iterator[list[str]]:
    """Serve `make_feeds()` (path → body) from a child process on `servers` ports, each
    answering after `latency` seconds; yields one base URL per port."""
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(make_feeds, send, servers, latency), daemon=True
    )
    process.start()
    try:
        if not receive.poll(60):
            raise RuntimeError("benchmark feed server did not start")
        yield [f"http://127.0.0.1:{port}" for port in receive.recv()]
    finally:
        process.terminate()
        process.join(10)


@contextmanager
def serve_feeds(make_feeds: Callable[[], dict[str, bytes]]) -> Iterator[str]:
    """Serve `make_feeds()` (path → body) from a child process; yields the base URL."""
    with serve_feeds_on_ports(make_feeds) as urls:
        yield urls[0]
