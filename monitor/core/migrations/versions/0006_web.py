"""The web app: users, API tokens, the audit log, labels, review state and full-text search.

Search is one index per dialect, kept current by the database itself, so no writer (the
pipeline, a Celery worker, a migration) can forget it:
- SQLite: an FTS5 table over mentions (title, text), external content, `unicode61` with
  `remove_diacritics 2`, maintained by triggers;
- PostgreSQL: a generated `search_vector` tsvector column with a GIN index; accents are folded
  with translate() (immutable, unlike unaccent(), and needs no extension), so "camion" finds
  "camión" on both.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Accented letters and their plain forms, for PostgreSQL's translate(); monitor.core.search
# folds a query's words the same way (it strips every combining mark, a superset).
ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüñçýÿÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇÝ"
PLAIN = "aaaaaaeeeeiiiiooooouuuuncyyAAAAAAEEEEIIIIOOOOOUUUUNCY"

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE mentions_fts USING fts5(title, text, content='mentions', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN "
    "INSERT INTO mentions_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN "
    "INSERT INTO mentions_fts(mentions_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER mentions_fts_update AFTER UPDATE OF title, text ON mentions BEGIN "
    "INSERT INTO mentions_fts(mentions_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO mentions_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild')",
]


def _postgres_search() -> None:
    op.execute(
        "ALTER TABLE mentions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "to_tsvector('simple'::regconfig, translate(coalesce(title, '') || ' ' || "
        f"coalesce(text, ''), '{ACCENTED}', '{PLAIN}'))) STORED"
    )
    op.execute("CREATE INDEX ix_mentions_search ON mentions USING gin (search_vector)")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=True),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_actions_mention_created", "actions", ["mention_id", "created_at"])
    op.create_index("ix_actions_created_at", "actions", ["created_at"])
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("family", sa.String(length=30), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id", "brand", "family", name="uq_label"),
    )
    # Plain ADD COLUMN (no table rebuild on SQLite), so nothing else about mentions changes.
    op.add_column(
        "mentions",
        sa.Column("review_status", sa.String(length=20), nullable=False, server_default="new"),
    )
    op.add_column("mentions", sa.Column("assigned_to", sa.String(length=100), nullable=True))
    op.create_index("ix_mentions_review_status", "mentions", ["review_status"])
    # The inbox's keyset order (newest first, id breaking ties) read straight off an index.
    op.create_index("ix_mentions_inbox", "mentions", ["first_seen_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgres_search()
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_mentions_search")
        op.execute("ALTER TABLE mentions DROP COLUMN IF EXISTS search_vector")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS mentions_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS mentions_fts")
    op.drop_index("ix_mentions_inbox", table_name="mentions")
    op.drop_index("ix_mentions_review_status", table_name="mentions")
    with op.batch_alter_table("mentions") as batch_op:
        batch_op.drop_column("assigned_to")
        batch_op.drop_column("review_status")
    op.drop_table("labels")
    op.drop_index("ix_actions_created_at", table_name="actions")
    op.drop_index("ix_actions_mention_created", table_name="actions")
    op.drop_table("actions")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
