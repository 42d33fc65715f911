"""Opening the database: engine, sessions, SQLite pragmas and automatic migrations.

SQLite (the embedded default) runs in WAL mode so that the scheduler's worker threads and a
`monitor mentions` in another terminal can read while a run writes. PostgreSQL needs nothing
special. Migrations are applied at every start, so upgrading Vigía is "install, run"; on
PostgreSQL they run under an advisory lock, so several workers starting at once on a fresh
database take turns instead of racing to create `alembic_version`. A database that cannot be
opened is one clear `StorageUnavailable` naming `[storage] url`, never a driver traceback.

Alembic (with Mako) costs a noticeable part of a short command's start-up, and almost every
start finds the schema already at the newest revision: `open_database` first compares the
revisions recorded in the database with the heads of the migration files (read, not imported)
and loads Alembic only when they differ or cannot be read.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from monitor.core.errors import StorageUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# Alembic's bookkeeping table, as Alembic creates it (read-only here).
_ALEMBIC_VERSION = Table("alembic_version", MetaData(), Column("version_num", String(32)))
#: pg_advisory_lock key held while migrating: any constant shared by every Vigía process.
MIGRATION_LOCK = 0x56494749  # "VIGI"
CONNECT_TIMEOUT = 10  # seconds; an unreachable PostgreSQL host fails fast instead of hanging


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's lazy BEGIN:
    # a deferred transaction that reads and then writes can fail with "database is locked"
    # when another thread wrote in between; taking the write lock up front just waits.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "vigia_read_only"


def _sqlite_begin(connection: Connection) -> None:
    # A reader (`Database.reading`) starts a deferred transaction: under WAL it reads a
    # snapshot without taking the write lock, so a long weekly report never stalls the
    # sources' runs. Everything else takes the write lock up front (see _sqlite_pragmas).
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for `url`; creates the SQLite file's folder when needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT})


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent), one process at a time.

    On PostgreSQL a session-level advisory lock, held on its own connection, serialises
    concurrent starts: the first migrates, the others wait and then find nothing to do.
    SQLite needs none: its single writer lock (BEGIN IMMEDIATE) already serialises them.
    """
    from alembic import command

    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")
        return
    with engine.connect() as lock:
        lock.execute(select(func.pg_advisory_lock(MIGRATION_LOCK)))
        lock.commit()
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            lock.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK)))
            lock.commit()


def _literal(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value:
                return ast.literal_eval(node.value)
    raise LookupError(name)


def head_revisions(folder: Path = MIGRATIONS / "versions") -> frozenset[str]:
    """The revisions no migration file builds on, read from the files' `revision` and
    `down_revision` assignments without importing them (or Alembic).

    Raises ValueError (or LookupError, SyntaxError) for anything it does not understand;
    the caller then asks Alembic, which stays the authority.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for file in folder.glob("*.py"):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        revision, down = _literal(tree, "revision"), _literal(tree, "down_revision")
        if not isinstance(revision, str):
            raise ValueError(f"{file.name}: revision is not a string")
        downs = down if isinstance(down, tuple) else () if down is None else (down,)
        if not all(isinstance(d, str) for d in downs):
            raise ValueError(f"{file.name}: down_revision is not a string or tuple")
        revisions.add(revision)
        parents.update(downs)  # type: ignore[arg-type]
    if not revisions:
        raise ValueError("no migration files")
    return frozenset(revisions - parents)


def schema_is_current(engine: Engine) -> bool:
    """True when the database records exactly the migration files' heads (no upgrade due);
    False when it does not, or when either side cannot be read (Alembic then decides)."""
    try:
        heads = head_revisions()
        with engine.connect() as connection:
            versions = connection.execute(select(_ALEMBIC_VERSION.c.version_num))
            recorded = frozenset(versions.scalars())
    except Exception:  # no version table yet, an unexpected file: let Alembic decide
        return False
    return recorded == heads


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reports and listings that only read; rolled back at the end.

        On SQLite it does not take the write lock (see `_sqlite_begin`); writing through it
        is a bug, and SQLite may refuse it with "database is locked".
        """
        with Session(self.engine.execution_options(**{READ_ONLY: True}),
                     expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any exception."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def database_unreachable(error: BaseException) -> bool:
    """True when `error` (or what caused it) says the database went away or could not be
    reached (a restart, a crash, a cut connection), not that a statement was wrong: the
    work is worth doing again once the database answers (the queue's tasks retry)."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and (
            seen.connection_invalidated or isinstance(seen, (OperationalError, InterfaceError))
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def open_database(url: str, migrate: bool = True) -> Database:
    """Open (and migrate) the database; StorageUnavailable says why it cannot be opened."""
    try:
        engine = make_engine(url)
        if migrate and not schema_is_current(engine):
            upgrade(engine)
    except OSError as exc:  # the SQLite file's folder cannot be created
        raise StorageUnavailable(_cannot_open(url, exc.strerror or str(exc))) from None
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StorageUnavailable(_cannot_open(url, reason)) from None
    return Database(engine, sessionmaker(engine, expire_on_commit=False))


def _cannot_open(url: str, reason: str) -> str:
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        fix = (
            f"make sure the folder of {parsed.database!r} can be created and written "
            '(no file in the way), or set another path like url = "sqlite:///var/vigia.db"'
        )
    else:
        fix = (
            f"check that PostgreSQL is running at {parsed.host or 'localhost'}:"
            f"{parsed.port or 5432}, that database {parsed.database!r} exists and that the "
            "user may log in (password in the environment, e.g. PGPASSWORD), or use "
            '"sqlite:///var/vigia.db"'
        )
    return f"[storage] url = {shown!r}: cannot open the database ({reason}) — {fix}"


def insert_ignoring_conflicts(session: Session, model: type[Any]) -> Any:
    """An INSERT for `model` that skips rows breaking a unique constraint.

    Two workers storing the same story at once (one article syndicated to several feeds)
    then both succeed: the loser inserts nothing and reads the winner's row afterwards,
    instead of failing its whole transaction. PostgreSQL waits for the winner to commit
    before deciding, so the row is visible to the loser's next statement.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    return insert(model)


def insert_if_absent(
    session: Session,
    model: type[Any],
    unique: InstrumentedAttribute[Any] | Column[Any],
    values: dict[str, Any],
) -> int | None:
    """INSERT a row unless `unique` already holds its value; the new id, or None if present.

    Two workers racing to create the same row is resolved by the database (ON CONFLICT DO
    NOTHING) without an exception, so the caller's transaction stays usable.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        statement = (
            module.insert(model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[unique])
            .returning(model.id)
        )
        return session.execute(statement).scalar_one_or_none()
    try:  # other databases: a savepoint keeps the caller's transaction usable
        with session.begin_nested():
            return session.execute(insert(model).values(**values).returning(model.id)).scalar_one()
    except IntegrityError:
        return None


def upsert(
    session: Session,
    model: type[Any],
    unique: Sequence[InstrumentedAttribute[Any]],
    values: dict[str, Any],
    update: Sequence[str],
) -> None:
    """INSERT a row, or UPDATE the `update` columns of the row `unique` already names.

    One statement (ON CONFLICT DO UPDATE) on SQLite and PostgreSQL, so two reviewers
    correcting the same post at once both succeed and the later answer stays, without a
    read-then-write race or an exception that would spoil the caller's transaction.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        statement = module.insert(model).values(**values)
        session.execute(statement.on_conflict_do_update(
            index_elements=[column.key for column in unique],
            set_={name: statement.excluded[name] for name in update},
        ))
        return
    where = [column == values[column.key] for column in unique]
    existing = session.scalars(select(model).where(*where)).first()
    if existing is None:
        session.add(model(**values))
    else:
        for name in update:
            setattr(existing, name, values[name])
    session.flush()


def upsert_when(
    session: Session,
    model: type[Any],
    key: InstrumentedAttribute[Any],
    values: dict[str, Any],
    update: Sequence[str],
    when: Callable[[Any], ColumnElement[bool]],
) -> bool:
    """INSERT a row, or UPDATE the `update` columns of the row `key` already names only when
    `when(excluded)` holds for it; True when a row was written.

    One statement (ON CONFLICT DO UPDATE … WHERE … RETURNING), so of two processes taking an
    expired lease at the same moment exactly one gets it, on SQLite and on PostgreSQL.
    `excluded` is the proposed row, for conditions like "the same holder renews".
    """
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"upsert_when on {dialect}")
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(model).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[key.key],
        set_={name: statement.excluded[name] for name in update},
        where=when(statement.excluded),
    ).returning(key)
    return session.execute(statement).first() is not None
