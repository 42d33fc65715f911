"""Storage on SQLite and PostgreSQL: migrations, constraints that make writes idempotent, UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from monitor.models import Mention, MentionSource, OutboxMessage, Source
from monitor.storage import Database, open_database

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    first = open_database(database_url)
    second = open_database(database_url)  # a second start must not fail or change anything
    tables = set(inspect(second.engine).get_table_names())
    assert {
        "sources",
        "mentions",
        "mention_sources",
        "brand_matches",
        "tags",
        "outbox",
        "digest_runs",
        "alert_states",
        "report_runs",
        "alembic_version",
    } <= tables
    with second.sessions() as session:
        assert session.execute(text("select version_num from alembic_version")).scalar() == "0002"
    first.dispose()
    second.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'sub' / 'v.db'}")  # creates the folder too
    with db.transaction() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def _mention(fp: str, when: datetime = NOW) -> Mention:
    return Mention(fingerprint=fp, text="t", first_seen_at=when, metrics={}, media=[], reach=0)


def test_mentions_are_unique_per_source_and_external_id(db: Database) -> None:
    with db.transaction() as session:
        source = Source(name="s", kind="rss", seen_ids=[])
        mention = _mention("f1")
        mention.sources.append(MentionSource(source=source, external_id="x", first_seen_at=NOW))
        session.add_all([source, mention])
    with pytest.raises(IntegrityError), db.transaction() as session:
        source = session.scalars(select(Source)).one()
        other = _mention("f2")
        other.sources.append(MentionSource(source=source, external_id="x", first_seen_at=NOW))
        session.add(other)


def test_fingerprints_are_unique(db: Database) -> None:
    with db.transaction() as session:
        session.add(_mention("same"))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(_mention("same"))


def test_outbox_keys_are_unique(db: Database) -> None:
    def message(mid: str) -> OutboxMessage:
        return OutboxMessage(
            key="digest:2026-11-20",
            kind="digest",
            message_id=mid,
            subject="s",
            recipients=[],
            message=b"x",
            html="",
            next_attempt_at=NOW,
            created_at=NOW,
        )

    with db.transaction() as session:
        session.add(message("<1@x>"))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(message("<2@x>"))


def test_times_round_trip_as_aware_utc(db: Database) -> None:
    madrid_evening = datetime(2026, 11, 20, 23, 30, tzinfo=timezone(timedelta(hours=1)))
    with db.transaction() as session:
        session.add(_mention("tz", madrid_evening))
    with db.sessions() as session:
        stored = session.scalars(select(Mention.first_seen_at)).one()
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == madrid_evening


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"), db.transaction() as session:
        session.add(_mention("naive", datetime(2026, 11, 20, 12)))


def test_migrations_match_the_models(db: Database) -> None:
    """A model change without its Alembic revision fails here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from monitor.models import Base

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_a_reader_does_not_block_a_writer_on_sqlite(tmp_path: Path) -> None:
    """A long report reads from a snapshot; a source run can still write meanwhile."""
    db = open_database(f"sqlite:///{tmp_path / 'vigia.db'}")
    other = open_database(f"sqlite:///{tmp_path / 'vigia.db'}", migrate=False)
    with db.reading() as reader:
        assert reader.scalar(select(func.count()).select_from(Source)) == 0
        started = time.monotonic()
        with other.transaction() as writer:  # BEGIN IMMEDIATE: waits if the reader held a lock
            writer.add(Source(name="feed", kind="rss"))
        assert time.monotonic() - started < 5  # no wait for the reader (busy_timeout is 30 s)
        assert reader.scalar(select(func.count()).select_from(Source)) == 0  # its snapshot
    with db.reading() as reader:
        assert reader.scalar(select(func.count()).select_from(Source)) == 1
    db.dispose()
    other.dispose()


def test_the_schema_check_reads_the_migration_heads_without_alembic(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from monitor.storage import alembic_config, head_revisions, make_engine, schema_is_current

    engine = make_engine(f"sqlite:///{tmp_path}/check.db")
    alembic_heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert head_revisions() == set(alembic_heads)
    assert not schema_is_current(engine)  # no version table yet: Alembic must run
    open_database(str(engine.url)).dispose()
    assert schema_is_current(engine)
    with engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = '0001'"))
    assert not schema_is_current(engine)  # behind the files: Alembic upgrades it
    engine.dispose()
