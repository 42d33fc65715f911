"""Leases and task records in the database (SQLite and PostgreSQL), and the `[queue]`
settings: the parts of the queued mode that need no broker."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.app.configuration import parse_settings
from monitor.app.pipeline import RunReport
from monitor.app.queue import leases
from monitor.app.queue.runs import (
    FINAL,
    RUNNING,
    SUCCEEDED,
    Enqueued,
    prune,
    record_enqueued,
    record_finished,
    record_started,
    report_from_json,
    report_to_json,
    runs_by_id,
)
from monitor.core.errors import Outcome, SettingsError
from monitor.core.storage import Database, open_database

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
TTL = timedelta(seconds=30)


def test_a_lease_has_one_holder_until_it_expires(db: Database) -> None:
    assert leases.acquire(db, "source:a", "one", TTL, NOW)
    assert not leases.acquire(db, "source:a", "two", TTL, NOW + timedelta(seconds=29))
    assert leases.acquire(db, "source:a", "one", TTL, NOW + timedelta(seconds=10))  # renewal
    assert not leases.acquire(db, "source:a", "two", TTL, NOW + timedelta(seconds=39))
    assert leases.acquire(db, "source:a", "two", TTL, NOW + timedelta(seconds=40))  # expired
    held = leases.holding(db, "source:a")
    assert held is not None and held.holder == "two"
    leases.release(db, "source:a", "one")  # not its lease any more: nothing happens
    assert leases.holding(db, "source:a") is not None
    leases.release(db, "source:a", "two")
    assert leases.holding(db, "source:a") is None
    assert leases.acquire(db, "source:a", "three", TTL, NOW + timedelta(seconds=41))
    assert leases.acquire(db, "source:b", "two", TTL, NOW)  # another name, another lease


def test_of_many_racing_for_a_lease_exactly_one_wins(database_url: str) -> None:
    databases = [open_database(database_url) for _ in range(6)]
    barrier = threading.Barrier(len(databases))
    wins: list[str] = []

    def race(index: int) -> None:
        barrier.wait()
        if leases.acquire(databases[index], "scheduler", f"h{index}", TTL, NOW):
            wins.append(f"h{index}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(databases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(wins) == 1
    for database in databases:
        database.dispose()


def test_a_kept_lease_is_renewed_then_released(db: Database) -> None:
    now = [NOW]
    short = timedelta(seconds=0.3)
    assert leases.acquire(db, "source:x", "me", short, now[0])
    with leases.kept(db, "source:x", "me", short, lambda: now[0]) as lost:
        first = leases.holding(db, "source:x").expires_at  # type: ignore[union-attr]
        now[0] = NOW + timedelta(seconds=5)
        threading.Event().wait(0.5)  # more than one renewal beat
        renewed = leases.holding(db, "source:x").expires_at  # type: ignore[union-attr]
        assert renewed > first and not lost.is_set()
    assert leases.holding(db, "source:x") is None


def test_a_finished_task_is_not_started_again(db: Database) -> None:
    record_enqueued(db, [Enqueued("t1", "vigia.run_source", "feed")], NOW)
    assert record_started(db, "t1", "vigia.run_source", "feed", "w1", NOW)
    assert record_started(db, "t1", "vigia.run_source", "feed", "w2", NOW)  # redelivered
    assert runs_by_id(db, ["t1"])["t1"].state == RUNNING
    record_finished(db, "t1", SUCCEEDED, NOW, result={"source": "feed"})
    assert not record_started(db, "t1", "vigia.run_source", "feed", "w3", NOW)
    run = runs_by_id(db, ["t1"])["t1"]
    assert run.state == SUCCEEDED and run.worker == "w2" and run.result == {"source": "feed"}
    # A task nobody recorded (published by hand) gets its row from the worker.
    assert record_started(db, "t2", "vigia.deliver", "", "w1", NOW)
    assert SUCCEEDED in FINAL


def test_old_records_are_pruned(db: Database) -> None:
    record_enqueued(db, [Enqueued("old", "n", ""), Enqueued("new", "n", ""),
                         Enqueued("waiting", "n", "")], NOW - timedelta(days=3))
    record_finished(db, "old", SUCCEEDED, NOW - timedelta(days=2))
    record_finished(db, "new", SUCCEEDED, NOW - timedelta(hours=1))
    assert prune(db, NOW, timedelta(days=1)) == 1
    assert set(runs_by_id(db, ["old", "new", "waiting"])) == {"new", "waiting"}


def test_a_run_report_survives_json() -> None:
    report = RunReport(source="feed", fetched=3, error="429", outcome=Outcome.RETRY_LATER,
                       retry_at=NOW, seconds=1.5)
    assert report_from_json(report_to_json(report)) == report


def test_queue_settings_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"brands": [{"name": "Acme"}]}
    settings = parse_settings({**base, "queue": {"broker": "redis://127.0.0.1:6379/0"}}, tmp_path)
    assert settings.queue.enabled and settings.queue.queue("sources") == "vigia.sources"
    assert not parse_settings(base, tmp_path).queue.enabled  # the embedded default
    with pytest.raises(SettingsError, match=r"queue\.broker: .*VIGIA_QUEUE_BROKER"):
        parse_settings({**base, "queue": {"broker": "redis://:hunter2@host:6379/0"}}, tmp_path)
    with pytest.raises(SettingsError, match=r"queue\.broker: unsupported broker URL 'http"):
        parse_settings({**base, "queue": {"broker": "http://host"}}, tmp_path)
    with pytest.raises(SettingsError, match=r"queue\.source_lease: invalid interval"):
        parse_settings({**base, "queue": {"source_lease": "soon"}}, tmp_path)
    monkeypatch.setenv("VIGIA_QUEUE_BROKER", "amqp://u:secret@host:5672/v")
    from_env = parse_settings(base, tmp_path)
    assert from_env.queue.enabled and from_env.queue.broker_url.endswith("host:5672/v")
    monkeypatch.setenv("VIGIA_QUEUE_BROKER", "ftp://u:secret@host")
    with pytest.raises(SettingsError, match=r"VIGIA_QUEUE_BROKER.*'ftp://u:\*\*\*@host'"):
        _ = from_env.queue.broker_url
