"""The 500-source benchmark stays runnable: its bodies are what each connector expects, and a
small run goes through the real pipeline with one request per source and pass."""

from __future__ import annotations

from pathlib import Path

from benchmarks import sources_bench
from connectors.feed_parse import parse_feed


def test_each_kind_serves_what_its_connector_reads() -> None:
    bodies = sources_bench.make_bodies(40, 3)
    entries = sources_bench.source_entries(40, "http://127.0.0.1:1")
    assert {e["kind"] for e in entries} == {"rss", "google_news", "youtube"}
    assert len(bodies) == 40
    for index, entry in enumerate(entries):
        _, path = sources_bench.source(index, 40, "http://127.0.0.1:1")
        posts = parse_feed(bodies[path], source=entry["name"]).posts
        assert len(posts) == 3, (entry, path)
        if entry["kind"] == "google_news":
            assert all(p.author and p.author.startswith("Diario") for p in posts)
            assert not any(" - Diario" in (p.title or "") for p in posts)
        if entry["kind"] == "youtube":
            assert all(set(p.metrics) == {"views", "likes"} for p in posts)


def test_small_feed_run_is_all_304_the_second_time() -> None:
    result = sources_bench.run(sources=10, items=3, workers=2, repeats=1, with_api=False)
    first, unchanged = result["first"], result["unchanged"]
    assert first["requests"] == unchanged["requests"] == 10
    assert first["items"] == 30 and first["mentions"] > 0
    assert unchanged["not_modified"] == 10 and unchanged["items"] == 0
    assert result["kinds"] == {"jsonfeed": 1, "google_news": 1, "youtube": 1, "rss": 7}


def test_api_sources_from_the_recorded_corpus(shared_dir: Path) -> None:
    result = sources_bench.run(sources=40, items=2, workers=2, repeats=1, with_api=True)
    assert {k: result["kinds"][k] for k in ("mastodon", "bluesky", "hackernews")} == {
        "mastodon": 2, "bluesky": 1, "hackernews": 1
    }
    first, unchanged = result["first"], result["unchanged"]
    # 36 feeds of 2 items, 30 toots, 25 Bluesky posts, 2 HN hits (one per page).
    assert first["items"] == 36 * 2 + 2 * 30 + 25 + 2
    assert unchanged["items"] == 0 and unchanged["not_modified"] == 36
