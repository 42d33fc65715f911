"""Migration 0003 on a database holding mentions stored with the old, unique-headline scheme."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, Table, insert, select

from monitor.core.models import BrandMatch, Mention, MentionSource, Tag
from monitor.core.storage import alembic_config, make_engine, open_database

THEN = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)


def test_old_mentions_keep_their_ids_posts_and_tags(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    command.upgrade(alembic_config(engine), "0002")
    old = MetaData()
    old.reflect(engine)
    tables = {name: Table(name, old, autoload_with=engine) for name in old.tables}
    naive = THEN.replace(tzinfo=None) if engine.dialect.name == "sqlite" else THEN
    with engine.begin() as connection:
        connection.execute(
            insert(tables["sources"]),
            [{"id": 1, "name": "news", "kind": "rss", "seen_ids": [], "consecutive_failures": 0,
              "items_seen": 0, "mentions_stored": 2},
             {"id": 2, "name": "gn", "kind": "google_news", "seen_ids": [],
              "consecutive_failures": 0, "items_seen": 0, "mentions_stored": 0}],
        )
        connection.execute(
            insert(tables["mentions"]),
            [{"id": ident, "fingerprint": f"old-{ident}", "title": f"Story {ident}", "text": "",
              "published_at": naive, "first_seen_at": naive, "metrics": {}, "media": [],
              "reach": 0} for ident in (7, 42)],
        )
        connection.execute(
            insert(tables["mention_sources"]),
            [{"mention_id": 42, "source_id": 1, "external_id": "a", "first_seen_at": naive},
             {"mention_id": 42, "source_id": 2, "external_id": "b", "first_seen_at": naive},
             {"mention_id": 7, "source_id": 1, "external_id": "c", "first_seen_at": naive}],
        )
        connection.execute(
            insert(tables["brand_matches"]), [{"mention_id": 42, "brand": "Calderix", "terms": []}]
        )
        connection.execute(
            insert(tables["tags"]),
            [{"mention_id": 42, "brand": "Calderix", "family": "sentiment", "label": "negative",
              "score": -0.8, "evidence": []}],
        )
    engine.dispose()

    db = open_database(empty_database_url)  # upgrades to head, as every start does
    with db.reading() as session:
        assert list(session.scalars(select(Mention.id).order_by(Mention.id))) == [7, 42]
        posts = session.execute(
            select(MentionSource.mention_id, MentionSource.external_id, MentionSource.published_at)
            .order_by(MentionSource.external_id)
        ).all()
        assert posts == [(42, "a", THEN), (42, "b", THEN), (7, "c", THEN)]
        assert session.scalars(select(BrandMatch.mention_id)).all() == [42]
        assert session.scalars(select(Tag.mention_id)).all() == [42]
    with db.transaction() as session:  # two stories may now share a fingerprint
        session.add(Mention(fingerprint="old-7", text="", first_seen_at=THEN))
    db.dispose()
