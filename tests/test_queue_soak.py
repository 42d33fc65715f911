"""Two `monitor scheduler` processes and three `monitor worker` processes together against
changing local feeds on short intervals, on a private PostgreSQL and Redis, with alert
emails going to an SMTP server on loopback; the leading scheduler is killed (-9) midway.

Every item the feeds showed is stored once, every email of the outbox arrives once (by
Message-ID, each outbox key holding one), one scheduler leads at a time (the standby
enqueues nothing while the leader lives), and the standby takes over. `VIGIA_SOAK_SECONDS`
sets how long the five processes run together (default 45).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.app.queue import leases
from monitor.app.queue.celery_app import RUN_SOURCE
from monitor.app.queue.runs import FINAL
from monitor.app.queue.scheduler import LEASE
from monitor.core.queue_models import TaskRun
from monitor.core.storage import open_database
from reports import outbox
from tests.fault_support import (
    ChangingFeeds,
    SmtpSink,
    Tally,
    background,
    outbox_ids,
    stored_mentions,
    summarise,
    workers,
)
from tests.queue_support import status_json, stop, unique_prefix, wait_for, write_settings
from tests.service_instances import ServiceInstance

SECONDS = float(os.environ.get("VIGIA_SOAK_SECONDS", "30"))
EVERY = 2  # seconds between two runs of a source
FEEDS = [f"s{i}" for i in range(6)]


def _leader_pid(db) -> int | None:  # type: ignore[no-untyped-def]
    held = leases.holding(db, LEASE)
    return int(held.holder.split(":")[1]) if held else None  # "scheduler host:pid:random"


def _drained(settings: Path, broker: str) -> bool:
    """Nothing queued, nothing running. (A row may stay pending for good: a scheduler killed
    between writing a task's row and publishing it; the source runs on its next interval.)"""
    status = status_json(settings, broker)
    return not any(status["queues"].values()) and not status["running"]


def _pending(db) -> int:  # type: ignore[no-untyped-def]
    with db.reading() as session:
        return len(session.scalars(select(TaskRun.id).where(TaskRun.state.not_in(FINAL))).all())


@pytest.mark.timeout(SECONDS + 300)
def test_two_schedulers_three_workers_store_and_send_everything_once(
    redis_service: ServiceInstance, postgres_service: ServiceInstance, tmp_path: Path
) -> None:
    broker = redis_service.url
    with ChangingFeeds(FEEDS, latency=0.1, leak_every=4) as feeds, SmtpSink() as sink:
        settings = write_settings(
            tmp_path, postgres_service.url, unique_prefix(), feeds.sources(every=f"{EVERY}s"),
            email=sink.settings(), recipients={"alerts": ["crisis@example.com"],
                                               "leaks": ["security@example.com"]},
            visibility_timeout="30s", source_lease="10s", scheduler_lease="3s",
        )
        db = open_database(postgres_service.url)
        schedulers = []
        try:
            with workers(settings, broker, "", tmp_path) as pool:
                for _ in range(3):
                    pool.start("--concurrency", "2")
                schedulers = [background(settings, broker, "scheduler", log=tmp_path / f"s{i}.log")
                              for i in range(2)]
                changing = threading.Event()

                def change() -> None:
                    while not changing.wait(1.5):
                        feeds.advance(1)

                changer = threading.Thread(target=change, daemon=True)
                changer.start()
                began = time.monotonic()
                leaders: list[int] = []
                killed = None
                while time.monotonic() - began < SECONDS:
                    pid = _leader_pid(db)
                    if pid and (not leaders or leaders[-1] != pid):
                        leaders.append(pid)
                    if killed is None and time.monotonic() - began > SECONDS / 2 and pid:
                        victim = next(s for s in schedulers if s.pid == pid)
                        os.killpg(victim.pid, signal.SIGKILL)
                        victim.wait(10)
                        killed = pid
                    time.sleep(0.2)
                changing.set()
                changer.join()
                expected = feeds.expected()
                # The feeds stand still now: the surviving scheduler polls each of them again
                # within a few intervals, and the workers store what is left.
                wait_for(lambda: expected <= set(stored_mentions(db)), 60,
                         "every item to be stored")
                ran_for = time.monotonic() - began
                for process in schedulers:
                    stop(process)
                wait_for(lambda: _drained(settings, broker), 60, "the queue to drain")
                # Alerts go out as they are written, held updates on the next minutely flush.
                wait_for(lambda: all(s == outbox.SENT for _, s in outbox_ids(db).values()),
                         90, "every email to be sent")
            mentions = Tally.of(expected, stored_mentions(db))
            rows = outbox_ids(db)
            orphans = _pending(db)
            emails = Tally.of({m for m, _ in rows.values()}, sink.counts())
            with db.reading() as session:
                runs = Counter(session.scalars(
                    select(TaskRun.summary).where(TaskRun.name == RUN_SOURCE)).all())
        finally:
            for process in schedulers:
                stop(process, signal.SIGKILL)
            db.dispose()
    logs = {i: (tmp_path / f"s{i}.log").read_text() for i in range(2)}
    terms = sum(log.count(" leads: enqueuing") for log in logs.values())
    summarise("soak: 2 schedulers, 3 workers", seconds=SECONDS, mentions=len(expected),
              lost=mentions.lost, duplicated=mentions.duplicated, emails=len(rows),
              emails_lost=emails.lost, emails_duplicated=emails.duplicated,
              leader_terms=terms, source_runs=sum(runs.values()), rows_left_pending=orphans)
    assert mentions == Tally(0, 0, 0)
    assert emails == Tally(0, 0, 0) and rows, "the leaks must have made alert emails"
    assert killed is not None and len(leaders) == 2 and leaders[0] == killed, leaders
    assert terms == 2, logs  # the first leader's, then the standby's after the kill
    # One leader at a time: about one enqueue per source and interval, not two.
    most = ran_for / EVERY * 1.25 + 3
    assert all(n <= most for n in runs.values()), runs
