"""The people who may open the web app: accounts, passwords and API tokens.

Every function takes the `Database` and is its own unit of work, because each is a whole
request on its own (a login, a token check, a `monitor users` command). The slow part of
a password check (argon2, tens of milliseconds by design) runs outside any write
transaction: on SQLite a write transaction holds the one writer lock, and a login must not
stall the sources' runs while it hashes.

Passwords are argon2 hashes made by `HASHER`, a module attribute read at every call, so a
deployment (or a test) can swap in other parameters without touching this code; a hash made
with older parameters is replaced at the next successful login.

API tokens are 32 random bytes shown once; only their SHA-256 is kept (see `ApiToken`).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, or_, select, update

from monitor.core.access import check_role
from monitor.core.errors import VigiaError
from monitor.core.models import ApiToken, User
from monitor.core.storage import Database, insert_if_absent

#: The password hasher; argon2-cffi's defaults (RFC 9106 low-memory profile) are meant for
#: production. Read at call time, so replacing it takes effect at once.
HASHER = PasswordHasher()

MAX_NAME = 100  # users.name is String(100)
MIN_PASSWORD = 10
TOKEN_PREFIX = "vgt_"
#: A token's `last_used_at` is written at most this often: a script polling the API every
#: second must not turn every read into a write.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)


class UserError(VigiaError):
    """A user cannot be added, found or changed; the message says why."""


@dataclass(frozen=True, slots=True)
class UserInfo:
    """Who is acting: what the web app keeps about a signed-in user or a token's owner."""

    id: int
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class UserListing(UserInfo):
    """A user as `monitor users list` shows them."""

    created_at: datetime
    last_login_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def check_name(name: str) -> str:
    """The name as stored (NFC, so "José" typed either way is one user), or UserError.

    No whitespace or control characters: a name is shown in audit rows and tables, and a
    trailing space or an invisible character would make two names look the same.
    """
    name = unicodedata.normalize("NFC", name)
    if not 1 <= len(name) <= MAX_NAME:
        raise UserError(f"user name {name!r}: use 1 to {MAX_NAME} characters")
    bad = [c for c in name if c.isspace() or unicodedata.category(c).startswith(("C", "Z"))]
    if bad:
        raise UserError(
            f"user name {name!r}: no spaces or control characters (found {bad[0]!r})"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def check_user_role(role: str) -> str:
    """`role` if it is one of access.ROLES, else UserError (the rule itself lives there)."""
    try:
        return check_role(role)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.name, user.role)


def _named(name: str) -> ColumnElement[bool]:
    """The WHERE clause finding `name` (normalised like stored names; a bad name finds none)."""
    return User.name == unicodedata.normalize("NFC", name)


def _unknown(name: str) -> UserError:
    return UserError(f"no user named {name!r} (see `monitor users list`)")


def add_user(
    db: Database, name: str, role: str, password: str, *, now: datetime | None = None
) -> UserInfo:
    """Create a user; UserError for a bad name, role or password, or a name already taken."""
    name, role = check_name(name), check_user_role(role)
    password_hash = HASHER.hash(check_password(password))
    with db.transaction() as session:
        new_id = insert_if_absent(
            session,
            User,
            User.name,
            {"name": name, "role": role, "password_hash": password_hash,
             "created_at": now or _now(), "last_login_at": None},
        )
    if new_id is None:
        raise UserError(f"a user named {name!r} already exists")
    return UserInfo(new_id, name, role)


def remove_user(db: Database, name: str) -> None:
    """Delete a user and (by the foreign key's cascade) their API tokens.

    Their past actions keep their name: `actions.user_name` is text, not a reference.
    """
    with db.transaction() as session:
        removed = session.execute(delete(User).where(_named(name))).rowcount
    if not removed:
        raise _unknown(name)


def list_users(db: Database) -> list[UserListing]:
    """Every user, by name."""
    with db.reading() as session:
        users = session.scalars(select(User).order_by(User.name)).all()
        return [
            UserListing(u.id, u.name, u.role, u.created_at, u.last_login_at) for u in users
        ]


def find_user(db: Database, name: str) -> UserInfo | None:
    """The user called `name`, or None (a signed-in session re-reads its user per request,
    so a removed user or a changed role takes effect at once)."""
    with db.reading() as session:
        user = session.scalar(select(User).where(_named(name)))
        return _info(user) if user else None


def require_user(db: Database, name: str) -> UserInfo:
    """The user called `name`, or UserError saying there is none."""
    user = find_user(db, name)
    if user is None:
        raise _unknown(name)
    return user


def user_by_id(db: Database, user_id: int) -> UserInfo | None:
    with db.reading() as session:
        user = session.get(User, user_id)
        return _info(user) if user else None


def set_password(db: Database, name: str, password: str) -> None:
    password_hash = HASHER.hash(check_password(password))
    with db.transaction() as session:
        changed = session.execute(
            update(User).where(_named(name)).values(password_hash=password_hash)
        ).rowcount
    if not changed:
        raise _unknown(name)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of nothing anyone knows, made with `hasher`'s parameters, to verify against."""
    return hasher.hash(secrets.token_urlsafe(16))


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    db: Database, name: str, password: str, *, now: datetime | None = None
) -> UserInfo | None:
    """The user if `password` is theirs, else None; records the login.

    An unknown name costs one argon2 verification too (against a dummy hash), so the time a
    failed login takes does not tell whether the name exists.
    """
    hasher = HASHER
    with db.reading() as session:
        user = session.scalar(select(User).where(_named(name)))
        found = (_info(user), user.password_hash) if user else None
    if found is None:
        _verify(hasher, _dummy_hash(hasher), password)
        return None
    info, password_hash = found
    if not _verify(hasher, password_hash, password):
        return None
    values: dict[str, object] = {"last_login_at": now or _now()}
    if hasher.check_needs_rehash(password_hash):
        values["password_hash"] = hasher.hash(password)
    with db.transaction() as session:
        session.execute(update(User).where(User.id == info.id).values(**values))
    return info


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(db: Database, name: str, *, now: datetime | None = None) -> str:
    """A new API token for `name`, returned once: only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        user_id = session.scalar(select(User.id).where(_named(name)))
        if user_id is None:
            raise _unknown(name)
        session.add(
            ApiToken(user_id=user_id, token_hash=_token_hash(token), created_at=now or _now())
        )
    return token


def user_for_token(db: Database, token: str, *, now: datetime | None = None) -> UserInfo | None:
    """The owner of `token`, or None when it is unknown or revoked.

    The lookup is by the token's hash (a unique index), so no comparison of secrets happens
    in Python and none needs to be constant-time.
    """
    now = now or _now()
    with db.reading() as session:
        found = session.execute(
            select(ApiToken.id, ApiToken.last_used_at, User.id, User.name, User.role)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == _token_hash(token))
        ).one_or_none()
    if found is None:
        return None
    token_id, last_used, *owner = found
    stale = now - TOKEN_TOUCH_EVERY
    if last_used is None or last_used <= stale:
        with db.transaction() as session:  # conditional: concurrent requests write it once
            session.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id)
                .where(or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= stale))
                .values(last_used_at=now)
            )
    return UserInfo(*owner)


def revoke_tokens(db: Database, name: str) -> int:
    """Delete every API token of `name`; how many there were."""
    with db.transaction() as session:
        user_id = session.scalar(select(User.id).where(_named(name)))
        if user_id is None:
            raise _unknown(name)
        return session.execute(delete(ApiToken).where(ApiToken.user_id == user_id)).rowcount
