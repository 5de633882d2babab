"""delivery leases: one row per role only one process may hold (the outbox sender, the poller)

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-29 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_index(op.f("ix_outbox_claimed_by"), "outbox", ["claimed_by"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_claimed_by"), table_name="outbox")
    op.drop_table("leases")
