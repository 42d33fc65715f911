"""Helpers shared by the JSON API connector tests: the recorded-API server, a fake clock,
a pipeline wired to loopback, and reading back what was stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from monitor.app.pipeline import Pipeline
from monitor.core.http import HttpClient
from monitor.core.models import Mention, MentionSource
from monitor.core.settings import HttpSettings, Settings
from monitor.core.storage import Database
from tests.corpus_server import ApiCorpus, CorpusServer

#: The pipeline's "now" in these tests: after every recording in the corpus.
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@dataclass
class FakeClock:
    """time.time/time.sleep stand-ins: sleeping advances the clock and is recorded."""

    now: float = 1_800_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@contextmanager
def api_server(shared_dir: Path) -> Iterator[CorpusServer]:
    with CorpusServer(ApiCorpus(shared_dir / "corpora" / "api")) as server:
        yield server


def loopback_client(clock: FakeClock | None = None, **settings: Any) -> HttpClient:
    """An HttpClient that may reach the local test server (and only loopback 127.0.0.1)."""
    clock = clock or FakeClock()
    return HttpClient(
        HttpSettings(**settings),
        trusted_networks=["127.0.0.1/32"],
        sleep=clock.sleep,
        clock=clock.time,
    )


def pipeline_for(
    make_settings: Callable[..., Settings],
    database_url: str,
    db: Database,
    *,
    brand_query: str,
    source: dict[str, Any],
) -> tuple[Pipeline, Settings]:
    """A pipeline with one brand and one source, talking to loopback on a fake clock."""
    settings = make_settings(
        database_url,
        brands=[{"name": "Brand", "query": brand_query}],
        sources=[{"name": "api", **source}],
    )
    pipeline = Pipeline(settings, db, http=loopback_client(), clock=lambda: NOW)
    return pipeline, settings


@dataclass(frozen=True)
class Stored:
    external_id: str
    url: str | None
    author: str | None
    author_handle: str | None
    title: str | None
    text: str
    published_at: datetime | None
    metrics: dict[str, Any]


def stored_mentions(db: Database) -> dict[str, Stored]:
    """Every stored mention by the external id its source gave it."""
    with db.sessions() as session:
        rows = session.execute(
            select(MentionSource.external_id, Mention).join(
                Mention, Mention.id == MentionSource.mention_id
            )
        ).all()
        return {
            external_id: Stored(
                external_id,
                m.url,
                m.author,
                m.author_handle,
                m.title,
                m.text,
                as_utc(m.published_at),
                dict(m.metrics),
            )
            for external_id, m in rows
        }


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
