"""Stories: a mention's fingerprint is a grouping key, no longer unique; posts carry their date.

A mention is now a story grouped by time-windowed near-duplicate matching (classifiers/stories.py),
so two stories may share a fingerprint (the same headline a year later). Each post
(`mention_sources` row) gets the date and author it was published with, so volume and spikes
count posts. Existing rows keep their ids; their posts take their story's date.

The downgrade restores the unique fingerprint, which fails if two stories now share one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# SQLite keeps 0001's UNIQUE (fingerprint) unnamed: batch mode names it by this convention.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _fingerprint_unique() -> str | None:
    """The name the database gave 0001's unique constraint on mentions.fingerprint."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("mentions"):
        if constraint["column_names"] == ["fingerprint"]:
            return constraint["name"] or "uq_mentions_fingerprint"
    return None


def upgrade() -> None:
    name = _fingerprint_unique()
    with op.batch_alter_table("mentions", naming_convention=NAMING) as batch_op:
        if name:
            batch_op.drop_constraint(name, type_="unique")
        batch_op.create_index(batch_op.f("ix_mentions_fingerprint"), ["fingerprint"])
    with op.batch_alter_table("mention_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_mention_sources_first_seen_at"), ["first_seen_at"], unique=False
        )
    mentions = sa.table(
        "mentions",
        sa.column("id", sa.Integer()),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    posts = sa.table(
        "mention_sources",
        sa.column("mention_id", sa.Integer()),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        posts.update().values(
            published_at=sa.select(mentions.c.published_at)
            .where(mentions.c.id == posts.c.mention_id)
            .scalar_subquery()
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("mention_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mention_sources_first_seen_at"))
        batch_op.drop_column("published_at")
        batch_op.drop_column("author")
    with op.batch_alter_table("mentions", naming_convention=NAMING) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentions_fingerprint"))
        batch_op.create_unique_constraint("uq_mentions_fingerprint", ["fingerprint"])
