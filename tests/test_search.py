"""Full-text search on both databases: one syntax, accent- and case-insensitive, never raw."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from monitor.core import inbox
from monitor.core.access import hidden_families
from monitor.core.inbox import MentionFilter, encode_cursor, inbox_page, search_plan_walks
from monitor.core.models import BrandMatch, Mention, Tag
from monitor.core.search import (
    SearchSyntaxError,
    count_matches,
    fts5_match,
    parse,
    search_condition,
)
from monitor.core.storage import Database

TEXTS = {
    "camion": ("Retrasos", "El camión de Calderix llegó tarde otra vez"),
    "fibra": (None, "Sin fibra desde ayer: Calderix no responde"),
    "order": (None, "Respuesta muy lenta del servicio técnico"),
    "reverse": (None, "El servicio técnico, lenta respuesta"),
    "english": ("Great support", "Calderix customer support was great today"),
    "outage": (None, "Outage again in Madrid, ÉPICO fallo de CALDERIX"),
}


@pytest.fixture
def stored(db: Database) -> dict[str, int]:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    ids: dict[str, int] = {}
    with db.transaction() as session:
        for index, (key, (title, body)) in enumerate(TEXTS.items()):
            mention = Mention(fingerprint=key, title=title, text=body,
                              first_seen_at=now + timedelta(minutes=index))
            session.add(mention)
            session.flush()
            ids[key] = mention.id
    return ids


def found(db: Database, q: str) -> set[str]:
    with db.reading() as session:
        return set(_search(session, q))


def _search(session: Session, q: str) -> list[str]:
    condition = search_condition(q, session.get_bind().dialect.name)
    return list(session.scalars(select(Mention.fingerprint).where(condition)))


def test_accents_and_case_never_matter(db: Database, stored: dict[str, int]) -> None:
    assert found(db, "camion") == {"camion"}
    assert found(db, "CAMIÓN") == {"camion"}
    assert found(db, "epico calderix") == {"outage"}
    assert found(db, "retrasos") == {"camion"}  # the title is searched too


def test_words_are_all_required_and_phrase_order_matters(
    db: Database, stored: dict[str, int]
) -> None:
    assert found(db, "calderix fibra") == {"fibra"}
    assert found(db, "lenta respuesta") == {"order", "reverse"}
    assert found(db, '"respuesta muy lenta"') == {"order"}
    assert found(db, '"lenta respuesta"') == {"reverse"}
    assert found(db, '"lenta muy respuesta"') == set()


def test_or_not_prohibit_groups_and_prefix(db: Database, stored: dict[str, int]) -> None:
    assert found(db, "fibra OR outage") == {"fibra", "outage"}
    assert found(db, "calderix NOT fibra") == {"camion", "english", "outage"}
    assert found(db, "calderix -fibra -camion") == {"english", "outage"}
    assert found(db, 'calderix -"customer support"') == {"camion", "fibra", "outage"}
    assert found(db, "(fibra OR camion) calderix") == {"fibra", "camion"}
    assert found(db, "custom*") == {"english"}
    assert found(db, "tecni*") == {"order", "reverse"}
    assert found(db, "serv* AND NOT \"muy lenta\"") == {"reverse"}


def test_operators_of_the_engines_are_plain_words(db: Database, stored: dict[str, int]) -> None:
    assert found(db, "NEAR calderix") == set()
    assert fts5_match(parse("NEAR")) == '"near"'
    assert found(db, "'calderix'") == {"camion", "fibra", "english", "outage"}
    assert found(db, "don't stop") == set()  # an apostrophe is a separator, as in the index
    with pytest.raises(SearchSyntaxError, match="field"):
        found(db, "calderix:*")


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("", "empty"),
        ("-spam", "add a word"),
        ("NOT calderix", "add a word"),
        ("calderix OR -spam", "add a word"),
        ('"unclosed', "quote"),
        ("title:calderix", "field"),
        ("calderix^2", "boost"),
        ("*", "lone *"),
        ("ca*ion", "end of a word"),
        ("x" * 600, "at most"),
        (" ".join(["w"] * 40), "terms"),
        ("(" * 300, "cannot read"),
    ],
)
def test_bad_searches_say_what_is_wrong(q: str, says: str) -> None:
    with pytest.raises(SearchSyntaxError, match=says):
        search_condition(q, "sqlite")


PIECES = st.sampled_from(
    [*"ab cé\"*()-:^~+!?&|\\/[]{}'", "OR", "AND", "NOT", "NEAR", " ", "title:", "camión"]
)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.lists(PIECES, max_size=25).map("".join) | st.text(max_size=30))
def test_any_string_gives_results_or_a_syntax_error(db: Database, q: str) -> None:
    with db.reading() as session, contextlib.suppress(SearchSyntaxError):
        _search(session, q)


# --------------------------------------------------------------------------- search pages


WORDS = ("fibra", "router", "factura", "sevilla")


@pytest.fixture
def shuffled(db: Database) -> list[tuple[datetime, int, str, str, bool]]:
    """60 mentions whose ids are NOT in first_seen_at order (inserted in a shuffled order,
    many sharing a timestamp), some hidden from comms by a leak tag, two brands."""
    import random

    rng = random.Random(3)
    order = list(range(60))
    rng.shuffle(order)
    rows = []
    with db.transaction() as session:
        for n in order:
            words = " ".join(w for k, w in enumerate(WORDS) if (n >> k) & 1) or "nada"
            brand = "Fonaris" if n % 4 == 3 else "Calderix"
            tags = [Tag(brand=brand, family="sentiment", score=0.5,
                        label="negative" if n % 3 == 0 else "neutral")]
            if n % 7 == 2:
                tags.append(Tag(brand=brand, family="leak", label="pii", score=1.0))
            mention = Mention(fingerprint=str(n), text=f"{words} de {brand}",
                              first_seen_at=datetime(2026, 12, 1, tzinfo=UTC)
                              + timedelta(minutes=n // 4),
                              brands=[BrandMatch(brand=brand)], tags=tags)
            session.add(mention)
            session.flush()
            rows.append((mention.first_seen_at, mention.id, words, brand, n % 7 == 2))
    return rows


def _pages(db: Database, flt: MentionFilter, limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    with db.reading() as session:
        while True:
            page = inbox_page(session, flt, limit=limit, cursor=cursor)
            seen += [item.id for item in page.items]
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor


@pytest.mark.parametrize("walk_from", [0, 10**9], ids=["index-walk", "fts-first"])
def test_search_pages_are_the_same_whichever_plan_runs(
    db: Database, shuffled: list[tuple[datetime, int, str, str, bool]],
    monkeypatch: pytest.MonkeyPatch, walk_from: int,
) -> None:
    monkeypatch.setattr(inbox, "SEARCH_WALK_FROM", walk_from)
    monkeypatch.setattr(inbox, "SEARCH_WALK_FROM_POSTGRESQL", walk_from)
    inbox.page_select.cache_clear()
    key = {mention_id: when for when, mention_id, *_ in shuffled}
    assert [m for _, m, *_ in sorted(shuffled)] != sorted(key)  # ids are out of date order
    comms = hidden_families("comms")
    cases = [
        (MentionFilter(search="fibra"), lambda w, b, h: "fibra" in w),
        (MentionFilter(search="fibra OR router", hidden_families=comms),
         lambda w, b, h: ("fibra" in w or "router" in w) and not h),
        (MentionFilter(search="factura -sevilla", brand="Calderix", sentiment="negative"),
         lambda w, b, h: "factura" in w and "sevilla" not in w and b == "Calderix"),
        (MentionFilter(search="router", brands=("Fonaris",), hidden_families=comms,
                       since=datetime(2026, 12, 1, 0, 3, tzinfo=UTC)),
         lambda w, b, h: "router" in w and b == "Fonaris" and not h),
    ]
    for flt, wanted in cases:
        expected = [m for when, m, w, b, h in sorted(shuffled, reverse=True)
                    if wanted(w, b, h)
                    and (flt.since is None or when >= flt.since)]
        if flt.sentiment:
            with db.reading() as session:
                negatives = set(session.scalars(
                    select(Tag.mention_id).where(Tag.label == "negative")))
            expected = [m for m in expected if m in negatives]
        assert expected, flt
        for limit in (1, 3, 50):
            assert _pages(db, flt, limit) == expected, (flt, limit)
    inbox.page_select.cache_clear()


def test_the_plan_follows_how_common_the_search_is(
    db: Database, shuffled: list[tuple[datetime, int, str, str, bool]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inbox, "SEARCH_WALK_FROM", 10)
    monkeypatch.setattr(inbox, "SEARCH_WALK_FROM_POSTGRESQL", 10)
    dialect = db.engine.dialect.name
    with db.reading() as session:
        connection = session.connection()
        assert count_matches(connection, "fibra", dialect, 1000) == 30
        assert count_matches(connection, "fibra", dialect, 10) == 10
        assert count_matches(connection, "fibra router factura sevilla", dialect, 10) == 3
        walks = search_plan_walks(connection, MentionFilter(search="fibra"), dialect)
        rare = search_plan_walks(connection, MentionFilter(search="fibra router factura"),
                                 dialect)
    assert (walks, rare) == (True, False)


@pytest.mark.parametrize("after", [False, True])
def test_sqlite_walk_reads_the_date_index_without_sorting(
    db: Database, monkeypatch: pytest.MonkeyPatch, after: bool
) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    monkeypatch.setattr(inbox, "SEARCH_WALK_FROM", 0)
    flt = MentionFilter(brands=("Calderix",), search="fibra OR router",
                        hidden_families=hidden_families("comms"))
    ran: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT mentions.id"):
            ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.reading() as session:
            inbox_page(session, flt, cursor=encode_cursor(datetime.now(UTC), 1) if after
                       else None)
            statement, parameters = ran[-1]
            plan = [row[3] for row in session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters)]
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert "first_seen_at" in plan[0] or "ix_mentions_inbox" in plan[0], plan
    assert ("SEARCH" in plan[0]) == after, plan  # a cursor starts the walk where it points
    assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan


@pytest.mark.parametrize("walk_from", [0, 10**9], ids=["index-walk", "fts-first"])
def test_postgresql_fts_first_reads_the_gin_matches_before_the_rows(
    db: Database, monkeypatch: pytest.MonkeyPatch, walk_from: int
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan")
    monkeypatch.setattr(inbox, "SEARCH_WALK_FROM_POSTGRESQL", walk_from)
    flt = MentionFilter(brands=("Calderix",), search="fibra OR router",
                        hidden_families=hidden_families("comms"))
    ran: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "mentions.title" in statement:
            ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.reading() as session:
            inbox_page(session, flt)
            statement, parameters = ran[-1]
            connection = session.connection()
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(
                f"EXPLAIN {statement}", parameters))
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    fts_first = walk_from > 0
    assert ("CTE search_hits" in plan) == fts_first, plan
    if fts_first:  # the matches come off the GIN index, once, before any mention row
        assert "Bitmap Index Scan on ix_mentions_search" in plan, plan
