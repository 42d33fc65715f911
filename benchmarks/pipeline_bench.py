"""End-to-end throughput: feed bytes → tagged mentions stored, against feedparser alone.

Baseline: `feedparser.parse(body)` with its defaults (HTML sanitising on) over the same bytes.
Measured: one cold pass of the real pipeline (HTTP on loopback, parse, match, classify,
store in a fresh SQLite database), then a re-poll of the unchanged feeds (ETag → 304).
Goals (issue #2): cold pass / feedparser ≤ 1.0; re-poll / feedparser < 0.10.
Models (spaCy pipelines, lingua) are loaded before timing: that is a one-off start-up cost.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import feedparser

from benchmarks.local_feed_server import serve_feeds
from benchmarks.synthetic_feeds import make_feed
from monitor.app.configuration import parse_settings
from monitor.app.pipeline import Pipeline
from monitor.core.rawpost import RawPost
from monitor.core.storage import open_database

# Worker threads, as `monitor run` uses (on loopback with 2 cores, 1 measures faster).
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
# Worker processes (`[pipeline] workers`): 1, in-process, is what this benchmark measures;
# benchmarks/process_bench.py measures whole `monitor fetch` processes with the default pool.
PIPELINE_WORKERS = int(os.environ.get("BENCH_PIPELINE_WORKERS", "1"))
BRAND = {"name": "Calderix", "query": 'Calderix OR "Calderix Móvil" OR @calderix OR #calderix'}


def _best(repeats: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def make_feeds(feeds: int = 100, items: int = 50, brand_share: float = 1.0) -> dict[str, bytes]:
    return {f"/feed/{i}.xml": make_feed(i, items, brand_share) for i in range(feeds)}


def run(
    feeds: int = 100, items: int = 50, brand_share: float = 1.0, repeats: int = 3
) -> dict[str, float]:
    bodies = make_feeds(feeds, items, brand_share)
    total_bytes = sum(len(b) for b in bodies.values())
    baseline = _best(repeats, lambda: [feedparser.parse(b) for b in bodies.values()])

    cold_times, repoll_times, stored = [], [], 0
    with (
        serve_feeds(partial(make_feeds, feeds, items, brand_share)) as base_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        sources = [{"name": f"feed {p}", "kind": "rss", "url": base_url + p} for p in bodies]
        for attempt in range(repeats):
            settings = parse_settings(
                {
                    "storage": {"url": f"sqlite:///{tmp}/bench{attempt}.db"},
                    "http": {"allow_private_addresses": True},
                    # The synthetic feeds have fixed dates: store every item, however old.
                    "fetch": {"backfill": "all"},
                    "pipeline": {"workers": PIPELINE_WORKERS},
                    "brands": [BRAND],
                    "sources": sources,
                },
                Path(tmp),
            )
            pipeline = Pipeline(settings, open_database(settings.database_url))
            pipeline.analyzer.analyse(
                [RawPost(source="warm", external_id="1", text="Calderix va genial")]
            )
            started = time.perf_counter()
            reports = pipeline.run_sources(workers=WORKERS)
            cold_times.append(time.perf_counter() - started)
            failed = [r for r in reports if r.error]
            if failed:
                raise SystemExit(f"benchmark run failed: {failed[0].source}: {failed[0].error}")
            stored = sum(r.new_mentions for r in reports)
            started = time.perf_counter()
            again = pipeline.run_sources(workers=WORKERS)
            repoll_times.append(time.perf_counter() - started)
            if any(not r.not_modified for r in again):
                raise SystemExit("re-poll was expected to be all 304 Not Modified")
            pipeline.close()
            pipeline.db.dispose()

    cold, repoll = min(cold_times), min(repoll_times)
    results = {
        "feeds": feeds,
        "items": feeds * items,
        "mentions_stored": stored,
        "megabytes": total_bytes / 1e6,
        "feedparser_s": baseline,
        "cold_pass_s": cold,
        "repoll_s": repoll,
        "cold_ratio": cold / baseline,
        "repoll_ratio": repoll / baseline,
        "cold_median_s": statistics.median(cold_times),
    }
    print(
        f"pipeline: {feeds} feeds x {items} items ({total_bytes / 1e6:.1f} MB, "
        f"{brand_share:.0%} mention the brand), {stored} mentions stored\n"
        f"  feedparser.parse default (baseline) {baseline:.2f} s\n"
        f"  cold pass (fetch+parse+match+classify+store) {cold:.2f} s  "
        f"ratio {results['cold_ratio']:.2f} (goal <= 1.0)\n"
        f"  re-poll, unchanged feeds (304)       {repoll:.3f} s  "
        f"ratio {results['repoll_ratio']:.3f} (goal < 0.10)"
    )
    return results


if __name__ == "__main__":
    run()
