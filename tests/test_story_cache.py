"""A worker's cache of stored stories groups posts exactly as reading them all again would.

`monitor.app.story_cache` reads only the stories new since a worker's last run; these tests
store the same posts with one cache kept across runs and with none (every story read again)
and compare the stories each makes, and cover what can make a cache stale: a story deleted
under it, a database whose ids went backwards, a batch older than what the cache holds.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from classifiers.tags import BrandAnalysis, TagResult
from monitor.app.mention_store import store_matches
from monitor.app.source_state import source_row
from monitor.app.story_cache import StoryCache
from monitor.core.models import Mention, MentionSource
from monitor.core.rawpost import RawPost
from monitor.core.storage import Database, open_database

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
BRANDS = {
    "Calderix": [BrandAnalysis("Calderix", ("calderix",), "es",
                               (TagResult("sentiment", "neutral", 0.0),))],
    "Norvia": [BrandAnalysis("Norvia", ("norvia",), "es",
                             (TagResult("sentiment", "neutral", 0.0),))],
}
HEADLINES = [
    "{b} abre una tienda nueva en el centro de Sevilla",
    "{b} sube el precio de la fibra a partir de enero",
    "{b} presenta resultados del tercer trimestre con beneficios récord",
    "Los clientes de {b} denuncian cortes en Madrid durante el fin de semana",
    "{b} ficha a un nuevo director financiero procedente de la banca",
]


def _store(db: Database, source: str, posts: list[tuple[RawPost, str]], now: datetime,
           cache: StoryCache | None) -> None:
    with db.transaction() as session:
        row = source_row(session, source, "rss", lock=True)
        store_matches(session, row, [(post, BRANDS[brand]) for post, brand in posts], now,
                      stories=cache)


def _grouping(db: Database) -> set[frozenset[tuple[str, str]]]:
    """The stories as sets of (source, external id): independent of the ids given."""
    with db.reading() as session:
        rows = session.execute(
            select(MentionSource.mention_id, MentionSource.external_id)
        ).all()
    stories: dict[int, set[tuple[str, str]]] = {}
    for mention_id, external_id in rows:
        stories.setdefault(mention_id, set()).add(tuple(external_id.split("/", 1)))
    return {frozenset(posts) for posts in stories.values()}


def _runs(seed: int) -> list[tuple[str, list[tuple[RawPost, str]], datetime]]:
    """Runs of three feeds over ten days: copies of a few headlines (some with an outlet
    suffix, some for both brands), dated around each run, some runs backfilling old posts."""
    rng = random.Random(seed)
    runs = []
    for number in range(40):
        now = NOW + timedelta(hours=6 * number)
        source = f"feed{number % 3}"
        posts = []
        for item in range(rng.randint(1, 6)):
            brand = rng.choice(list(BRANDS))
            title = rng.choice(HEADLINES).format(b=brand)
            if rng.random() < 0.3:
                title += " - El Diario"
            back = timedelta(days=rng.choice([0, 0, 0, 1, 2, 9]), hours=rng.randint(0, 5))
            posts.append((RawPost(source, f"{source}/{number}-{item}", title=title,
                                  author=f"autor{rng.randint(0, 2)}",
                                  published_at=now - back), brand))
        runs.append((source, posts, now))
    return runs


def test_a_kept_cache_groups_posts_as_reading_every_story_again(
    db: Database, tmp_path
) -> None:
    plain = open_database(f"sqlite:///{tmp_path / 'plain.db'}")
    try:
        cache = StoryCache()
        for source, posts, now in _runs(seed=7):
            _store(db, source, posts, now, cache)
            _store(plain, source, posts, now, None)
        cached, uncached = _grouping(db), _grouping(plain)
        assert cached == uncached
        assert any(len(story) > 1 for story in cached)  # copies were grouped at all
        assert len(cached) > 5
    finally:
        plain.dispose()


def test_a_story_stored_by_another_worker_is_found_through_the_cache(db: Database) -> None:
    cache = StoryCache()
    title = HEADLINES[0].format(b="Calderix")
    _store(db, "a", [(RawPost("a", "a/1", title="Otra noticia de Calderix sin relación",
                              published_at=NOW), "Calderix")], NOW, cache)
    _store(db, "b", [(RawPost("b", "b/1", title=title, published_at=NOW), "Calderix")], NOW,
           None)  # another worker, after this cache was filled
    _store(db, "c", [(RawPost("c", "c/1", title=title, published_at=NOW), "Calderix")], NOW,
           cache)
    assert {frozenset({("b", "1"), ("c", "1")})} <= _grouping(db)


def test_a_story_deleted_under_the_cache_is_not_joined(db: Database) -> None:
    cache = StoryCache()
    title = HEADLINES[1].format(b="Calderix")
    _store(db, "a", [(RawPost("a", "a/1", title=title, published_at=NOW), "Calderix")], NOW,
           cache)
    _store(db, "a", [(RawPost("a", "a/2", title=HEADLINES[2].format(b="Calderix"),
                              published_at=NOW), "Calderix")], NOW, cache)  # reads a/1's
    with db.transaction() as session:  # the first story only: the newest ids stay
        first = session.scalar(select(MentionSource.mention_id)
                               .where(MentionSource.external_id == "a/1"))
        session.execute(delete(Mention).where(Mention.id == first))
    _store(db, "b", [(RawPost("b", "b/1", title=title, published_at=NOW), "Calderix")], NOW,
           cache)
    assert _grouping(db) == {frozenset({("a", "2")}), frozenset({("b", "1")})}


def test_a_database_whose_ids_went_back_empties_the_cache(db: Database, tmp_path) -> None:
    """The same cache on a database with fewer rows (a restored backup): new stories there
    have ids below the cache's watermark and must still be found."""
    cache = StoryCache()
    for number in range(3):  # headlines 0-2 here; the restored database gets headline 4
        _store(db, "a", [(RawPost("a", f"a/{number}", title=HEADLINES[number].format(b="Calderix"),
                                  published_at=NOW), "Calderix")], NOW, cache)
    restored = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        title = HEADLINES[4].format(b="Calderix")
        _store(restored, "b", [(RawPost("b", "b/1", title=title, published_at=NOW),
                                "Calderix")], NOW, None)
        _store(restored, "c", [(RawPost("c", "c/1", title=title, published_at=NOW),
                                "Calderix")], NOW, cache)
        assert _grouping(restored) == {frozenset({("b", "1"), ("c", "1")})}
    finally:
        restored.dispose()


def test_a_backfill_older_than_the_cache_reads_the_older_stories(db: Database) -> None:
    old = NOW - timedelta(days=30)
    title = HEADLINES[3].format(b="Norvia")
    _store(db, "a", [(RawPost("a", "a/1", title=title, published_at=old), "Norvia")], old, None)
    cache = StoryCache()
    _store(db, "b", [(RawPost("b", "b/1", title="Norvia estrena web", published_at=NOW),
                      "Norvia")], NOW, cache)  # the cache now holds the last window only
    _store(db, "c", [(RawPost("c", "c/1", title=title, published_at=old), "Norvia")], NOW,
           cache)
    assert frozenset({("a", "1"), ("c", "1")}) in _grouping(db)
