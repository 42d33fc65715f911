"""The inbox query on both databases: filters, role hiding, keyset pages, streaming."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.access import hidden_families
from monitor.core.inbox import (
    InvalidCursor,
    InvalidFilter,
    MentionFilter,
    encode_cursor,
    inbox_page,
    iter_mentions,
)
from monitor.core.models import BrandMatch, Mention, MentionSource, Source, Tag
from monitor.core.storage import Database

START = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def stored(db: Database) -> list[int]:
    """25 mentions, several sharing a first_seen_at (ties broken by id)."""
    ids = []
    with db.transaction() as session:
        feed, forum = Source(name="feed", kind="rss"), Source(name="forum", kind="rss")
        session.add_all([feed, forum])
        for n in range(25):
            brand = "Fonaris" if n % 5 == 4 else "Calderix"
            mention = Mention(
                fingerprint=str(n), title=f"post {n}",
                text="La fibra de Calderix falla" if n % 3 == 0 else "Great support",
                lang="es" if n % 3 == 0 else "en",
                first_seen_at=START + timedelta(hours=n // 3),
                review_status="new" if n % 2 == 0 else "reviewed",
                assigned_to="ana" if n == 7 else None,
                brands=[BrandMatch(brand=brand)],
                tags=[Tag(brand=brand, family="sentiment", score=0.9,
                          label="negative" if n % 3 == 0 else "positive",
                          evidence=[{"text": "falla", "start": 0, "end": 5}])],
                sources=[MentionSource(source=feed if n % 2 else forum, external_id=str(n),
                                       url=f"https://example.com/{n}", first_seen_at=START)],
            )
            if n == 10:
                mention.tags.append(Tag(brand=brand, family="leak", label="credentials",
                                        score=1.0))
            if n == 11:
                mention.tags.append(Tag(brand=brand, family="employee", label="employee",
                                        score=1.0))
            session.add(mention)
            session.flush()
            ids.append(mention.id)
    return ids


def listed(db: Database, flt: MentionFilter) -> list[str]:
    with db.reading() as session:
        return [m.title.split()[1] for m in iter_mentions(session, flt, chunk=4) if m.title]


def newest_first(numbers: list[int]) -> list[str]:
    return [str(n) for n in sorted(numbers, key=lambda n: (n // 3, n), reverse=True)]


def test_keyset_pages_cover_everything_once_newest_first(
    db: Database, stored: list[int]
) -> None:
    seen: list[int] = []
    cursor = None
    with db.reading() as session:
        while True:
            page = inbox_page(session, MentionFilter(), limit=4, cursor=cursor)
            seen += [item.id for item in page.items]
            assert len(page.items) <= 4
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert seen == sorted(stored, key=lambda i: (stored.index(i) // 3, i), reverse=True)
    assert len(seen) == 25


def test_items_carry_what_the_pages_show(db: Database, stored: list[int]) -> None:
    with db.reading() as session:
        first = inbox_page(session, MentionFilter(), limit=1).items[0]
    assert first.title == "post 24"
    assert first.brands == ("Fonaris",)
    assert first.sentiment == "negative"
    assert first.tags[0].evidence == [{"text": "falla", "start": 0, "end": 5}]
    assert [(s.name, s.url) for s in first.sources] == [("forum", "https://example.com/24")]
    assert (first.review_status, first.lang) == ("new", "es")


def test_filters(db: Database, stored: list[int]) -> None:
    everything = list(range(25))
    calderix = [n for n in everything if n % 5 != 4]
    assert listed(db, MentionFilter(brands=("Calderix",))) == newest_first(calderix)
    assert listed(db, MentionFilter(brand="Fonaris")) == newest_first([4, 9, 14, 19, 24])
    assert listed(db, MentionFilter(brand="Calderix", sentiment="negative", status="new")) == (
        newest_first([n for n in calderix if n % 3 == 0 and n % 2 == 0])
    )
    assert listed(db, MentionFilter(tag="positive", source="feed")) == newest_first(
        [n for n in everything if n % 3 and n % 2]
    )
    assert listed(db, MentionFilter(lang="es", assigned_to=None)) == newest_first(
        [n for n in everything if n % 3 == 0]
    )
    assert listed(db, MentionFilter(assigned_to="ana")) == ["7"]
    window = MentionFilter(since=START + timedelta(hours=2), until=START + timedelta(hours=3))
    assert listed(db, window) == newest_first([6, 7, 8])
    assert listed(db, MentionFilter(search="fibra calderix", status="reviewed")) == (
        newest_first([n for n in everything if n % 3 == 0 and n % 2])
    )


def test_roles_never_see_hidden_families(db: Database, stored: list[int]) -> None:
    def visible(role: str) -> set[str]:
        return set(listed(db, MentionFilter(hidden_families=hidden_families(role))))

    assert {"10", "11"} <= visible("admin")
    assert "10" in visible("security") and "11" not in visible("security")
    assert "11" in visible("hr") and "10" not in visible("hr")
    assert not {"10", "11"} & visible("comms")
    assert len(visible("viewer")) == 23


def test_bad_cursor_and_filter_values_are_clear_errors(db: Database, stored: list[int]) -> None:
    with db.reading() as session:
        for cursor in ("garbage!", "Zm9v", encode_cursor(START, 1)[:-3]):
            with pytest.raises(InvalidCursor, match="first page"):
                inbox_page(session, MentionFilter(), cursor=cursor)
    with pytest.raises(InvalidFilter, match="negative, neutral, positive"):
        MentionFilter(sentiment="angry")
    with pytest.raises(InvalidFilter, match="false_positive"):
        MentionFilter(status="done")
