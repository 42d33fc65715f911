"""A loopback server that sends a 200 response's body one byte at a time, for ever.

No per-read timeout ever trips on it; only the whole-body deadline
(`[http] max_download_seconds`) stops a client. It counts the connections it accepted, so a
test can say how many times the body was asked for.
"""

from __future__ import annotations

import socket
import threading
import time


class DripServer:
    """`with DripServer(every=0.05) as server: client.get(server.url)`; then `server.requests`."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/slow.xml"

    def __enter__(self) -> DripServer:
        accepter = threading.Thread(target=self._accept, daemon=True)
        accepter.start()
        self._threads.append(accepter)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            worker = threading.Thread(target=self._drip, args=(connection,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                b"Content-Length: 100000\r\n\r\n"
            )
            while not self._stop.is_set():
                try:
                    connection.sendall(b" ")
                except OSError:
                    return
                time.sleep(self.every)
