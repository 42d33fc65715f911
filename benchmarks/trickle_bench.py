"""One `monitor fetch` pass over local sources of which one trickles its body.

A server that sends one byte every `BENCH_DRIP_SECONDS` (0.5 s) never trips the per-read
timeout; only `[http] max_download_seconds` (`BENCH_DEADLINE`, 2 s here) stops it. That is
not a transient failure: the same request fails the same way seconds later, so it must cost
one deadline per pass, not one per retry (issue 9). Goal: the whole pass costs at most the
deadline plus a second more than a pass without the trickling source (the baseline, measured
in the same run: `monitor fetch` start-up, spaCy and the database are in both).

Both passes are whole `monitor fetch` processes on a fresh SQLite file; the feeds come from
a loopback server in its own process (like benchmarks/local_feed_server.py) that counts the
requests to the trickling path. Each pass runs `BENCH_REPEATS` times (3), alternating, on a
fresh database each time; the best time of each is printed (start-up noise on a busy machine
is larger than the effect). Environment: BENCH_SOURCES (normal feeds, 8), BENCH_DEADLINE (2),
BENCH_DRIP_SECONDS (0.5), BENCH_REPEATS (3).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

from benchmarks.synthetic_feeds import make_feed

SOURCES = int(os.environ.get("BENCH_SOURCES", "8"))
DEADLINE = float(os.environ.get("BENCH_DEADLINE", "2"))
DRIP = float(os.environ.get("BENCH_DRIP_SECONDS", "0.5"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
REPO = Path(__file__).resolve().parents[1]


def _serve(feeds: dict[str, bytes], drip: float, ready: Connection) -> None:
    trickled = 0

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            nonlocal trickled
            if self.path == "/count":
                body = str(trickled).encode()
            elif self.path == "/trickle.xml":
                trickled += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    while True:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(drip)
                except OSError:
                    return
            else:
                body = feeds.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ready.send(server.server_address[1])
    server.serve_forever()


@contextmanager
def _server(feeds: dict[str, bytes]) -> Iterator[str]:
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(feeds, DRIP, send), daemon=True
    )
    process.start()
    try:
        if not receive.poll(60):
            raise RuntimeError("benchmark feed server did not start")
        yield f"http://127.0.0.1:{receive.recv()}"
    finally:
        process.terminate()
        process.join(10)


def _trickle_requests(base: str) -> int:
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1]))) as connection:
        connection.sendall(b"GET /count HTTP/1.0\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    return int(answer.rsplit(b"\r\n\r\n", 1)[1])


def _settings(folder: Path, base: str, trickle: bool, run: int) -> Path:
    names = [f"feed{i}" for i in range(SOURCES)] + (["trickle"] if trickle else [])
    sources = "".join(
        f'[[sources]]\nname = "{name}"\nkind = "rss"\nurl = "{base}/{name}.xml"\n\n'
        for name in names
    )
    path = folder / f"{'with' if trickle else 'without'}{run}.toml"
    path.write_text(
        f'[storage]\nurl = "sqlite:///{folder / path.stem}.db"\n\n'
        f"[http]\nallow_private_addresses = true\nmax_download_seconds = {DEADLINE:g}\n\n"
        '[[brands]]\nname = "Calderix"\nquery = "Calderix"\n\n' + sources,
        encoding="utf-8",
    )
    return path


def _fetch(settings: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "monitor", "--settings", str(settings), "fetch"],
        check=False, cwd=settings.parent, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, timeout=600,
    )
    return time.perf_counter() - started


def run() -> None:
    feeds = {f"/feed{i}.xml": make_feed(i, 20, brand_share=0.2) for i in range(SOURCES)}
    with tempfile.TemporaryDirectory() as tmp, _server(feeds) as base:
        folder = Path(tmp)
        baselines, measures = [], []
        for run in range(REPEATS):
            baselines.append(_fetch(_settings(folder, base, trickle=False, run=run)))
            measures.append(_fetch(_settings(folder, base, trickle=True, run=run)))
        requests = _trickle_requests(base) / REPEATS
    baseline, measured = min(baselines), min(measures)
    extra = measured - baseline
    print(
        f"trickle pass ({SOURCES} feeds + 1 trickling at one byte per {DRIP:g}s, "
        f"max_download_seconds = {DEADLINE:g}): baseline {baseline:.2f}s, with the trickling "
        f"source {measured:.2f}s, extra {extra:.2f}s (goal ≤ {DEADLINE + 1:g}s), "
        f"trickling source requested {requests:g}x per pass (best of {REPEATS})"
    )


if __name__ == "__main__":
    run()
