"""Chat and webhook notifications in the outbox: `channel` ("email" or the Apprise scheme) and
`target` (the URL template with `${VAR}` references, never a secret).

Existing rows are emails: the server default fills their channel.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=40), nullable=False, server_default="email")
        )
        batch_op.add_column(sa.Column("target", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("target")
        batch_op.drop_column("channel")
