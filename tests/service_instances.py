"""Private server instances (Redis, RabbitMQ, PostgreSQL) that a test may kill and restart.

Fault tests kill the broker or the database mid-run. The machine's shared services serve
every other test and person on it, so those tests get their own server instead: a child
process on free loopback ports, its data in a temporary folder, torn down with the session.

Each instance has `start()`, `stop()` (graceful), `kill()` (a crash: SIGKILL, or what the
server offers as one), `restart(crash=False)`, `running` and `url`. A restart keeps the
ports and the data folder, so whatever the server wrote to disk is there again, and clients
reconnect to the same URL. The subclasses (tests/service_redis.py, service_rabbitmq.py,
service_postgres.py) say how to launch their server and how to tell that it answers.

A server runs in its own process group, so `kill()` takes its helpers with it; an `atexit`
hook kills whatever a crashed test run left, so no server outlives the test process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import weakref
from abc import ABC, abstractmethod
from pathlib import Path

import pytest

_LIVE: weakref.WeakSet[ServiceInstance] = weakref.WeakSet()


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_binary(path_or_name: str, why: str) -> str:
    """The executable's path; skip the test when it is missing, fail when CI=true."""
    found = shutil.which(path_or_name)
    if found:
        return found
    reason = f"{path_or_name} not found: {why}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: CI must install it)")
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pytest.skip raises


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class ServiceInstance(ABC):
    """One private server: a process group started from `command()`, data under `root`."""

    #: How long `start()` waits for the server to answer before giving up.
    start_timeout: float = 60.0
    #: The signal for a graceful stop (the server's own "finish and exit").
    stop_signal: signal.Signals = signal.SIGTERM
    #: The OS user the server runs as (None: ours); root may not run some servers.
    run_as: str | None = None

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.last_start_seconds: float | None = None
        root.mkdir(parents=True, exist_ok=True)
        _LIVE.add(self)

    # -- what a subclass provides --------------------------------------------------------
    @property
    @abstractmethod
    def url(self) -> str:
        """The client URL (the same across restarts)."""

    @abstractmethod
    def command(self) -> list[str]:
        """The foreground server command."""

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    @abstractmethod
    def answers(self) -> bool:
        """True once the server speaks its protocol (not merely once the port is open)."""

    # -- life cycle ------------------------------------------------------------------------
    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> float:
        """Start the server and wait until it answers; returns the seconds that took."""
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        started = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                cwd=self.root,
                start_new_session=True,  # its own process group: kill() reaches its helpers
                user=self.run_as if os.geteuid() == 0 else None,
            )
        self._wait_until_answering(started)
        self.last_start_seconds = time.perf_counter() - started
        return self.last_start_seconds

    def _wait_until_answering(self, started: float) -> None:
        while time.perf_counter() - started < self.start_timeout:
            if not self.running:
                raise RuntimeError(f"{self!r} exited while starting:\n{self.log_tail()}")
            if self.answers():
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self!r} did not answer in {self.start_timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop (`stop_signal`, as systemd or `docker stop` sends); SIGKILL after
        `timeout`."""
        self._signal_group(self.stop_signal)
        self._reap(timeout)

    def kill(self) -> None:
        """A crash: SIGKILL to the whole process group, nothing flushed."""
        self._signal_group(signal.SIGKILL)
        self._reap(10.0)

    def restart(self, crash: bool = False) -> float:
        """Stop (or kill, with `crash`) and start again on the same port and data."""
        self.kill() if crash else self.stop()
        return self.start()

    def close(self) -> None:
        """The end of the instance's life: killed (its folder is the fixture's to remove)."""
        self.kill()

    def ensure_running(self) -> None:
        if not self.running:
            self.start()

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def _reap(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(10)
        # The leader is gone; its helpers (same group) must be too before the port is reused.
        deadline = time.monotonic() + 10
        while _group_alive(self.process.pid) and time.monotonic() < deadline:
            _killpg_quietly(self.process.pid, signal.SIGKILL)
            time.sleep(0.05)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(port={self.port}, root={self.root})"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _killpg_quietly(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@atexit.register
def _kill_leftovers() -> None:
    """Whatever a test left running dies with the test process: no orphan servers."""
    for instance in list(_LIVE):
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            instance.close()
