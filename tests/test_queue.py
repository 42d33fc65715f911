"""The pipeline on Celery: real brokers (Redis and RabbitMQ), real prefork worker and
scheduler subprocesses, a local feed server, SQLite and PostgreSQL.

No mock of Celery's transport: a test that passes here has moved real messages.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from monitor.app.configuration import load_settings
from monitor.app.pipeline import utcnow
from monitor.app.queue import leases
from monitor.app.queue.celery_app import RUN_SOURCE, make_app
from monitor.app.queue.enqueue import Planned, enqueue
from monitor.app.queue.runs import runs_by_id
from monitor.app.queue.scheduler import LEASE
from monitor.core.models import Mention, MentionSource, OutboxMessage, Source
from monitor.core.queue_models import TaskRun
from monitor.core.storage import Database, open_database
from tests.conftest import POSTGRES_URL
from tests.corpus_server import CorpusServer
from tests.feed_support import feed_responder
from tests.queue_support import (
    broker_or_skip,
    feed_body,
    monitor,
    purge,
    start,
    status_json,
    stop,
    unique_prefix,
    wait_for,
    worker,
    write_settings,
)

BROKER_KINDS = ["redis", "amqp"]
#: A whole pass on prefork workers, once per broker, each on another database (both when
#: PostgreSQL is configured): four combinations cost a minute more and add no path.
PASS_PAIRS = ([pytest.param("postgresql", "redis", marks=pytest.mark.postgres),
               ("sqlite", "amqp")] if POSTGRES_URL
              else [("sqlite", "redis"), ("sqlite", "amqp")])
RSS = "application/rss+xml"


def _count(db: Database, model: type, *where: object) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _slow(body: bytes, seconds: float):  # type: ignore[no-untyped-def]
    answer = feed_responder(body, RSS, etag=False)

    def slow(request, base_url):  # type: ignore[no-untyped-def]
        time.sleep(seconds)
        return answer(request, base_url)

    return slow


@pytest.mark.parametrize(("database_url", "kind"), PASS_PAIRS, indirect=["database_url"])
def test_a_pass_on_prefork_workers_stores_and_sends_everything_once(
    kind: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = broker_or_skip(kind)
    prefix = unique_prefix()
    purge(broker, prefix)
    with CorpusServer() as server:
        names = ["a", "b", "c"]
        for name in names:
            server.routes[f"/{name}.xml"] = feed_responder(feed_body(name, 4), RSS)
        server.routes["/slow.xml"] = _slow(feed_body("slow", 2), 1.5)
        sources = [{"name": n, "kind": "rss", "url": server.url(f"/{n}.xml"), "every": "1h"}
                   for n in [*names, "slow"]]
        settings_file = write_settings(tmp_path, database_url, prefix, sources,
                                       source_lease="3s")
        log = tmp_path / "worker.log"
        with worker(settings_file, broker, log, "--concurrency", "2"):
            first = monitor(settings_file, broker, "run", "--once", "--timeout", "60")
            assert first.returncode == 0, first.stdout + first.stderr + log.read_text()
            assert "Digest written" in first.stdout
            second = monitor(settings_file, broker, "run", "--once", "--timeout", "60")
            assert second.returncode == 0, second.stdout + second.stderr
            db = open_database(database_url)
            try:
                assert _count(db, Mention) == 14  # 3 feeds × 4 + 2: each stored once
                assert _count(db, MentionSource) == 14
                assert _count(db, OutboxMessage, OutboxMessage.kind == "digest") == 1
                digests = list((tmp_path / "var" / "outbox").glob("*.eml"))
                assert len(digests) == 1  # delivered once, by the first pass

                # Two scheduled (not forced) runs of one source at once: the lease lets one
                # fetch, the other steps aside; the slow feed holds the first one 1.5 s.
                monkeypatch.setenv("VIGIA_QUEUE_BROKER", broker)
                settings = load_settings(settings_file)
                before = len(server.requests_to("/slow.xml"))
                with db.transaction() as session:  # the source is due again
                    session.execute(update(Source).where(Source.name == "slow")
                                    .values(last_attempt_at=None))
                ids = enqueue(make_app(settings), db,
                              [Planned(RUN_SOURCE, "slow", args=("slow",))] * 2,
                              utcnow())
                runs = wait_for(lambda: (found := runs_by_id(db, ids)) and all(
                    r.state in ("succeeded", "skipped", "failed") for r in found.values()
                ) and found, 30, "both runs to finish")
                states = sorted(r.state for r in runs.values())
                assert states == ["skipped", "succeeded"], [(r.state, r.error) for r in
                                                            runs.values()]
                skipped = next(r for r in runs.values() if r.state == "skipped")
                assert "is being run by" in (skipped.error or "")
                assert len(server.requests_to("/slow.xml")) == before + 1

                status = status_json(settings_file, broker)
                assert status["workers_alive"] == 1
                assert status["workers"][0].startswith(f"{prefix}.")
                assert status["queues"] == {f"{prefix}.sources": 0, f"{prefix}.reports": 0}
                assert status["pending"] == 0 and status["running"] == []
                assert status["failed"] == [] and status["oldest_pending"] is None
            finally:
                db.dispose()


def _source_runs(db: Database) -> int:
    return _count(db, TaskRun, TaskRun.name == RUN_SOURCE)


def _leader(db: Database) -> str | None:
    held = leases.holding(db, LEASE)
    return held.holder if held else None


@pytest.mark.parametrize("kind", BROKER_KINDS)
def test_one_scheduler_enqueues_and_a_standby_takes_over(kind: str, tmp_path: Path) -> None:
    broker = broker_or_skip(kind)
    prefix = unique_prefix()
    purge(broker, prefix)
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    sources = [{"name": "feed", "kind": "rss", "url": "http://127.0.0.1:9/feed.xml",
                "every": "1h"}]
    settings_file = write_settings(tmp_path, database_url, prefix, sources,
                                   scheduler_lease="2s")
    first = start(settings_file, broker, "scheduler", log=tmp_path / "first.log")
    second = None
    db = open_database(database_url)
    try:
        wait_for(lambda: _source_runs(db) == 1, 30, "the first scheduler to enqueue")
        leader = _leader(db)
        second = start(settings_file, broker, "scheduler", log=tmp_path / "second.log")
        time.sleep(3)  # more than a lease period: the standby must not enqueue meanwhile
        assert _source_runs(db) == 1 and _leader(db) == leader
        status = status_json(settings_file, broker)
        assert status["queues"][f"{prefix}.sources"] == 1
        assert status["pending"] == 1 and status["workers_alive"] == 0
        assert status["oldest_pending"]["summary"] == "feed"
        assert status["oldest_pending"]["age_seconds"] >= 3
        assert status["scheduler"]["holder"] == leader and status["scheduler"]["alive"]

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        # The standby leads within about one lease period, and (no worker ran the source)
        # enqueues its run again.
        wait_for(lambda: _leader(db) not in (None, leader), 10, "the standby to lead")
        wait_for(lambda: _source_runs(db) == 2, 10, "the new leader to enqueue")
        assert status_json(settings_file, broker)["queues"][f"{prefix}.sources"] == 2
        stop(second)
        assert second.returncode == 0, (tmp_path / "second.log").read_text()
        assert _leader(db) is None  # a clean stop gives the lease back
    finally:
        stop(first, signal.SIGKILL)
        if second is not None:
            stop(second)
        db.dispose()
        purge(broker, prefix)
