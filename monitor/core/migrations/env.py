"""Alembic environment: runs against the engine handed over by monitor.core.storage.

On SQLite, batch migrations rebuild a table (copy, DROP, rename). With foreign keys on, that
DROP deletes every row referencing the table through ON DELETE CASCADE, so dropping a
constraint on `mentions` would silently delete all posts and tags. Foreign keys are therefore
off while migrations run (the pragma only takes effect outside a transaction) and checked
with `PRAGMA foreign_key_check` before they are turned back on.
"""

from __future__ import annotations

from alembic import context

from monitor.core import learning_models, queue_models  # noqa: F401  (their tables, on Base.metadata)
from monitor.core.models import Base, is_modelled

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # before SQLAlchemy begins a transaction on this connection
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            include_object=is_modelled,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left dangling references: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
