"""Users, passwords and API tokens (monitor.app.users) on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from monitor.app import users
from monitor.app.users import (
    UserError,
    UserInfo,
    add_user,
    authenticate,
    find_user,
    list_users,
    new_token,
    remove_user,
    revoke_tokens,
    set_password,
    user_by_id,
    user_for_token,
)
from monitor.core.models import ApiToken, User
from monitor.core.storage import Database
from tests.users_support import CHEAP, cheap_passwords

pytestmark = pytest.mark.usefixtures(cheap_passwords.__name__)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def test_add_then_authenticate_records_the_login(db: Database) -> None:
    ana = add_user(db, "ana", "comms", PASSWORD, now=T0)
    assert ana == UserInfo(ana.id, "ana", "comms")
    assert authenticate(db, "ana", "wrong password!") is None
    assert [u.last_login_at for u in list_users(db)] == [None]

    assert authenticate(db, "ana", PASSWORD, now=T0 + timedelta(hours=1)) == ana
    (listed,) = list_users(db)
    assert (listed.name, listed.role, listed.created_at) == ("ana", "comms", T0)
    assert listed.last_login_at == T0 + timedelta(hours=1)
    assert find_user(db, "ana") == ana == user_by_id(db, ana.id)
    assert find_user(db, "nobody") is None and user_by_id(db, ana.id + 1) is None


def test_only_an_argon2_hash_of_the_password_is_stored(db: Database) -> None:
    add_user(db, "ana", "viewer", PASSWORD)
    with db.reading() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert PASSWORD not in stored and stored.startswith("$argon2id$")


def test_users_are_listed_by_name(db: Database) -> None:
    for name in ("zoe", "ana", "Marta"):
        add_user(db, name, "viewer", PASSWORD)
    assert [u.name for u in list_users(db)] == sorted(["zoe", "ana", "Marta"])


def test_a_taken_name_is_refused_even_when_spelled_with_other_code_points(db: Database) -> None:
    add_user(db, "José", "admin", PASSWORD)  # NFC: é is one code point
    for again in ("José", unicodedata.normalize("NFD", "José")):
        with pytest.raises(UserError, match="already exists"):
            add_user(db, again, "viewer", PASSWORD)
    assert [(u.name, u.role) for u in list_users(db)] == [("José", "admin")]
    assert authenticate(db, unicodedata.normalize("NFD", "José"), PASSWORD) is not None


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("", "viewer", PASSWORD, "1 to 100"),
        ("a" * 101, "viewer", PASSWORD, "1 to 100"),
        ("ana maria", "viewer", PASSWORD, "no spaces"),
        ("ana\t", "viewer", PASSWORD, "no spaces"),
        ("ana\u200b", "viewer", PASSWORD, "control"),  # zero-width space (Cf)
        ("ana\x00", "viewer", PASSWORD, "control"),
        ("ana", "root", PASSWORD, "unknown role"),
        ("ana", "viewer", "short", "at least 10"),
    ],
)
def test_bad_names_roles_and_passwords_are_refused(
    db: Database, name: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        add_user(db, name, role, password)
    assert list_users(db) == []


def test_a_hundred_character_name_is_fine(db: Database) -> None:
    assert add_user(db, "ñ" * 100, "hr", PASSWORD).name == "ñ" * 100


def test_set_password_replaces_the_old_one(db: Database) -> None:
    add_user(db, "ana", "viewer", PASSWORD)
    set_password(db, "ana", "another long one")
    assert authenticate(db, "ana", PASSWORD) is None
    assert authenticate(db, "ana", "another long one") is not None
    with pytest.raises(UserError, match="at least 10"):
        set_password(db, "ana", "short")
    with pytest.raises(UserError, match="no user named 'bob'"):
        set_password(db, "bob", "another long one")


def test_a_hash_with_old_parameters_is_replaced_at_login(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(db, "ana", "viewer", PASSWORD)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(users, "HASHER", stronger)
    assert authenticate(db, "ana", "wrong password!") is None  # no rehash on a failure
    with db.reading() as session:
        assert extract_parameters(session.scalars(select(User.password_hash)).one()).time_cost == 1

    assert authenticate(db, "ana", PASSWORD) is not None
    with db.reading() as session:
        rehashed = session.scalars(select(User.password_hash)).one()
    assert not stronger.check_needs_rehash(rehashed)
    assert extract_parameters(rehashed).time_cost == 2
    assert authenticate(db, "ana", PASSWORD) is not None


class CountingHasher(PasswordHasher):
    """The cheap parameters, recording the hashes it verifies against."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


def test_an_unknown_name_costs_one_verification_like_a_known_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(db, "ana", "viewer", PASSWORD)
    counting = CountingHasher()
    monkeypatch.setattr(users, "HASHER", counting)
    assert authenticate(db, "ana", "wrong password!") is None
    assert authenticate(db, "nobody", "wrong password!") is None
    assert authenticate(db, "nobody", PASSWORD) is None
    known, unknown, unknown_again = counting.verified
    assert extract_parameters(unknown) == extract_parameters(known)  # the same work
    assert unknown == unknown_again  # made once, not per attempt


def test_a_token_finds_its_user_and_only_its_hash_is_stored(db: Database) -> None:
    ana = add_user(db, "ana", "security", PASSWORD)
    token = new_token(db, "ana", now=T0)
    assert token.startswith("vgt_") and len(token) >= 4 + 43
    assert new_token(db, "ana") != token
    with db.reading() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert all(token not in h for h in stored)

    assert user_for_token(db, token, now=T0) == ana
    assert user_for_token(db, token[:-1], now=T0) is None
    assert user_for_token(db, "", now=T0) is None


def _last_used(db: Database) -> datetime | None:
    with db.reading() as session:
        return session.scalars(select(ApiToken.last_used_at)).one()


def test_token_use_is_recorded_at_most_once_a_minute(db: Database) -> None:
    add_user(db, "ana", "viewer", PASSWORD)
    token = new_token(db, "ana", now=T0)
    assert _last_used(db) is None
    user_for_token(db, token, now=T0)
    assert _last_used(db) == T0
    user_for_token(db, token, now=T0 + timedelta(seconds=59))
    assert _last_used(db) == T0
    user_for_token(db, token, now=T0 + timedelta(seconds=61))
    assert _last_used(db) == T0 + timedelta(seconds=61)


def test_revoked_and_removed_users_tokens_stop_working(db: Database) -> None:
    add_user(db, "ana", "viewer", PASSWORD)
    add_user(db, "bob", "viewer", PASSWORD)
    first, second = new_token(db, "ana"), new_token(db, "ana")
    bobs = new_token(db, "bob")
    assert revoke_tokens(db, "ana") == 2
    assert user_for_token(db, first) is None and user_for_token(db, second) is None
    assert user_for_token(db, bobs) is not None

    remove_user(db, "bob")
    assert user_for_token(db, bobs) is None
    with db.reading() as session:
        assert session.scalars(select(ApiToken)).all() == []  # the cascade took them
    assert [u.name for u in list_users(db)] == ["ana"]


def test_unknown_users_are_one_clear_error(db: Database) -> None:
    for call in (remove_user, new_token, revoke_tokens):
        with pytest.raises(UserError, match="no user named 'ghost'"):
            call(db, "ghost")


def test_the_cheap_fixture_really_is_in_use() -> None:
    assert users.HASHER is CHEAP
