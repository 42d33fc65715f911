"""Alert evaluation cost: the rules after a run of 200 new mentions on top of a busy history.

The history is four weeks of one brand at about 150 mentions an hour (100,000 mentions, a
third of them negative), in one SQLite file. The baseline, taken in the same run on the same
file, is a plain query of the rows the spike rule has to read (the brand's mentions of the
last four weeks, with their published time and reach). Measured: the spike rule alone (it
reads those rows and computes a baseline per hour), and a whole `evaluate_alerts` (the three
rules, the storm state and the email) the first time, when it writes the spike alert.

Time: the best of `repeats` runs of the read-only parts, no tracing; peak memory: one more run
under tracemalloc.
"""

from __future__ import annotations

import gc
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from monitor.app.alerts import evaluate_alerts
from monitor.app.alerts.findings import spike_findings
from monitor.app.configuration import parse_settings
from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.core.storage import Database, open_database

BRAND = "Calderix"
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
NEW = 200


def _seed(db: Database, history: int) -> list[int]:
    start = NOW - timedelta(days=28)
    step = (NOW - timedelta(hours=1) - start) / history
    rows = [
        {
            "fingerprint": f"h{i}",
            "text": "Calderix",
            "first_seen_at": start + i * step,
            "published_at": start + i * step,
            "metrics": {},
            "media": [],
            "reach": i % 1000,
        }
        for i in range(history)
    ] + [
        {
            "fingerprint": f"n{i}",
            "text": "Calderix",
            "first_seen_at": NOW,
            "published_at": NOW - timedelta(minutes=30),
            "metrics": {},
            "media": [],
            "reach": i,
        }
        for i in range(NEW)
    ]
    with db.transaction() as session:
        session.execute(insert(Mention), rows)
        ids = list(session.scalars(select(Mention.id).order_by(Mention.id)))
        source = Source(name="news", kind="rss")
        session.add(source)
        session.flush()
        session.execute(  # one post per story: the spike rule counts posts
            insert(MentionSource),
            [
                {
                    "mention_id": i,
                    "source_id": source.id,
                    "external_id": str(i),
                    "published_at": row["published_at"],
                    "first_seen_at": row["first_seen_at"],
                }
                for i, row in zip(ids, rows, strict=True)
            ],
        )
        session.execute(insert(BrandMatch), [{"mention_id": i, "brand": BRAND} for i in ids])
        session.execute(
            insert(Tag),
            [
                {
                    "mention_id": i,
                    "brand": BRAND,
                    "family": "sentiment",
                    "label": "negative" if i % 3 == 0 else "neutral",
                    "score": -0.5 if i % 3 == 0 else 0.0,
                    "evidence": [],
                }
                for i in ids
            ],
        )
        posts = list(session.scalars(select(MentionSource.id).order_by(MentionSource.id)))
    return posts[-NEW:]


def _measure(work: Callable[[], Any], repeats: int) -> tuple[float, int, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    gc.collect()
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak, result


def run(history: int = 100_000, repeats: int = 3) -> None:
    folder = Path(tempfile.mkdtemp(prefix="vigia-alerts-bench-"))
    settings = parse_settings(
        {"brands": [{"name": BRAND}], "email": {"recipients": {"alerts": ["a@example.com"]}}},
        folder,
    )
    db = open_database(f"sqlite:///{folder / 'bench.db'}")
    new_posts = _seed(db, history)
    published = func.coalesce(MentionSource.published_at, MentionSource.first_seen_at)

    def plain() -> int:
        with db.sessions() as session:
            return len(
                session.execute(
                    select(Mention.id, published, Mention.reach)
                    .select_from(MentionSource)
                    .join(Mention, Mention.id == MentionSource.mention_id)
                    .join(BrandMatch, BrandMatch.mention_id == Mention.id)
                    .where(BrandMatch.brand == BRAND, published >= NOW - timedelta(days=29))
                ).all()
            )

    def spike() -> int:
        with db.sessions() as session:
            return len(spike_findings(session, BRAND, new_posts, settings.alerts, NOW))

    base_time, base_peak, rows = _measure(plain, repeats)
    spike_time, spike_peak, found = _measure(spike, repeats)
    started = time.perf_counter()
    written = evaluate_alerts(settings, db, now=NOW).written
    whole = time.perf_counter() - started
    print(f"alerts: {history:,} mentions of history + {NEW} new ({rows:,} rows read)")
    print(f"  plain query:          {base_time * 1000:7.0f} ms, peak {base_peak / 1e6:5.1f} MB")
    print(
        f"  spike rule:           {spike_time * 1000:7.0f} ms, peak {spike_peak / 1e6:5.1f} MB"
        f"  = {spike_time / base_time:.2f}x time, {spike_peak / base_peak:.2f}x memory"
        f" ({found} spike hour)"
    )
    print(
        f"  evaluate_alerts, first time (writes {len(written)} email): {whole * 1000:.0f} ms"
        f" = {whole / base_time:.2f}x time"
    )
    db.dispose()


if __name__ == "__main__":
    run()
