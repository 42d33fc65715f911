"""What the queue's fault and soak tests share: changing feeds, an SMTP sink counting
Message-IDs, and a rig of `monitor worker` subprocesses that can be killed with SIGKILL.

Nothing here is a mock: the feeds are served over HTTP on loopback, the emails go through
a real SMTP conversation (aiosmtpd), the workers are real prefork Celery workers on a real
broker and PostgreSQL. The tests count what arrived where it arrives: mentions as rows
(by source and external id), emails at the SMTP server (by Message-ID).

`VIGIA_FAULT_TRIALS` sets how many kills a fault test makes (a few by default, so CI stays
fast); `VIGIA_FAULT_REPORT` names a JSON file that collects every test's summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from monitor.core.models import MentionSource, OutboxMessage, Source
from monitor.core.storage import Database
from tests.corpus_server import Canned, CorpusServer, Request
from tests.pipeline_support import rss
from tests.queue_support import feed_body, monitor_env, wait_for

RSS = "application/rss+xml"
SUMMARIES: list[dict[str, Any]] = []


def trials(default: int) -> int:
    """How many trials a fault test makes: `$VIGIA_FAULT_TRIALS`, else `default`."""
    return max(1, int(os.environ.get("VIGIA_FAULT_TRIALS", default)))


def summarise(test: str, **figures: Any) -> None:
    """One line the closing note can quote, and the same as JSON in $VIGIA_FAULT_REPORT."""
    SUMMARIES.append({"test": test, **figures})
    print(f"\nFAULT SUMMARY {test}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    target = os.environ.get("VIGIA_FAULT_REPORT")
    if target:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(path.read_text()) if path.exists() else []
        path.write_text(json.dumps([*old, {"test": test, **figures}], indent=1) + "\n")


# -- feeds ---------------------------------------------------------------------------------
class ChangingFeeds:
    """Feeds on one local server whose items grow between passes (`advance`), each answering
    after `latency` seconds (so that a kill lands in the middle of runs)."""

    def __init__(
        self, names: list[str], first: int = 3, latency: float = 0.0, leak_every: int = 0
    ) -> None:
        self.names, self.leak_every = names, leak_every
        self.counts = dict.fromkeys(names, first)
        self.latency = latency
        self.server = CorpusServer()
        self._lock = threading.Lock()
        for name in names:
            self.server.routes[f"/{name}.xml"] = self._responder(name)

    def _responder(self, name: str):  # type: ignore[no-untyped-def]
        def answer(request: Request, base_url: str) -> Canned:
            if self.latency:
                time.sleep(self.latency)
            with self._lock:
                count = self.counts[name]
            return Canned(200, [("Content-Type", RSS)], self.body(name, count))

        return answer

    def body(self, name: str, count: int) -> bytes:
        """`count` items; with `leak_every`, every so many of them leaks a DNI number (a
        high-severity leak: an alert email)."""
        if not self.leak_every:
            return feed_body(name, count)
        items = []
        for i in range(count):
            text = f"Calderix {name} {i}: noticia número {i} de {name}."
            if i % self.leak_every == self.leak_every - 1:
                number = 10_000_000 + 7919 * i + sum(map(ord, name))
                dni = f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"
                text = f"El técnico de Calderix {name}{i}, DNI {dni}, no vino nunca."
            items.append((f"{name}-{i}", f"Calderix {name} {i}", text))
        return rss(items).encode()

    def advance(self, new: int = 2) -> None:
        with self._lock:
            for name in self.names:
                self.counts[name] += new

    def expected(self) -> set[tuple[str, str]]:
        """(source name, external id) of every item the feeds have shown so far."""
        with self._lock:
            return {(n, f"{n}-{i}") for n, c in self.counts.items() for i in range(c)}

    def sources(self, every: str = "1h") -> list[dict[str, Any]]:
        return [{"name": n, "kind": "rss", "url": self.server.url(f"/{n}.xml"), "every": every}
                for n in self.names]

    def __enter__(self) -> ChangingFeeds:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def stored_mentions(db: Database) -> Counter[tuple[str, str]]:
    """(source name, external id) → rows storing it (1 each when nothing is duplicated)."""
    with db.reading() as session:
        rows = session.execute(
            select(Source.name, MentionSource.external_id)
            .join(Source, Source.id == MentionSource.source_id)
        ).all()
    return Counter((name, external) for name, external in rows)


@dataclass
class Tally:
    """Lost and duplicated items against what was expected."""

    lost: int
    duplicated: int
    unexpected: int

    @classmethod
    def of(cls, expected: set[Any], seen: Counter[Any]) -> Tally:
        return cls(
            lost=len(expected - set(seen)),
            duplicated=sum(n - 1 for n in seen.values() if n > 1),
            unexpected=len(set(seen) - expected),
        )


# -- SMTP ------------------------------------------------------------------------------------
@dataclass
class Arrival:
    message_id: str
    subject: str
    at: float


class SmtpSink:
    """An SMTP server on loopback that accepts everything and records each message as it
    commits it, by Message-ID.

    `delay` holds the conversation up so that a kill lands mid-delivery. `window=False`
    waits before the message is sent (a slow reply to RCPT): a client killed then has
    delivered nothing. `window=True` commits first and then waits before
    the 250 reply (RFC 1047's window): a client killed then has delivered the message
    without knowing it, and its outbox row is sent again after the claim's lease.
    """

    def __init__(self, delay: float = 0.0, window: bool = False) -> None:
        self.delay, self.window = delay, window
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.delay and not self.window:
            await asyncio.sleep(self.delay)  # before the message is even sent
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.arrivals.append(Arrival(str(parsed["Message-ID"]), str(parsed["Subject"]),
                                         time.monotonic()))
        if self.delay and self.window:
            await asyncio.sleep(self.delay)  # committed, the 250 not yet sent
        return "250 Message accepted"

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(a.message_id for a in self.arrivals)

    def settings(self) -> dict[str, Any]:
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "starttls": False}

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def outbox_ids(db: Database) -> dict[str, tuple[str, str]]:
    """Outbox key → (Message-ID, status)."""
    with db.reading() as session:
        return {k: (m, s) for k, m, s in session.execute(
            select(OutboxMessage.key, OutboxMessage.message_id, OutboxMessage.status))}


# -- workers ---------------------------------------------------------------------------------
def children(pid: int) -> list[int]:
    """The live child processes of `pid` (from /proc; no psutil here)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            # pid (comm) state ppid …: comm may hold spaces, so split after its ')'.
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return sorted(found)


@dataclass
class Workers:
    """`monitor worker` subprocesses of one settings file, each in its own process group."""

    settings: Path
    broker: str
    prefix: str
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: int = 0

    def start(self, *args: str, wait: bool = True) -> subprocess.Popen[bytes]:
        self.started += 1
        log = self.logs / f"worker{self.started}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--settings", str(self.settings),
                 "worker", *args],
                stdout=out, stderr=subprocess.STDOUT, env=monitor_env(self.broker),
                cwd=self.settings.parent, start_new_session=True,
            )
        self.processes.append(process)
        if wait:
            wait_for(lambda: process.poll() is not None or "ready." in log.read_text(), 90,
                     "the worker to be ready", every=0.2)
            assert process.poll() is None, log.read_text()
        return process

    def kill(self, process: subprocess.Popen[bytes], child: bool = False) -> int:
        """SIGKILL the whole worker (its process group: a lost machine or container), or one
        of its pool processes (`child`: the OOM killer's choice). Returns the pid killed."""
        if child:
            pids = children(process.pid)
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                return pids[0]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        return process.pid

    def pids(self, process: subprocess.Popen[bytes]) -> list[int]:
        return [process.pid, *children(process.pid)]

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def log_tail(self, lines: int = 60) -> str:
        text = "".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("worker*.log")))
        return "\n".join(text.splitlines()[-lines:])


def background(settings: Path, broker: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """A `monitor` command in the background (stdout and stderr to `log`)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--settings", str(settings), *args],
            stdout=out, stderr=subprocess.STDOUT, env=monitor_env(broker), cwd=settings.parent,
            start_new_session=True,
        )


@contextlib.contextmanager
def workers(settings: Path, broker: str, prefix: str, logs: Path) -> Iterator[Workers]:
    pool = Workers(settings, broker, prefix, logs)
    try:
        yield pool
    finally:
        pool.stop_all()
