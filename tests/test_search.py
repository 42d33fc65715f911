"""Full-text search on both databases: one syntax, accent- and case-insensitive, never raw."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.core.models import Mention
from monitor.core.search import SearchSyntaxError, fts5_match, parse, search_condition
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
