"""Multi-source runs do their per-source bookkeeping in bulk (monitor/app/pipeline.py): one
read of every state, unchanged polls recorded a batch at a time, everything else per source."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from connectors.base import SourceState
from monitor.app import pipeline as pipeline_module
from monitor.app.pipeline import Pipeline
from monitor.app.source_state import (
    UnchangedPoll,
    read_state,
    record_failure,
    record_unchanged,
    source_row,
    source_rows,
)
from monitor.core.errors import Outcome
from monitor.core.models import Mention, Source
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.pipeline_support import ITEMS, count, feed_file


@pytest.fixture
def settings_for(
    make_settings: Callable[..., Settings], database_url: str
) -> Callable[..., Settings]:
    def build(*sources: dict[str, str]) -> Settings:
        return make_settings(database_url, sources=[{"kind": "rss", **s} for s in sources])

    return build


class Ticking:
    """A clock that moves one minute per reading, so every recorded time is distinct."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def count_transactions(db: Database) -> Callable[[], int]:
    """How many transactions the engine began since this call (SQLite and PostgreSQL)."""
    begun = [0]

    def on_begin(_connection: object) -> None:
        begun[0] += 1

    event.listen(db.engine, "begin", on_begin)
    return lambda: begun[0]


@pytest.mark.parametrize("batch_size", [100, 4])
def test_unchanged_sources_are_recorded_in_batches_not_one_transaction_each(
    tmp_path: Path,
    db: Database,
    settings_for,
    monkeypatch: pytest.MonkeyPatch,
    batch_size: int,
) -> None:
    monkeypatch.setattr(pipeline_module, "UNCHANGED_BATCH", batch_size)
    # Distinct stories per source: this test is about bookkeeping, not syndication races.
    sources = [
        {
            "name": f"news {i}",
            "url": feed_file(
                tmp_path,
                f"news{i}.xml",
                [(f"{guid}-{i}", f"{title} ({i})", text) for guid, title, text in ITEMS],
            ),
        }
        for i in range(10)
    ]
    settings = settings_for(*sources)
    clock = Ticking()
    pipeline = Pipeline(settings, db, clock=clock)
    assert all(r.ok and r.fetched for r in pipeline.run_sources())
    stored = count(db, Mention)
    polled_before = clock.now

    transactions = count_transactions(db)
    reports = pipeline.run_sources()
    assert all(r.ok and r.not_modified and not r.fetched for r in reports)
    # One transaction reads every state, then one per batch of unchanged polls; one (or two)
    # per source, as before the batching, would be 10 or 20.
    assert transactions() == 1 + -(-len(sources) // batch_size)
    assert count(db, Mention) == stored
    with db.sessions() as session:
        rows = session.scalars(select(Source)).all()
    assert len(rows) == len(sources)
    for row in rows:  # each source's own poll time, not one shared stamp
        assert row.consecutive_failures == 0 and row.last_error is None
        assert row.last_attempt_at is not None and row.last_success_at == row.last_attempt_at
        assert row.last_attempt_at.replace(tzinfo=UTC) > polled_before
    assert len({row.last_attempt_at for row in rows}) == len(rows)


def test_failures_and_new_items_are_still_recorded_per_source_in_a_batched_run(
    tmp_path: Path, db: Database, settings_for
) -> None:
    settings = settings_for(
        {"name": "same", "url": feed_file(tmp_path, "same.xml", ITEMS[2:])},
        {"name": "growing", "url": feed_file(tmp_path, "growing.xml", ITEMS[:1])},
        {"name": "broken", "url": "missing.xml"},
    )
    pipeline = Pipeline(settings, db, clock=Ticking())
    pipeline.run_sources()
    feed_file(tmp_path, "growing.xml", ITEMS[:2])
    same, growing, broken = pipeline.run_sources()
    assert same.not_modified and same.ok
    assert growing.new_mentions == 1 and not growing.not_modified
    assert broken.error and "missing.xml" in broken.error
    assert count(db, Mention) == 2
    with db.sessions() as session:
        rows = {row.name: row for row in session.scalars(select(Source))}
    assert rows["broken"].consecutive_failures == 2
    assert rows["growing"].items_seen == 2 and rows["same"].items_seen == 2


def test_a_late_unchanged_poll_never_overwrites_a_newer_failure(db: Database) -> None:
    earlier = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with db.transaction() as session:
        row = source_row(session, "news", "rss")
        record_failure(row, "HTTP 503", earlier + timedelta(minutes=5), Outcome.TRANSIENT)
        source_id = row.id
    with db.transaction() as session:  # a batch that waited while the failure was recorded
        record_unchanged(session, [UnchangedPoll(source_id, earlier, None)])
    with db.sessions() as session:
        row = session.get_one(Source, source_id)
        assert (row.consecutive_failures, row.last_error) == (1, "HTTP 503")
    with db.transaction() as session:  # a newer unchanged poll heals it
        record_unchanged(session, [UnchangedPoll(source_id, earlier + timedelta(hours=1), None)])
    with db.sessions() as session:
        row = session.get_one(Source, source_id)
        assert (row.consecutive_failures, row.last_error) == (0, None)
        assert row.last_success_at is not None


def test_a_changed_kind_resets_the_state_in_the_batched_read(db: Database) -> None:
    with db.transaction() as session:
        row = source_row(session, "news", "rss")
        row.etag, row.seen_ids = '"v1"', ["a1"]
    with db.transaction() as session:
        rows = source_rows(session, {"news": "youtube", "fresh": "rss"})
        assert rows["news"].kind == "youtube" and rows["fresh"].kind == "rss"
        assert read_state(rows["news"]) == SourceState()
    with db.sessions() as session:
        assert count(db, Source) == 2
        assert session.scalars(select(Source.etag).where(Source.name == "news")).one() is None
