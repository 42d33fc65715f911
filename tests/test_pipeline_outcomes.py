"""The pipeline's error policy in practice: each hopeless source asked once, Retry-After kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from monitor.app.pipeline import Pipeline
from monitor.core.errors import Outcome
from monitor.core.http import HttpClient
from monitor.core.models import Source
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.corpus_server import Canned, CorpusServer
from tests.drip_server import DripServer
from tests.pipeline_support import ITEMS, feed_file, rss

Item = tuple[str, str, str]  # guid, title, description


def local_pipeline(settings: Settings, db: Database, waits: list[float]) -> Pipeline:
    """A pipeline whose HTTP retries back off on a fake clock (the waits are recorded)."""
    return Pipeline(
        settings, db, http=HttpClient(settings.http, sleep=waits.append),
        clock=lambda: datetime(2026, 11, 20, 12, tzinfo=UTC),
    )


def test_a_pass_asks_each_hopeless_source_once(
    tmp_path: Path, db: Database, make_settings, database_url
) -> None:
    """Trickling, oversized and looping sources fail the same way seconds later: one request
    each per run (a trickling feed used to cost three download deadlines per pass)."""
    big = rss([(f"b{i}", "x" * 100, "y" * 100) for i in range(40)]).encode()
    waits: list[float] = []
    with DripServer(every=0.05) as drip, CorpusServer() as server:
        server.routes["/big.xml"] = lambda _r, _b: Canned(200, [], big)
        server.routes["/loop.xml"] = lambda _r, b: Canned(302, [("Location", f"{b}/loop.xml")])
        settings = make_settings(
            database_url,
            http={"allow_private_addresses": True, "max_download_seconds": 0.3,
                  "max_body_bytes": 5000, "max_redirects": 2, "retries": 2},
            sources=[
                {"name": "news", "kind": "rss", "url": feed_file(tmp_path, "n.xml", ITEMS)},
                {"name": "trickle", "kind": "rss", "url": drip.url},
                {"name": "big", "kind": "rss", "url": server.url("/big.xml")},
                {"name": "loop", "kind": "rss", "url": server.url("/loop.xml")},
            ],
        )
        pipeline = local_pipeline(settings, db, waits)
        news, trickle, too_big, loop = pipeline.run_sources()
        pipeline.close()
        paths = [r.path for r in server.requests]
        assert drip.requests == 1
    assert paths.count("/big.xml") == 1 and paths.count("/loop.xml") == 3  # 1 + 2 redirects
    assert waits == []
    assert news.ok and news.new_mentions == 2
    assert (trickle.outcome, too_big.outcome, loop.outcome) == (
        Outcome.RETRY_LATER, Outcome.RETRY_LATER, Outcome.MISCONFIGURED
    )
    with db.sessions() as session:
        outcomes = dict(session.execute(select(Source.name, Source.last_outcome)).all())
    assert outcomes == {
        "news": None, "trickle": "retry later", "big": "retry later", "loop": "misconfigured"
    }


def test_retry_after_moves_the_next_run_and_a_success_clears_the_outcome(
    db: Database, make_settings, database_url
) -> None:
    answers = [Canned(429, [("Retry-After", "3600")]), Canned(404)]
    with CorpusServer() as server:
        server.routes["/api.xml"] = lambda _r, _b: answers.pop(0) if answers else Canned(
            200, [("Content-Type", "application/rss+xml")], rss(ITEMS[:1]).encode()
        )
        settings = make_settings(
            database_url, http={"allow_private_addresses": True},
            sources=[{"name": "api", "kind": "rss", "url": server.url("/api.xml")}],
        )
        # A pipeline per run: the first one's client keeps the host paused for the hour.
        limited, gone, back = [
            local_pipeline(settings, db, []).run_source(settings.sources[0]) for _ in range(3)
        ]
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert limited.outcome is Outcome.TRANSIENT and limited.retry_at == now + timedelta(hours=1)
    assert gone.outcome is Outcome.MISCONFIGURED and gone.retry_at is None
    assert back.ok and back.outcome is None and back.retry_at is None
    with db.sessions() as session:
        row = session.scalars(select(Source)).one()
    assert (row.last_outcome, row.consecutive_failures) == (None, 0)
