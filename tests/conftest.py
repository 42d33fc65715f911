"""Shared fixtures: databases (SQLite always, PostgreSQL when configured), settings, corpora."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.app.configuration import parse_settings
from monitor.core.settings import Settings
from monitor.core.storage import Database, open_database
from tests.database_support import PostgresEmptier, copy_sqlite, migrated_sqlite
from tests.database_support import reset_postgres as _reset_postgres  # tests import it here
from tests.service_fixtures import (  # noqa: F401 — fixtures: private servers for fault tests
    _postgres,
    _rabbitmq,
    _redis_durable,
    _redis_volatile,
    postgres_service,
    rabbitmq_service,
    redis_service,
    volatile_redis_service,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIGIA_SHARED_DIR", REPO.parent / "shared"))
POSTGRES_URL = os.environ.get("VIGIA_TEST_DATABASE_URL", "")


def _database_backends() -> list[Any]:
    backends: list[Any] = ["sqlite"]
    if POSTGRES_URL:
        backends.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return backends


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated from nothing for the whole session; each test gets a copy."""
    return migrated_sqlite(tmp_path_factory.mktemp("migrated") / "vigia.db")


@pytest.fixture(scope="session")
def _postgres_emptier() -> Iterator[PostgresEmptier]:
    emptier = PostgresEmptier(POSTGRES_URL)
    yield emptier
    emptier.dispose()


@pytest.fixture(params=_database_backends())
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with no schema at all (migration tests): SQLite always, PostgreSQL
    when configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigia.db'}"
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(params=_database_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL at the newest revision, with no rows, as if migrated from nothing:
    SQLite always, PostgreSQL when configured (tests/database_support.py says how it is made
    cheaply). `empty_database_url` is the one with no schema."""
    if request.param == "sqlite":
        return copy_sqlite(request.getfixturevalue("_sqlite_template"), tmp_path / "vigia.db")
    request.getfixturevalue("_postgres_emptier").empty()
    return POSTGRES_URL


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


BASE_SETTINGS: dict[str, Any] = {
    "brands": [
        {
            "name": "Calderix",
            "query": '"Calderix" OR @calderix OR #calderix NOT "Calle Calderix"',
            "competitors": ["Fonaris", "Redalia"],
            "industry": "telecom",  # Calderix is a phone company: its complaint cues apply
        }
    ],
    "schedule": {"timezone": "Europe/Madrid", "digest_at": "08:00"},
    # The recorded corpora are years old and most tests run on the wall clock: store every
    # item. The first-run horizon has its own tests (tests/test_backfill.py).
    "fetch": {"backfill": "all"},
    "email": {
        "from": "Vigía <vigia@example.com>",
        "recipients": {"digest": ["comms@example.com"], "alerts": ["crisis@example.com"]},
    },
}


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Build validated Settings from BASE_SETTINGS plus overrides (top-level keys replaced)."""

    def build(database_url: str | None = None, **overrides: Any) -> Settings:
        data = {**BASE_SETTINGS, **overrides}
        if database_url:
            data["storage"] = {"url": database_url}
        return parse_settings(data, tmp_path)

    return build


@pytest.fixture
def shared_dir() -> Path:
    """../shared (recorded corpora, eval sets); skipped with a reason in a user's clone."""
    if not SHARED.is_dir():
        pytest.skip(
            f"shared corpora not found at {SHARED} (set VIGIA_SHARED_DIR); CI always has them"
        )
    return SHARED
