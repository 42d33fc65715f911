"""Faults on the real thing: `kill -9` of workers mid-run and mid-delivery, broker and
database restarts (graceful and crash) mid-pass, on a private PostgreSQL and a private
Redis or RabbitMQ (tests/service_fixtures.py), with real prefork `monitor worker`
subprocesses, changing local feeds and an SMTP server on loopback.

Every test counts what arrived (mentions by source and external id, emails at the SMTP
server by Message-ID) against what should have, and prints a `FAULT SUMMARY` line with its
trials, lost and duplicated; `VIGIA_FAULT_TRIALS` makes more trials (the defaults keep CI
short), `VIGIA_FAULT_REPORT` collects the summaries in a JSON file.
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from monitor.app.configuration import load_settings
from monitor.app.pipeline import utcnow
from monitor.app.queue.celery_app import DELIVER, make_app
from monitor.app.queue.enqueue import Planned, enqueue
from monitor.app.queue.runs import RUNNING
from monitor.core.models import OutboxMessage
from monitor.core.queue_models import TaskRun
from monitor.core.storage import Database, open_database
from reports import outbox
from tests.fault_support import (
    ChangingFeeds,
    SmtpSink,
    Tally,
    Workers,
    background,
    outbox_ids,
    stored_mentions,
    summarise,
    trials,
    workers,
)
from tests.queue_support import unique_prefix, wait_for, write_settings
from tests.service_instances import ServiceInstance

SEED = 20261203
FEEDS = [f"f{i}" for i in range(8)]
#: Short enough for a test: a killed run's lease frees in seconds, and Redis hands a dead
#: worker's unacknowledged tasks to another worker after 10 s (RabbitMQ does at once).
QUEUE = {"visibility_timeout": "10s", "source_lease": "3s"}
PASS_TIMEOUT = 150
#: How long a restarted broker or database stays away.
DOWNTIME = 2.0


#: `VIGIA_FAULT_TRIALS` set: every combination of broker and fault; unset (CI): each fault
#: on one broker or both, so that the file stays within about two minutes.
FULL = bool(os.environ.get("VIGIA_FAULT_TRIALS"))


def combos(default: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """(broker, flag) pairs: `default`, or all four under FULL."""
    return [(b, f) for b in ("redis", "amqp") for f in (False, True)] if FULL else default


def brokers(default: list[str]) -> list[str]:
    """Brokers: `default`, or both under FULL."""
    return ["redis", "amqp"] if FULL else default


@pytest.fixture(params=["redis", "amqp"])
def broker(request: pytest.FixtureRequest) -> ServiceInstance:
    name = "redis_service" if request.param == "redis" else "rabbitmq_service"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def _kind(broker: ServiceInstance) -> str:
    return "redis" if broker.url.startswith("redis") else "amqp"


@dataclass
class Rig:
    """One test's deployment: settings, feeds, SMTP sink, database, workers."""

    settings: Path
    broker: ServiceInstance
    feeds: ChangingFeeds
    sink: SmtpSink
    db: Database
    pool: Workers
    logs: Path

    def run_once(self, name: str):  # type: ignore[no-untyped-def]
        return background(self.settings, self.broker.url, "run", "--once", "--timeout",
                          str(PASS_TIMEOUT), log=self.logs / f"{name}.log")

    def finish(self, once, name: str) -> None:  # type: ignore[no-untyped-def]
        code = once.wait(PASS_TIMEOUT + 30)
        log = (self.logs / f"{name}.log").read_text()
        assert code == 0, f"{name}: exit {code}\n{log}\n--- workers:\n{self.pool.log_tail()}"

    def running(self) -> int:
        with self.db.reading() as session:
            return session.scalar(select(func.count()).select_from(TaskRun)
                                  .where(TaskRun.state == RUNNING)) or 0

    def mentions(self) -> Tally:
        return Tally.of(self.feeds.expected(), stored_mentions(self.db))

    def emails(self) -> Tally:
        """Every email row of the outbox against the SMTP server's arrivals."""
        rows = outbox_ids(self.db)
        unsent = [k for k, (_, status) in rows.items() if status != outbox.SENT]
        assert not unsent, f"unsent: {unsent}"
        return Tally.of({m for m, _ in rows.values()}, self.sink.counts())


@contextmanager
def deployment(
    broker: ServiceInstance, database: ServiceInstance, folder: Path, *, latency: float = 0.4,
    delay: float = 0.0, window: bool = False, queue: dict[str, str] | None = None,
) -> Iterator[Rig]:
    with ChangingFeeds(FEEDS, latency=latency) as feeds, SmtpSink(delay, window) as sink:
        settings = write_settings(folder, database.url, unique_prefix(), feeds.sources(),
                                  email=sink.settings(), **(QUEUE | (queue or {})))
        db = open_database(database.url)
        try:
            with workers(settings, broker.url, "", folder) as pool:
                yield Rig(settings, broker, feeds, sink, db, pool, folder)
        finally:
            db.dispose()


@pytest.fixture
def rig(
    broker: ServiceInstance, postgres_service: ServiceInstance, tmp_path: Path
) -> Iterator[Rig]:
    """A deployment on the `broker` parameter: tests choose theirs with `combos`."""
    with deployment(broker, postgres_service, tmp_path) as made:
        yield made


def _wait_running(rig: Rig, timeout: float = 60) -> None:
    wait_for(lambda: rig.running() > 0, timeout, "a task to be running", every=0.05)


@pytest.mark.parametrize("broker", brokers(["redis"]), indirect=True)
def test_worker_killed_mid_source_runs(rig: Rig) -> None:
    """kill -9 of a worker (all of it, or one pool process) at a random moment of a pass's
    source runs, then a new worker: the pass finishes, every item is stored once."""
    rng = random.Random(SEED)
    count = trials(2)
    worker = rig.pool.start("--concurrency", "2")
    kills = []
    for trial in range(count):
        rig.feeds.advance(2)
        began = time.monotonic()
        once = rig.run_once(f"pass{trial}")
        _wait_running(rig)
        time.sleep(rng.uniform(0.0, 1.2))
        whole = trial % 2 == 0
        kills.append(rig.pool.kill(worker, child=not whole))
        if whole:
            worker = rig.pool.start("--concurrency", "2")
        rig.finish(once, f"pass{trial}")
        print(f"trial {trial} ({'worker' if whole else 'pool process'}): "
              f"{time.monotonic() - began:.1f} s")
    _source_pass_summary(rig, "worker kill -9 mid source runs", count)

def _source_pass_summary(rig: Rig, test: str, count: int) -> None:
    mentions, emails = rig.mentions(), rig.emails()
    summarise(f"{test} [{_kind(rig.broker)}]", trials=count,
              mentions=len(rig.feeds.expected()), lost=mentions.lost,
              duplicated=mentions.duplicated, emails=sum(rig.sink.counts().values()),
              emails_lost=emails.lost, emails_duplicated=emails.duplicated)
    assert mentions == Tally(0, 0, 0)
    assert emails == Tally(0, 0, 0)


def _restarted_mid_pass(rig: Rig, service: ServiceInstance, crash: bool, test: str) -> None:
    """A pass during which `service` stops (or crashes) and comes back DOWNTIME later: the
    pass finishes, and every item is stored once."""
    rng = random.Random(SEED + crash)
    count = trials(1)
    rig.pool.start("--concurrency", "2")
    for trial in range(count):
        rig.feeds.advance(2)
        began = time.monotonic()
        once = rig.run_once(f"pass{trial}")
        _wait_running(rig)
        time.sleep(rng.uniform(0.0, 1.0))
        service.kill() if crash else service.stop()
        time.sleep(DOWNTIME)  # long enough for runs to meet it
        service.start()
        rig.finish(once, f"pass{trial}")
        print(f"trial {trial}: {time.monotonic() - began:.1f} s")
    _source_pass_summary(rig, f"{test} {'crash' if crash else 'graceful'} restart mid pass",
                         count)


@pytest.mark.parametrize(("broker", "crash"), combos([("amqp", True)]),
                         indirect=["broker"])
def test_broker_restart_mid_pass(rig: Rig, crash: bool) -> None:
    _restarted_mid_pass(rig, rig.broker, crash, "broker")


@pytest.mark.parametrize(("broker", "crash"), combos([("redis", True)]), indirect=["broker"])
def test_database_restart_mid_pass(
    rig: Rig, postgres_service: ServiceInstance, crash: bool
) -> None:
    _restarted_mid_pass(rig, postgres_service, crash, "database")


@pytest.mark.timeout(240)
def test_pass_recovers_tasks_a_volatile_broker_lost(
    volatile_redis_service: ServiceInstance, postgres_service: ServiceInstance,
    tmp_path: Path,
) -> None:
    """A Redis that keeps nothing on disk (CI's), restarted mid-pass, loses every queued
    task: the waiting `run --once` publishes them again (after `republish_after`, 30 s by
    default, 5 s here) and the pass completes."""
    with deployment(volatile_redis_service, postgres_service, tmp_path,
                    queue={"republish_after": "5s"}) as rig:
        rig.pool.start("--concurrency", "1")
        rig.feeds.advance(2)
        once = rig.run_once("pass")
        _wait_running(rig)
        volatile_redis_service.restart(crash=True)
        rig.finish(once, "pass")
        assert "published again" in (tmp_path / "pass.log").read_text()
        _source_pass_summary(rig, "volatile broker crash mid pass", 1)


# -- delivery ------------------------------------------------------------------------------
EMAILS = 8
SMTP_DELAY = 0.3


def _write_emails(db: Database, trial: int) -> None:
    with db.transaction() as session:
        for i in range(EMAILS):
            outbox.enqueue(
                session, key=f"fault:{trial}:{i}", kind="alert",
                sender="Vigía <vigia@example.com>", recipients=["crisis@example.com"],
                subject=f"trial {trial} email {i}", html=f"<p>{trial} {i}</p>",
                text=f"{trial} {i}", now=utcnow(),
            )


def _claimed_by(db: Database, pids: list[int]) -> dict[str, str]:
    """Outbox rows still pending under a claim of one of `pids`: key → Message-ID."""
    holders = [f"{socket.gethostname()}:{pid}" for pid in pids]
    with db.reading() as session:
        return dict(session.execute(
            select(OutboxMessage.key, OutboxMessage.message_id)
            .where(OutboxMessage.claimed_by.in_(holders), OutboxMessage.status == outbox.PENDING)
        ).all())


def _lease_ends(db: Database, keys: list[str]) -> None:
    """What `CLAIM_LEASE` (15 min) does for a dead deliverer's rows, fast-forwarded."""
    with db.transaction() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.key.in_(keys))
                        .values(claimed_until=utcnow() - timedelta(seconds=1)))


def _all_sent(db: Database) -> bool:
    return all(status == outbox.SENT for _, status in outbox_ids(db).values())


@pytest.mark.parametrize(("broker", "window"), combos([("redis", True)]), indirect=["broker"])
def test_worker_killed_mid_delivery(
    broker: ServiceInstance, postgres_service: ServiceInstance, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, window: bool,
) -> None:
    """kill -9 of a worker (all of it, or its pool process) while it delivers the outbox to
    an SMTP server slow to answer. With the server slow before the message is sent
    (`slow-rcpt`), every email arrives once. With it slow between committing the message and
    its 250 (`slow-250`, RFC 1047's window, which the outbox's docstring describes), a
    deliverer killed there has delivered an email it could not mark sent: after the claim's
    lease it is sent again, with the same Message-ID. The test measures those duplicates
    and checks that each is such a message and nothing else."""
    monkeypatch.setenv("VIGIA_QUEUE_BROKER", broker.url)
    rng = random.Random(SEED + window)
    count = trials(2)
    with deployment(broker, postgres_service, tmp_path, latency=0.0, delay=SMTP_DELAY,
                    window=window) as rig:
        app = make_app(load_settings(rig.settings))
        worker = rig.pool.start("--concurrency", "2")
        in_window: set[str] = set()
        for trial in range(count):
            _write_emails(rig.db, trial)
            before = len(rig.sink.arrivals)
            enqueue(app, rig.db, [Planned(DELIVER, "alerts and outbox")], utcnow())
            wait_for(lambda w=worker: _claimed_by(rig.db, rig.pool.pids(w)), 60,
                     "a delivery to start", every=0.02)
            time.sleep(rng.uniform(0.0, SMTP_DELAY * 3))
            pids = rig.pool.pids(worker)
            whole = trial % 2 == 0
            rig.pool.kill(worker, child=not whole)
            if whole:
                worker = rig.pool.start("--concurrency", "2")
            claimed = _claimed_by(rig.db, pids)
            arrived = {a.message_id for a in rig.sink.arrivals[before:]}
            in_window |= {m for m in claimed.values() if m in arrived}
            _lease_ends(rig.db, list(claimed))
            enqueue(app, rig.db, [Planned(DELIVER, "alerts and outbox")], utcnow())
            wait_for(lambda: _all_sent(rig.db), 90, "every email to be sent")
        emails = rig.emails()
        duplicated = {m for m, n in rig.sink.counts().items() if n > 1}
        summarise(
            f"worker kill -9 mid delivery, {'slow 250' if window else 'slow RCPT'} "
            f"[{_kind(broker)}]", trials=count, emails=EMAILS * count, lost=emails.lost,
            duplicated=emails.duplicated, kills_inside_250_window=len(in_window),
        )
        assert emails.lost == 0 and emails.unexpected == 0
        assert duplicated <= in_window, "a duplicate that no kill inside the window explains"
        assert all(n <= 2 for n in rig.sink.counts().values())
        if not window:
            assert emails.duplicated == 0
