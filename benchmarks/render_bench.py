"""Report rendering cost: a digest of 1,000 mentions and a weekly report over 100,000.

Each is measured against a baseline taken in the same run on the same SQLite file: a plain
query of the same rows (the period's mentions of the brand, with their title, text, author,
reach and dates, fetched into a list), which is the least any report over them must do.

Time: the best of `repeats` runs, no tracing. Peak memory: one more run under tracemalloc,
which sees every Python allocation and numpy's (matplotlib's Agg canvas) but not memory that
C libraries such as css-inline or libpng keep to themselves.

The database is generated once per run with bulk Core inserts: mentions spread over the
period with titles, ~200-character texts with hashtags, a sentiment tag on each, incident
tags on a few, two sources on some, and competitor matches on a fifth.
"""

from __future__ import annotations

import gc
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from monitor.app.configuration import parse_settings
from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.core.settings import Settings
from monitor.core.storage import Database, open_database
from reports.digest import preview_digest
from reports.period_counts import said_at
from reports.weekly import parse_week, preview_weekly

BRAND = "Calderix"
COMPETITORS = ["Fonaris", "Redalia"]
DIGEST_NOW = datetime(2025, 12, 5, 7, 0, tzinfo=UTC)  # after the week below
WEEK = "2025-W46"
WEEK_START = datetime(2025, 11, 9, 23, 0, tzinfo=UTC)  # Monday 10 Nov, 00:00 in Madrid
CHUNK = 5_000
WORDS = [
    "outage",
    "fibre",
    "billing",
    "invoice",
    "support",
    "store",
    "price",
    "contract",
    "coverage",
    "router",
    "engineer",
    "factura",
    "avería",
    "cobertura",
    "tienda",
    "precio",
    "contrato",
    "servicio",
    "cliente",
    "atención",
    "oferta",
]
HASHTAGS = ["#apagon", "#fibra", "#factura", "#5G", "#atencion", "#ofertas"]
SENTIMENTS = [("negative", -0.7), ("neutral", 0.0), ("positive", 0.6)]


def _settings(folder: Path, url: str) -> Settings:
    return parse_settings(
        {
            "storage": {"url": url},
            "schedule": {"timezone": "Europe/Madrid"},
            "email": {"language": "es"},
            "brands": [{"name": BRAND, "competitors": COMPETITORS}],
        },
        folder,
    )


def generate(db: Database, mentions: int, start: datetime, span: timedelta, seed: int) -> None:
    """`mentions` mentions of the brand first seen (and published) evenly over the span."""
    rng = random.Random(seed)
    with db.engine.begin() as connection:
        source_ids = []
        for name in ("El Diario", "Foro Hogar", "Mastodon", "Agencia Norte", "Blog"):
            existing = connection.scalar(select(Source.id).where(Source.name == name))
            if existing is None:
                existing = connection.execute(
                    insert(Source).values(name=name, kind="rss", seen_ids=[]).returning(Source.id)
                ).scalar_one()
            source_ids.append(existing)
        first_id = (connection.scalar(select(Mention.id).order_by(Mention.id.desc())) or 0) + 1
        for offset in range(0, mentions, CHUNK):
            rows, links, matches, tags = [], [], [], []
            for n in range(offset, min(offset + CHUNK, mentions)):
                mention_id = first_id + n
                when = start + span * (n / mentions)
                words = " ".join(rng.choice(WORDS) for _ in range(24))
                text = f"{BRAND} {words} {rng.choice(HASHTAGS)} {rng.choice(HASHTAGS)}"
                title = f"{BRAND} {' '.join(rng.choice(WORDS) for _ in range(6))}"
                rows.append(
                    {
                        "id": mention_id,
                        "fingerprint": f"{seed}-{n}",
                        "url": f"https://example.com/{seed}/{n}",
                        "title": title,
                        "text": text,
                        "author": f"@user{rng.randrange(2_000)}",
                        "published_at": when,
                        "first_seen_at": when,
                        "reach": int(rng.paretovariate(1.2) * 10),
                        "metrics": {},
                        "media": [],
                        "lang": "es",
                    }
                )
                for k, source_id in enumerate(rng.sample(source_ids, 2 if n % 7 == 0 else 1)):
                    links.append(
                        {
                            "mention_id": mention_id,
                            "source_id": source_id,
                            "external_id": f"{seed}-{n}-{k}",
                            "url": f"https://example.com/{seed}/{n}/{k}",
                            "first_seen_at": when,
                        }
                    )
                matches.append({"mention_id": mention_id, "brand": BRAND, "terms": [BRAND]})
                if n % 5 == 0:
                    matches.append(
                        {"mention_id": mention_id, "brand": rng.choice(COMPETITORS), "terms": []}
                    )
                label, score = rng.choice(SENTIMENTS)
                # evidence: the brand name that starts the title, at offset 0 of the full text
                evidence = [{"start": 0, "end": len(BRAND), "text": BRAND, "reason": "cue"}]
                tags.append(_tag(mention_id, "sentiment", label, score, evidence))
                if n % 200 == 0:
                    tags.append(_tag(mention_id, "leak", "pii", 0.9, evidence))
                if n % 150 == 0:
                    tags.append(_tag(mention_id, "policy", "insult", 0.7, evidence))
                if n % 20 == 0:
                    tags.append(_tag(mention_id, "complaint", "complaint", 0.8, evidence))
            connection.execute(insert(Mention), rows)
            connection.execute(insert(MentionSource), links)
            connection.execute(insert(BrandMatch), matches)
            connection.execute(insert(Tag), tags)


def _tag(
    mention_id: int, family: str, label: str, score: float, evidence: list[Any]
) -> dict[str, Any]:
    return {
        "mention_id": mention_id,
        "brand": BRAND,
        "family": family,
        "label": label,
        "score": score,
        "evidence": evidence,
    }


def plain_query(db: Database, start: datetime, end: datetime, by_said_at: bool) -> int:
    """The baseline: the period's mentions of the brand, fetched as plain rows."""
    when = said_at() if by_said_at else Mention.first_seen_at
    with db.sessions() as session:
        rows = session.execute(
            select(
                Mention.id,
                Mention.title,
                Mention.text,
                Mention.author,
                Mention.reach,
                Mention.published_at,
                Mention.first_seen_at,
            )
            .join(BrandMatch, BrandMatch.mention_id == Mention.id)
            .where(BrandMatch.brand == BRAND, when >= start, when < end)
        ).all()
    return len(rows)


def _best(repeats: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def _peak(action: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _measure(
    name: str, repeats: int, baseline: Callable[[], object], render: Callable[[], object]
) -> dict[str, float]:
    render()  # warm: templates compiled, fonts and matplotlib loaded, pages cached
    base_s, render_s = _best(repeats, baseline), _best(repeats, render)
    base_mem, render_mem = _peak(baseline), _peak(render)
    print(
        f"  {name}: plain query {base_s * 1000:.0f} ms, {base_mem / 1e6:.1f} MB peak; "
        f"report {render_s * 1000:.0f} ms, {render_mem / 1e6:.1f} MB peak; "
        f"time ratio {render_s / base_s:.1f}, memory ratio {render_mem / base_mem:.2f}"
    )
    return {
        f"{name}_baseline_s": base_s,
        f"{name}_render_s": render_s,
        f"{name}_time_ratio": render_s / base_s,
        f"{name}_baseline_peak_mb": base_mem / 1e6,
        f"{name}_render_peak_mb": render_mem / 1e6,
        f"{name}_memory_ratio": render_mem / base_mem,
    }


def run(
    digest_mentions: int = 1_000, weekly_mentions: int = 100_000, repeats: int = 3
) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'render.db'}"
        settings = _settings(folder, url)
        db = open_database(url)
        started = time.perf_counter()
        period_start = DIGEST_NOW - timedelta(hours=24)
        # the week before the digest's day feeds its trend lines
        generate(db, digest_mentions * 6, period_start - timedelta(days=7), timedelta(days=7), 1)
        generate(db, digest_mentions, period_start, timedelta(hours=24), 2)
        week = parse_week(WEEK, settings)
        generate(db, weekly_mentions // 2, WEEK_START - timedelta(days=7), timedelta(days=7), 3)
        generate(db, weekly_mentions, WEEK_START, timedelta(days=7), 4)
        print(
            f"render: SQLite with {digest_mentions * 7 + weekly_mentions * 3 // 2:,} mentions "
            f"generated in {time.perf_counter() - started:.1f} s"
        )
        assert plain_query(db, period_start, DIGEST_NOW, False) == digest_mentions
        assert plain_query(db, week.start, week.start + timedelta(days=7), True) == weekly_mentions
        results |= _measure(
            f"digest_{digest_mentions}",
            repeats,
            lambda: plain_query(db, period_start, DIGEST_NOW, False),
            lambda: preview_digest(db, settings, now=DIGEST_NOW),
        )
        results |= _measure(
            f"weekly_{weekly_mentions}",
            repeats,
            lambda: plain_query(db, week.start, week.start + timedelta(days=7), True),
            lambda: preview_weekly(db, settings, week=week),
        )
        db.dispose()
    return results


if __name__ == "__main__":
    run()
