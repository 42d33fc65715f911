"""The scheduler: one job per source with jitter and no overlap, the digest on a cron in the
configured zone, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app.pipeline import Pipeline
from monitor.app.scheduler import build_scheduler, jitter_seconds, source_interval
from monitor.core.http import HttpClient
from monitor.core.storage import open_database
from tests.corpus_server import Canned, CorpusServer

REPO = Path(__file__).resolve().parents[1]


def test_jobs_per_source_digest_and_outbox(make_settings, tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'v.db'}",
        sources=[
            {"name": "fast", "kind": "rss", "url": "a.xml", "every": "15m"},
            {"name": "default", "kind": "rss", "url": "b.xml"},
            {"name": "off", "kind": "rss", "url": "c.xml", "enabled": False},
        ],
    )
    pipeline = Pipeline(settings, open_database(settings.database_url))
    scheduler = build_scheduler(settings, pipeline)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"source:fast", "source:default", "digest", "outbox", "train"}
    fast = jobs["source:fast"]
    assert isinstance(fast.trigger, IntervalTrigger)
    assert fast.trigger.interval == timedelta(minutes=15)
    assert fast.trigger.jitter == 90
    assert fast.max_instances == 1 and fast.coalesce is True
    assert jobs["source:default"].trigger.interval == timedelta(minutes=30)  # rss default
    digest = jobs["digest"].trigger
    assert isinstance(digest, CronTrigger)
    assert str(digest.timezone) == "Europe/Madrid"
    assert "hour='8'" in str(digest) and "minute='0'" in str(digest)
    pipeline.close()


def test_jitter_is_bounded() -> None:
    assert jitter_seconds(timedelta(seconds=30)) == 3
    assert jitter_seconds(timedelta(days=1)) == 300


def test_source_interval_falls_back_to_the_connector_default(make_settings) -> None:
    settings = make_settings(sources=[{"name": "x", "kind": "rss", "url": "a.xml"}])
    assert source_interval(settings.sources[0]) == timedelta(minutes=30)


def test_service_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>1</guid>'
        "<title>Calderix lanza una tarifa nueva y barata</title></item></channel></rss>",
        encoding="utf-8",
    )
    settings = tmp_path / "settings.toml"
    settings.write_text(
        '[[brands]]\nname = "Calderix"\n\n[[sources]]\nname = "feed"\nkind = "rss"\n'
        'url = "feed.xml"\nevery = "1h"\n',
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--settings", str(settings), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 60
        output = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            output += line
            if "1 new mentions" in output or not line:
                break
        assert "1 new mentions" in output, output
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output + rest
    assert "stopped" in rest


@pytest.mark.parametrize(
    ("retry_after", "moved"), [(3600, True), (120, False)], ids=["later", "sooner"]
)
def test_a_retry_after_moves_the_sources_next_run(
    make_settings, tmp_path: Path, retry_after: int, moved: bool
) -> None:
    """A 429 asking for an hour moves the job from its interval slot to the hour; a wait
    shorter than the interval leaves the slot alone. The jobs run by hand: no real clock."""
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with CorpusServer() as server:
        server.routes["/api.xml"] = lambda _r, _b: Canned(429, [("Retry-After", str(retry_after))])
        settings = make_settings(
            f"sqlite:///{tmp_path / 'v.db'}", http={"allow_private_addresses": True},
            sources=[{"name": "api", "kind": "rss", "url": server.url("/api.xml")}],
        )
        http = HttpClient(settings.http, sleep=lambda _s: None)
        pipeline = Pipeline(settings, open_database(settings.database_url), http=http,
                            clock=lambda: now)
        scheduler = build_scheduler(settings, pipeline)
        slot = now + timedelta(minutes=30)  # where the interval puts the next run
        job = scheduler.get_job("source:api")
        job.modify(next_run_time=slot)
        job.func()
        pipeline.close()
    expected = now + timedelta(seconds=retry_after) if moved else slot
    assert scheduler.get_job("source:api").next_run_time == expected
