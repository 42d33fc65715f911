"""Real brokers and real workers for the queue tests (no mock of Celery's transport).

Brokers come from `VIGIA_TEST_REDIS_URL` and `VIGIA_TEST_AMQP_URL` (defaults: a local
Redis and RabbitMQ); one that cannot be reached skips its tests with the reason, except
under `CI=true`, where it fails them. Each test gets its own `[queue] prefix`, so its
queues, control exchange and workers are its own even when test runs share a broker.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline_support import rss

REPO = Path(__file__).resolve().parents[1]
BROKERS = {
    "redis": os.environ.get("VIGIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/2"),
    "amqp": os.environ.get("VIGIA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/h2"),
}


def reachable(url: str) -> str | None:
    """None when the broker answers, else why not."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def broker_or_skip(kind: str) -> str:
    url = BROKERS[kind]
    why = reachable(url)
    if why is not None:
        message = f"{kind} broker at {url} unreachable ({why}); set VIGIA_TEST_{kind.upper()}_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def write_settings(
    folder: Path, database_url: str, prefix: str, sources: list[dict[str, Any]], *,
    email: dict[str, Any] | None = None, recipients: dict[str, list[str]] | None = None,
    **queue: str,
) -> Path:
    """A settings file for one test (the broker URL stays in the environment); `email` adds
    keys to `[email]` (an SMTP server's host and port, say)."""
    lines = [
        "[storage]", f"url = {json.dumps(database_url)}",
        "[http]", "allow_private_addresses = true",
        "[fetch]", 'backfill = "all"',
        "[pipeline]", "workers = 1",
        "[queue]", f'prefix = "{prefix}"',
        *(f"{key} = {json.dumps(value)}" for key, value in queue.items()),
        "[email]", 'from = "Vigía <vigia@example.com>"',
        *(f"{key} = {json.dumps(value)}" for key, value in (email or {}).items()),
        "[email.recipients]",
        *(f"{key} = {json.dumps(value)}" for key, value in
          ({"digest": ["comms@example.com"]} | (recipients or {})).items()),
        "[[brands]]", 'name = "Calderix"',
    ]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in source.items()]
    path = folder / "settings.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


WORDS = [
    "tarifa", "fibra", "cobertura", "Sevilla", "clientes", "factura", "móvil", "contrato",
    "oferta", "router", "avería", "soporte", "precio", "Madrid", "Bilbao", "velocidad", "5G",
    "portabilidad", "descuento", "roaming",
]


def feed_body(prefix: str, count: int) -> bytes:
    """`count` items naming the brand, each worded differently (no two are one story)."""
    items = []
    for i in range(count):
        words = " ".join(random.Random(f"{prefix}{i}").sample(WORDS, 8))
        items.append((f"{prefix}-{i}", f"Calderix {prefix}{i}: {words}",
                      f"Calderix {words} {prefix} {i}."))
    return rss(items).encode()


def monitor_env(broker: str) -> dict[str, str]:
    return {**os.environ, "VIGIA_QUEUE_BROKER": broker, "PYTHONPATH": str(REPO),
            "COLUMNS": "200"}


def monitor(settings: Path, broker: str, *args: str, timeout: float = 60) -> (
    subprocess.CompletedProcess[str]
):
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--settings", str(settings), *args],
        capture_output=True, text=True, timeout=timeout, env=monitor_env(broker),
        cwd=settings.parent,
    )


def start(settings: Path, broker: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--settings", str(settings), *args],
            stdout=out, stderr=subprocess.STDOUT, env=monitor_env(broker), cwd=settings.parent,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def status_json(settings: Path, broker: str) -> dict[str, Any]:
    result = monitor(settings, broker, "status", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@contextmanager
def worker(settings: Path, broker: str, log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A `monitor worker` subprocess, ready (answering pings) when the block starts."""
    from celery import Celery

    prefix = next(line.split('"')[1] for line in settings.read_text().splitlines()
                  if line.startswith("prefix = "))
    pinger = Celery(broker=broker, set_as_current=False)
    pinger.conf.control_exchange = prefix
    process = start(settings, broker, "worker", *args, log=log)
    try:
        wait_for(lambda: process.poll() is not None or pinger.control.ping(timeout=0.3),
                 60, "the worker to answer", every=0.3)
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        stop(process)


def purge(broker: str, prefix: str) -> None:
    """Empty this test's queues (they are unique to it, but a rerun may reuse nothing)."""
    from kombu import Connection

    with Connection(broker, connect_timeout=2) as connection:
        for short in ("sources", "reports"):
            channel = connection.channel()
            with suppress(Exception):  # a queue never declared: nothing to purge
                channel.queue_purge(f"{prefix}.{short}")
            with suppress(Exception):
                channel.close()
