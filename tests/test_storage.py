"""Storage on SQLite and PostgreSQL: migrations, constraints that make writes idempotent, UTC."""

from __future__ import annotations

import multiprocessing
import socket
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from monitor.core.errors import StorageUnavailable
from monitor.core.models import Mention, MentionSource, OutboxMessage, Source
from monitor.core.storage import Database, alembic_config, open_database
from tests.conftest import POSTGRES_URL, _reset_postgres

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def test_migrations_create_every_table_and_are_idempotent(empty_database_url: str) -> None:
    first = open_database(empty_database_url)
    second = open_database(empty_database_url)  # a second start must not fail or change anything
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
    # At the newest revision; get_current_head raises if the chain has two heads.
    head = ScriptDirectory.from_config(alembic_config(second.engine)).get_current_head()
    with second.sessions() as session:
        assert session.execute(text("select version_num from alembic_version")).scalar() == head
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


def test_fingerprints_are_a_grouping_key_not_an_identity(db: Database) -> None:
    """The same headline a year later is another story (classifiers/stories.py decides)."""
    with db.transaction() as session:
        session.add(_mention("same"))
    with db.transaction() as session:
        session.add(_mention("same", NOW + timedelta(days=365)))
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 2


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

    from monitor.core.models import Base, is_modelled

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": is_modelled}
        )
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


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "url, reason",
    [
        ("postgresql+psycopg://vigia:s3cret-pw@127.0.0.1:{port}/vigia", "Connection refused"),
        ("sqlite:///{file}/sub/vigia.db", "Not a directory"),
    ],
)
def test_a_database_that_cannot_be_opened_names_the_setting_and_the_fix(
    tmp_path: Path, url: str, reason: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    url = url.format(port=_closed_port(), file=a_file)
    with pytest.raises(StorageUnavailable) as raised:
        open_database(url)
    message = str(raised.value)
    assert message.startswith("[storage] url = ") and reason in message
    assert " — " in message and "s3cret-pw" not in message
    assert raised.value.__cause__ is None and len(message.splitlines()) == 1


def _migrate(url: str, barrier: Any) -> None:
    barrier.wait(timeout=60)
    open_database(url).dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="set VIGIA_TEST_DATABASE_URL to a PostgreSQL database")
def test_three_processes_migrating_a_fresh_postgres_at_once_all_succeed() -> None:
    _reset_postgres(POSTGRES_URL)
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(3)
    workers = [spawn.Process(target=_migrate, args=(POSTGRES_URL, barrier)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    db = open_database(POSTGRES_URL, migrate=False)
    with db.sessions() as session:
        assert session.execute(text("select count(*) from alembic_version")).scalar() == 1
    db.dispose()


def test_the_schema_check_reads_the_migration_heads_without_alembic(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from monitor.core.storage import alembic_config, head_revisions, make_engine, schema_is_current

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
